/**
 * `createFtpServer`: FTP over TCP for embedders — one {@link FtpSession} per control
 * connection, real sockets and files behind it.
 *
 * Theory of operation.
 * - `listen()` binds every configured address (IPv4 and/or IPv6, port 0 = the kernel's
 *   choice) and resolves with what was bound; a failure closes whatever did bind.
 * - At connect, MaxClients and MaxClientsPerHost count open control connections and the
 *   excess gets `421` and is closed before the banner. (ProFTPD counts logged-in
 *   sessions and answers `530` after PASS; counting at connect also bounds the sockets
 *   that never log in, and clients treat 421 as "try again later", RFC 959 §4.2.)
 * - The per-session configuration is the `config` object, or what `config(ctx)` returns
 *   for the connection's addresses (a virtual host, a class).
 * - Socket 'data' goes to `session.receive`; when the client does not read its replies
 *   (more than CONTROL_BUFFER of replies unsent) reading pauses until it
 *   drains. Socket 'close' is `session.close()`.
 * - `close({ drainMs })` stops accepting; sessions without a transfer get `421` and are
 *   closed at once, those with one when it ends or at the deadline; it resolves when
 *   every socket is gone.
 * - Every session event is re-emitted (see {@link FtpServerEvents}).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { PortAllocator } from '@ftpkit/port-allocator';
import { canonicalAddress } from '../address.js';
import { mapAccepted } from '../channels.js';
import type { SessionConfig } from '../config.js';
import type { SessionEvent } from '../events.js';
import type {
  ActiveResult,
  Authenticator,
  ByteSink,
  ByteSource,
  Clock,
  DataChannelFactory,
  DataConnection,
  FileSystem,
} from '../ports.js';
import { FtpSession } from '../session.js';
import { simpleAuthenticator } from './auth.js';
import { systemClock } from './clock.js';
import { SocketControlChannel, acceptImplicitTls } from './control.js';
import type { ControlChannelOptions } from './control.js';
import { nodeDataChannels } from './data.js';
import type { DataChannelOptions } from './data.js';
import { checkFtpsOptions } from './tls.js';
import type { FtpsOptions } from './tls.js';

/** An address to listen on. */
export interface ListenAddress {
  /** IPv4 or IPv6 address; default `::` (all addresses, dual stack where the OS allows). */
  host?: string;
  /** Default 21; 0 = a port the kernel chooses. */
  port?: number;
  backlog?: number;
  /** Implicit FTPS (port 990 style): TLS from the first byte. Needs the `tls` option. */
  implicitTls?: boolean;
}

