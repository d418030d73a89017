/**
 * Passive listeners (PASV/EPSV) on real sockets, for {@link nodeDataChannels}.
 *
 * Theory of operation.
 * - A listener binds the control connection's local address (an IPv4-mapped address
 *   binds as IPv4, RFC 4291 §2.5.5.2) on a port leased from the session's PassivePorts
 *   allocator through `listenTcp` (no probe-then-bind race), or on a kernel port without
 *   one.
 * - A peer the request's `accept` refuses (AllowForeignAddress) is dropped as it
 *   connects and reported through `onRejected`, so a crowd of strangers cannot fill the
 *   queue ahead of the client (RFC 2577 §5). Accepted sockets queue (at most
 *   {@link MAX_QUEUED}) until the core calls `accept()`; the core checks the peer again
 *   and may drop a stranger and accept again. `close()` stops accepting, drops queued
 *   sockets and returns the lease.
 * - A new socket for every request. A PASV/EPSV closes the session's previous listener
 *   at once, before it asks for a new one. A listener is never handed on: a connection
 *   may have completed in the kernel (in the listen backlog) before this process
 *   accepted it, and a later listener on the same socket would take that stale
 *   connection for the next transfer's. Closing resets such connections; the port goes
 *   back to the allocator, cooling down only if it carried a connection.
 */
import net from 'node:net';
import { listenTcp } from '@ftpkit/port-allocator/node';
import { strerror } from '../errors.js';
import type { DataConnection, PassiveListener, PassiveRequest, PassiveResult } from '../ports.js';

/** How many unaccepted connections a passive listener keeps (more are dropped at once). */
export const MAX_QUEUED = 8;

/** What a passive listener needs from the data channel options. */
export interface PassiveOptions {
  /** listen(2) backlog. Default 8. */
  backlog?: number;
  /** The allocator's clock. Default `Date.now`. */
  now?: () => number;
  /** Called for every passive data socket accepted from an allowed peer. */
  onSocket?: (socket: net.Socket, mode: 'passive' | 'active') => void;
}

type Gate = Pick<PassiveRequest, 'accept' | 'onRejected'>;

/** Socket errors end in 'close'; one shared listener instead of one closure per socket. */
const ignore = (): void => undefined;

/** What a passive listener was bound to, and how to give it back. */
interface Bound {
  port: number;
  exposedPort: number;
  fallback: boolean;
  /** Stops listening and returns the lease. */
  release: () => void;
}

/** A passive listener (one listening socket) whose accepted sockets wait in a queue. */
class SocketPassiveListener implements PassiveListener {
  readonly port: number;
  readonly exposedPort: number;
  readonly fallback: boolean;
  readonly #release: () => void;
  readonly #gate: Gate;
  readonly #wrap: (socket: net.Socket) => DataConnection;
  readonly #onSocket: PassiveOptions['onSocket'];
  readonly #queue: net.Socket[] = [];
  readonly #waiters: Array<(c: DataConnection | undefined) => void> = [];
  #closed = false;

  constructor(server: net.Server, bound: Bound, gate: Gate, wrap: (socket: net.Socket) => DataConnection, onSocket: PassiveOptions['onSocket']) {
    this.port = bound.port;
    this.exposedPort = bound.exposedPort;
    this.fallback = bound.fallback;
    this.#release = bound.release;
    this.#gate = gate;
    this.#wrap = wrap;
    this.#onSocket = onSocket;
    // An accept error (EMFILE…) must not crash the process; the listener stays.
    server.on('error', ignore);
    server.on('connection', (socket: net.Socket) => {
      socket.on('error', ignore);
      this.#arrived(socket);
    });
    server.once('close', () => this.close());
  }

  /** A connection on the socket: dropped once closed, when the queue is full, or from a stranger. */
  #arrived(socket: net.Socket): void {
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
    for (const s of this.#queue.splice(0)) s.destroy();
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

/**
 * Opens a passive listener on `host`, the control connection's local address without
 * IPv4 mapping. `wrap` makes the data connection of an accepted socket.
 */
export async function listenPassive(
  request: PassiveRequest,
  host: string,
  options: PassiveOptions,
  wrap: (socket: net.Socket) => DataConnection,
): Promise<PassiveResult> {
  const backlog = options.backlog ?? 8;
  let server: net.Server;
  let bound: Bound;
  if (request.ports === undefined) {
    const r = await listenKernel(host, backlog);
    if (!r.ok) return { ok: false, reason: 'error', message: r.message };
    const kernel = r.server;
    server = kernel;
    bound = {
      port: r.port,
      exposedPort: r.port,
      fallback: false,
      release: () => {
        if (kernel.listening) kernel.close();
      },
    };
  } else {
    // The owner is the client's canonical address: also the peer key that lets the client
    // take back its own cooling ports when none is free (the allocator's coolingReuse).
    const now = options.now;
    const owner = request.owner;
    const r = await listenTcp(request.ports, now === undefined ? { host, owner, peer: owner, backlog } : { host, owner, peer: owner, backlog, now });
    if (!r.ok) return { ok: false, reason: r.reason, message: r.message };
    server = r.server;
    bound = { port: r.port, exposedPort: r.exposedPort, fallback: r.fallback, release: r.close };
  }
  return { ok: true, listener: new SocketPassiveListener(server, bound, request, wrap, options.onSocket) };
}
