import dgram from 'node:dgram';
import net from 'node:net';
import type { PortAllocator } from '../index.js';
import { bindInRange, portLease } from './bind.js';
import type { BindFailure, BindOptions, Done, PortLease } from './bind.js';

export interface BindUdpOptions extends BindOptions {
  /** Default: `udp6` for an IPv6 host, else `udp4`. */
  type?: 'udp4' | 'udp6';
}

export type UdpLeaseResult = (PortLease & { socket: dgram.Socket }) | BindFailure;

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
      resolve({ ...portLease(lease, socket.address().port, close), socket });
    });
  });
}
