/**
 * The control channel over a `net.Socket` (a `tls.TLSSocket` is one too).
 *
 * Theory of operation: the core already writes the replies of one received chunk at
 * once; writes made in the same tick (a 150 and a 226 for a tiny file) are corked and
 * leave in one syscall at the next tick. `close()` flushes and sends FIN; if the peer
 * has not closed after `closeTimeoutMs`, the socket is destroyed so a silent peer
 * cannot hold it. The socket has an 'error' listener from the start: EPIPE and
 * ECONNRESET end the session through 'close', never as an exception.
 */
import type net from 'node:net';
import type { ControlChannel } from '../ports.js';

export interface ControlChannelOptions {
  /** The original destination when a PROXY-protocol header named one. */
  proxiedDestination?: string;
  /** The real client when a PROXY-protocol header named one (default: the socket's peer). */
  remote?: { address: string; port: number };
  /** Destroy the socket this long after `close()` if the peer keeps it open. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** TCP keepalive initial delay in ms (`false` = off). Default 60 000. */
  keepAlive?: number | false;
}

/** True for a TLS socket whose handshake completed. */
function encrypted(socket: net.Socket): boolean {
  return (socket as { encrypted?: boolean }).encrypted === true;
}

export class SocketControlChannel implements ControlChannel {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly proxiedDestination?: string;
  readonly #socket: net.Socket;
  readonly #closeTimeoutMs: number;
  #corked = false;
  #closing = false;

  constructor(socket: net.Socket, options: ControlChannelOptions = {}) {
    this.#socket = socket;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    this.remoteAddress = options.remote?.address ?? socket.remoteAddress ?? '';
    this.remotePort = options.remote?.port ?? socket.remotePort ?? 0;
    if (options.proxiedDestination !== undefined) this.proxiedDestination = options.proxiedDestination;
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    if (options.keepAlive !== false) socket.setKeepAlive(true, options.keepAlive ?? 60_000);
  }

  get secure(): boolean {
    return encrypted(this.#socket);
  }

  /** The socket (for the server's flow control and diagnostics). */
  get socket(): net.Socket {
    return this.#socket;
  }

  /** True once `close()` ran or the socket can no longer be written. */
  get closed(): boolean {
    const s = this.#socket;
    return this.#closing || s.destroyed || s.writableEnded;
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
}
