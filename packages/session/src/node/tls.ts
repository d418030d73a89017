/**
 * FTPS on Node sockets (RFC 4217): the server side of the TLS handshakes the core asks
 * for — AUTH TLS on the control connection (`ControlChannel.upgradeTls`), PROT P on data
 * connections (`DataChannelFactory.secure`), and implicit FTPS at connect.
 *
 * Theory of operation — tying data connections to their session. Each control
 * connection gets its own TLS context: the configured certificate and settings, with
 * session-ticket keys of its own and a session-ID cache of its own. A data connection
 * can therefore only resume a TLS session that this control connection (or an earlier
 * data connection of it) established; `isSessionReused()` on the data connection is the
 * "resumed the control connection's session" the core checks (ProFTPD and vsftpd
 * `require_ssl_reuse`). That ties the data connection to the session even when NAT or a
 * load balancer hides the client's address.
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import tls from 'node:tls';
import type { TlsInfo } from '../ports.js';

export interface FtpsOptions {
  /**
   * Certificate, key, CA, protocol versions, ciphers… (`tls.createSecureContext` options).
   * Defaults: TLS 1.2 and 1.3 only (`minVersion` below TLSv1.2 is refused) and, for TLS
   * 1.2, {@link MODERN_CIPHERS} in the server's order.
   */
  context: tls.SecureContextOptions;
  /** Give up a handshake after this long. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
}

/** TLS 1.2 cipher suites offered by default: ECDHE key exchange and AEAD only (TLS 1.3 suites are OpenSSL's). */
export const MODERN_CIPHERS: string = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

const OLD_PROTOCOLS: ReadonlySet<string> = new Set(['SSLv3', 'TLSv1', 'TLSv1.1']);

/** The secure-context options of `options` with ftpkit's defaults. */
function contextOptions(options: FtpsOptions): tls.SecureContextOptions {
  return { minVersion: 'TLSv1.2', ciphers: MODERN_CIPHERS, honorCipherOrder: true, ...options.context };
}

/**
 * Checks FTPS options before any client sees them: a usable certificate and key, and no
 * protocol older than TLS 1.2.
 * @throws Error `ERR_FTPS_OPTION_INVALID`.
 */
export function checkFtpsOptions(options: FtpsOptions): void {
  const fail = (message: string, cause?: unknown): never => {
    throw Object.assign(new Error(`FTPS: ${message}`, cause === undefined ? undefined : { cause }), { code: 'ERR_FTPS_OPTION_INVALID' });
  };
  const context = contextOptions(options);
  if (context.minVersion !== undefined && OLD_PROTOCOLS.has(context.minVersion)) fail(`minVersion ${context.minVersion}: only TLSv1.2 and TLSv1.3 are offered`);
  if (context.cert === undefined || context.key === undefined) {
    if (context.pfx === undefined) fail('a certificate and its key are needed (context.cert and context.key)');
  }
  try {
    tls.createSecureContext(context);
  } catch (error) {
    fail(`certificate, key or settings unusable: ${reasonOf(error)}`, error);
  }
}

/** OpenSSL's reason (`wrong version number`) rather than its whole error-queue line. */
export function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown } | undefined)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return error instanceof Error ? error.message.trim() : String(error);
}

/** The TLS state of one control connection, shared with its data connections. */
export class SessionTls {
  readonly secureContext: tls.SecureContext;
  /** Holds the session-ID cache callbacks (never listens). */
  readonly server: tls.Server;
  readonly handshakeTimeoutMs: number;
  readonly #sessions = new Map<string, Buffer>();

  constructor(options: FtpsOptions) {
    this.secureContext = tls.createSecureContext({ ...contextOptions(options), ticketKeys: randomBytes(48) });
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.server = new tls.Server({ secureContext: this.secureContext });
    this.server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      // A session keeps a handful of entries (one per connection at most).
      if (this.#sessions.size >= 64) this.#sessions.delete(this.#sessions.keys().next().value as string);
      this.#sessions.set(id.toString('hex'), data);
      done();
    });
    this.server.on('resumeSession', (id: Buffer, done: (err: Error | null, data?: Buffer | null) => void) => {
      done(null, this.#sessions.get(id.toString('hex')) ?? null);
    });
  }
}

const sessions = new WeakMap<TlsInfo, SessionTls>();

/** The session TLS state behind a {@link TlsInfo} this module produced. */
export function sessionTlsOf(info: TlsInfo): SessionTls | undefined {
  return sessions.get(info);
}

/** What the core sees of a TLS socket. */
export function tlsInfo(socket: tls.TLSSocket, session: SessionTls): TlsInfo {
  const cipher = socket.getCipher();
  const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
  const info: TlsInfo = {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher.standardName ?? cipher.name,
    servername: typeof servername === 'string' ? servername : undefined,
  };
  sessions.set(info, session);
  return info;
}

export type HandshakeResult =
  | { ok: true; socket: tls.TLSSocket; info: TlsInfo; resumed: boolean }
  | { ok: false; reason: 'handshake' | 'timeout' | 'closed'; message: string };

/** Runs the server side of a TLS handshake on `socket` (which TLS then owns). */
export function serverHandshake(socket: net.Socket, session: SessionTls): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve({ ok: false, reason: 'closed', message: 'connection closed' });
      return;
    }
    const t = new tls.TLSSocket(socket, { isServer: true, secureContext: session.secureContext, server: session.server });
    t.on('error', () => undefined);
    let settled = false;
    const done = (r: HandshakeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      t.off('secure', secured);
      t.off('error', failed);
      t.off('close', closed);
      if (!r.ok) t.destroy();
      resolve(r);
    };
    const secured = (): void => done({ ok: true, socket: t, info: tlsInfo(t, session), resumed: t.isSessionReused() });
    const failed = (error: Error): void => done({ ok: false, reason: 'handshake', message: reasonOf(error) });
    const closed = (): void => done({ ok: false, reason: 'closed', message: 'connection closed during the TLS handshake' });
    const timer = setTimeout(() => done({ ok: false, reason: 'timeout', message: 'TLS handshake timed out' }), session.handshakeTimeoutMs);
    t.once('secure', secured);
    t.once('error', failed);
    t.once('close', closed);
  });
}
