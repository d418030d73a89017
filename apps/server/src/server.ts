/**
 * The running server: listeners for a configuration, one FtpSession per connection,
 * reload without dropping sessions, and a draining stop.
 *
 * Theory of operation:
 * - A *generation* is one loaded configuration with its SessionPlanner (vhost
 *   selection, SessionConfig mapping, authenticator) and masquerade resolvers. New
 *   connections use the current generation; a session keeps the one it started with.
 * - Listeners are keyed `host:port`. `SocketBindTight off` (ProFTPD's default) binds one
 *   wildcard socket per port (`::`, dual-stack, or `0.0.0.0` without IPv6); `on` binds
 *   each server's own addresses. A reload opens the new keys, closes the ones no longer
 *   configured, and leaves the others listening (no gap).
 * - Port allocators and transfer logs outlive generations (resources.ts), so sessions
 *   of the old and the new configuration never get the same passive port.
 * - `drain(deadline)`: stop accepting; idle sessions get `421` and close now; sessions
 *   with a transfer in flight close after its final reply, or at the deadline.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { FtpkitConfig, LocalEndpoint } from '@ftpkit/config';
import { resolveVirtualHostNames } from '@ftpkit/config/node';
import { masqueradingLine } from '@ftpkit/masquerade';
import {
  FtpSession,
  mapAccepted,
  type ControlChannel,
  type DataChannelFactory,
  type DataConnection,
  type SecureDataRequest,
  type SecureDataResult,
  type SessionEvent,
  type TlsInfo,
  type TlsUpgradeResult,
} from '@ftpkit/session';
import { SocketControlChannel, acceptImplicitTls, localFileSystem, nodeDataChannels, systemClock, warmDirectoryReaders, type ControlChannelOptions } from '@ftpkit/session/node';
import { acceptProxied } from '@ftpkit/proxy-protocol/node';
import { layeredValues, listeningServers, unappliedSettings } from './config-values.js';
import type { FlagUser } from './defaults.js';
import type { Logger } from './log.js';
import { ftpsOfServer, type ServerFtps } from './ftps.js';
import { PasswordPool } from './password-pool.js';
import { proxiedDataChannels } from './proxy-data.js';
import { AllocatorRegistry, AuthFileCache, MasqueradeGeneration, TransferLogRegistry, type PassiveLayout } from './resources.js';
import { sharedDataChannels } from './shared-data.js';
import { SessionPlanner, SessionTable, featHiddenFor, type Generation, type PlannedSession } from './sessions.js';

export interface LoadedGeneration {
  config: FtpkitConfig;
  source: string;
  flagUsers?: readonly FlagUser[];
}

export interface FtpkitServerOptions {
  logger: Logger;
  /** When a PassivePorts range is exhausted: 425, or a kernel port (ProFTPD). Default `kernel`. */
  exhaustion?: 'refuse' | 'kernel';
  /** At most this many passive ports per client address at once (0 = no cap, the default). */
  passivePerClient?: number;
  /**
   * How this process hands out passive ports in a larger deployment: its part of every
   * PassivePorts range (instances, cluster workers), share mode, exposed ports.
   */
  passive?: PassiveLayout;
}

interface LiveSession {
  id: number;
  session: FtpSession;
  control: ServerControl;
  /** Data connections sending or receiving (files and listings). */
  transfers: number;
  remote: string;
  /** Set while draining: called when the last transfer has ended. */
  onIdle: (() => void) | undefined;
}


