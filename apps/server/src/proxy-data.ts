/**
 * The PROXY protocol on passive data connections.
 *
 * Behind a load balancer a passive data connection arrives from the balancer, not from
 * the client, so the passive-connection check (AllowForeignAddress off: the data
 * connection must come from the client's address) would refuse every transfer — unless it
 * is switched off, which lets anyone who finds the port take the data. Instead the
 * balancer puts a PROXY header on the data connections too (HAProxy `send-proxy-v2` on
 * the passive-port servers) and the check compares the address in that header with the
 * client's.
 *
 * Theory of operation: for a session whose control connection came with a PROXY header,
 * every passive data connection from a peer the configuration trusts (ProxyProtocolEngine
 * on for that address, as for control connections) must start with a header within
 * ProxyProtocolTimeout; its source becomes the connection's remote address. The listener
 * lets such peers past the session's early peer check (their socket address is the
 * balancer's), reads each header as the connection arrives (several at once, so a slow
 * stranger holds up nobody), then applies the session's check to the address in the
 * header: a stranger is dropped and reported at once, as the session reports one that
 * connects directly, and never takes the client's place in the queue. A connection
 * without a valid header is closed and logged. Data connections from any other peer are
 * handled as they are (passive ports reached through DNAT keep the client's address).
 */
import type { Socket } from 'node:net';
import type { DataChannelFactory, DataConnection, PassiveListener, PassiveRequest } from '@ftpkit/session';
import { SocketDataConnection, unmapIpv4 } from '@ftpkit/session/node';
import { parseTrusted } from '@ftpkit/proxy-protocol';
import { acceptProxied } from '@ftpkit/proxy-protocol/node';

export interface ProxiedDataOptions {
  /** The header timeout when `peerAddress` is a proxy that sends headers, else undefined. */
  proxyFor(peerAddress: string): { timeoutMs: number } | undefined;
  /** A data connection closed for want of a valid header. */
  onRefused(message: string, peerAddress: string): void;
}

/** Everyone: the caller decided the peer is a proxy before asking for its header. */
const ANY = parseTrusted(['0.0.0.0/0', '::/0']);

/** A data connection whose client address came from a PROXY header. */
class ProxiedDataConnection extends SocketDataConnection {
  override readonly remoteAddress: string;
  override readonly remotePort: number;
  constructor(socket: Socket, remote: { address: string; port: number }) {
    super(socket);
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }
}

/** Reads the header of a connection from a proxy; undefined when it was refused (and closed). */
async function unwrap(c: DataConnection, options: ProxiedDataOptions): Promise<DataConnection | undefined> {
  if (!(c instanceof SocketDataConnection)) return c;
  const socket = c.socket;
  const peer = unmapIpv4(socket.remoteAddress ?? '');
  const proxy = options.proxyFor(peer);
  if (proxy === undefined) return c;
  const r = await acceptProxied(socket, { trusted: ANY, timeoutMs: proxy.timeoutMs, required: true });
  if (!r.ok) {
    options.onRefused(`passive data connection from ${peer} refused: ${r.message}`, peer);
    return undefined;
  }
  // Bytes after the header are the start of an upload: give them back to the stream.
  if (r.rest.length > 0) socket.unshift(r.rest);
  // LOCAL / UNKNOWN headers name no client: the connection stays the proxy's own (a stranger).
  return r.proxied ? new ProxiedDataConnection(socket, { address: unmapIpv4(r.remoteAddress), port: r.remotePort }) : c;
}

/** Connections a passive listener keeps for the session (more are dropped, as session/node does). */
const MAX_QUEUED = 8;

/** A passive listener that reads the PROXY header of each connection from the balancer as it arrives. */
class ProxiedListener implements PassiveListener {
  readonly port: number;
  readonly exposedPort: number;
  readonly fallback: boolean;
  readonly #inner: PassiveListener;
  readonly #queue: DataConnection[] = [];
  readonly #waiters: ((c: DataConnection | undefined) => void)[] = [];
  #closed = false;

  constructor(
    inner: PassiveListener,
    private readonly request: PassiveRequest,
    private readonly options: ProxiedDataOptions,
  ) {
    this.#inner = inner;
    this.port = inner.port;
    this.exposedPort = inner.exposedPort;
    this.fallback = inner.fallback;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    for (;;) {
      const c = await this.#inner.accept();
      if (c === undefined) {
        this.close();
        return;
      }
      void this.#arrived(c);
    }
  }

  async #arrived(c: DataConnection): Promise<void> {
    const d = await unwrap(c, this.options);
    if (d === undefined) return;
    const { accept, onRejected } = this.request;
    if (accept !== undefined && !accept(d.remoteAddress)) {
      d.destroy();
      onRejected?.(d.remoteAddress);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(d);
    else if (this.#closed || this.#queue.length >= MAX_QUEUED) d.destroy();
    else this.#queue.push(d);
  }

  accept(): Promise<DataConnection | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner.close();
    for (const c of this.#queue.splice(0)) c.destroy();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}

/**
 * Data channels for a session that came through a PROXY-protocol load balancer: passive
 * connections from the balancer give the client's address from their own header.
 */
export function proxiedDataChannels(factory: DataChannelFactory, options: ProxiedDataOptions): DataChannelFactory {
  const out: DataChannelFactory = {
    listen: async (request) => {
      const { accept } = request;
      // The balancer's connections pass the early check; their header decides (ProxiedListener).
      const gated: PassiveRequest =
        accept === undefined ? request : { ...request, accept: (remote) => options.proxyFor(unmapIpv4(remote)) !== undefined || accept(remote) };
      const r = await factory.listen(gated);
      return r.ok ? { ok: true, listener: new ProxiedListener(r.listener, request, options) } : r;
    },
    connect: (request) => factory.connect(request),
  };
  const secure = factory.secure?.bind(factory);
  if (secure !== undefined) out.secure = secure;
  return out;
}
