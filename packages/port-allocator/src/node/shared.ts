/**
 * SharedTcpPool: one listening port serves several pending clients, told apart by their
 * source address (how a 10-port range behind a Kubernetes Service can serve hundreds of
 * passive FTP clients).
 *
 * Theory of operation: each `expect({ owner, peer })` takes a share-mode lease, which
 * never gives one port twice to the same peer key. Waiters are kept per port, keyed by
 * peer. The first waiter of a port binds its listener (the bind loop of bind.ts, per
 * waiter on EADDRINUSE); later ones join it. An accepted socket goes to the waiter
 * registered for its remote address, which is then done (its lease returns); a socket
 * from any other address is destroyed and reported as 'rejected'. When a port has no
 * waiter left its listener closes.
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AllocatorError } from '../index.js';
import type { Lease, PortAllocator } from '../index.js';
import { bindFailure, isPortRefused, leaseToBind, portLease } from './bind.js';
import type { BindFailure, PortLease } from './bind.js';
import { openTcp } from './tcp.js';

/** Normalises an address into a peer key: lower case, IPv4-mapped IPv6 as plain IPv4. */
export function peerKey(address: string): string {
  const a = address.toLowerCase();
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export interface SharedTcpPoolOptions {
  /** Address to bind, IPv4 or IPv6. */
  host: string;
  backlog?: number;
  /** Default for `expect`: give up on a waiter after this long without its connection. */
  acceptTimeoutMs?: number;
  /** Clock for the allocator. Default `Date.now`. */
  now?: () => number;
}

export interface ExpectOptions {
  owner: string;
  /** The client's address (for FTP: the control connection's remote address). */
  peer: string;
  acceptTimeoutMs?: number;
  /** Receives the accepted socket from `peer`. */
  onConnection(socket: net.Socket): void;
  /** Called when `acceptTimeoutMs` passed without the connection (the lease is already back). */
  onTimeout?(): void;
}

/** `close()` stops waiting and returns the lease. */
export type ExpectResult = PortLease | BindFailure;

export interface RejectedConnection {
  port: number;
  remoteAddress: string;
  remotePort: number;
}

interface PortEntry {
  key: number;
  port: number;
  server: net.Server;
  listening: boolean;
  waiters: Map<string, Waiter>;
}

interface Waiter {
  peer: string;
  lease: Lease;
  options: ExpectOptions;
  entry: PortEntry;
  resolve: (r: ExpectResult) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  ready: boolean;
  done: boolean;
}

/**
 * Events: `'rejected'` (a {@link RejectedConnection}: a connection from an address no
 * waiter expects, already destroyed), `'serverError'` (an error of a listening socket,
 * e.g. EMFILE on accept; the listener stays).
 */
export class SharedTcpPool extends EventEmitter {
  readonly #allocator: PortAllocator;
  readonly #options: SharedTcpPoolOptions;
  readonly #now: () => number;
  readonly #entries = new Map<number, PortEntry>();
  #rejected = 0;
  #closed = false;

  /** @throws AllocatorError `ERR_ALLOCATOR_OPTION_INVALID` unless the allocator has `share: true`. */
  constructor(allocator: PortAllocator, options: SharedTcpPoolOptions) {
    super();
    if (!allocator.share) {
      throw new AllocatorError('ERR_ALLOCATOR_OPTION_INVALID', 'SharedTcpPool needs a PortAllocator created with share: true');
    }
    this.#allocator = allocator;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Leases a port for `peer`, binding its listener when it is the port's first waiter. */
  expect(options: ExpectOptions): Promise<ExpectResult> {
    return new Promise((resolve) => this.#attempt(options, resolve));
  }

  /** Listening ports, pending waiters, rejected connections so far. */
  stats(): { ports: number; waiters: number; rejected: number } {
    let waiters = 0;
    for (const e of this.#entries.values()) waiters += e.waiters.size;
    return { ports: this.#entries.size, waiters, rejected: this.#rejected };
  }

  /** Drops every waiter (returning its lease) and closes every listener. */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#entries.values()]) {
      for (const w of [...entry.waiters.values()]) {
        if (!w.ready) w.resolve({ ok: false, reason: 'error', message: 'the pool was closed' });
        this.#drop(w);
      }
    }
  }

  #attempt(options: ExpectOptions, resolve: (r: ExpectResult) => void): void {
    if (this.#closed) {
      resolve({ ok: false, reason: 'error', message: 'the pool was closed' });
      return;
    }
    const peer = peerKey(options.peer);
    const lease = leaseToBind(this.#allocator, options.owner, this.#now(), peer);
    if ('ok' in lease) {
      resolve(lease);
      return;
    }
    const key = lease.fallback === true ? -lease.id : lease.port;
    const entry = this.#entries.get(key) ?? this.#open(key, lease.port);
    const waiter: Waiter = { peer, lease, options, entry, resolve, timer: undefined, ready: false, done: false };
    entry.waiters.set(peer, waiter);
    if (entry.listening) this.#ready(waiter);
  }

  #open(key: number, port: number): PortEntry {
    const { host, backlog } = this.#options;
    const server = openTcp(host, port, backlog, (err) => (err === null ? listening() : failed(err)));
    const entry: PortEntry = { key, port, server, listening: false, waiters: new Map() };
    this.#entries.set(key, entry);
    server.on('connection', (socket) => this.#dispatch(entry, socket));
    const failed = (err: NodeJS.ErrnoException): void => {
      this.#entries.delete(key);
      const waiters = [...entry.waiters.values()];
      entry.waiters.clear();
      for (const w of waiters) {
        w.done = true;
        if (w.lease.fallback !== true && isPortRefused(err)) {
          this.#allocator.markBusy(w.lease, this.#now());
          this.#attempt(w.options, w.resolve);
        } else {
          this.#allocator.release(w.lease, this.#now());
          w.resolve(bindFailure(err, `bind port ${port}`));
        }
      }
    };
    const listening = (): void => {
      server.on('error', (err) => this.emit('serverError', err));
      entry.listening = true;
      entry.port = (server.address() as AddressInfo).port;
      if (entry.waiters.size === 0) this.#closeEntry(entry);
      for (const w of [...entry.waiters.values()]) this.#ready(w);
    };
    return entry;
  }

  #ready(w: Waiter): void {
    w.ready = true;
    const ms = w.options.acceptTimeoutMs ?? this.#options.acceptTimeoutMs;
    if (ms !== undefined) {
      w.timer = setTimeout(() => {
        w.timer = undefined;
        this.#drop(w);
        w.options.onTimeout?.();
      }, ms);
    }
    w.resolve(portLease(w.lease, w.entry.port, () => this.#drop(w)));
  }

  #drop(w: Waiter): void {
    if (w.done) return;
    w.done = true;
    if (w.timer !== undefined) clearTimeout(w.timer);
    const entry = w.entry;
    if (entry.waiters.get(w.peer) === w) entry.waiters.delete(w.peer);
    this.#allocator.release(w.lease, this.#now());
    if (entry.waiters.size === 0 && entry.listening) this.#closeEntry(entry);
  }

  #closeEntry(entry: PortEntry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    entry.listening = false;
    entry.server.close();
  }

  #dispatch(entry: PortEntry, socket: net.Socket): void {
    const remote = socket.remoteAddress ?? '';
    const w = entry.waiters.get(peerKey(remote));
    if (w === undefined || !w.ready) {
      this.#rejected++;
      const info: RejectedConnection = { port: entry.port, remoteAddress: remote, remotePort: socket.remotePort ?? 0 };
      socket.destroy();
      this.emit('rejected', info);
      return;
    }
    this.#drop(w);
    w.options.onConnection(socket);
  }
}
