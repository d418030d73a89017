/**
 * File transfers: RETR, STOR, APPE, STOU with REST (RFC 959 §4.1.3, RFC 3659 §5),
 * TYPE/MODE/STRU (RFC 959 §4.1.2), ABOR (RFC 959 §4.1.3).
 *
 * Every transfer streams: the file's ByteSource goes to `DataConnection.send` and the
 * connection's bytes to the file's ByteSink through `receive`, both with backpressure,
 * wrapped only to count bytes (STAT, xferlog), note progress (TimeoutStalled) and
 * convert line endings in TYPE A. Nothing buffers a whole file.
 *
 * Order (ProFTPD mod_xfer): check and open the file first (550/553 before any data
 * connection), then open the data connection (425), then `150`, then the bytes, then
 * `226` or the failure reply: 426 data connection lost, 451 local error, 452 disk full,
 * 552 quota.
 */
import { parseModeArg, parseRestArg, parseStruArg, parseTypeArg } from '@ftpkit/command';
import { FromCrlf, ToCrlf } from '../ascii.js';
import { settingAt } from '../config.js';
import type { Session, Transfer } from '../core.js';
import { errorCode, fileErrorReply, portError, transferErrorReply } from '../errors.js';
import type { TransferEndReason } from '../events.js';
import { baseName, joinPath, parentPath } from '../path.js';
import type { ByteSink, ByteSource } from '../ports.js';
import { exists, userFs } from './nav.js';
import type { Cmd } from './table.js';

// ------------------------------------------------------------------ parameters

function parameterError(s: Session, error: { replyCode: number; message: string }): void {
  s.reply(error.replyCode, error.message);
}

export function type(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  const parsed = parseTypeArg(arg);
  if (!parsed.ok) {
    parameterError(s, parsed.error);
    return;
  }
  s.ascii = parsed.value.type === 'A';
  // ProFTPD echoes the type word as sent (`type i` → `Type set to i`, `L 8` → `L`).
  s.reply(200, `Type set to ${arg.trim().split(/\s+/)[0]}`);
}

export function mode(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  const parsed = parseModeArg(arg);
  if (!parsed.ok) {
    parameterError(s, parsed.error);
    return;
  }
  s.reply(200, `Mode set to ${parsed.value}`);
}

export function stru(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  const parsed = parseStruArg(arg);
  if (!parsed.ok) {
    parameterError(s, parsed.error);
    return;
  }
  s.reply(200, `Structure set to ${parsed.value}`);
}

/** REST (RFC 3659 §5.3): the offset applies to the next RETR/STOR/APPE. */
export function rest(s: Session, c: Cmd): void {
  const parsed = parseRestArg(c.arg ?? '');
  if (!parsed.ok) {
    s.reply(501, 'REST requires a value greater than or equal to 0');
    return;
  }
  if (s.ascii && parsed.value > 0) {
    s.reply(501, 'REST: Resuming transfers not allowed in ASCII mode');
    return;
  }
  s.restOffset = parsed.value;
  s.reply(350, `Restarting at ${parsed.value}. Send STORE or RETRIEVE to initiate transfer`);
}

/** ABOR (RFC 959 §4.1.3): 426 for the cut transfer, then 226. */
export function abor(s: Session): void {
  const t = s.abortTransfer('abor');
  if (t !== undefined) {
    s.reply(426, 'Transfer aborted. Data connection closed.');
    s.reply(226, 'Abort successful');
    return;
  }
  // No transfer: ProFTPD's pr_data_reset closes a pending listener too.
  s.closeDataChannel();
  s.restOffset = 0;
  s.reply(226, 'Abort successful');
}

// ------------------------------------------------------------------ streams

/** Count, note progress, convert; remember a source error as the file side's. */
async function* trackSource(s: Session, t: Transfer, source: ByteSource, convert: ToCrlf | undefined): ByteSource {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (error) {
        finished = true;
        t.fileError = error ?? portError('EIO');
        throw error;
      }
      if (r.done === true) {
        finished = true;
        return;
      }
      t.bytes += r.value.length;
      t.lastProgressAt = s.clock.now();
      yield convert === undefined ? r.value : convert.convert(r.value);
    }
  } finally {
    if (!finished) await closeIterator(it);
  }
}

async function closeIterator(it: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // Closing a half-read file is best effort.
  }
}

/** Release a source that was opened but never sent (425, abort). */
function disposeSource(source: ByteSource): void {
  void closeIterator(source[Symbol.asyncIterator]());
}

