/**
 * `FtpSession`: one FTP control connection's protocol, over injected ports.
 */
import { Session } from './core.js';
import type { SessionConfig } from './config.js';
import type { SessionEventListener } from './events.js';
import type { Authenticator, Clock, ControlChannel, DataChannelFactory } from './ports.js';

export interface FtpSessionOptions {
  /** The client's control connection. */
  control: ControlChannel;
  /** Opens passive listeners and active connections. */
  data: DataChannelFactory;
  authenticator: Authenticator;
  clock: Clock;
  /** The session's effective configuration (see {@link SessionConfig}). */
  config: SessionConfig;
  /** Random source in [0, 1) (STOU names). Without it STOU names come from the clock and a counter. */
  random?: () => number;
  /** Log and metric events (see {@link SessionEvent}). */
  onEvent?: SessionEventListener;
  /** Longest command line accepted, in bytes (ProFTPD CommandBufferSize); default: the decoder's (4096). */
  maxLineLength?: number;
}

/**
 * The FTP protocol of one control connection (RFC 959, RFC 2389, RFC 2428, RFC 2640,
 * RFC 3659, RFC 7151, and FTPS: RFC 4217 on RFC 2228), sans-IO: bytes in through {@link receive},
 * replies out through `control.write`, everything else through the injected ports.
 *
 * @example
 * ```ts
 * const session = new FtpSession({ control, data, authenticator, clock, config: {} });
 * socket.on('data', (chunk) => session.receive(chunk));
 * socket.on('close', () => session.close());
 * session.start(); // 220 banner
 * await session.closed;
 * ```
 */
export class FtpSession {
  readonly #core: Session;

  constructor(options: FtpSessionOptions) {
    this.#core = new Session(options);
  }

  /** Send the 220 banner and start the login timer. Call once, right after connect. */
  start(): void {
    this.#core.start();
  }

  /**
   * Feed bytes read from the control connection. Complete lines are handled in order;
   * those that need no IO run synchronously, and the replies of one chunk leave in one
   * `control.write`.
   */
  receive(chunk: Uint8Array): void {
    this.#core.receive(chunk);
  }

  /** The peer closed the control connection: abort a transfer, close listeners, stop timers. Idempotent. */
  close(): void {
    this.#core.peerClosed();
  }

  /** Resolves once the session has ended (QUIT, timeout, too many login failures, {@link close}). */
  get closed(): Promise<void> {
    return this.#core.closed;
  }
}
