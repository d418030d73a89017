/**
 * Data channels on real sockets: a {@link DataChannelFactory} for the session core.
 *
 * Theory of operation.
 * - Passive (PASV/EPSV): `listen()` opens a listener of ./passive.ts (PassivePorts
 *   through `listenTcp`, strangers dropped as they connect, reuse across PASVs).
 * - Active (PORT/EPRT): `connect()` from the control connection's local address on an
 *   ephemeral port, with a connect timeout.
 * - Transfers: `send()` iterates the source and writes each chunk with backpressure
 *   counted by write callbacks (up to {@link WRITE_BUFFER} bytes queued, so the kernel
 *   never runs dry while we wait). Chunks of a file source of {@link localFileSystem}
 *   go back to its buffer pool once the socket has taken them, so a download reuses a
 *   few 1 MiB buffers (that works through the core's counting and TYPE A wrappers; a
 *   piped `fs.ReadStream` measured far slower). `receive()` reads a plain TCP socket
 *   into buffers of its own choosing (Node's `onread` user buffers; a socket Node
 *   allocated for, 64 KiB a read, measured three times slower): a file sink, directly or
 *   behind the core's counting/TYPE A wrapper (found with {@link feeding}), offers the
 *   free span of its upload ring, so the kernel copies into the ring and nothing is
 *   copied again; otherwise one shared scratch buffer, consumed by each `write()` before
 *   it returns (wrappers between this connection and a file sink must not keep chunks).
 *   Reading stops while the sink has no room or a write is pending. TLS sockets are
 *   iterated as streams. A file sink still learns whether the stream ended cleanly.
 *   `destroy()` aborts either direction with EABORTED.
 * - PROT P: `secure()` takes the socket from the connection and runs the TLS server
 *   handshake with the control connection's per-session context (./tls.ts), so
 *   `resumed` means "resumed this session's TLS".
 * - After a send the socket has sent its FIN; it is destroyed when the peer closes or
 *   after `lingerMs` (ProFTPD TimeoutLinger), so a peer that never closes leaks nothing.
 * - Nagle stays on for data (bulk transfer); every socket has an 'error' listener
 *   from the start, so a reset never becomes an uncaught exception.
 */
import net from 'node:net';
import { finished } from 'node:stream/promises';
import { portError, strerror } from '../errors.js';
import type {
  ActiveResult,
  ByteSink,
  ByteSource,
  DataChannelFactory,
  DataConnection,
  PassiveRequest,
  PassiveResult,
  PortError,
  SecureDataRequest,
  SecureDataResult,
} from '../ports.js';
import { toPortError } from './errors.js';
import { feeding, isFileSink, isRecyclable, recycle } from './fs.js';
import type { FileSink } from './fs.js';
import { listenPassive } from './passive.js';
import { serverHandshake, sessionTlsOf } from './tls.js';

/**
 * Bytes a sending socket may hold in user space before `send()` waits for writes to
 * complete (counted with write callbacks, so the kernel never runs dry while we wait).
 */
export const WRITE_BUFFER: number = 2 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/** Bytes of the buffer sockets read into when no file sink offers its own. */
const SCRATCH_SIZE = 256 * 1024;
/** A fed file sink with less room than this stops the socket until it has this much. */
const ROOM = 64 * 1024;
let scratch: Buffer | undefined;

/**
 * One buffer for every socket that reads without a file sink's span: a read and its
 * callback run back to back on the event loop, and each callback consumes the bytes
 * before it returns, so no two sockets ever hold data in it at once.
 */
function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  return scratch;
}

/** Node's per-socket slots behind the `onread` option of `net.connect` (Node ≥ 12). */
interface UserBufferKeys {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}
let knownKeys: UserBufferKeys | null | undefined;

/**
 * The `onread` slots of a plain TCP socket, so that an accepted socket can read into
 * buffers of our choosing as a connected one can (`net.Server` has no `onread` option).
 * Undefined for TLS sockets, sockets without a handle, and a Node whose sockets do not
 * carry these slots: those are read as a stream.
 */