/** The sink the data connection writes to: counts, notes progress, converts; remembers file errors. */
function trackSink(s: Session, t: Transfer, sink: ByteSink, convert: FromCrlf | undefined): ByteSink {
  const failed = (error: unknown): never => {
    t.fileError = error ?? portError('EIO');
    throw error;
  };
  return {
    write(chunk: Uint8Array): Promise<void> | void {
      t.bytes += chunk.length;
      t.lastProgressAt = s.clock.now();
      const data = convert === undefined ? chunk : convert.convert(chunk);
      try {
        const r = sink.write(data);
        return r === undefined ? undefined : r.then(undefined, failed);
      } catch (error) {
        return failed(error);
      }
    },
    end: () => sink.end(),
    abort: () => sink.abort(),
  };
}

function endReason(t: Transfer): TransferEndReason {
  return t.aborted === 'abor' ? 'aborted' : t.aborted === 'timeout' ? 'timeout' : 'closed';
}

function modeName(s: Session): string {
  return s.ascii ? 'ASCII' : 'BINARY';
}

function startEvent(s: Session, t: Transfer): void {
  if (s.emit === undefined) return;
  const record = s.transferRecord(t);
  s.emit({ type: 'transfer-start', level: 'debug', message: `${t.verb} ${t.path}`, ...record });
}

// ------------------------------------------------------------------ RETR

export async function retr(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  const t = s.beginTransfer('RETR', c.path, 'o');
  let reason: TransferEndReason = 'file-error';
  let source: ByteSource | undefined;
  try {
    if (t.offset > 0 && !settingAt(s.cfg, 'allowRetrieveRestart', c.path)) {
      s.transferReply(t, 451, `${arg}: Restart not permitted, try again`);
      return;
    }
    const fs = userFs(s);
    let size: number;
    try {
      const info = await fs.stat(c.path);
      if (info.type !== 'file') {
        s.transferReply(t, 550, `${arg}: Not a regular file`);
        return;
      }
      size = info.size;
      if (t.offset > size) {
        s.transferReply(t, 554, 'Requested action not taken: invalid REST parameter');
        return;
      }
      if (t.aborted !== undefined) return;
      source = await fs.read(c.path, { start: t.offset });
    } catch (error) {
      const r = fileErrorReply(arg, error);
      s.transferReply(t, r.code, r.text);
      return;
    }
    t.size = size;
    if (t.aborted !== undefined) return;
    const opened = await s.openData(t);
    if (opened === undefined) return;
    if ('code' in opened) {
      reason = 'connect-failed';
      s.transferReply(t, opened.code, opened.text);
      return;
    }
    startEvent(s, t);
    const conn = await s.startData(t, opened, `Opening ${modeName(s)} mode data connection for ${arg} (${size - t.offset} bytes)`);
    if (conn === undefined) {
      reason = 'connect-failed';
      return;
    }
    const sending = source;
    source = undefined; // send() owns it now
    try {
      await conn.send(trackSource(s, t, sending, s.ascii ? new ToCrlf() : undefined));
    } catch (error) {
      conn.destroy();
      if (t.aborted !== undefined) return;
      const side = t.fileError !== undefined ? 'file' : 'data';
      reason = side === 'file' ? 'file-error' : 'data-error';
      const r = transferErrorReply(side, side === 'file' ? t.fileError : error);
      s.transferReply(t, r.code, r.text);
      return;
    }
    reason = 'complete';
    s.transferReply(t, 226, 'Transfer complete');
  } finally {
    if (source !== undefined) disposeSource(source);
    if (t.aborted !== undefined) reason = endReason(t);
    s.transferEnded(t, reason);
    s.endTransfer(t);
  }
}

// ------------------------------------------------------------------ STOR / APPE / STOU

export function stor(s: Session, c: Cmd): Promise<void> {
  return store(s, c, 'STOR');
}

export function appe(s: Session, c: Cmd): Promise<void> {
  return store(s, c, 'APPE');
}

/**
 * STOU (RFC 959 §4.1.3, RFC 1123 §4.1.2.9): a unique name, `ftp` and six characters, in
 * the current directory. An argument is ignored, as ProFTPD ignores it.
 */
export function stou(s: Session, c: Cmd): Promise<void> {
  return store(s, c, 'STOU');
}

let uniqueCounter = 0;

function uniqueName(s: Session): string {
  let suffix: string;
  if (s.random !== undefined) {
    suffix = Math.floor(s.random() * 0x7fffffff).toString(36).padStart(6, '0').slice(-6);
  } else {
    suffix = `${s.clock.now().toString(36)}${(uniqueCounter++).toString(36)}`;
  }
  return joinPath(s.cwd, `ftp${suffix}`);
}

