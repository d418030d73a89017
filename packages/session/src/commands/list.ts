/**
 * Listings: LIST and NLST (RFC 959 §4.1.3, ProFTPD mod_ls output and option
 * tolerance, simple globbing of the last segment), MLSD and MLST (RFC 3659 §7), and
 * STAT <path> on the control connection.
 */
import type { Session, Transfer } from '../core.js';
import { errorCode, portError, strerror } from '../errors.js';
import { formatListLine, formatMlsxEntry, globMatch, hasGlob, parseListArgs } from '../listing.js';
import { baseName, joinPath, parentPath } from '../path.js';
import type { ByteSource, FileInfo } from '../ports.js';
import { userFs } from './nav.js';
import type { Cmd } from './table.js';

/** Entries to show, each with the name to print. */
interface Listing {
  entries: { info: FileInfo; name: string }[];
  /** The listed directory (for MLSD's cdir entry). */
  dir: FileInfo | undefined;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * What `LIST`/`NLST`/`STAT` show for an operand: a directory's entries, one file, or
 * the matches of a glob in the last segment. Throws the port's error (ENOENT, marked
 * `noMatch`, when a glob matches nothing).
 */
async function collect(
  s: Session,
  operand: string | undefined,
  all: boolean,
  prefixNames: boolean,
  dots: 'never' | 'with-a' | 'always' = 'never',
  globs = true,
): Promise<Listing> {
  const fs = userFs(s);
  const showDot = all || s.cfg.showDotFiles;
  let path = s.cwd;
  if (operand !== undefined) {
    const resolved = s.resolve(operand);
    if (resolved === undefined) throw Object.assign(new Error('NUL'), { code: 'EINVAL', replied: true });
    path = resolved;
  }
  const glob = globs && operand !== undefined && hasGlob(baseName(path));
  if (glob) {
    const pattern = baseName(path);
    const prefix = operand.includes('/') ? operand.slice(0, operand.lastIndexOf('/') + 1) : '';
    const entries = (await fs.list(parentPath(path)))
      .filter((e) => globMatch(pattern, e.name) && (showDot || !e.name.startsWith('.') || pattern.startsWith('.')))
      .map((info) => ({ info, name: prefix + info.name }))
      .sort(byName);
    if (entries.length === 0) throw Object.assign(new Error('no match'), { code: 'ENOENT', noMatch: true });
    return { entries, dir: undefined };
  }
  const info = await fs.stat(path);
  if (info.type !== 'dir') return { entries: [{ info, name: operand ?? info.name }], dir: undefined };
  const prefix = prefixNames && operand !== undefined ? (operand.endsWith('/') ? operand : `${operand}/`) : '';
  const entries = await dirEntries(s, path, showDot, prefix);
  if (dots === 'always' || (dots === 'with-a' && showDot)) {
    // ProFTPD mod_ls with -a (and STAT always): the directory itself and its parent,
    // sorted in with the rest (`..` of the root is the root: nothing is above it for the session).
    const parent = path === '/' ? info : await fs.stat(parentPath(path));
    entries.push({ info, name: `${prefix}.` }, { info: parent, name: `${prefix}..` });
  }
  return { entries: entries.sort(byName), dir: info };
}

/** A directory's entries (names starting with `.` only with `showDot`), each named `prefix` + its name; unsorted. */
async function dirEntries(s: Session, path: string, showDot: boolean, prefix = ''): Promise<Listing['entries']> {
  return (await userFs(s).list(path)).filter((e) => showDot || !e.name.startsWith('.')).map((e) => ({ info: e, name: prefix + e.name }));
}

/** Lines of a listing: all at hand, or produced as the data connection takes them (LIST -R). */
type Lines = readonly string[] | AsyncIterable<string>;

/** Lines a data chunk carries. */
const LINES_PER_CHUNK = 128;