function userBufferKeys(socket: net.Socket): UserBufferKeys | undefined {
  if ((socket as { encrypted?: boolean }).encrypted === true) return undefined;
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } | null })._handle;
  if (typeof handle?.useUserBuffer !== 'function') return undefined;
  if (knownKeys === undefined) {
    const named = new Map(Object.getOwnPropertySymbols(socket).map((symbol) => [symbol.description, symbol]));
    const buffer = named.get('kBuffer');
    const callback = named.get('kBufferCb');
    const generator = named.get('kBufferGen');
    knownKeys = buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : null;
  }
  if (knownKeys === null) return undefined;
  return (socket as unknown as Record<symbol, unknown>)[knownKeys.buffer] == null ? knownKeys : undefined;
}

export interface DataChannelOptions {
  /** Give up an active connection after this long. Default 30 000 ms. */
  connectTimeoutMs?: number;
  /** Destroy a data socket this long after our FIN if the peer has not closed. Default 10 000 ms. */
  lingerMs?: number;
  /** listen(2) backlog of passive listeners. Default 8. */
  backlog?: number;
  /** The allocator's clock. Default `Date.now`. */
  now?: () => number;
  /** Called for every data socket opened (tests count them; apps can tune socket options). */
  onSocket?: (socket: net.Socket, mode: 'passive' | 'active') => void;
}

/** `::ffff:192.0.2.1` → `192.0.2.1`; anything else unchanged. */
export function unmapIpv4(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && net.isIPv4(lower.slice(7)) ? lower.slice(7) : address;
}

function abortError(): PortError {
  return portError('EABORTED');
}

/** The code of a transfer failure: the socket side becomes ECONNRESET, the file side keeps its code. */
function transferError(error: unknown, aborted: boolean): PortError {
  if (aborted) return abortError();
  return toPortError(error);
}

