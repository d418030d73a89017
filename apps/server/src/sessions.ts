/**
 * From @ftpkit/config's effective configuration of one session to @ftpkit/session's
 * SessionConfig, and the Authenticator (AuthUserFile/AuthGroupFile with crypt(3),
 * `--user` logins, `<Anonymous>`), for one configuration generation.
 *
 * Theory of operation: at connect, `resolveSessionConfig` picks the virtual host by
 * the local address and port and merges `<Global>` and the `<IfClass>` layers; the
 * result becomes the session's SessionConfig (masquerade resolver, shared
 * PortAllocator, AllowForeignAddress, `<Limit>` checker, timeouts…). After a
 * successful PASS the session calls `onLogin`, which resolves again with the user and
 * groups (`<IfUser>`/`<IfGroup>`/`<Anonymous>`). `HOST` resolves by name (`onHost`).
 *
 * `<Directory>` sections name host paths; the session core checks `<Limit>` with the
 * command's virtual path inside the login's root. The planner remembers each login's
 * root (`<Anonymous>` directory, DefaultRoot with `~` expanded, or `/`) and home, maps
 * virtual to host paths in the `<Limit>` checker, and resolves the sections' `~`,
 * `~user` and `%u` paths once per root and home. Only configurations with
 * `<Directory>` sections key their SessionConfig by root and home; the others stay
 * shared by every session with the same effective configuration and local end.
 *
 * Per-directory settings (ProFTPD reads them from the `<Directory>` that matches the
 * command's target, `get_param_ptr(CURRENT_CONF, …)`): AllowOverwrite,
 * AllowStoreRestart, AllowRetrieveRestart and DeleteAbortedStores reach the session
 * core through `SessionConfig.pathSettings`; HiddenStores, DeleteAbortedStores and
 * Umask belong to the file system, so a login whose sections set them (or whose Umask
 * gives directories another mask) gets a file system that opens each upload, and
 * creates each directory, through a file system made with the settings of that path.
 * Both ask one lookup per root and home, shared by the login's SessionConfig, with a
 * bounded cache by virtual path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, posix, relative, sep } from 'node:path';
import {
  checkLimit,
  directorySettings,
  directoryTree,
  expandTilde,
  failedLoginDelayMs,
  findAnonymous,
  groupsOf,
  resolveSessionConfig,
  selectServer,
  type DirectorySettings,
  type DirectoryTree,
  type EffectiveConfig,
  type FtpkitConfig,
  type LimitSection,
  type LocalEndpoint,
  type ServerConfig,
  type Settings,
} from '@ftpkit/config';
import type { AuthenticatedUser, Authenticator, FileSystem, SessionConfig } from '@ftpkit/session';
import type { FlagUser } from './defaults.js';
import { sessionTls, type ServerFtps } from './ftps.js';
import type { Logger } from './log.js';
import type { AllocatorRegistry, AuthFileCache, MasqueradeGeneration } from './resources.js';

/** One loaded configuration, with what was built from it. */
export interface Generation {
  readonly id: number;
  readonly config: FtpkitConfig;
  readonly source: string;
  readonly flagUsers: readonly FlagUser[];
  readonly masquerade: MasqueradeGeneration;
  /** FEAT lines hidden by the main server's `<Limit EPSV>`/`<Limit EPRT>` DenyAll (Issue #1383). */
  readonly featHidden: readonly string[];
  /** FTPS of each server (by id) with `TLSEngine on`, certificates already read. */
  readonly ftps: ReadonlyMap<number, ServerFtps>;
}

/**
 * Live sessions, for MaxClients / MaxClientsPerHost (authenticated sessions only, as ProFTPD
 * counts) and MaxConnectionsPerHost (every connection).
 */
export class SessionTable {
  private readonly sessions = new Map<number, { serverKey: string; remote: string; authenticated: boolean }>();

  add(id: number, serverKey: string, remote: string): void {
    this.sessions.set(id, { serverKey, remote, authenticated: false });
  }
  authenticated(id: number): void {
    const s = this.sessions.get(id);
    if (s !== undefined) s.authenticated = true;
  }
  remove(id: number): void {
    this.sessions.delete(id);
  }
  /** Every connection of a server from one host, logged in or not (MaxConnectionsPerHost). */
  connections(serverKey: string, remote: string): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.serverKey === serverKey && s.remote === remote) n++;
    return n;
  }
  count(serverKey: string, remote?: string): number {
    let n = 0;
    for (const s of this.sessions.values()) {
      if (s.authenticated && s.serverKey === serverKey && (remote === undefined || s.remote === remote)) n++;
    }
    return n;
  }
  get size(): number {
    return this.sessions.size;
  }
}