/** Encode lines lazily, a batch at a time, so a huge directory never becomes one string. */
async function* linesSource(lines: Lines, t: Transfer, s: Session): ByteSource {
  const encoder = new TextEncoder();
  const chunk = (batch: readonly string[]): Uint8Array => {
    const bytes = encoder.encode(batch.join(''));
    t.bytes += bytes.length;
    t.lastProgressAt = s.clock.now();
    return bytes;
  };
  if (Array.isArray(lines)) {
    for (let i = 0; i < lines.length; i += LINES_PER_CHUNK) yield chunk(lines.slice(i, i + LINES_PER_CHUNK));
    return;
  }
  let batch: string[] = [];
  for await (const line of lines) {
    batch.push(line);
    if (batch.length === LINES_PER_CHUNK) {
      yield chunk(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield chunk(batch);
}

/**
 * Send `lines` (each already CRLF-terminated) on the data connection: 150 … 226, or
 * 150 … `failure` (nothing sent) for a listing ProFTPD refuses after opening the connection.
 */
async function sendListing(
  s: Session,
  t: Transfer,
  lines: Lines,
  what: string,
  failure?: { code: number; text: string },
): Promise<void> {
  try {
    const opened = await s.openData(t);
    if (opened === undefined) return;
    if ('code' in opened) {
      s.transferReply(t, opened.code, opened.text);
      return;
    }
    const conn = await s.startData(t, opened, `Opening ${s.ascii ? 'ASCII' : 'BINARY'} mode data connection for ${what}`);
    if (conn === undefined) return;
    try {
      await conn.send(linesSource(lines, t, s));
    } catch {
      conn.destroy();
      s.transferReply(t, 426, 'Transfer aborted. Data connection closed');
      return;
    }
    if (failure === undefined) s.transferReply(t, 226, 'Transfer complete');
    else s.transferReply(t, failure.code, failure.text);
  } finally {
    s.endTransfer(t);
  }
}

async function listLike(s: Session, c: Cmd, names: boolean): Promise<void> {
  const args = parseListArgs(c.arg);
  const t = s.beginTransfer(c.verb, s.cwd, 'l');
  let listing: Listing;
  try {
    listing = await collect(s, args.path, args.all, names, 'with-a');
  } catch (error) {
    if ((error as { replied?: boolean }).replied === true) {
      s.endTransfer(t);
      return;
    }
    // ProFTPD mod_ls: a missing operand is a 450 (transient, RFC 959 §4.2). NLST answers
    // before any data connection (`No files found` for a glob matching nothing); LIST
    // opens the data connection first, so its 450 follows a 150, and a glob matching
    // nothing is an empty listing.
    const text = `${args.path ?? '.'}: ${strerror(errorCode(error))}`;
    const noMatch = (error as { noMatch?: boolean }).noMatch === true;
    if (!names) return sendListing(s, t, [], 'file list', noMatch ? undefined : { code: 450, text });
    s.endTransfer(t);
    s.transferReply(t, 450, noMatch ? 'No files found' : text);
    return;
  }
  if (t.aborted !== undefined) {
    s.endTransfer(t);
    return;
  }
  const now = s.clock.now();
  const lines = listing.entries.map((e) => (names ? e.name : formatListLine(e.info, now, e.name)) + '\r\n');
  const top = !names && listing.dir !== undefined && args.recursive ? (args.path === undefined ? s.cwd : s.resolve(args.path)) : undefined;
  if (top === undefined) return sendListing(s, t, lines, 'file list');
  return sendListing(s, t, recursiveLines(s, lines, top, args.path, listing.entries, args.all, now), 'file list');
}

/** The top directory's lines, then its subdirectories' ({@link recurse}), read as they are sent. */
async function* recursiveLines(
  s: Session,
  lines: readonly string[],
  top: string,
  shown: string | undefined,
  entries: Listing['entries'],
  all: boolean,
  now: number,
): AsyncGenerator<string> {
  yield* lines;
  yield* recurse(s, top, shown, entries, all, now, 1);
}

const MAX_DEPTH = 32;

/**
 * `LIST -R` as ProFTPD's mod_ls writes it: after a directory's lines, each subdirectory in
 * order, depth first, as an empty line, `<path>:` and its lines. A directory that cannot
 * be read is left out, header and all. A generator: a directory is read only when the data
 * connection has taken what came before, so a large tree is never held in memory whole.
 */
async function* recurse(
  s: Session,
  dir: string,
  shown: string | undefined,
  entries: Listing['entries'],
  all: boolean,
  now: number,
  depth: number,
): AsyncGenerator<string> {
  if (depth > MAX_DEPTH) return;
  const showDot = all || s.cfg.showDotFiles;
  for (const e of entries) {
    if (e.info.type !== 'dir' || e.name === '.' || e.name === '..' || e.name.endsWith('/.') || e.name.endsWith('/..')) continue;
    const name = baseName(e.name);
    const path = joinPath(dir, name);
    const label = shown === undefined ? name : `${shown.replace(/\/+$/, '')}/${name}`;
    let children: Listing['entries'];
    try {
      children = (await dirEntries(s, path, showDot)).sort(byName);
    } catch {
      continue;
    }
    yield `\r\n${label}:\r\n`;
    for (const c of children) yield `${formatListLine(c.info, now, c.name)}\r\n`;
    yield* recurse(s, path, label, children, all, now, depth + 1);
  }
}

export function list(s: Session, c: Cmd): Promise<void> {
  return listLike(s, c, false);
}

export function nlst(s: Session, c: Cmd): Promise<void> {
  return listLike(s, c, true);
}

function writable(s: Session): boolean {
  return s.user?.readOnly !== true;
}

/**
 * MLSD (RFC 3659 §7): the directory's entries as facts, with a `cdir` entry for itself and
 * a `pdir` entry for its parent (`..`), as ProFTPD lists them.
 */
export async function mlsd(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '.';
  const t = s.beginTransfer('MLSD', c.path, 'l');
  let dir: FileInfo;
  let parent: FileInfo;
  let entries: FileInfo[];
  try {
    dir = await userFs(s).stat(c.path);
    if (dir.type !== 'dir') throw portError('ENOTDIR');
    entries = await userFs(s).list(c.path);
    // `..` of the root is the root: nothing is above it for the session.
    parent = c.path === '/' ? dir : await userFs(s).stat(parentPath(c.path)).catch(() => dir);
  } catch (error) {
    s.endTransfer(t);
    // RFC 3659 §7.2.1: 550 for a missing or non-directory operand.
    s.transferReply(t, 550, `${arg}: ${strerror(errorCode(error))}`);
    return;
  }
  if (t.aborted !== undefined) {
    s.endTransfer(t);
    return;
  }
  const facts = s.mlstFacts;
  const w = writable(s);
  const lines = [formatMlsxEntry(dir, facts, w, '.', 'cdir') + '\r\n', formatMlsxEntry(parent, facts, w, '..', 'pdir') + '\r\n'];
  for (const e of entries.sort(byName)) lines.push(formatMlsxEntry(e, facts, w, e.name) + '\r\n');
  return sendListing(s, t, lines, 'MLSD');
}

/**
 * MLST (RFC 3659 §7.2): one entry on the control connection, `250-` form. Whatever keeps
 * the path from being listed is `550 '<path>' cannot be listed` (ProFTPD's mod_facts).
 */
export async function mlst(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? s.cwd;
  let info: FileInfo;
  try {
    info = await userFs(s).stat(c.path);
  } catch {
    s.reply(550, `'${arg}' cannot be listed`);
    return;
  }
  s.reply(250, [`Start of list for ${arg}`, formatMlsxEntry(info, s.mlstFacts, writable(s), c.path), 'End of list']);
}

/** STAT <path> (RFC 959 §4.1.3): the LIST output over the control connection. */
export async function statusListing(s: Session, c: Cmd): Promise<void> {
  const args = parseListArgs(c.arg);
  let listing: Listing;
  try {
    // ProFTPD's STAT takes its operand literally: no globbing.
    // `.` and `..` are always shown, as ProFTPD 1.3.8's STAT does.
    listing = await collect(s, args.path, args.all, false, 'always', false);
  } catch (error) {
    if ((error as { replied?: boolean }).replied === true) return;
    s.reply(450, `${args.path ?? '.'}: ${strerror(errorCode(error))}`);
    return;
  }
  const now = s.clock.now();
  const lines = listing.entries.map((e) => formatListLine(e.info, now, e.name));
  // ProFTPD names the operand as given: `STAT -la` is the status of `.`.
  s.reply(212, [`Status of ${args.path ?? '.'}:`, ...lines, 'End of status']);
}