/** What a bound listener reports. */
export interface BoundAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** The addresses of one control connection, for choosing its configuration. */
export interface ConnectionContext {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

export interface FtpServerOptions {
  /** Where to listen. Default `{ host: '::', port: 21 }`. */
  listen?: ListenAddress | readonly ListenAddress[];
  /** The session configuration, or a function of the connection (virtual hosts, classes). */
  config?: SessionConfig | ((ctx: ConnectionContext) => SessionConfig);
  /** Who may log in. Default: nobody, or anonymous read-only access to `root` with `anonymous: true`. */
  authenticator?: Authenticator;
  /** With the default authenticator: allow anonymous (read-only) logins. Default `false`. */
  anonymous?: boolean;
  /** With the default authenticator: the anonymous root directory. */
  root?: string;
  /** With the default authenticator: the anonymous file system (default: {@link localFileSystem} on `root`). */
  fileSystem?: FileSystem;
  /**
   * PassivePorts for sessions whose configuration has none: a range spec
   * (`'60000-60100'`) or an allocator shared by every session.
   */
  passivePorts?: string | PortAllocator;
  /** At most this many control connections (421 for more). */
  maxClients?: number;
  /** At most this many control connections from one address (421 for more). */
  maxClientsPerHost?: number;
  /** Data channels: a factory of your own, or options for the built-in one. */
  dataChannels?: DataChannelFactory | DataChannelOptions;
  /** Clock for session timers. Default: the system clock. */
  clock?: Clock;
  /** Random source in [0, 1) (STOU names, the default allocator). Default `Math.random`. */
  random?: () => number;
  /** Longest command line (ProFTPD CommandBufferSize). Default: the decoder's 4096. */
  maxLineLength?: number;
  /** TCP keepalive delay on control connections in ms, or `false`. Default 60 000. */
  keepAlive?: number | false;
  /**
   * FTPS (RFC 4217): certificate and settings. AUTH TLS is then offered (sessions whose
   * config has no `tls` get `{}`: TLS offered, nothing required), PROT P protects data
   * connections, and listen addresses with `implicitTls` speak TLS from the start.
   */
  tls?: FtpsOptions;
}

/** What the server knows about one session (events carry it). */
export interface SessionInfo extends ConnectionContext {
  /** Sequence number of the session in this server, from 1. */
  readonly id: number;
  readonly startedAt: number;
}

/** A session event with the session it belongs to. */
export type ServerSessionEvent = SessionEvent & { session: SessionInfo };

export interface RefusedConnection {
  remoteAddress: string;
  remotePort: number;
  reason: 'maxClients' | 'maxClientsPerHost' | 'closing' | 'config-error' | 'tls-handshake';
  /** The reply sent (without CRLF); empty when the socket was closed without one. */
  reply: string;
  /** ProFTPD's log line for the refusal. */
  message: string;
}

/** Events of an {@link FtpServer}. */
export interface FtpServerEvents {
  listening: [addresses: BoundAddress[]];
  /** A control connection got its session (before the banner). */
  'session-open': [session: SessionInfo];
  /** The session ended and its socket closed. */
  'session-close': [session: SessionInfo];
  /** A connection refused at connect (limits, shutting down). */
  refused: [connection: RefusedConnection];
  /** Every event of every session. */
  event: [event: ServerSessionEvent];
  login: [event: Extract<ServerSessionEvent, { type: 'login' }>];
  'login-failed': [event: Extract<ServerSessionEvent, { type: 'login-failed' }>];
  /** A file transfer ended (complete or not): the fields of an xferlog line. */
  transfer: [event: Extract<ServerSessionEvent, { type: 'transfer-end' }>];
  /** A command refused by `<Limit>`, a PORT/EPRT refused, a foreign passive peer rejected. */
  denied: [event: Extract<ServerSessionEvent, { type: 'denied' | 'port-refused' | 'passive-rejected' }>];
  /** The PassivePorts range was exhausted and the kernel chose a port. */
  fallback: [event: Extract<ServerSessionEvent, { type: 'fallback' }>];
  /** An internal error inside a session (the session answered 451 or similar and went on). */
  'session-error': [event: Extract<ServerSessionEvent, { type: 'error' }>];
  /** An error of a listening socket after listen() (EMFILE on accept…); the listener stays. */
  'listener-error': [error: Error];
  /** close() finished: no listener, session or socket is left. */
  closed: [];
}

interface Entry {
  info: SessionInfo;
  host: string;
  control: SocketControlChannel;
  session: FtpSession;
  /** Data connections sending or receiving now. */
  transfers: number;
  /** File transfers between their transfer-start and transfer-end events. */
  fileTransfers: number;
  /** Called (after the replies of the moment were written) when nothing is in progress any more. */
  idle: (() => void) | undefined;
}

function busy(entry: Entry): boolean {
  return entry.transfers > 0 || entry.fileTransfers > 0;
}

/** Tells a waiting close() that the session became idle, once the core has flushed its replies (226). */
function settled(entry: Entry): void {
  if (entry.idle === undefined || busy(entry)) return;
  setImmediate(() => {
    if (!busy(entry)) entry.idle?.();
  });
}

const REPLY_421 = 'Service not available, closing control connection';

function toArray<T>(v: T | readonly T[] | undefined, fallback: T): readonly T[] {
  if (v === undefined) return [fallback];
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

function isFactory(v: DataChannelFactory | DataChannelOptions | undefined): v is DataChannelFactory {
  return v !== undefined && typeof (v as DataChannelFactory).listen === 'function';
}

/** The connection a {@link tracked} wrapper stands for (the TLS handshake needs the socket). */
const unwrapped = new WeakMap<DataConnection, DataConnection>();

/** Counts transfers of one session through its data connections. */
function tracked(conn: DataConnection, entry: Entry): DataConnection {
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    entry.transfers++;
    try {
      return await work();
    } finally {
      entry.transfers--;
      settled(entry);
    }
  };
  const wrapper: DataConnection = {
    get remoteAddress() {
      return conn.remoteAddress;
    },
    get remotePort() {
      return conn.remotePort;
    },
    send: (source: ByteSource) => run(() => conn.send(source)),
    receive: (sink: ByteSink) => run(() => conn.receive(sink)),
    destroy: () => conn.destroy(),
  };
  unwrapped.set(wrapper, conn);
  return wrapper;
}

function trackingFactory(inner: DataChannelFactory, entry: () => Entry): DataChannelFactory {
  const factory: DataChannelFactory = {
    listen: mapAccepted(inner, (c) => tracked(c, entry())),
    async connect(request): Promise<ActiveResult> {
      const r = await inner.connect(request);
      return r.ok ? { ok: true, connection: tracked(r.connection, entry()) } : r;
    },
  };
  const secure = inner.secure;
  if (secure !== undefined) {
    factory.secure = async (connection, request) => {
      const r = await secure.call(inner, unwrapped.get(connection) ?? connection, request);
      return r.ok ? { ...r, connection: tracked(r.connection, entry()) } : r;
    };
  }
  return factory;
}

/** No authenticator given: nobody, or anonymous read-only access to `root`/`fileSystem`. */
function defaultAuthenticator(options: FtpServerOptions): Authenticator {
  if (options.anonymous !== true) return simpleAuthenticator({});
  const { root, fileSystem } = options;
  if (fileSystem !== undefined) return simpleAuthenticator({ anonymous: { root: root ?? '/' }, fileSystem: () => fileSystem });
  if (root === undefined) {
    throw Object.assign(new TypeError('createFtpServer: anonymous access needs root or fileSystem'), { code: 'ERR_SERVER_OPTION_INVALID' });
  }
  return simpleAuthenticator({ anonymous: { root } });
}

/**
 * An FTP server. Create with {@link createFtpServer}; `listen()`, then `close()`.
 */
export class FtpServer extends EventEmitter<FtpServerEvents> {
  readonly #options: FtpServerOptions;
  readonly #authenticator: Authenticator;
  readonly #data: DataChannelFactory;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #passivePorts: PortAllocator | undefined;
  readonly #listeners: net.Server[] = [];
  readonly #entries = new Set<Entry>();
  readonly #perHost = new Map<string, number>();
  /** Sockets refused at connect that are still closing. */
  readonly #refused = new Set<net.Socket>();
  /** Implicit-FTPS sockets still in their handshake. */
  readonly #handshaking = new Set<net.Socket>();
  #nextId = 1;
  #closing: Promise<void> | undefined;
  /** FTPS settings in force (the `tls` option, then what {@link updateTls} gave). */
  #tls: FtpsOptions | undefined;

