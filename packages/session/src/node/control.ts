/**
 * The control channel over a `net.Socket`, and over TLS after AUTH TLS (or from the
 * start for implicit FTPS).
 *
 * Theory of operation: the core already writes the replies of one received chunk at
 * once; writes made in the same tick (a 150 and a 226 for a tiny file) are corked and
 * leave in one syscall at the next tick. Received bytes go to the handler given to
 * {@link SocketControlChannel.start}; when the client does not read its replies (more
 * than {@link CONTROL_BUFFER} unsent) reading pauses until the socket drains. AUTH TLS
 * swaps the socket under the channel: `upgradeTls()` runs the handshake on the raw
 * socket (nothing read in the clear after AUTH reaches the session) and the decrypted
 * bytes flow to the same handler. `close()` flushes and sends FIN (close_notify first
 * under TLS); if the peer has not closed after `closeTimeoutMs`, the socket is
 * destroyed so a silent peer cannot hold it. Every socket has an 'error' listener from
 * the start: EPIPE and ECONNRESET end the session through the close handler, never as
 * an exception.
 */
import type net from 'node:net';
import type { ControlChannel, TlsInfo, TlsUpgradeResult } from '../ports.js';
import { SessionTls, serverHandshake } from './tls.js';
import type { FtpsOptions } from './tls.js';
import type tls from 'node:tls';

/** EPIPE and ECONNRESET end the session through the close handler. */
const ignore = (): void => undefined;

/** Bytes of unread replies after which the channel stops reading a client's commands. */
export const CONTROL_BUFFER: number = 64 * 1024;

export interface ControlChannelOptions {
  /** The original destination when a PROXY-protocol header named one. */
  proxiedDestination?: string;
  /** The real client when a PROXY-protocol header named one (default: the socket's peer). */
  remote?: { address: string; port: number };
  /** Destroy the socket this long after `close()` if the peer keeps it open. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** TCP keepalive initial delay in ms (`false` = off). Default 60 000. */
  keepAlive?: number | false;
  /**
   * FTPS: offer AUTH TLS with these settings (the session config must offer it too); a
   * function is asked at each AUTH, so new certificates apply to handshakes from then on.
   */
  tls?: FtpsOptions | (() => FtpsOptions);
  /** The socket is already TLS (implicit FTPS): its session state, from {@link acceptImplicitTls}. */
  implicit?: { session: SessionTls; info: TlsInfo };
}

export interface ControlHandlers {
  /** Bytes from the client (decrypted under TLS). */
  data(chunk: Buffer): void;
  /** The connection is gone (once). */
  close(): void;
}

export class SocketControlChannel implements ControlChannel {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly proxiedDestination?: string;
  /** Present when FTPS is configured (the core offers AUTH TLS only then). */
  readonly upgradeTls?: () => Promise<TlsUpgradeResult>;
  readonly #closeTimeoutMs: number;
  #socket: net.Socket;
  #tls: { session: SessionTls; info: TlsInfo } | undefined;
  #handlers: ControlHandlers | undefined;
  #corked = false;
  #closing = false;
  #gone = false;
  /** Made when first asked for (most sessions never are): no promise held per idle session. */
  #whenGone: Promise<void> | undefined;
  #resolveGone: (() => void) | undefined;
  readonly #onData = (chunk: Buffer): void => this.#received(chunk);
  readonly #onClose = (): void => this.#closed();

  constructor(socket: net.Socket, options: ControlChannelOptions = {}) {
    this.#socket = socket;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.remoteAddress = options.remote?.address ?? socket.remoteAddress ?? '';
    this.remotePort = options.remote?.port ?? socket.remotePort ?? 0;
    if (options.proxiedDestination !== undefined) this.proxiedDestination = options.proxiedDestination;
    this.#tls = options.implicit;
    const ftps = options.tls;
    if (ftps !== undefined && options.implicit === undefined) this.upgradeTls = () => this.#upgrade(typeof ftps === 'function' ? ftps() : ftps);
    // One shared no-op, and none added when the socket already has an 'error' listener.
    if (socket.listenerCount('error') === 0) socket.on('error', ignore);
    socket.setNoDelay(true);
    if (options.keepAlive !== false) socket.setKeepAlive(true, options.keepAlive ?? 60_000);
  }