/** The same server across reloads: its addresses and port. */
export function serverKey(s: ServerConfig): string {
  return `${s.addresses.join(',')}:${s.port}`;
}

/** Main-server `<Limit>` sections that deny EPSV/EPRT outright hide them from FEAT. */
export function featHiddenFor(config: FtpkitConfig): string[] {
  const sections: LimitSection[] = [...(config.global.settings.limits ?? []), ...(config.main.settings.limits ?? [])];
  return ['EPSV', 'EPRT'].filter((verb) => sections.some((s) => s.commands.includes(verb) && s.denyAll && !s.allowAll));
}

export interface SessionDeps {
  readonly logger: Logger;
  readonly allocators: AllocatorRegistry;
  readonly table: SessionTable;
  /** A file system rooted at `root` (session/node's localFileSystem). */
  readonly fileSystemFor: (root: string, effective: EffectiveConfig) => FileSystem;
  readonly authFiles: AuthFileCache;
  /** crypt(3) verification (off the event loop). */
  readonly verifyPassword: (hash: string, password: string) => Promise<boolean>;
}

/** What the connection handler needs to run one session. */
export interface PlannedSession {
  readonly effective: EffectiveConfig;
  readonly config: SessionConfig;
  readonly authenticator: Authenticator;
  /** `<Limit LOGIN>` at connect: false means close with no reply at all. */
  readonly connectAllowed: boolean;
  readonly serverKey: string;
  /** Set by the authenticator when MaxClients* refuses the login: the 530 text to send. */
  readonly refusal: { text?: string };
}

/** What a SessionConfig depends on besides the effective configuration. */
interface LocalEnd {
  readonly localAddress: string;
  readonly localPort: number;
  readonly proxied: boolean;
}

/** Where a login lives on the host: its root (virtual `/`) and its home, for `<Directory>` paths. */
interface LoginPlace {
  readonly root: string;
  readonly home: string | undefined;
}

/** The host path of a virtual path (normalised, absolute) inside `root`. */
function hostPath(root: string, virtual: string): string {
  return root === '/' ? virtual : posix.join(root, virtual);
}

/** Per-directory answers kept for one login place before the cache starts over. */
const PATH_CACHE_MAX = 512;

/** The `<Directory>` sections of one login place: the tree (for `<Limit>`) and the settings by virtual path. */
class LoginDirectories {
  #tree: DirectoryTree | undefined;
  readonly #cache = new Map<string, DirectorySettings>();
  /** Some section sets a per-directory setting. */
  readonly hasSettings: boolean;
  /** Some section sets a setting of the file system (HiddenStores, DeleteAbortedStores, Umask). */
  readonly hasFsSettings: boolean;

  constructor(
    private readonly root: string,
    sections: EffectiveConfig['settings']['directories'],
    private readonly build: () => DirectoryTree,
  ) {
    const set = sections.filter((d) => d.settings !== undefined).map((d) => d.settings as DirectorySettings);
    this.hasSettings = set.length > 0;
    this.hasFsSettings = set.some((d) => d.hiddenStores !== undefined || d.deleteAbortedStores !== undefined || d.umask !== undefined);
  }