  constructor(options: FtpServerOptions = {}) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#authenticator = options.authenticator ?? defaultAuthenticator(options);
    this.#data = isFactory(options.dataChannels) ? options.dataChannels : nodeDataChannels(options.dataChannels ?? {});
    const pp = options.passivePorts;
    this.#passivePorts = pp === undefined || pp instanceof PortAllocator ? pp : new PortAllocator({ ranges: pp, random: this.#random });
    if (options.tls !== undefined) checkFtpsOptions(options.tls);
    this.#tls = options.tls;
  }

  /**
   * New FTPS certificates or settings (a reload, SIGHUP): every TLS handshake that starts
   * from now on uses them — implicit connections, AUTH TLS, and the data connections of
   * sessions that start TLS from now on. Sessions already protected keep their own.
   * @throws Error `ERR_FTPS_OPTION_INVALID` (the previous settings stay in force).
   */
  updateTls(options: FtpsOptions): void {
    checkFtpsOptions(options);
    this.#tls = options;
  }

  readonly #currentTls = (): FtpsOptions => this.#tls as FtpsOptions;

  /** Open control connections. */
  get sessions(): number {
    return this.#entries.size;
  }

  /** The shared PassivePorts allocator made from the `passivePorts` option, if any. */
  get passivePorts(): PortAllocator | undefined {
    return this.#passivePorts;
  }