/** A connected data socket. */
export class SocketDataConnection implements DataConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: net.Socket;
  readonly #lingerMs: number;
  #aborted = false;
  #closed = false;
  #busy = false;
  readonly #onClose = (): void => {
    this.#closed = true;
    this.#wake(this.#aborted ? abortError() : portError('ECONNRESET'));
  };
  #waiter: { resolve: () => void; reject: (e: PortError) => void } | undefined;

  constructor(socket: net.Socket, options: { lingerMs?: number } = {}) {
    this.#socket = socket;
    this.#lingerMs = options.lingerMs ?? 10_000;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(false);
    socket.on('error', () => undefined); // reported through send()/receive()
    socket.once('close', this.#onClose);
  }

  /** The socket (for options and diagnostics). */
  get socket(): net.Socket {
    return this.#socket;
  }

  #wake(error?: PortError): void {
    const w = this.#waiter;
    if (w === undefined) return;
    this.#waiter = undefined;
    if (error === undefined) w.resolve();
    else w.reject(error);
  }

  /** Waits until the socket took enough of what was queued, rejecting if it closes or the transfer is aborted. */
  #drained(): Promise<void> {
    if (this.#aborted) return Promise.reject(abortError());
    if (this.#closed) return Promise.reject(portError('ECONNRESET'));
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #begin(): void {
    if (this.#aborted) throw abortError();
    if (this.#busy) throw portError('EBUSY');
    this.#busy = true;
  }

  /** After our FIN: wait for the peer's, but not for ever. */
  #linger(): void {
    const s = this.#socket;
    if (s.destroyed) return;
    s.resume(); // discard whatever the peer still sends
    const timer = setTimeout(() => s.destroy(), this.#lingerMs);
    timer.unref();
    s.once('close', () => clearTimeout(timer));
  }

  async send(source: ByteSource): Promise<number> {
    this.#begin();
    const s = this.#socket;
    let queued = 0;
    let sent = 0;
    let failure: Error | undefined;
    const written = (chunk: Uint8Array, recyclable: boolean) => (error?: Error | null): void => {
      queued -= chunk.length;
      if (error) failure ??= error;
      else if (recyclable) recycle(chunk);
      if (queued < WRITE_BUFFER) this.#wake();
    };
    try {
      for await (const chunk of source) {
        if (this.#aborted) throw abortError();
        if (this.#closed || failure !== undefined) throw failure ?? portError('ECONNRESET');
        if (chunk.length === 0) continue;
        queued += chunk.length;
        sent += chunk.length;
        s.write(chunk, written(chunk, isRecyclable(chunk)));
        if (queued >= WRITE_BUFFER) await this.#drained();
      }
      if (this.#aborted) throw abortError();
      s.end();
      await finished(s, { readable: false });
    } catch (error) {
      s.destroy();
      throw transferError(error, this.#aborted);
    } finally {
      this.#busy = false;
    }
    this.#linger();
    return sent;
  }

  async receive(sink: ByteSink): Promise<number> {
    this.#begin();
    const s = this.#socket;
    let linked: FileSink | undefined;
    const link = (fileSink: FileSink): void => {
      if (linked !== undefined) return;
      linked = fileSink;
      fileSink.completion = 'receiving';
    };
    let bytes = 0;
    try {
      if (isFileSink(sink)) link(sink);
      else {
        // Lets a file sink behind wrappers learn that this connection feeds it.
        const first = feeding(link, () => sink.write(EMPTY));
        if (first !== undefined) await first;
      }
      const keys = userBufferKeys(s);
      bytes = keys === undefined ? await this.#iterate(sink) : await this.#readInto(sink, linked, keys);
      if (this.#aborted) throw abortError();
    } catch (error) {
      if (linked !== undefined) linked.completion = 'incomplete';
      s.destroy();
      throw transferError(error, this.#aborted);
    } finally {
      this.#busy = false;
    }
    if (linked !== undefined) linked.completion = 'complete';
    return bytes;
  }

  /** Copies the socket's chunks into `sink` as the stream delivers them (TLS sockets). */
  async #iterate(sink: ByteSink): Promise<number> {
    let bytes = 0;
    for await (const chunk of this.#socket) {
      bytes += (chunk as Uint8Array).length;
      const r = sink.write(chunk as Uint8Array);
      if (r !== undefined) await r;
    }
    return bytes;
  }

  /**
   * Reads the socket into buffers of our choosing (Node's `onread` user buffers): the free
   * span of the file sink's ring when one is fed (no copy at all), otherwise one shared
   * scratch buffer whose bytes each `write()` consumes before it returns (a file sink
   * copies them; any other sink gets a copy of its own). Reading stops while a write is
   * pending, which is the backpressure towards the client.
   */
  #readInto(sink: ByteSink, linked: FileSink | undefined, keys: UserBufferKeys): Promise<number> {
    const s = this.#socket;
    const slots = s as unknown as Record<symbol, unknown>;
    const handle = (s as unknown as { _handle: { useUserBuffer(buffer: Uint8Array): void } })._handle;
    return new Promise<number>((resolve, reject) => {
      let bytes = 0;
      let waiting = false;
      let eof = false;
      let settled = false;
      let socketError: Error | undefined;
      const settle = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        s.off('end', onEnd);
        s.off('close', onClose);
        s.off('error', onError);
        if (error === undefined) resolve(bytes);
        else {
          s.pause();
          reject(error);
        }
      };
      const deliver = (chunk: Uint8Array): boolean => {
        bytes += chunk.length;
        let r: Promise<void> | void;
        try {
          r = sink.write(linked === undefined ? Buffer.from(chunk) : chunk);
        } catch (error) {
          settle(error);
          return false;
        }
        if (r === undefined) {
          // A file sink's ring nearly full: wait for room rather than read what it cannot take.
          r = linked !== undefined && linked.free() < ROOM ? linked.room(ROOM) : undefined;
          if (r === undefined) return true;
        }
        waiting = true;
        r.then(() => {
          waiting = false;
          if (settled) return;
          if (eof) settle();
          else s.resume();
        }, settle);
        return false;
      };
      const onEnd = (): void => {
        eof = true;
        if (!waiting) settle();
      };
      const onClose = (): void => {
        if (!eof) settle(this.#aborted ? abortError() : (socketError ?? portError('ECONNRESET')));
      };
      const onError = (error: Error): void => {
        socketError = error;
      };
      // A file sink's span when it has one; else scratch, no more than the sink can take.
      const next = (): Uint8Array =>
        linked === undefined ? scratchBuffer() : (linked.reserve() ?? scratchBuffer().subarray(0, Math.max(ROOM, Math.min(SCRATCH_SIZE, linked.free()))));
      s.on('end', onEnd);
      s.on('close', onClose);
      s.on('error', onError);
      // What arrived before this transfer goes first, so that the span offered to the
      // socket below starts where those bytes end. Nothing is read in between: reads
      // are delivered by the event loop, and this block runs to its end first.
      s.pause();
      const early = s.read() as Uint8Array | null;
      if (early !== null && early.length > 0) deliver(early);
      const first = next();
      slots[keys.buffer] = first;
      slots[keys.callback] = (n: number, buffer: Uint8Array): boolean => {
        if (settled) return false;
        // Reading stops while a write is pending; bytes arriving anyway would be lost.
        if (waiting) {
          settle(portError('EIO', 'read while the sink was full'));
          return false;
        }
        return deliver(buffer.subarray(0, n));
      };
      slots[keys.generator] = next;
      handle.useUserBuffer(first);
      if (s.readableEnded) onEnd(); // 'end' came before this transfer
      if (waiting || settled) s.pause();
      else s.resume();
    });
  }

  /**
   * Gives the socket to the caller (a TLS handshake); this connection no longer reads or
   * writes it. `destroy()` still closes it: an ABOR during the handshake ends it at once.
   */
  handOver(): net.Socket {
    if (this.#busy || this.#aborted) throw portError('EBUSY');
    this.#socket.off('close', this.#onClose);
    return this.#socket;
  }

  destroy(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const s = this.#socket;
    if (!s.destroyed) s.destroy(abortError());
    this.#wake(abortError());
  }
}

class NodeDataChannels implements DataChannelFactory {
  readonly #options: DataChannelOptions;
  constructor(options: DataChannelOptions) {
    this.#options = options;
  }

  listen(request: PassiveRequest): Promise<PassiveResult> {
    const lingerMs = this.#options.lingerMs;
    return listenPassive(request, unmapIpv4(request.localAddress), this.#options, (socket) => new SocketDataConnection(socket, lingerMs === undefined ? {} : { lingerMs }));
  }

  /** PROT P (RFC 4217 §9): the TLS handshake on the data connection, resuming the control session's TLS. */
  async secure(connection: DataConnection, request: SecureDataRequest): Promise<SecureDataResult> {
    const session = sessionTlsOf(request.control);
    if (session === undefined || !(connection instanceof SocketDataConnection)) {
      return { ok: false, reason: 'handshake', message: 'not a TLS session of this server' };
    }
    const r = await serverHandshake(connection.handOver(), session);
    if (!r.ok) return r;
    return { ok: true, connection: new SocketDataConnection(r.socket, this.#options), info: r.info, resumed: r.resumed };
  }

  connect(request: { host: string; port: number; localAddress: string }): Promise<ActiveResult> {
    const host = unmapIpv4(request.host);
    const local = unmapIpv4(request.localAddress);
    const sameFamily = net.isIPv4(host) === net.isIPv4(local) && net.isIP(local) !== 0;
    const timeoutMs = this.#options.connectTimeoutMs ?? 30_000;
    return new Promise((resolve) => {
      const socket = net.connect(sameFamily ? { host, port: request.port, localAddress: local } : { host, port: request.port });
      const timer = setTimeout(() => socket.destroy(portError('ETIMEDOUT')), timeoutMs);
      const failed = (error: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok: false, message: strerror(error.code ?? 'EIO') });
      };
      socket.once('error', failed);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', failed);
        this.#options.onSocket?.(socket, 'active');
        resolve({ ok: true, connection: new SocketDataConnection(socket, this.#options) });
      });
    });
  }
}

/**
 * Data channels on real sockets (see the module comment). One factory can serve every
 * session of a server; PassivePorts come per request from the session's configuration.
 */
export function nodeDataChannels(options: DataChannelOptions = {}): DataChannelFactory {
  return new NodeDataChannels(options);
}
