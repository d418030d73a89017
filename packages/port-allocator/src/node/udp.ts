import dgram from 'node:dgram';
import net from 'node:net';
import type { Lease, PortAllocator } from '../index.js';
import { bindInRange } from './bind.js';
import type { BindFailure, Done } from './bind.js';

export interface BindUdpOptions {
  /** Address to bind, IPv4 or IPv6. */
  host: string;
  owner: string;
  /** Default: `udp6` for an IPv6 host, else `udp4`. */
  type?: 'udp4' | 'udp6';
  /** Peer key, required when the allocator shares ports. */
  peer?: string;
  /** Clock for the allocator. Default `Date.now`. */
  now?: () => number;
}

export type UdpLeaseResult =
  | {
      ok: true;
      socket: dgram.Socket;
      port: number;
      exposedPort: number;
      fallback: boolean;
      lease: Lease;
      /** Closes the socket and returns the lease now. Idempotent. */
      close(): void;
    }
  | BindFailure;

function openUdp(host: string, type: 'udp4' | 'udp6', port: number, done: Done): dgram.Socket {
  const socket = dgram.createSocket(type);
  const onError = (err: Error): void => {
    socket.close(); // a failed bind leaves the handle open
    done(err);
  };
  socket.once('error', onError);
  socket.bind({ port, address: host, exclusive: true }, () => {
    socket.removeListener('error', onError);
    done(null);
  });
  return socket;
}

/** Binds a UDP socket on a port of the allocator's ranges; the lease returns when it closes. */
export function bindUdp(allocator: PortAllocator, options: BindUdpOptions): Promise<UdpLeaseResult> {
  const now = options.now ?? Date.now;
  const { host } = options;
  const type = options.type ?? (net.isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    bindInRange(allocator, options.owner, options.peer, now, (port, done) => openUdp(host, type, port, done), (r) => {
      if (!r.ok) {
        resolve(r);
        return;
      }
      const socket = r.handle;
      const lease = r.lease;
      let open = true;
      const release = (): void => {
        if (!open) return;
        open = false;
        allocator.release(lease, now());
      };
      socket.once('close', release);
      const close = (): void => {
        if (!open) return;
        try {
          socket.close();
        } catch {
          // already closing: its 'close' event is on the way; the lease returns below
        }
        release();
      };
      const fallback = lease.fallback === true;
      const port = fallback ? socket.address().port : lease.port;
      resolve({ ok: true, socket, port, exposedPort: fallback ? port : lease.exposedPort, fallback, lease, close });
    });
  });
}
