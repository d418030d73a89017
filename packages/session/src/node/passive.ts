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
 * - Reuse. A PASV/EPSV closes the session's previous listener and asks for a new one in
 *   the same synchronous step. A listener that never saw a connection (no client, no
 *   stranger) is not closed at once: its socket is parked until the end of the current
 *   tick, and a request in that tick for the same owner, local address and allocator
 *   takes it over with its own peer check. So a PASV after a PASV costs no socket, bind,
 *   listen or close, and RFC 959 §4.1.2 does not ask for a new port ("a data port which
 *   is not its default data port"). What is not taken over closes at the next tick,
 *   before the reply to the command that closed it is written (ABOR: a late connection
 *   is refused). This gives nothing away: such a port goes back to the allocator
 *   without cooldown anyway, so the next lease could be the same port. A socket that
 *   saw any connection, or a kernel fallback port (the range may have room again), is
 *   never reused.
 */
import net from 'node:net';
import type { PortAllocator } from '@ftpkit/port-allocator';
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

/**
 * One bound listening socket. It outlives the {@link SocketPassiveListener} that used it
 * when a later request of the same tick takes it over.
 */
class PassiveSocket {
  readonly server: net.Server;
  readonly port: number;
  readonly exposedPort: number;
  readonly fallback: boolean;
  readonly owner: string;
  readonly host: string;
  readonly ports: PortAllocator | undefined;
  /** The listener using the socket now (undefined while parked). */
  user: SocketPassiveListener | undefined = undefined;
  /** A connection arrived at some point (client or stranger): never reused. */
  used = false;
  readonly #release: () => void;

  constructor(
    server: net.Server,
    bound: { port: number; exposedPort: number; fallback: boolean },
    request: PassiveRequest,
    host: string,
    release: () => void,
  ) {
    this.server = server;
    this.port = bound.port;
    this.exposedPort = bound.exposedPort;
    this.fallback = bound.fallback;
    this.owner = request.owner;
    this.host = host;
    this.ports = request.ports;
    this.#release = release;
    // An accept error (EMFILE…) must not crash the process; the listener stays.
    server.on('error', ignore);
    server.on('connection', (socket: net.Socket) => {
      this.used = true;
      socket.on('error', ignore);
      const user = this.user;
      if (user === undefined) socket.destroy();
      else user.arrived(socket);
    });
    server.once('close', () => this.user?.close());
  }

  /** Stops listening and returns the lease. */
  close(): void {
    this.user = undefined;
    this.#release();
  }
}

/** Sockets parked by a close in this tick, and whether the flush is scheduled. */
const parked: PassiveSocket[] = [];
let flushing = false;

function flush(): void {
  flushing = false;
  for (const s of parked.splice(0)) s.close();
}

function park(socket: PassiveSocket): void {
  parked.push(socket);
  if (!flushing) {
    flushing = true;
    process.nextTick(flush);
  }
}

/** Takes the parked socket a request can use, if any. */
function unpark(request: PassiveRequest, host: string): PassiveSocket | undefined {
  const i = parked.findIndex((s) => s.owner === request.owner && s.host === host && s.ports === request.ports);
  if (i === -1) return undefined;
  const [socket] = parked.splice(i, 1);
  return socket;
}

/** A passive listener whose accepted sockets wait in a queue. */
class SocketPassiveListener implements PassiveListener {
  readonly port: number;
  readonly exposedPort: number;
  readonly fallback: boolean;
  readonly #socket: PassiveSocket;
  readonly #gate: Gate;
  readonly #wrap: (socket: net.Socket) => DataConnection;
  readonly #onSocket: PassiveOptions['onSocket'];
  readonly #queue: net.Socket[] = [];
  readonly #waiters: Array<(c: DataConnection | undefined) => void> = [];
  #closed = false;

  constructor(socket: PassiveSocket, gate: Gate, wrap: (socket: net.Socket) => DataConnection, onSocket: PassiveOptions['onSocket']) {
    this.#socket = socket;
    this.port = socket.port;
    this.exposedPort = socket.exposedPort;
    this.fallback = socket.fallback;
    this.#gate = gate;
    this.#wrap = wrap;
    this.#onSocket = onSocket;
    socket.user = this;
  }

  /** A connection on the socket while this listener uses it. */
  arrived(socket: net.Socket): void {
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
    const socket = this.#socket;
    if (socket.user === this) {
      socket.user = undefined;
      if (socket.used || socket.fallback || !socket.server.listening) socket.close();
      else park(socket);
    }
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
 * Opens (or takes over, see the module comment) a passive listener on `host`, the
 * control connection's local address without IPv4 mapping. `wrap` makes the data
 * connection of an accepted socket.
 */
export async function listenPassive(
  request: PassiveRequest,
  host: string,
  options: PassiveOptions,
  wrap: (socket: net.Socket) => DataConnection,
): Promise<PassiveResult> {
  const reused = unpark(request, host);
  if (reused !== undefined) return { ok: true, listener: new SocketPassiveListener(reused, request, wrap, options.onSocket) };
  const backlog = options.backlog ?? 8;
  let socket: PassiveSocket;
  if (request.ports === undefined) {
    const r = await listenKernel(host, backlog);
    if (!r.ok) return { ok: false, reason: 'error', message: r.message };
    const server = r.server;
    const release = (): void => {
      if (server.listening) server.close();
    };
    socket = new PassiveSocket(server, { port: r.port, exposedPort: r.port, fallback: false }, request, host, release);
  } else {
    // The owner is the client's canonical address: also the peer key that lets the client
    // take back its own cooling ports when none is free (the allocator's coolingReuse).
    const now = options.now;
    const owner = request.owner;
    const r = await listenTcp(request.ports, now === undefined ? { host, owner, peer: owner, backlog } : { host, owner, peer: owner, backlog, now });
    if (!r.ok) return { ok: false, reason: r.reason, message: r.message };
    socket = new PassiveSocket(r.server, r, request, host, r.close);
  }
  return { ok: true, listener: new SocketPassiveListener(socket, request, wrap, options.onSocket) };
}