  /** The bound addresses (empty before listen() and after close()). */
  addresses(): BoundAddress[] {
    const out: BoundAddress[] = [];
    for (const l of this.#listeners) {
      const a = l.address();
      if (a !== null && typeof a === 'object') out.push({ address: a.address, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4', port: a.port });
    }
    return out;
  }

  /**
   * Binds every address of the `listen` option (or `addresses`, when given).
   * @throws Error `ERR_SERVER_STATE` when already listening or closed.
   */
  async listen(addresses?: ListenAddress | readonly ListenAddress[]): Promise<BoundAddress[]> {
    if (this.#listeners.length > 0 || this.#closing !== undefined) {
      throw Object.assign(new Error('createFtpServer: listen() once, before close()'), { code: 'ERR_SERVER_STATE' });
    }
    const wanted = toArray(addresses ?? this.#options.listen, { host: '::', port: 21 });
    try {
      for (const a of wanted) {
        if (a.implicitTls === true && this.#tls === undefined) {
          throw Object.assign(new TypeError('createFtpServer: implicitTls needs the tls option'), { code: 'ERR_SERVER_OPTION_INVALID' });
        }
        const implicit = a.implicitTls === true;
        const server = net.createServer({ noDelay: true }, (socket) => void this.#accept(socket, implicit));
        this.#listeners.push(server);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ host: a.host ?? '::', port: a.port ?? 21, backlog: a.backlog ?? 511 }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        server.on('error', (error) => this.emit('listener-error', error));
      }
    } catch (error) {
      for (const s of this.#listeners.splice(0)) if (s.listening) s.close();
      throw error;
    }
    const bound = this.addresses();
    this.emit('listening', bound);
    return bound;
  }

  /**
   * Stops accepting, lets transfers in progress finish for up to `drainMs` (default 0),
   * then closes every session. Resolves when no socket is left. Idempotent.
   */
  close(options: { drainMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.drainMs ?? 0);
    return this.#closing;
  }

  async #close(drainMs: number): Promise<void> {
    const stopped = Promise.all(this.#listeners.splice(0).map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    const deadline = Date.now() + drainMs;
    await Promise.all(
      [...this.#entries].map(async (entry) => {
        if (busy(entry) && drainMs > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
            entry.idle = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        await this.#end(entry);
      }),
    );
    for (const s of this.#refused) s.destroy();
    for (const s of this.#handshaking) s.destroy();
    await stopped;
    this.emit('closed');
  }

  /** Says 421, ends the session and waits for its socket to close. */
  async #end(entry: Entry): Promise<void> {
    const c = entry.control;
    entry.control.write(`421 ${REPLY_421}\r\n`);
    entry.session.close();
    c.close();
    // A client that does not close its side within a second is cut off.
    const timer = setTimeout(() => c.destroy(), 1000);
    await c.whenClosed();
    clearTimeout(timer);
  }

  #refuse(socket: net.Socket, refused: RefusedConnection): void {
    this.#refused.add(socket);
    socket.once('close', () => this.#refused.delete(socket));
    if (refused.reply === '') socket.destroy();
    else {
      socket.end(`${refused.reply}\r\n`);
      setTimeout(() => socket.destroy(), 1000).unref();
    }
    this.emit('refused', refused);
  }

  /** A new control connection; implicit FTPS shakes hands first (limits are then answered under TLS). */
  async #accept(socket: net.Socket, implicit: boolean): Promise<void> {
    socket.on('error', () => undefined);
    const ftps = this.#tls;
    if (!implicit || ftps === undefined) {
      this.#connection(socket, undefined);
      return;
    }
    this.#handshaking.add(socket);
    const remote = { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    const r = await acceptImplicitTls(socket, ftps);
    this.#handshaking.delete(socket);
    if (!r.ok) {
      this.#refuse(socket, { ...remote, reason: 'tls-handshake', reply: '', message: `TLS handshake failed: ${r.message}` });
      return;
    }
    r.socket.on('error', () => undefined);
    this.#connection(r.socket, r.implicit);
  }

  #connection(socket: net.Socket, implicit: ControlChannelOptions['implicit']): void {
    const remoteAddress = socket.remoteAddress ?? '';
    const remotePort = socket.remotePort ?? 0;
    if (remoteAddress === '') {
      socket.destroy(); // already gone
      return;
    }
    const base = { remoteAddress, remotePort };
    if (this.#closing !== undefined) {
      this.#refuse(socket, { ...base, reason: 'closing', reply: `421 ${REPLY_421}`, message: 'server is shutting down' });
      return;
    }
    const host = canonicalAddress(remoteAddress);
    const { maxClients, maxClientsPerHost } = this.#options;
    if (maxClients !== undefined && this.#entries.size >= maxClients) {
      this.#refuse(socket, {
        ...base,
        reason: 'maxClients',
        reply: `421 Sorry, the maximum number of allowed clients (${maxClients}) are already connected.`,
        message: `Connection refused (MaxClients ${maxClients})`,
      });
      return;
    }
    const fromHost = this.#perHost.get(host) ?? 0;
    if (maxClientsPerHost !== undefined && fromHost >= maxClientsPerHost) {
      this.#refuse(socket, {
        ...base,
        reason: 'maxClientsPerHost',
        reply: `421 Sorry, the maximum number of clients (${maxClientsPerHost}) from your host are already connected.`,
        message: `Connection refused (MaxClientsPerHost ${maxClientsPerHost})`,
      });
      return;
    }
    const ctx: ConnectionContext = { localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0, remoteAddress, remotePort };
    let config: SessionConfig;
    try {
      const c = this.#options.config;
      config = typeof c === 'function' ? c(ctx) : (c ?? {});
      if (config.passivePorts === undefined && this.#passivePorts !== undefined) config = { ...config, passivePorts: this.#passivePorts };
    } catch (error) {
      this.#refuse(socket, { ...base, reason: 'config-error', reply: `421 ${REPLY_421}`, message: `session configuration failed: ${String(error)}` });
      return;
    }
    if (this.#tls !== undefined && config.tls === undefined) config = { ...config, tls: {} };
    this.#open(socket, ctx, host, config, implicit);
  }

  #open(socket: net.Socket, ctx: ConnectionContext, host: string, config: SessionConfig, implicit: ControlChannelOptions['implicit']): void {
    const info: SessionInfo = { ...ctx, id: this.#nextId++, startedAt: this.#clock.now() };
    const channelOptions: ControlChannelOptions = { keepAlive: this.#options.keepAlive ?? 60_000 };
    if (implicit !== undefined) channelOptions.implicit = implicit;
    else if (this.#tls !== undefined) channelOptions.tls = this.#currentTls;
    const control = new SocketControlChannel(socket, channelOptions);
    let entry!: Entry;
    const options = {
      control,
      data: trackingFactory(this.#data, () => entry),
      authenticator: this.#authenticator,
      clock: this.#clock,
      config,
      random: this.#random,
      onEvent: (e: SessionEvent) => {
        if (e.type === 'transfer-start') entry.fileTransfers++;
        else if (e.type === 'transfer-end' && entry.fileTransfers > 0) {
          entry.fileTransfers--;
          settled(entry);
        }
        this.#dispatch(info, e);
      },
    };
    const max = this.#options.maxLineLength;
    const session = new FtpSession(max === undefined ? options : { ...options, maxLineLength: max });
    entry = { info, host, control, session, transfers: 0, fileTransfers: 0, idle: undefined };
    this.#entries.add(entry);
    this.#perHost.set(host, (this.#perHost.get(host) ?? 0) + 1);
    control.start({
      data: (chunk) => session.receive(chunk),
      close: () => {
        session.close();
        this.#entries.delete(entry);
        const n = (this.#perHost.get(host) ?? 1) - 1;
        if (n === 0) this.#perHost.delete(host);
        else this.#perHost.set(host, n);
        entry.idle?.();
        this.emit('session-close', info);
      },
    });
    // The session ended by itself (QUIT, timeout): the control channel is closing.
    void session.closed.then(() => control.close());
    this.emit('session-open', info);
    session.start();
  }

  #dispatch(info: SessionInfo, e: SessionEvent): void {
    const event = { ...e, session: info } as ServerSessionEvent;
    this.emit('event', event);
    switch (event.type) {
      case 'login':
        this.emit('login', event);
        break;
      case 'login-failed':
        this.emit('login-failed', event);
        break;
      case 'transfer-end':
        this.emit('transfer', event);
        break;
      case 'denied':
      case 'port-refused':
      case 'passive-rejected':
        this.emit('denied', event);
        break;
      case 'fallback':
        this.emit('fallback', event);
        break;
      case 'error':
        this.emit('session-error', event);
        break;
      default:
        break;
    }
  }
}

/**
 * An FTP server for embedding (see {@link FtpServerOptions}).
 *
 * @example
 * ```ts
 * const server = createFtpServer({
 *   listen: { host: '0.0.0.0', port: 2121 },
 *   authenticator: simpleAuthenticator({ users: [{ name: 'alice', password: 's3cret', root: '/srv/ftp/alice' }] }),
 *   passivePorts: '60000-60100',
 *   config: { masquerade: new MasqueradeResolver({ policies: [{ kind: 'static', address: '203.0.113.7' }] }) },
 * });
 * server.on('transfer', (e) => console.log(e.verb, e.path, e.bytes));
 * await server.listen();
 * ```
 */
export function createFtpServer(options: FtpServerOptions = {}): FtpServer {
  return new FtpServer(options);
}
