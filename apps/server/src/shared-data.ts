/**
 * Share mode for passive ports (`--passive-share`): one listening port serves several
 * clients at once, told apart by their address, so a handful of ports (a Kubernetes
 * Service that lists 10 ports, a cloud firewall with a small quota) serves hundreds of
 * passive transfers.
 *
 * Theory of operation: a session's PASV/EPSV leases a port for its client's address from
 * a share-mode PortAllocator (never one port twice to the same address) through
 * port-allocator's SharedTcpPool, which keeps one listener per port and hands each
 * accepted socket to the session waiting for that source address. A socket from an
 * address nobody waits for on that port is closed at once and logged as ProFTPD logs a
 * foreign passive connection. Sessions whose PassivePorts allocator is not in share mode
 * go to the ordinary data channels.
 *
 * Share mode needs the client's own address on the data connection: it does not mix with
 * AllowForeignAddress (FXP), NAT that rewrites client addresses (SNAT), or passive ports
 * reached through a PROXY-protocol load balancer.
 */
import type { Socket } from 'node:net';
import type { PortAllocator } from '@ftpkit/port-allocator';
import { SharedTcpPool, type RejectedConnection } from '@ftpkit/port-allocator/node';
import type { DataChannelFactory, DataConnection, PassiveListener } from '@ftpkit/session';
import { SocketDataConnection, unmapIpv4 } from '@ftpkit/session/node';

export interface SharedDataOptions {
  /** A connection from an address no session waits for was closed. */
  onRejected(e: RejectedConnection): void;
}

/** The accepted socket of one waiting session (at most one: the pool's lease ends with it). */
class OneConnection {
  #socket: Socket | undefined;
  #ended = false;
  #waiter: ((c: DataConnection | undefined) => void) | undefined;

  arrived(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.#ended) {
      socket.destroy();
      return;
    }
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      this.#ended = true;
      w(new SocketDataConnection(socket));
    } else this.#socket = socket;
  }

  next(): Promise<DataConnection | undefined> {
    const s = this.#socket;
    if (s !== undefined) {
      this.#socket = undefined;
      this.#ended = true;
      return Promise.resolve(new SocketDataConnection(s));
    }
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  end(): void {
    this.#ended = true;
    this.#socket?.destroy();
    this.#socket = undefined;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(undefined);
  }
}

/** Data channels that serve share-mode PassivePorts through SharedTcpPools; `close()` closes the pools. */
export function sharedDataChannels(factory: DataChannelFactory, options: SharedDataOptions): DataChannelFactory & { close(): void } {
  const pools = new Map<PortAllocator, Map<string, SharedTcpPool>>();
  const poolFor = (allocator: PortAllocator, host: string): SharedTcpPool => {
    let byHost = pools.get(allocator);
    if (byHost === undefined) pools.set(allocator, (byHost = new Map()));
    let pool = byHost.get(host);
    if (pool === undefined) {
      pool = new SharedTcpPool(allocator, { host });
      pool.on('rejected', (e: RejectedConnection) => options.onRejected(e));
      pool.on('serverError', () => undefined);
      byHost.set(host, pool);
    }
    return pool;
  };
  const out: DataChannelFactory & { close(): void } = {
    listen: async (request) => {
      if (request.ports === undefined || !request.ports.share) return factory.listen(request);
      const one = new OneConnection();
      const r = await poolFor(request.ports, unmapIpv4(request.localAddress)).expect({
        owner: request.owner,
        // The session leases with its client's address as owner: the peer key.
        peer: request.owner,
        onConnection: (socket) => one.arrived(socket),
      });
      if (!r.ok) return { ok: false, reason: r.reason, message: r.message };
      const listener: PassiveListener = {
        port: r.port,
        exposedPort: r.exposedPort,
        fallback: r.fallback,
        accept: () => one.next(),
        close: () => {
          r.close();
          one.end();
        },
      };
      return { ok: true, listener };
    },
    connect: (request) => factory.connect(request),
    close: () => {
      for (const byHost of pools.values()) for (const pool of byHost.values()) pool.close();
      pools.clear();
    },
  };
  const secure = factory.secure?.bind(factory);
  if (secure !== undefined) out.secure = secure;
  return out;
}