/** Finish a cut-short upload: keep the partial file unless DeleteAbortedStores (the file's). */
async function closeAborted(s: Session, sink: ByteSink, path: string): Promise<void> {
  try {
    if (settingAt(s.cfg, 'deleteAbortedStores', path)) await sink.abort();
    else await sink.end();
  } catch (error) {
    s.emit?.({ type: 'error', level: 'error', message: 'closing an aborted upload failed', error, verb: undefined });
  }
}

async function discard(sink: ByteSink): Promise<void> {
  try {
    await sink.abort();
  } catch {
    // The upload is already failing; nothing more to report.
  }
}

async function store(s: Session, c: Cmd, verb: 'STOR' | 'APPE' | 'STOU'): Promise<void> {
  const arg = c.arg ?? '';
  const fs = userFs(s);
  const t = s.beginTransfer(verb, c.path, 'i');
  let sink: ByteSink | undefined;
  let reason: TransferEndReason = 'file-error';
  try {
    if (verb !== 'STOU' && c.path === '/') {
      s.transferReply(t, 553, `${arg}: File name not allowed`);
      return;
    }
    const offset = t.offset;
    // ProFTPD mod_xfer `xfer_pre_stor`, with the settings of the file's path: an existing
    // file is not replaced, resumed (REST + STOR) included, under AllowOverwrite off, and
    // not extended (REST + STOR, APPE) under AllowStoreRestart off.
    if (verb !== 'STOU') {
      const overwrite = verb === 'APPE' || settingAt(s.cfg, 'allowOverwrite', c.path);
      const resume = (offset === 0 && verb !== 'APPE') || settingAt(s.cfg, 'allowStoreRestart', c.path);
      if ((!overwrite || !resume) && (await exists(s, c.path))) {
        if (!overwrite) s.transferReply(t, 550, `${arg}: Overwrite permission denied`);
        else s.transferReply(t, 451, `${arg}: Append/Restart not permitted, try again`);
        return;
      }
    }
    const writeMode = verb === 'APPE' ? 'append' : offset > 0 ? 'offset' : 'create';
    for (let attempt = 0; sink === undefined; attempt++) {
      if (verb === 'STOU') t.path = uniqueName(s);
      try {
        sink = await fs.write(t.path, verb === 'STOU' ? { mode: 'create', start: 0, unique: true } : { mode: writeMode, start: offset });
      } catch (error) {
        if (verb === 'STOU' && errorCode(error) === 'EEXIST' && attempt < 8) continue;
        const name = verb === 'STOU' ? baseName(t.path) : arg;
        // A folder in the way is named as RETR names it (ProFTPD).
        const r = errorCode(error) === 'EISDIR' ? { code: 550, text: `${name}: Not a regular file` } : fileErrorReply(name, error);
        s.transferReply(t, r.code, r.text);
        return;
      }
    }
    if (t.aborted !== undefined) {
      await discard(sink);
      return;
    }
    const opened = await s.openData(t);
    if (opened === undefined) {
      await discard(sink);
      return;
    }
    if ('code' in opened) {
      reason = 'connect-failed';
      await discard(sink);
      s.transferReply(t, opened.code, opened.text);
      return;
    }
    startEvent(s, t);
    const conn = await s.startData(t, opened, verb === 'STOU' ? `FILE: ${baseName(t.path)}` : `Opening ${modeName(s)} mode data connection for ${arg}`);
    if (conn === undefined) {
      reason = 'connect-failed';
      await discard(sink);
      return;
    }
    const convert = s.ascii ? new FromCrlf() : undefined;
    const tracked = trackSink(s, t, sink, convert);
    try {
      await conn.receive(tracked);
      const held = convert?.flush();
      if (held !== undefined && held.length > 0) {
        // Already converted: straight to the file (a final lone CR).
        try {
          await sink.write(held);
        } catch (error) {
          t.fileError = error ?? portError('EIO');
          throw error;
        }
      }
    } catch (error) {
      conn.destroy();
      if (t.aborted !== undefined) {
        await closeAborted(s, sink, t.path);
        return;
      }
      if (t.fileError !== undefined) {
        await discard(sink);
        const r = transferErrorReply('file', t.fileError);
        s.transferReply(t, r.code, r.text);
        return;
      }
      reason = 'data-error';
      await closeAborted(s, sink, t.path);
      const r = transferErrorReply('data', error);
      s.transferReply(t, r.code, r.text);
      return;
    }
    try {
      await sink.end();
    } catch (error) {
      const r = transferErrorReply('file', error);
      s.transferReply(t, r.code, r.text);
      return;
    }
    reason = 'complete';
    s.transferReply(t, 226, 'Transfer complete');
  } finally {
    if (t.aborted !== undefined && reason !== 'complete') reason = endReason(t);
    s.transferEnded(t, reason);
    s.endTransfer(t);
  }
}
