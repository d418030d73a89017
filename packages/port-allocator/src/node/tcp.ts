import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Lease, PortAllocator } from '../index.js';
import { bindInRange } from './bind.js';
import type { BindFailure, Done } from './bind.js';

export interface ListenTcpOptions {
  /** Address to bind: for FTP, the control connection's local address. IPv4 or IPv6. */
  host: string;
  owner: string;
  /** Peer key, required when the allocator shares ports (prefer `SharedTcpPool` then). */
  peer?: string;
  backlog?: number;
  /** Close the listener and return the lease when no connection arrives in time. */
  acceptTimeoutMs?: number;
  /** Close the listener (and return the lease) after the first connection; the socket lives on. */
  once?: boolean;
  /** Clock for the allocator, the same one the rest of the app gives it. Default `Date.now`. */
  now?: () => number;
}

export type TcpLeaseResult =
  | {
      ok: true;
      server: net.Server;
      /** The bound port. */
      port: number;
      /** The port to advertise (the mapping's, or the bound port for a kernel fallback). */
      exposedPort: number;
      /** True when the range was exhausted and the kernel chose a port outside it. */
      fallback: boolean;
      lease: Lease;
      /** Stops listening and returns the lease now. Idempotent. */
      close(): void;
    }
  | BindFailure;

function openTcp(host: string, port: number, backlog: number | undefined, done: Done): net.Server {
  const server = net.createServer();
  const onError = (err: Error): void => done(err);
  server.once('error', onError);
  server.listen(backlog === undefined ? { host, port, exclusive: true } : { host, port, exclusive: true, backlog }, () => {
    server.removeListener('error', onError);
    done(null);
  });
  return server;
}

/**
 * Listens on a port of the allocator's ranges (see the bind loop in bind.ts). The lease
 * returns when the listener closes for any reason: `close()`, `server.close()` (at its
 * 'close' event), `once` after the first connection, or `acceptTimeoutMs` without one
 * (the server then emits 'timeout' before closing).
 */
export function listenTcp(allocator: PortAllocator, options: ListenTcpOptions): Promise<TcpLeaseResult> {
  const now = options.now ?? Date.now;
  const { host, backlog } = options;
  return new Promise((resolve) => {
    bindInRange(allocator, options.owner, options.peer, now, (port, done) => openTcp(host, port, backlog, done), (r) => {
      if (!r.ok) {
        resolve(r);
        return;
      }
      const server = r.handle;
      const lease = r.lease;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (timer !== undefined) clearTimeout(timer);
        allocator.release(lease, now());
      };
      const close = (): void => {
        if (server.listening) server.close();
        release();
      };
      server.once('close', release);
      const ms = options.acceptTimeoutMs;
      if (ms !== undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          server.emit('timeout');
          close();
        }, ms);
      }
      if (ms !== undefined || options.once === true) {
        server.once('connection', () => {
          if (timer !== undefined) clearTimeout(timer);
          timer = undefined;
          if (options.once === true) close();
        });
      }
      const fallback = lease.fallback === true;
      const port = fallback ? (server.address() as AddressInfo).port : lease.port;
      resolve({ ok: true, server, port, exposedPort: fallback ? port : lease.exposedPort, fallback, lease, close });
    });
  });
}
