import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { PortAllocator } from '../index.js';
import { bindInRange, portLease } from './bind.js';
import type { BindFailure, BindOptions, Done, PortLease } from './bind.js';

export interface ListenTcpOptions extends BindOptions {
  backlog?: number;
  /** Close the listener and return the lease when no connection arrives in time. */
  acceptTimeoutMs?: number;
  /** Close the listener (and return the lease) after the first connection; the socket lives on. */
  once?: boolean;
}

export type TcpLeaseResult = (PortLease & { server: net.Server }) | BindFailure;

/** Creates a server listening exclusively on host:port; `done` gets the listen error or null. */
export function openTcp(host: string, port: number, backlog: number | undefined, done: Done): net.Server {
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
 * (the server then emits 'timeout' before closing). The port cools down only when the
 * listener accepted a connection; otherwise it is free again at once.
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
      let accepted = false;
      const release = (): void => {
        if (released) return;
        released = true;
        if (timer !== undefined) clearTimeout(timer);
        // A port that never carried a connection has nothing to outlive it (no TIME_WAIT,
        // no NAT/conntrack entry): it is free again at once, without cooldown.
        allocator.release(lease, now(), { cooldown: accepted });
      };
      const close = (): void => {
        if (server.listening) server.close();
        release();
      };
      server.once('close', release);
      server.once('connection', () => {
        accepted = true;
      });
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
      // A leased port is the bound port; only a kernel fallback asks the socket (getsockname).
      const port = lease.fallback === true ? (server.address() as AddressInfo).port : lease.port;
      resolve({ ...portLease(lease, port, close), server });
    });
  });
}
