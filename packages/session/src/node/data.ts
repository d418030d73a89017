/**
 * Data channels on real sockets: a {@link DataChannelFactory} for the session core.
 *
 * Theory of operation.
 * - Passive (PASV/EPSV): `listen()` binds the control connection's local address (an
 *   IPv4-mapped address binds as IPv4, RFC 4291 §2.5.5.2) on a port leased from the
 *   session's PassivePorts allocator through `listenTcp` (no probe-then-bind race), or a
 *   kernel port without one. A peer the request's `accept` refuses (AllowForeignAddress)
 *   is dropped as it connects and reported through `onRejected`, so a crowd of strangers
 *   cannot fill the queue ahead of the client (RFC 2577 §5). Accepted sockets queue
 *   until the core calls `accept()`; the core checks the peer again and may drop a
 *   stranger and accept again. `close()` stops listening, drops queued sockets and
 *   returns the lease.
 * - Active (PORT/EPRT): `connect()` from the control connection's local address on an
 *   ephemeral port, with a connect timeout.
 * - Transfers: `send()` iterates the source and writes each chunk with backpressure
 *   counted by write callbacks (up to {@link WRITE_BUFFER} bytes queued, so the kernel
 *   never runs dry while we wait). Chunks of a file source of {@link localFileSystem}
 *   go back to its buffer pool once the socket has taken them, so a download reuses a
 *   few 1 MiB buffers (that works through the core's counting and TYPE A wrappers; a
 *   piped `fs.ReadStream` measured far slower). `receive()` into a file sink pipes the
 *   socket into the file writer (writev batches); into any other sink (the core's
 *   wrapper) each chunk is written as the socket delivers it, and a file sink behind the
 *   wrapper still learns whether the stream ended cleanly. `destroy()` aborts either
 *   with EABORTED.
 * - PROT P: `secure()` takes the socket from the connection and runs the TLS server
 *   handshake with the control connection's per-session context (./tls.ts), so
 *   `resumed` means "resumed this session's TLS".
 * - After a send the socket has sent its FIN; it is destroyed when the peer closes or
 *   after `lingerMs` (ProFTPD TimeoutLinger), so a peer that never closes leaks nothing.
 * - Nagle stays on for data (bulk transfer); every socket has an 'error' listener
 *   from the start, so a reset never becomes an uncaught exception.
 */
import net from 'node:net';
import { finished, pipeline } from 'node:stream/promises';
import { listenTcp } from '@ftpkit/port-allocator/node';
import { portError, strerror } from '../errors.js';
import type {
  ActiveResult,
  ByteSink,
  ByteSource,
  DataChannelFactory,
  DataConnection,
  PassiveListener,
  PassiveRequest,
  PassiveResult,
  PortError,
  SecureDataRequest,
  SecureDataResult,
} from '../ports.js';
import { toPortError } from './errors.js';
import { feeding, isFileSink, isRecyclable, recycle } from './fs.js';
import type { FileSink } from './fs.js';
import { serverHandshake, sessionTlsOf } from './tls.js';

/**
 * Bytes a sending socket may hold in user space before `send()` waits for writes to
 * complete (counted with write callbacks, so the kernel never runs dry while we wait).
 */
export const WRITE_BUFFER: number = 2 * 1024 * 1024;

/** How many unaccepted connections a passive listener keeps (more are dropped at once). */
const MAX_QUEUED = 8;

const EMPTY = new Uint8Array(0);

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
      if (isFileSink(sink)) {
        link(sink);
        await pipeline(s, sink.writable, { end: false });
        bytes = s.bytesRead;
      } else {
        // Lets a file sink behind wrappers learn that this connection feeds it.
        const first = feeding(link, () => sink.write(EMPTY));
        if (first !== undefined) await first;
        for await (const chunk of s) {
          bytes += (chunk as Uint8Array).length;
          const r = sink.write(chunk as Uint8Array);
          if (r !== undefined) await r;
        }
      }
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