  get secure(): boolean {
    return this.#tls !== undefined && !this.#socket.destroyed;
  }

  get tls(): TlsInfo | undefined {
    return this.#tls?.info;
  }

  /** The socket in use (the TLS socket after AUTH TLS). */
  get socket(): net.Socket {
    return this.#socket;
  }

  /** True once `close()` ran or the socket can no longer be written. */
  get closed(): boolean {
    const s = this.#socket;
    return this.#closing || s.destroyed || s.writableEnded;
  }

  /** Starts delivering the client's bytes and the end of the connection. Call once. */
  start(handlers: ControlHandlers): void {
    this.#handlers = handlers;
    this.#attach(this.#socket);
  }

  #attach(socket: net.Socket): void {
    socket.on('data', this.#onData);
    socket.once('close', this.#onClose);
  }

  #received(chunk: Buffer): void {
    this.#handlers?.data(chunk);
    const s = this.#socket;
    if (s.writableLength > CONTROL_BUFFER && !s.isPaused()) {
      s.pause();
      s.once('drain', () => s.resume());
    }
  }

  #closed(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#resolveGone?.();
    this.#resolveGone = undefined;
    this.#handlers?.close();
  }

  /** Resolves when the connection is gone (after {@link start}). */
  whenClosed(): Promise<void> {
    this.#whenGone ??= this.#gone ? Promise.resolve() : new Promise((resolve) => (this.#resolveGone = resolve));
    return this.#whenGone;
  }

  write(data: string | Uint8Array): void {
    if (this.closed) return;
    const s = this.#socket;
    if (!this.#corked) {
      this.#corked = true;
      s.cork();
      process.nextTick(() => {
        this.#corked = false;
        s.uncork();
      });
    }
    s.write(data);
  }

  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    const s = this.#socket;
    if (s.destroyed) return;
    s.end(); // flushes corked writes, then FIN
    const timer = setTimeout(() => s.destroy(), this.#closeTimeoutMs);
    timer.unref();
    s.once('close', () => clearTimeout(timer));
  }

  /** Closes at once, without waiting for the peer. */
  destroy(): void {
    this.#closing = true;
    this.#socket.destroy();
  }

  /** AUTH TLS (RFC 4217 §4): the handshake on the raw socket, then the TLS socket carries the session. */
  async #upgrade(options: FtpsOptions): Promise<TlsUpgradeResult> {
    if (this.#tls !== undefined) return { ok: false, message: 'TLS is already active' };
    const raw = this.#socket;
    // From here on the raw bytes belong to TLS.
    raw.off('data', this.#onData);
    raw.off('close', this.#onClose);
    if (this.#corked) {
      this.#corked = false;
      raw.uncork(); // the 234 must leave in the clear before the handshake
    }
    const session = new SessionTls(options);
    const r = await serverHandshake(raw, session);
    if (!r.ok) {
      if (!raw.destroyed) raw.destroy();
      this.#closed();
      return { ok: false, message: r.message };
    }
    const t = r.socket;
    this.#socket = t;
    this.#tls = { session, info: r.info };
    t.on('error', ignore);
    this.#attach(t);
    return { ok: true, info: r.info };
  }
}

/**
 * Implicit FTPS: runs the TLS handshake on a freshly accepted socket, before the banner.
 * Give the result to {@link SocketControlChannel} as `implicit`.
 */
export async function acceptImplicitTls(
  socket: net.Socket,
  options: FtpsOptions,
): Promise<{ ok: true; socket: tls.TLSSocket; implicit: { session: SessionTls; info: TlsInfo } } | { ok: false; message: string }> {
  const session = new SessionTls(options);
  const r = await serverHandshake(socket, session);
  if (!r.ok) return { ok: false, message: r.message };
  return { ok: true, socket: r.socket, implicit: { session, info: r.info } };
}