  get tree(): DirectoryTree {
    return (this.#tree ??= this.build());
  }

  /** The settings the sections give a virtual path (the core's and the file system's). */
  readonly settingsAt = (virtual: string): DirectorySettings => {
    let hit = this.#cache.get(virtual);
    if (hit === undefined) {
      hit = directorySettings(this.tree, hostPath(this.root, virtual));
      if (this.#cache.size >= PATH_CACHE_MAX) this.#cache.clear();
      this.#cache.set(virtual, hit);
    }
    return hit;
  };
}

/** What a file system is made with: the settings of one path. */
type FsSettings = Pick<Settings, 'hiddenStores' | 'deleteAbortedStores' | 'umask'>;

/** The file system settings at a path: the sections' values over the login's. */
function fsSettings(base: Settings, dir: DirectorySettings): FsSettings {
  const hidden = dir.hiddenStores === undefined ? base.hiddenStores : dir.hiddenStores === false ? undefined : dir.hiddenStores;
  return {
    ...(hidden === undefined ? {} : { hiddenStores: hidden }),
    deleteAbortedStores: dir.deleteAbortedStores ?? base.deleteAbortedStores,
    umask: dir.umask ?? base.umask,
  };
}

function fsKey(s: FsSettings): string {
  return `${s.hiddenStores === undefined ? '' : `${s.hiddenStores.prefix}\0${s.hiddenStores.suffix}`}\0${s.deleteAbortedStores}\0${s.umask.file}`;
}

/**
 * A login's file system whose uploads and new directories depend on the path: STOR,
 * APPE and STOU open the file through a file system made with the settings at the
 * file's path (HiddenStores, DeleteAbortedStores, Umask), MKD creates the directory
 * through one whose file mask is the directory mask at its path (Umask's second value,
 * ProFTPD `DirUmask`); every other operation goes to `base`. One file system per
 * distinct setting, made on first use.
 */
function perPathFileSystem(base: FileSystem, baseSettings: FsSettings, at: (virtual: string) => FsSettings, make: (settings: FsSettings) => FileSystem): FileSystem {
  const made = new Map<string, FileSystem>([[fsKey(baseSettings), base]]);
  const with_ = (settings: FsSettings): FileSystem => {
    const key = fsKey(settings);
    let fs = made.get(key);
    if (fs === undefined) {
      fs = make(settings);
      made.set(key, fs);
    }
    return fs;
  };
  const enter = base.enter?.bind(base);
  return {
    stat: (path) => base.stat(path),
    list: (path) => base.list(path),
    read: (path, options) => base.read(path, options),
    write: (path, options) => with_(at(path)).write(path, options),
    mkdir: (path) => {
      const settings = at(path);
      return with_({ ...settings, umask: { file: settings.umask.dir, dir: settings.umask.dir } }).mkdir(path);
    },
    rmdir: (path) => base.rmdir(path),
    unlink: (path) => base.unlink(path),
    rename: (from, to) => base.rename(from, to),
    chmod: (path, mode) => base.chmod(path, mode),
    setModificationTime: (path, mtime) => base.setModificationTime(path, mtime),
    ...(enter === undefined ? {} : { enter }),
  };
}

interface ConnectionInfo {
  readonly sessionId: number;
  /** The local end that selects the server: the socket's, or the PROXY header's destination (UseProxiedServerAddress). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly secure?: boolean;
  /** The client's address came from a PROXY header. */
  readonly proxied?: boolean;
}

/** A SHA-512-crypt hash no password matches (its salt and digest are arbitrary). */
const DUMMY_HASH = '$6$ftpkitnouser$' + 'x'.repeat(86);

/** `%m` in a Max* message is the limit. */
function limitMessage(template: string | undefined, fallback: string, max: number): string {
  return (template ?? fallback).replace(/%m/g, String(max));
}

let shellsCache: { mtimeMs: number; shells: Set<string> } | undefined;
function validShells(): Set<string> | undefined {
  try {
    if (!existsSync('/etc/shells')) return undefined;
    const text = readFileSync('/etc/shells', 'utf8');
    const shells = new Set(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
    shellsCache = { mtimeMs: 0, shells };
    return shells;
  } catch {
    return shellsCache?.shells;
  }
}

/** The user's start directory inside the chroot (`/` when home is the root or outside it). */
function homeInside(root: string, home: string): string {
  const rel = relative(root, home);
  if (rel === '') return '/';
  if (rel.startsWith('..') || isAbsolute(rel)) return '/';
  return `/${rel.split(sep).join('/')}`;
}

/**
 * Plans sessions for one configuration generation. Create one per load; sessions keep
 * the planner (and so the configuration) they started with.
 */
export class SessionPlanner {
  constructor(
    readonly generation: Generation,
    private readonly deps: SessionDeps,
  ) {}

  /**
   * Is the peer of a connection a load balancer that sends PROXY headers? Decided before
   * any byte is read, from the server the connection reaches (by the socket's local end)
   * and the peer's own address: `ProxyProtocolEngine on` inside `<IfClass>` trusts only
   * that class. Returns the header timeout, or undefined when no header is expected.
   */
  proxyProtocolFor(localAddress: string, localPort: number, peerAddress: string): { timeoutMs: number; useProxiedServerAddress: boolean } | undefined {
    const r = resolveSessionConfig(this.generation.config, { localAddress, localPort, remoteAddress: peerAddress });
    if (!r.ok || !r.value.settings.proxyProtocolEngine) return undefined;
    return {
      timeoutMs: r.value.settings.proxyProtocolTimeout * 1000,
      useProxiedServerAddress: r.value.settings.proxyProtocolOptions.includes('UseProxiedServerAddress'),
    };
  }

  /**
   * `ProxyProtocolOptions UseProxiedServerAddress` (mod_proxy_protocol): the server of a
   * proxied session is the one that answers on the header's destination address and port,
   * when one does (§5.1 selection) and it is another server; otherwise the socket's local
   * end stays, as ProFTPD keeps its server when `pr_ipbind_get_server` finds none.
   */
  serverEndpoint(socket: LocalEndpoint, destination: LocalEndpoint): LocalEndpoint {
    const to = selectServer(this.generation.config, destination);
    if (!to.ok) return socket;
    const from = selectServer(this.generation.config, socket);
    return from.ok && from.value.id === to.value.id ? socket : destination;
  }

  /** FTPS of the server a connection reaches (by the socket's local end), if it has TLSEngine on. */
  ftpsFor(localAddress: string, localPort: number): ServerFtps | undefined {
    const r = selectServer(this.generation.config, { localAddress, localPort });
    return r.ok ? this.generation.ftps.get(r.value.id) : undefined;
  }

  /** At connect. `ok: false` carries the reply to send before closing (500 no server). */
  plan(conn: ConnectionInfo): { ok: true; planned: PlannedSession } | { ok: false; code: number; text: string } {
    const r = resolveSessionConfig(this.generation.config, {
      localAddress: conn.localAddress,
      localPort: conn.localPort,
      remoteAddress: conn.remoteAddress,
    });
    if (!r.ok) return { ok: false, code: r.error.replyCode, text: r.error.message };
    const effective = r.value;
    const login = checkLimit(effective, 'LOGIN', { address: conn.remoteAddress, phase: 'connect' });
    const refusal: { text?: string } = {};
    return {
      ok: true,
      planned: {
        effective,
        config: this.sessionConfig(effective, conn),
        authenticator: this.authenticator(effective, conn, refusal),
        connectAllowed: login.allowed,
        serverKey: serverKey(effective.server),
        refusal,
      },
    };
  }

  /**
   * MaxConnectionsPerHost (mod_auth `auth_scan_scoreboard`, reference §7.2): checked at
   * connect, before the banner, over every connection of the server from the client's
   * address, logged in or not, this one included. Returns the 530 text and the log line
   * when the connection must be refused.
   */
  connectionRefusal(planned: PlannedSession, remoteAddress: string): { text: string; log: string } | undefined {
    const limit = planned.effective.settings.maxConnectionsPerHost;
    if (limit === undefined || this.deps.table.connections(planned.serverKey, remoteAddress) + 1 <= limit.max) return undefined;
    return {
      text: limitMessage(limit.message, 'Sorry, the maximum number of connections (%m) for your host are already connected.', limit.max),
      log: `Connection refused (MaxConnectionsPerHost ${limit.max})`,
    };
  }

  /**
   * The SessionConfig of an effective configuration. Sessions with the same effective
   * configuration (the resolver shares it), reaching the same local end and proxied or
   * not alike, share one object, and so one set of defaults in the core.
   */
  sessionConfig(effective: EffectiveConfig, conn: Pick<ConnectionInfo, 'localAddress' | 'localPort' | 'proxied'>, place?: LoginPlace): SessionConfig {
    let byEnd = this.configs.get(effective);
    if (byEnd === undefined) {
      byEnd = new Map();
      this.configs.set(effective, byEnd);
    }
    // <Directory> paths depend on the login's root and home; nothing else does.
    const where = place !== undefined && effective.settings.directories.length > 0 ? place : undefined;
    const key = `${conn.proxied === true ? 'p' : 'd'} ${conn.localPort} ${conn.localAddress}${where === undefined ? '' : `\0${where.root}\0${where.home ?? ''}`}`;
    let config = byEnd.get(key);
    if (config === undefined) {
      config = this.buildSessionConfig(effective, { localAddress: conn.localAddress, localPort: conn.localPort, proxied: conn.proxied === true }, where);
      byEnd.set(key, config);
    }
    return config;
  }

  private readonly configs = new WeakMap<EffectiveConfig, Map<string, SessionConfig>>();
  /** The `<Directory>` sections of each effective configuration, per login root and home. */
  private readonly logins = new WeakMap<EffectiveConfig, Map<string, LoginDirectories>>();
  /** Root and home of each authenticated login, for `onLogin`. */
  private readonly places = new WeakMap<AuthenticatedUser, LoginPlace>();

  /** A user's home from `--user` or the AuthUserFile (`~user` paths). */
  private homeOf(effective: EffectiveConfig, name: string): string | undefined {
    return this.findUser(effective, name)?.home;
  }

  /** The `<Directory>` sections of a login, their paths made absolute (one per root and home). */
  private directories(effective: EffectiveConfig, place: LoginPlace): LoginDirectories {
    let byPlace = this.logins.get(effective);
    if (byPlace === undefined) {
      byPlace = new Map();
      this.logins.set(effective, byPlace);
    }
    const key = `${place.root}\0${place.home ?? ''}`;
    let dirs = byPlace.get(key);
    if (dirs === undefined) {
      dirs = new LoginDirectories(place.root, effective.settings.directories, () =>
        directoryTree(effective.settings.directories, {
          anonymousRoot: effective.anonymous === undefined ? undefined : place.root,
          user: effective.user,
          home: place.home,
          homeOf: (name) => this.homeOf(effective, name),
        }),
      );
      byPlace.set(key, dirs);
    }
    return dirs;
  }

  /** A login's file system: per path when its `<Directory>` sections or its directory Umask need it. */
  private fileSystem(root: string, effective: EffectiveConfig, place: LoginPlace): FileSystem {
    const s = effective.settings;
    const base = this.deps.fileSystemFor(root, effective);
    const dirs = s.directories.length === 0 ? undefined : this.directories(effective, place);
    if (dirs?.hasFsSettings !== true && s.umask.dir === s.umask.file) return base;
    const none: DirectorySettings = {};
    return perPathFileSystem(
      base,
      fsSettings(s, none),
      (virtual) => fsSettings(s, dirs?.hasFsSettings === true ? dirs.settingsAt(virtual) : none),
      // fileSystemFor sees the login's configuration as it applies at that path.
      (settings) => {
        const { hiddenStores: _login, ...rest } = s;
        return this.deps.fileSystemFor(root, { ...effective, settings: { ...rest, ...settings } });
      },
    );
  }

  private buildSessionConfig(effective: EffectiveConfig, conn: LocalEnd, place?: LoginPlace): SessionConfig {
    const s = effective.settings;
    const config = this.generation.config;
    const masquerade = this.generation.masquerade.resolverFor(s.masqueradeAddress, s.tlsMasqueradeAddress, conn.proxied);
    // The client's address only chose its class (the one place the resolver reads it).
    const client = { localAddress: conn.localAddress, localPort: conn.localPort, remoteAddress: '', className: effective.className ?? null };
    const foreign = s.allowForeignAddress;
    const anonymousUsers = new Set<string>(['anonymous', 'ftp']);
    for (const anon of effective.anonymousSections) {
      if (anon.user !== undefined) anonymousUsers.add(anon.user);
      for (const a of [...anon.userAliases, ...effective.server.userAliases, ...config.global.userAliases]) {
        if (a.user === anon.user) anonymousUsers.add(a.alias);
      }
    }
    const dirs = place === undefined ? undefined : this.directories(effective, place);
    const out: SessionConfig = {
      serverName: s.serverName,
      serverIdent: s.serverIdent.on ? (s.serverIdent.text ?? true) : false,
      ...(s.serverAdmin === undefined ? {} : { serverAdmin: s.serverAdmin }),
      ...(config.daemon.useIPv6 ? {} : { ipv6: false }),
      ...(masquerade === undefined ? {} : { masquerade }),
      ...(s.passivePorts === undefined ? {} : { passivePorts: this.deps.allocators.get(s.passivePorts) }),
      allowForeignAddress:
        typeof foreign === 'boolean' ? foreign : (address: string) => effective.classes.satisfies(foreign.className, { address }),
      limit: (verb, ctx) =>
        checkLimit(effective, verb, {
          address: ctx.remoteAddress,
          ...(ctx.user === undefined ? {} : { user: ctx.user }),
          ...(ctx.groups.length === 0 ? {} : { groups: ctx.groups }),
          ...(verb === 'LOGIN' ? { phase: 'pass' as const } : {}),
          // The core names the virtual path (the file's or the directory's); <Directory> names host paths.
          ...(place === undefined || dirs === undefined ? {} : { path: hostPath(place.root, ctx.path), directories: dirs.tree }),
        }).allowed
          ? 'allow'
          : 'deny',
      featHidden: this.generation.featHidden,
      // AUTH TLS is offered when the server has FTPS (the control channel then can upgrade).
      ...(this.generation.ftps.has(effective.server.id) ? { tls: sessionTls(s, effective.anonymousSections) } : {}),
      maxLoginAttempts: s.maxLoginAttempts,
      // mod_delay: DelayEngine, DelayOnEvent FailedLogin (ftpkit waits 1 s by default).
      loginFailureDelay: failedLoginDelayMs(s),
      timeouts: {
        login: s.timeoutLogin,
        idle: s.timeoutIdle,
        // ProFTPD arms TimeoutNoTransfer only when the directive is configured (§7.1).
        noTransfer: effective.origin.timeoutNoTransfer === 'default' ? 0 : s.timeoutNoTransfer,
        stalled: s.timeoutStalled,
      },
      allowOverwrite: s.allowOverwrite,
      allowStoreRestart: s.allowStoreRestart,
      allowRetrieveRestart: s.allowRetrieveRestart,
      deleteAbortedStores: s.deleteAbortedStores,
      // <Directory> AllowOverwrite, AllowStoreRestart, AllowRetrieveRestart, DeleteAbortedStores.
      ...(dirs?.hasSettings === true ? { pathSettings: dirs.settingsAt } : {}),
      classes: effective.className === undefined ? [] : [effective.className],
      showDotFiles: /(^|\s)-\w*a/.test(s.listOptions ?? ''),
      anonymousUsers: [...anonymousUsers],
      onLogin: (user) => {
        const after = resolveSessionConfig(config, {
          ...client,
          serverId: effective.server.id,
          authenticated: true,
          user: user.name,
          groups: user.groups,
        });
        return after.ok ? this.sessionConfig(after.value, conn, this.places.get(user)) : out;
      },
      onHost: (name) => {
        const r = resolveSessionConfig(config, { ...client, host: name });
        return r.ok ? this.sessionConfig(r.value, conn) : undefined;
      },
    };
    return out;
  }

  private authenticator(connectEffective: EffectiveConfig, conn: ConnectionInfo, refusal: { text?: string }): Authenticator {
    const config = this.generation.config;
    const log = this.deps.logger;
    return {
      authenticate: async ({ user, password }) => {
        const server = connectEffective.server;
        const anon = findAnonymous(config, server, user);
        let account: AuthenticatedUser | undefined;
        let after: EffectiveConfig | undefined;
        let place: LoginPlace;
        const resolveAs = (name: string, groups: readonly string[]): EffectiveConfig | undefined => {
          const r = resolveSessionConfig(config, {
            localAddress: conn.localAddress,
            localPort: conn.localPort,
            remoteAddress: conn.remoteAddress,
            serverId: server.id,
            authenticated: true,
            user: name,
            groups,
          });
          return r.ok ? r.value : undefined;
        };
        if (anon !== undefined) {
          if (anon.requirePassword) {
            const real = this.findUser(connectEffective, anon.user ?? user);
            if (real === undefined || !(await this.deps.verifyPassword(real.hash, password))) return undefined;
          }
          after = resolveAs(user, anon.group !== undefined ? [anon.group] : []);
          if (after === undefined) return undefined;
          // `<Anonymous ~ftp>`: the home of that user (as ProFTPD resolves it at login).
          const anonHome = anon.user === undefined ? undefined : this.homeOf(connectEffective, anon.user);
          const root = expandTilde(anon.dir, { home: anonHome, homeOf: (name) => this.homeOf(connectEffective, name) }) ?? anon.dir;
          place = { root, home: anonHome ?? root };
          account = {
            name: anon.user ?? user,
            groups: after.groups,
            anonymous: true,
            fileSystem: this.fileSystem(root, after, place),
            home: '/',
            readOnly: false,
          };
        } else {
          const alias = [...server.userAliases, ...config.global.userAliases].find((a) => a.alias === user);
          const name = alias?.user ?? user;
          const entry = this.findUser(connectEffective, name);
          if (entry === undefined) {
            // Spend the time a real check takes, so timing does not tell which users exist:
            // check against a real user's hash of the same file (same scheme and rounds).
            await this.deps.verifyPassword(this.decoyHash(connectEffective), password);
            log.info({ session: conn.sessionId }, `USER ${user}: no such user found from ${conn.remoteAddress}`);
            return undefined;
          }
          if (!(await this.deps.verifyPassword(entry.hash, password))) return undefined;
          if ((entry.uid === 0 || name === 'root') && !connectEffective.settings.rootLogin) {
            log.warn({ session: conn.sessionId }, `SECURITY VIOLATION: Root login attempted`);
            return undefined;
          }
          if (connectEffective.settings.requireValidShell && entry.shell !== undefined) {
            const shells = validShells();
            if (shells !== undefined && !shells.has(entry.shell)) {
              log.info({ session: conn.sessionId }, `USER ${name} (Login failed): Invalid shell: '${entry.shell}'`);
              return undefined;
            }
          }
          const groups = this.groupsOf(connectEffective, name, entry.gid);
          after = resolveAs(name, groups);
          if (after === undefined) return undefined;
          const rootRule = after.root;
          // `~` / `~/x` in DefaultRoot stand for the user's home.
          const root = rootRule === undefined ? '/' : (expandTilde(rootRule, { home: entry.home }) ?? rootRule);
          place = { root, home: entry.home };
          account = {
            name,
            groups,
            anonymous: false,
            fileSystem: this.fileSystem(root, after, place),
            home: homeInside(root, entry.home),
          };
        }
        // MaxClients / MaxClientsPerHost, counted at PASS over authenticated sessions (§7.2).
        const settings = after.settings;
        const key = serverKey(after.server);
        const checks: [typeof settings.maxClients, number, string, string][] = [
          [settings.maxClients, this.deps.table.count(key) + 1, 'Sorry, the maximum number of allowed clients (%m) are already connected.', 'MaxClients'],
          [
            settings.maxClientsPerHost,
            this.deps.table.count(key, conn.remoteAddress) + 1,
            'Sorry, the maximum number of clients (%m) from your host are already connected.',
            'MaxClientsPerHost',
          ],
        ];
        for (const [limit, count, text, directive] of checks) {
          if (limit !== undefined && count > limit.max) {
            refusal.text = limitMessage(limit.message, text, limit.max);
            log.warn({ session: conn.sessionId }, `Connection refused (${directive} ${limit.max})`);
            return undefined;
          }
        }
        this.deps.table.authenticated(conn.sessionId);
        this.places.set(account, place);
        return account;
      },
    };
  }

  /** A user from `--user` or the AuthUserFile (read at each login, as ProFTPD does). */
  /** A hash costing what a real user's check costs; the result of checking it is ignored. */
  private decoyHash(effective: EffectiveConfig): string {
    const file = effective.settings.authUserFile;
    const real = file === undefined ? undefined : this.deps.authFiles.userFile(file)[0]?.passwordHash;
    return real ?? this.generation.flagUsers[0]?.hash ?? DUMMY_HASH;
  }

  private findUser(effective: EffectiveConfig, name: string): { hash: string; uid: number; gid: number; home: string; shell?: string } | undefined {
    const flag = this.generation.flagUsers.find((u) => u.name === name);
    if (flag !== undefined) return { hash: flag.hash, uid: -1, gid: -1, home: flag.home };
    const file = effective.settings.authUserFile;
    if (file === undefined) return undefined;
    const u = this.deps.authFiles.userFile(file).find((x) => x.name === name);
    return u === undefined ? undefined : { hash: u.passwordHash, uid: u.uid, gid: u.gid, home: u.home, shell: u.shell };
  }

  /** Primary group (by gid) first, then the groups that list the user. */
  private groupsOf(effective: EffectiveConfig, name: string, gid: number): string[] {
    const file = effective.settings.authGroupFile;
    return file === undefined ? [] : groupsOf({ name, gid }, this.deps.authFiles.groupFile(file));
  }
}