/** A passive listener whose accepted sockets wait in a queue. */
class SocketPassiveListener implements PassiveListener {
  readonly port: number;
  readonly exposedPort: number;
  readonly fallback: boolean;
  readonly #server: net.Server;
  readonly #release: () => void;
  readonly #lingerMs: number;
  readonly #onSocket: DataChannelOptions['onSocket'];
  readonly #gate: Pick<PassiveRequest, 'accept' | 'onRejected'>;
  readonly #queue: net.Socket[] = [];
  readonly #waiters: Array<(c: DataConnection | undefined) => void> = [];
  #closed = false;

  constructor(
    server: net.Server,
    ports: { port: number; exposedPort: number; fallback: boolean },
    release: () => void,
    options: DataChannelOptions,
    gate: Pick<PassiveRequest, 'accept' | 'onRejected'>,
  ) {
    this.#server = server;
    this.port = ports.port;
    this.exposedPort = ports.exposedPort;
    this.fallback = ports.fallback;
    this.#release = release;
    this.#lingerMs = options.lingerMs ?? 10_000;
    this.#onSocket = options.onSocket;
    this.#gate = gate;
    // An accept error (EMFILE…) must not crash the process; the listener stays.
    server.on('error', () => undefined);
    server.on('connection', (socket) => this.#arrived(socket));
    server.once('close', () => this.close());
  }

  #arrived(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.#closed || this.#queue.length >= MAX_QUEUED) {
      socket.destroy();
      return;
    }
    // A stranger is dropped at once, so it never takes the client's place in the queue.
    const accept = this.#gate.accept;
    if (accept !== undefined) {
      const remote = socket.remoteAddress;
      if (remote === undefined || !accept(remote)) {
        socket.destroy();
        if (remote !== undefined) this.#gate.onRejected?.(remote);
        return;
      }
    }
    this.#onSocket?.(socket, 'passive');
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(this.#wrap(socket));
    else {
      this.#queue.push(socket);
      socket.once('close', () => {
        const i = this.#queue.indexOf(socket);
        if (i !== -1) this.#queue.splice(i, 1);
      });
    }
  }

  #wrap(socket: net.Socket): DataConnection {
    return new SocketDataConnection(socket, { lingerMs: this.#lingerMs });
  }

  accept(): Promise<DataConnection | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(this.#wrap(queued));
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    for (const socket of this.#queue.splice(0)) socket.destroy();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}

function listenKernel(host: string, backlog: number): Promise<{ ok: true; server: net.Server; port: number } | { ok: false; message: string }> {
  return new Promise((resolve) => {
    const server = net.createServer();
    const failed = (error: NodeJS.ErrnoException): void => {
      server.close();
      resolve({ ok: false, message: `bind ${host}: ${strerror(error.code ?? 'EIO')}` });
    };
    server.once('error', failed);
    server.listen({ host, port: 0, backlog, exclusive: true }, () => {
      server.off('error', failed);
      resolve({ ok: true, server, port: (server.address() as net.AddressInfo).port });
    });
  });
}

class NodeDataChannels implements DataChannelFactory {
  readonly #options: DataChannelOptions;
  constructor(options: DataChannelOptions) {
    this.#options = options;
  }

  async listen(request: PassiveRequest): Promise<PassiveResult> {
    const host = unmapIpv4(request.localAddress);
    const backlog = this.#options.backlog ?? 8;
    if (request.ports === undefined) {
      const r = await listenKernel(host, backlog);
      if (!r.ok) return { ok: false, reason: 'error', message: r.message };
      const server = r.server;
      const release = (): void => {
        if (server.listening) server.close();
      };
      const listener = new SocketPassiveListener(server, { port: r.port, exposedPort: r.port, fallback: false }, release, this.#options, request);
      return { ok: true, listener };
    }
    const now = this.#options.now;
    const r = await listenTcp(request.ports, now === undefined ? { host, owner: request.owner, backlog } : { host, owner: request.owner, backlog, now });
    if (!r.ok) return { ok: false, reason: r.reason, message: r.message };
    return { ok: true, listener: new SocketPassiveListener(r.server, r, r.close, this.#options, request) };
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