/** `::ffff:1.2.3.4` → `1.2.3.4`. */
function unmap(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && /^[\d.]+$/.test(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The control channel (session/node's SocketControlChannel: corked writes, a silent peer
 * cut off after close) with IPv4-mapped addresses shown as IPv4, a hook on every write,
 * and `finish()`: a last reply of the server's own, after which the session's writes
 * are dropped (MaxClients refusals, drain).
 */
class ServerControl implements ControlChannel {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly proxiedDestination?: string;
  /** AUTH TLS (present when the server has FTPS). */
  readonly upgradeTls?: () => Promise<TlsUpgradeResult>;
  onWrite: ((text: string) => void) | undefined;

  constructor(readonly inner: SocketControlChannel) {
    // IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; the session, the
    // banner and the logs see the IPv4 address (RFC 4291 §2.5.5.2).
    this.localAddress = unmap(inner.localAddress);
    this.localPort = inner.localPort;
    this.remoteAddress = unmap(inner.remoteAddress);
    this.remotePort = inner.remotePort;
    if (inner.proxiedDestination !== undefined) this.proxiedDestination = inner.proxiedDestination;
    const upgrade = inner.upgradeTls;
    if (upgrade !== undefined) this.upgradeTls = () => upgrade();
  }

  get tls(): TlsInfo | undefined {
    return this.inner.tls;
  }

  get secure(): boolean {
    return this.inner.secure;
  }

  write(data: string | Uint8Array): void {
    if (this.inner.closed) return;
    this.inner.write(data);
    this.onWrite?.(typeof data === 'string' ? data : new TextDecoder().decode(data));
  }

  close(): void {
    this.inner.close();
  }

  finish(code: number, text: string): void {
    this.write(`${code} ${text}\r\n`);
    this.inner.close();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/** Count a session's data transfers (files and listings) through its data connections. */
function counted(factory: DataChannelFactory, entry: () => LiveSession): DataChannelFactory {
  const during = async <T>(work: () => Promise<T>): Promise<T> => {
    const e = entry();
    e.transfers++;
    try {
      return await work();
    } finally {
      if (--e.transfers === 0) e.onIdle?.();
    }
  };
  // Explicit delegation: the connections keep private state, so no prototype tricks.
  const raw = new WeakMap<DataConnection, DataConnection>();
  const wrap = (c: DataConnection): DataConnection => {
    const w: DataConnection = {
      get remoteAddress() {
        return c.remoteAddress;
      },
      get remotePort() {
        return c.remotePort;
      },
      send: (source) => during(() => c.send(source)),
      receive: (sink) => during(() => c.receive(sink)),
      destroy: () => c.destroy(),
    };
    raw.set(w, c);
    return w;
  };
  const secure = factory.secure?.bind(factory);
  return {
    // PROT P: the handshake runs on the real connection (it is the node data channel's own).
    ...(secure === undefined
      ? {}
      : {
          secure: async (conn: DataConnection, request: SecureDataRequest): Promise<SecureDataResult> => {
            const r = await secure(raw.get(conn) ?? conn, request);
            return r.ok ? { ...r, connection: wrap(r.connection) } : r;
          },
        }),
    listen: mapAccepted(factory, wrap),
    connect: async (request) => {
      const r = await factory.connect(request);
      return r.ok ? { ok: true, connection: wrap(r.connection) } : r;
    },
  };
}

/** FTPS per server (throws, naming the server and directive, when a certificate is unusable). */
function ftpsByServer(config: FtpkitConfig): Map<number, ServerFtps> {
  const out = new Map<number, ServerFtps>();
  for (const s of listeningServers(config)) {
    const f = ftpsOfServer(config, s);
    if (f !== undefined) out.set(s.id, f);
  }
  return out;
}

export class FtpkitServer {
  private readonly logger: Logger;
  private readonly allocators: AllocatorRegistry;
  private readonly transferLogs: TransferLogRegistry;
  private readonly table = new SessionTable();
  private readonly data: DataChannelFactory & { close?: () => void };
  private readonly passwords = new PasswordPool();
  private readonly authFiles: AuthFileCache;
  private readonly listeners = new Map<string, Server>();
  private readonly live = new Map<number, LiveSession>();
  private planner: SessionPlanner | undefined;
  private nextSessionId = 1;
  private nextGeneration = 1;
  private draining = false;

  constructor(options: FtpkitServerOptions) {
    this.logger = options.logger;
    this.allocators = new AllocatorRegistry(options.exhaustion ?? 'kernel', options.passivePerClient ?? 0, options.passive);
    // Share mode: passive ports shared between client addresses (SharedTcpPool).
    this.data =
      options.passive?.share === true
        ? sharedDataChannels(nodeDataChannels(), {
            onRejected: (e) =>
              this.logger.warn(
                { client: unmap(e.remoteAddress) },
                `SECURITY VIOLATION: Passive connection from foreign IP address ${unmap(e.remoteAddress)} rejected (no client from that address waits on port ${e.port}).`,
              ),
          })
        : nodeDataChannels();
    this.transferLogs = new TransferLogRegistry(options.logger);
    this.authFiles = new AuthFileCache(options.logger);
  }

  /** The `host:port` keys currently listening, with the bound ports. */
  addresses(): { host: string; port: number }[] {
    return [...this.listeners.values()].flatMap((s) => {
      const a = s.address();
      return typeof a === 'object' && a !== null ? [{ host: a.address, port: a.port }] : [];
    });
  }

  get sessions(): number {
    return this.live.size;
  }

  get config(): FtpkitConfig | undefined {
    return this.planner?.generation.config;
  }

  /** Apply a configuration: the first call starts the server, later ones reload it. */
  async apply(loaded: LoadedGeneration): Promise<void> {
    // <VirtualHost ftp.example.com>: names are resolved at startup (and reload), as ProFTPD does.
    const named = await resolveVirtualHostNames(loaded.config);
    for (const u of named.unresolved) this.logger.warn(`${u.server}: unable to resolve '${u.name}' (${u.message}); it matches no connection`);
    const config = named.config;
    const masquerade = new MasqueradeGeneration(this.logger, config.daemon.dynMasqRefresh);
    const servers = listeningServers(config);
    await masquerade.add(servers.flatMap((s) => [...layeredValues(config, s, 'masqueradeAddress'), ...layeredValues(config, s, 'tlsMasqueradeAddress')].map((v) => v.value)));
    let ftps: Map<number, ServerFtps>;
    try {
      ftps = ftpsByServer(config);
    } catch (err) {
      masquerade.close();
      throw err;
    }
    const generation: Generation = {
      id: this.nextGeneration++,
      config,
      source: loaded.source,
      flagUsers: loaded.flagUsers ?? [],
      masquerade,
      featHidden: featHiddenFor(config),
      ftps,
    };
    // Every PassivePorts range must fit this process's layout (its part, the exposed ports).
    try {
      this.passiveRanges(config);
    } catch (err) {
      masquerade.close();
      throw err;
    }
    // Logged before binding, as ProFTPD does while fixing up its servers.
    this.logStartupLines(generation);
    const wanted = await this.listenKeys(config);
    // Bind what is new before switching, so a bad reload keeps the old configuration.
    const opened: string[] = [];
    try {
      for (const [key, { host, port }] of wanted) {
        if (this.listeners.has(key)) continue;
        this.listeners.set(key, await this.listen(host, port));
        opened.push(key);
      }
    } catch (err) {
      for (const key of opened) {
        this.listeners.get(key)?.close();
        this.listeners.delete(key);
      }
      masquerade.close();
      throw err;
    }
    for (const [key, server] of this.listeners) {
      if (!wanted.has(key)) {
        server.close();
        this.listeners.delete(key);
        this.logger.info(`stopped listening on ${key}`);
      }
    }
    const previous = this.planner;
    const shared = (c: FtpkitConfig | undefined): boolean => c?.daemon.passivePortsShared === true;
    if (previous !== undefined && shared(previous.generation.config) !== shared(config)) {
      this.logger.warn(`PassivePortsShared ${shared(config) ? 'on' : 'off'}: share mode is chosen at start; restart ftpkit to apply it`);
    }
    this.planner = new SessionPlanner(generation, {
      logger: this.logger,
      allocators: this.allocators,
      table: this.table,
      fileSystemFor: (root, effective) =>
        localFileSystem({
          root,
          hiddenStores: effective.settings.hiddenStores === undefined ? false : effective.settings.hiddenStores.prefix,
          deleteAbortedStores: effective.settings.deleteAbortedStores,
          umask: effective.settings.umask.file,
        }),
      verifyPassword: (hash, password) => this.passwords.verify(hash, password),
      authFiles: this.authFiles,
    });
    // Read the user files now, while still root at startup (see AuthFileCache).
    for (const s of listeningServers(config)) {
      for (const v of layeredValues(config, s, 'authUserFile')) this.authFiles.userFile(v.value);
      for (const v of layeredValues(config, s, 'authGroupFile')) this.authFiles.groupFile(v.value);
    }
    previous?.generation.masquerade.close();
    // Boot the password and listing worker threads now, not under the first logins.
    if (previous === undefined) {
      this.passwords.warm();
      warmDirectoryReaders();
    }
    for (const line of unappliedSettings(config)) this.logger.warn(line);
  }

  /**
   * Build the allocator of every PassivePorts range now (a layout that does not fit throws,
   * naming the range) and say which part of a split range this process uses.
   */
  private passiveRanges(config: FtpkitConfig): void {
    const seen = new Set<string>();
    for (const s of listeningServers(config)) {
      for (const { value } of layeredValues(config, s, 'passivePorts')) {
        const key = `${value.min}-${value.max}`;
        const known = this.allocators.all().has(key);
        this.allocators.get(value);
        const line = known || seen.has(key) ? undefined : this.allocators.describe(value);
        seen.add(key);
        if (line !== undefined) this.logger.info(line);
      }
    }
  }

  /** ProFTPD 1.3.8's startup line for every server with a top-level MasqueradeAddress (§2.2). */
  private logStartupLines(g: Generation): void {
    for (const s of listeningServers(g.config)) {
      const spec = s.settings.masqueradeAddress ?? g.config.global.settings.masqueradeAddress;
      if (spec === undefined) continue;
      const shown = g.masquerade.current(spec) ?? spec.host;
      const listen = s.addresses[0] ?? '0.0.0.0';
      // The NAT howto's form, `Masquerading as '<ip>' (<name>)`, comes from the DNS cache once per name.
      this.logger.info({ server: s.label }, masqueradingLine(listen, s.port, shown));
    }
  }

  private async listenKeys(config: FtpkitConfig): Promise<Map<string, { host: string; port: number }>> {
    const keys = new Map<string, { host: string; port: number }>();
    const add = (host: string, port: number): void => {
      keys.set(`${host.includes(':') ? `[${host}]` : host}:${port}`, { host, port });
    };
    for (const s of listeningServers(config)) {
      const tight = config.daemon.socketBindTight && s.addresses.length > 0;
      if (!tight) {
        add(config.daemon.useIPv6 ? '::' : '0.0.0.0', s.port);
        continue;
      }
      for (const a of s.addresses) {
        if (/^[\d.]+$/.test(a) || a.includes(':')) add(a, s.port);
        else {
          try {
            add((await lookup(a)).address, s.port);
          } catch {
            this.logger.error(`${s.label}: unable to resolve '${a}', not listening on it`);
          }
        }
      }
    }
    return keys;
  }

  private listen(host: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true, keepAlive: true }, (socket) => this.accept(socket));
      server.on('error', (err) => this.logger.error({ err }, `listener ${host}:${port}: ${err.message}`));
      const onError = (err: NodeJS.ErrnoException): void => {
        server.close();
        if (host === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
          // No IPv6 on this host: the IPv4 wildcard serves the same clients.
          this.listen('0.0.0.0', port).then(resolve, reject);
          return;
        }
        reject(Object.assign(new Error(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`), { code: err.code }));
      };
      server.once('error', onError);
      server.listen({ host, port, ipv6Only: false }, () => {
        server.off('error', onError);
        this.logger.info({ address: host, port }, `ftpkit listening on ${host.includes(':') ? `[${host}]` : host}:${port}`);
        resolve(server);
      });
    });
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {
      /* reported through close */
    });
    const planner = this.planner;
    if (this.draining || planner === undefined) {
      socket.destroy();
      return;
    }
    const max = planner.generation.config.daemon.maxInstances;
    if (max !== undefined && this.live.size >= max) {
      this.logger.warn(`MaxInstances (${max}) reached, new connection denied`);
      socket.destroy();
      return;
    }
    const local = { localAddress: unmap(socket.localAddress ?? ''), localPort: socket.localPort ?? 0 };
    const proxy = planner.proxyProtocolFor(local.localAddress, local.localPort, unmap(socket.remoteAddress ?? ''));
    if (proxy === undefined) {
      void this.secureAndStart(socket, planner, {}, local);
      return;
    }
    // ProxyProtocolEngine on for this peer: the connection starts with a PROXY v1/v2 header (mod_proxy_protocol).
    void acceptProxied(socket, { trusted: ['0.0.0.0/0', '::/0'], timeoutMs: proxy.timeoutMs, required: true }).then((r) => {
      if (!r.ok) {
        this.logger.warn({ client: unmap(r.peerAddress ?? '') }, r.message);
        return;
      }
      if (this.draining) {
        socket.destroy();
        return;
      }
      const options: ControlChannelOptions = r.proxied
        ? { remote: { address: r.remoteAddress, port: r.remotePort }, proxiedDestination: unmap(r.localAddress) }
        : {};
      // The bytes after the header belong to FTP (or to the TLS handshake): put them back.
      if (r.rest.length > 0) socket.unshift(Buffer.from(r.rest));
      const current = this.planner ?? planner;
      // UseProxiedServerAddress: the <VirtualHost> of the address the client connected to.
      const at =
        r.proxied && proxy.useProxiedServerAddress
          ? current.serverEndpoint(local, { localAddress: unmap(r.localAddress), localPort: r.localPort })
          : local;
      void this.secureAndStart(socket, current, options, at);
    });
  }

  /** FTPS: offer AUTH TLS, or run the handshake first for implicit FTPS (`TLSOptions UseImplicitSSL`). */
  private async secureAndStart(socket: Socket, planner: SessionPlanner, options: ControlChannelOptions, at: LocalEndpoint): Promise<void> {
    const ftps = planner.ftpsFor(at.localAddress, at.localPort);
    if (ftps === undefined) {
      this.startSession(socket, planner, options, at);
      return;
    }
    if (!ftps.implicit) {
      this.startSession(socket, planner, { ...options, tls: ftps.options }, at);
      return;
    }
    const r = await acceptImplicitTls(socket, ftps.options);
    if (!r.ok) {
      this.logger.info({ client: unmap(options.remote?.address ?? socket.remoteAddress ?? '') }, `TLS handshake failed: ${r.message}`);
      socket.destroy();
      return;
    }
    this.startSession(r.socket, planner, { ...options, implicit: r.implicit }, at);
  }

  /** `at`: the local end that selects the server (the socket's, or the PROXY header's destination). */
  private startSession(socket: Socket, planner: SessionPlanner, options: ControlChannelOptions, at: LocalEndpoint): void {
    const id = this.nextSessionId++;
    const control = new ServerControl(new SocketControlChannel(socket, options));
    const remote = control.remoteAddress;
    const log = this.logger.child({ session: id, client: remote });
    const proxied = options.remote !== undefined;
    const plan = planner.plan({ sessionId: id, localAddress: at.localAddress, localPort: at.localPort, remoteAddress: control.remoteAddress, proxied });
    if (!plan.ok) {
      log.info(plan.text);
      control.finish(plan.code, plan.text);
      return;
    }
    const planned = plan.planned;
    if (at.localAddress !== control.localAddress || at.localPort !== control.localPort) {
      // mod_proxy_protocol's line when UseProxiedServerAddress moves the session.
      log.info(`Changing to server '${planned.effective.settings.serverName}' (${at.localAddress}:${at.localPort}) due to PROXY protocol`);
    }
    if (!planned.connectAllowed) {
      log.info(`Connection from ${remote} [${remote}] denied`);
      socket.destroy();
      return;
    }
    // After the PROXY header: the client's own address is what counts.
    const refusal = planner.connectionRefusal(planned, remote);
    if (refusal !== undefined) {
      log.warn(refusal.log);
      control.finish(530, refusal.text);
      return;
    }
    const transferLog = this.transferLogs.get(planned.effective.settings.transferLog);
    let anonymousPassword: string | undefined;
    const session = new FtpSession({
      control,
      data: counted(proxied ? this.proxiedData(planner, control, log) : this.data, () => entry),
      authenticator: {
        authenticate: async (request) => {
          const account = await planned.authenticator.authenticate(request);
          if (account?.anonymous === true) anonymousPassword = request.password;
          if (account === undefined && planned.refusal.text !== undefined) control.finish(530, planned.refusal.text);
          return account;
        },
      },
      clock: systemClock,
      config: planned.config,
      random: Math.random,
      onEvent: (e) => this.onEvent(entry, e, log, planned, transferLog, () => anonymousPassword),
    });
    const entry: LiveSession = { id, session, control, transfers: 0, remote, onIdle: undefined };
    this.live.set(id, entry);
    this.table.add(id, planned.serverKey, remote);
    // The channel delivers the client's bytes (decrypted after AUTH TLS), with flow control.
    control.inner.start({ data: (chunk) => session.receive(chunk), close: () => session.close() });
    void session.closed.then(() => {
      this.live.delete(id);
      this.table.remove(id);
      control.close();
    });
    session.start();
  }

  /**
   * Data channels of a session that came through a PROXY-protocol balancer: passive
   * connections from the balancer carry a header naming the client (proxy-data.ts).
   */
  private proxiedData(planner: SessionPlanner, control: ServerControl, log: Logger): DataChannelFactory {
    return proxiedDataChannels(this.data, {
      proxyFor: (peer) => planner.proxyProtocolFor(control.localAddress, control.localPort, peer),
      onRefused: (message) => log.warn(message),
    });
  }

  private onEvent(
    entry: LiveSession,
    e: SessionEvent,
    log: Logger,
    planned: PlannedSession,
    transferLog: ReturnType<TransferLogRegistry['get']>,
    anonymousPassword: () => string | undefined,
  ): void {
    if (e.type === 'login-failed' && planned.refusal.text !== undefined) return; // MaxClients: logged by the authenticator
    const fields: Record<string, unknown> = { event: e.type };
    switch (e.type) {
      case 'timeout':
        for (const notice of e.notices) log.info(notice);
        break;
      case 'transfer-end': {
        Object.assign(fields, { path: e.path, bytes: e.bytes, ms: e.durationMs, completion: e.completion, user: e.user });
        transferLog?.write({
          end: new Date(),
          durationMs: e.durationMs,
          remoteAddress: entry.remote,
          bytes: e.bytes,
          path: e.path,
          type: e.transferType === 'a' ? 'ascii' : 'binary',
          direction: e.direction === 'o' ? 'outgoing' : 'incoming',
          access: e.anonymous ? 'anonymous' : 'real',
          user: e.anonymous ? (anonymousPassword() ?? e.user) : e.user,
          complete: e.completion === 'c',
        });
        break;
      }
      case 'port-refused':
      case 'passive-rejected':
      case 'fallback':
        Object.assign(fields, e.type === 'port-refused' ? { verb: e.verb, argument: e.argument } : {});
        break;
      default:
        break;
    }
    const level = e.level === 'notice' ? 'warn' : e.level;
    log[level](fields, e.message);
  }

  /**
   * Stop accepting, let transfers finish until `deadlineMs`, then close everything.
   * Resolves when every session has ended.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
    const goodbye = (s: LiveSession): void => s.control.finish(421, 'Server is going offline, closing control connection');
    const waits: Promise<void>[] = [];
    for (const s of this.live.values()) {
      if (s.transfers === 0) {
        goodbye(s);
        continue;
      }
      this.logger.info({ session: s.id }, 'waiting for the transfer in progress before closing');
      waits.push(
        new Promise<void>((resolve) => {
          s.onIdle = () => {
            s.onIdle = undefined;
            // The transfer's final reply (226, 426…) follows; say goodbye once it is out.
            const timer = setTimeout(done, 1000);
            const previous = s.control.onWrite;
            let finished = false;
            function done(): void {
              if (finished) return;
              finished = true;
              clearTimeout(timer);
              s.control.onWrite = previous;
              goodbye(s);
              resolve();
            }
            s.control.onWrite = (text) => {
              previous?.(text);
              if (/^[2-5]\d\d /m.test(text)) setImmediate(done);
            };
          };
        }),
      );
    }
    const closedAll = Promise.all([...this.live.values()].map((s) => s.session.closed)).then(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs);
    });
    const first = await Promise.race([Promise.all(waits).then(() => closedAll), deadline]);
    clearTimeout(timer);
    if (first === 'deadline') {
      this.logger.warn(`drain deadline reached: closing ${this.live.size} session(s) with transfers in progress`);
      for (const s of this.live.values()) {
        goodbye(s);
        s.session.close();
        s.control.destroy();
      }
    }
    await Promise.race([closedAll, new Promise((r) => setTimeout(r, 2000))]);
    this.planner?.generation.masquerade.close();
    this.data.close?.();
    await Promise.all([this.transferLogs.close(), this.passwords.close()]);
  }
}
