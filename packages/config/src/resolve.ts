/**
 * The effective configuration of one session (`resolveSessionConfig`).
 *
 * Theory of operation, in ProFTPD's order:
 * 1. The server: the virtual host chosen by the local address and port the client
 *    connected to (`selectServer`, reference §5.1: exact address, explicit wildcard,
 *    the only server on that port, `DefaultServer`, the main server when it has no
 *    `DefaultAddress`, the main server for loopback, else 500), or by name after an
 *    RFC 7151 `HOST` (`selectServerByHost`, `ServerAlias`).
 * 2. Its settings over `<Global>` over the defaults (a server's own value wins over
 *    `<Global>`; the main server's settings are not inherited by virtual hosts).
 * 3. The session's class (first `<Class>` the client address satisfies, once, at
 *    connect) and the matching `<IfClass>` layers; after login `<IfAuthenticated>`,
 *    `<IfGroup>` and `<IfUser>` layers, merged by @ftpkit/classes `mergeLayers`.
 * 4. After an anonymous login, the `<Anonymous>` section's settings and limits; its
 *    `<Directory>` sections replace the server's.
 * 5. `<Directory>` sections: one per path (a merged one replaces the server's, the
 *    server's own replaces `<Global>`'s); a setting a merged layer sets is removed from
 *    the other sections (mod_ifsession); matching paths is directory.ts's job.
 */
import { ClassRegistry, addressText, globMatch, mergeLayers, normalizeAddress, evalGroupExpr, type Layer } from '@ftpkit/classes';
import {
  ACCUMULATING_KEYS,
  DEFAULT_SETTINGS,
  type AnonymousConfig,
  type DirectorySection,
  type DirectorySettings,
  type FtpkitConfig,
  type LimitSection,
  type DaemonSettings,
  type ServerConfig,
  type Settings,
  type SettingsLayer,
} from './model.js';
import { PER_DIRECTORY_KEYS } from './schema.js';

/** Result of a selection: a value, or an FTP reply to send. */
export type Selection<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: { readonly code: string; readonly replyCode: number; readonly message: string } };

function failure<T>(code: string, replyCode: number, message: string): Selection<T> {
  return { ok: false, error: { code, replyCode, message } };
}

/** The local end of the control connection. */
export interface LocalEndpoint {
  readonly localAddress: string;
  readonly localPort: number;
}

function allServers(config: FtpkitConfig): ServerConfig[] {
  return [config.main, ...config.virtualHosts];
}

function norm(addr: string): string | undefined {
  const a = normalizeAddress(addr);
  return a ? addressText(a) : undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

function family(addr: string): 4 | 6 {
  return addr.includes(':') ? 6 : 4;
}

function portMatches(s: ServerConfig, port: number): boolean {
  return s.port === port || s.port === 0;
}

function hasAddress(s: ServerConfig, local: string): boolean {
  return s.addresses.some((a) => norm(a) === local);
}

/**
 * Chooses the server for a connection by its local address and port (ProFTPD
 * src/bindings.c `pr_ipbind_get_server`). IPv4-mapped addresses count as IPv4.
 */
export function selectServer(config: FtpkitConfig, at: LocalEndpoint): Selection<ServerConfig> {
  const servers = allServers(config);
  const local = norm(at.localAddress);
  const onPort = servers.filter((s) => portMatches(s, at.localPort));
  if (local !== undefined) {
    const exact = onPort.find((s) => hasAddress(s, local));
    if (exact) return { ok: true, value: exact };
    const fam = family(local);
    const wild = onPort.find((s) =>
      s.addresses.some((a) => WILDCARDS.has(a) && (family(a) === fam || (fam === 6 && config.daemon.useIPv6))),
    );
    if (wild) return { ok: true, value: wild };
  }
  const exactPort = servers.filter((s) => s.port === at.localPort);
  if (exactPort.length === 1) return { ok: true, value: exactPort[0] as ServerConfig };
  if (!config.daemon.socketBindTight) {
    const def = exactPort.find((s) => s.defaultServer);
    if (def) return { ok: true, value: def };
  }
  if (config.main.addresses.length === 0 && config.main.port === at.localPort) return { ok: true, value: config.main };
  const parsed = normalizeAddress(at.localAddress);
  if (parsed && parsed.range() === 'loopback') return { ok: true, value: config.main };
  return failure('ERR_NO_SERVER', 500, `Sorry, no server available to handle request on ${at.localAddress}`);
}

/** The outcome of `selectServerByHost`: the server and whether it differs from the current one. */
export interface HostSelection {
  readonly server: ServerConfig;
  readonly changed: boolean;
}

/**
 * RFC 7151 `HOST` (ProFTPD `core_host`, reference §5.2 steps 5-6): an address literal
 * must be the connected address (no change); a name selects the server whose
 * `ServerAlias` (exact, case-insensitive, or glob) or `<VirtualHost name>` matches,
 * among the servers reachable on this address and port. Errors carry ProFTPD's replies.
 * The checks before these (after login → 503, `<Limit HOST>` → 504) belong to the session.
 */
export function selectServerByHost(config: FtpkitConfig, arg: string, at: LocalEndpoint & { readonly current?: ServerConfig }): Selection<HostSelection> {
  const current = at.current ?? (() => {
    const r = selectServer(config, at);
    return r.ok ? r.value : config.main;
  })();
  const same: Selection<HostSelection> = { ok: true, value: { server: current, changed: false } };
  const local = norm(at.localAddress);
  if (arg.startsWith('[')) {
    const inner = arg.endsWith(']') ? arg.slice(1, -1) : '';
    if (!config.daemon.useIPv6) return failure('ERR_HOST_INVALID', 501, `${arg}: Invalid hostname provided`);
    const v6 = inner.includes(':') ? normalizeAddress(inner) : undefined;
    if (!v6) return failure('ERR_HOST_INVALID', 501, `${arg}: Invalid IPv6 address provided`);
    if (local === undefined || family(local) === 4) return same;
    return addressText(v6) === local ? same : failure('ERR_HOST_UNKNOWN', 504, `${arg}: Unknown hostname provided`);
  }
  if (arg.includes(':')) return failure('ERR_HOST_INVALID', 501, `${arg}: Invalid hostname provided`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(arg)) {
    return norm(arg) !== undefined && norm(arg) === local ? same : failure('ERR_HOST_UNKNOWN', 504, `${arg}: Unknown hostname provided`);
  }
  const name = arg.toLowerCase().replace(/\.$/, '');
  const candidates = allServers(config).filter(
    (s) =>
      portMatches(s, at.localPort) &&
      (s === current || (local !== undefined && (hasAddress(s, local) || s.addresses.some((a) => WILDCARDS.has(a)))) || (s.kind === 'main' && s.addresses.length === 0)),
  );
  const found = candidates.find(
    (s) =>
      s.aliases.some((alias) => globMatch(alias.toLowerCase(), name, true)) ||
      (s.kind === 'vhost' && s.addresses.some((a) => a.toLowerCase().replace(/\.$/, '') === name)),
  );
  if (!found) return failure('ERR_HOST_UNKNOWN', 504, `${arg}: Unknown hostname provided`);
  return { ok: true, value: { server: found, changed: found.id !== current.id } };
}

/** What is known about a session when its configuration is resolved. */
export interface SessionContext extends LocalEndpoint {
  readonly remoteAddress: string;
  /** The client's verified reverse DNS name (used when UseReverseDNS is on). */
  readonly reverseDns?: string | undefined;
  /** The server chosen earlier (after HOST); otherwise it is selected from the endpoint or `host`. */
  readonly serverId?: number | undefined;
  /** A name accepted by `HOST`. */
  readonly host?: string | undefined;
  /** True after a successful login. */
  readonly authenticated?: boolean | undefined;
  /** The login name as sent in USER (UserAlias is applied). */
  readonly user?: string | undefined;
  /** The user's primary group, then supplementary groups. */
  readonly groups?: readonly string[] | undefined;
  /**
   * The client's class when it is already known (`null`: in no class), e.g. from the
   * configuration resolved at connect; `remoteAddress` is then not matched again.
   */
  readonly className?: string | null | undefined;
}

/** The effective configuration of one session: what the server maps onto the session. */
export interface EffectiveConfig {
  readonly server: ServerConfig;
  /** The session's class, or undefined when the client is in no class. */
  readonly className: string | undefined;
  readonly authenticated: boolean;
  /** The real user name (after UserAlias), when known. */
  readonly user?: string;
  readonly groups: readonly string[];
  /** The `<Anonymous>` section of an anonymous login. */
  readonly anonymous?: AnonymousConfig;
  /** Every setting, defaults filled in. `settings.limits` are in check order. */
  readonly settings: Settings;
  /** `<Limit>` sections of the `<Anonymous>` section, checked before `settings.limits`. */
  readonly anonymousLimits: readonly LimitSection[];
  /** The session's root after login: the `<Anonymous>` directory, or the first matching `DefaultRoot` (`~` = home). */
  readonly root?: string;
  /** Labels of the conditional sections merged, in processing order. */
  readonly applied: readonly string[];
  /** Where each setting came from: 'default', '<Global>', the server, a layer or the anonymous section label. */
  readonly origin: Readonly<Partial<Record<keyof Settings, string>>>;
  /** The classes, for `AllowForeignAddress <class>` and `<Limit>` checks. */
  readonly classes: ClassRegistry;
  readonly daemon: DaemonSettings;
  /** Every `<Anonymous>` section of the server (for connect-time `<Limit LOGIN>`). */
  readonly anonymousSections: readonly AnonymousConfig[];
}

const registries = new WeakMap<FtpkitConfig, ClassRegistry>();

/** The classes of a configuration as a registry (cached per configuration object). */
export function classRegistry(config: FtpkitConfig): ClassRegistry {
  let r = registries.get(config);
  if (!r) {
    r = new ClassRegistry(config.classes);
    registries.set(config, r);
  }
  return r;
}

function overlay(lower: Settings, upper: SettingsLayer, label: string, origin: Record<string, string>): Settings {
  const out = { ...lower } as Record<string, unknown>;
  for (const [key, value] of Object.entries(upper)) {
    if (value === undefined) continue;
    if ((ACCUMULATING_KEYS as readonly string[]).includes(key)) {
      out[key] = [...(value as unknown[]), ...((out[key] as unknown[] | undefined) ?? [])];
    } else {
      out[key] = value;
    }
    origin[key] = label;
  }
  return out as unknown as Settings;
}

function realUser(aliases: readonly { alias: string; user: string }[], login: string): string {
  return aliases.find((a) => a.alias === login)?.user ?? login;
}

/**
 * Finds the `<Anonymous>` section a login name selects: its `User`, or a `UserAlias`
 * of the section (or of the server) that maps to it.
 */
export function findAnonymous(config: FtpkitConfig, server: ServerConfig, login: string): AnonymousConfig | undefined {
  const sections = [...server.anonymous, ...config.global.anonymous];
  const serverAliases = [...server.userAliases, ...config.global.userAliases];
  for (const anon of sections) {
    if (anon.user === undefined) continue;
    const real = realUser([...anon.userAliases, ...serverAliases], login);
    if (real === anon.user) return anon;
  }
  return undefined;
}

/**
 * Resolves the effective configuration of a session. Call it at connect (no user),
 * again after HOST (with `host` or `serverId`), and after login (`authenticated`,
 * `user`, `groups`). Pure: same inputs, same answer.
 */
export function resolveSessionConfig(config: FtpkitConfig, ctx: SessionContext): Selection<EffectiveConfig> {
  let server: ServerConfig | undefined;
  if (ctx.serverId !== undefined) {
    server = allServers(config).find((s) => s.id === ctx.serverId);
    if (!server) return failure('ERR_NO_SERVER', 500, `Sorry, no server available to handle request on ${ctx.localAddress}`);
  } else if (ctx.host !== undefined) {
    const r = selectServerByHost(config, ctx.host, ctx);
    if (!r.ok) return r;
    server = r.value.server;
  } else {
    const r = selectServer(config, ctx);
    if (!r.ok) return r;
    server = r.value;
  }

  const classes = classRegistry(config);
  const reverseDns = config.daemon.useReverseDns ? ctx.reverseDns : undefined;
  const className =
    ctx.className !== undefined ? (ctx.className ?? undefined) : classes.matchClass({ address: ctx.remoteAddress, reverseDns });
  const authenticated = ctx.authenticated === true;
  const anonymous = authenticated && ctx.user !== undefined ? findAnonymous(config, server, ctx.user) : undefined;
  const user =
    ctx.user === undefined ? undefined : anonymous?.user ?? realUser([...server.userAliases, ...config.global.userAliases], ctx.user);
  const groups = ctx.groups ?? (anonymous?.group !== undefined ? [anonymous.group] : []);

  // Everything below depends on these alone: sessions that agree on them share one answer.
  const key = JSON.stringify([server.id, className ?? null, authenticated, ctx.user ?? null, user ?? null, groups]);
  let memo = resolved.get(config);
  if (memo === undefined) {
    memo = new Map();
    resolved.set(config, memo);
  }
  const hit = memo.get(key);
  if (hit !== undefined) return { ok: true, value: hit };
  const effective = resolveEffective(config, server, classes, { className, authenticated, user, groups, anonymous });
  if (memo.size >= RESOLVED_MAX) memo.clear();
  memo.set(key, effective);
  return { ok: true, value: effective };
}

/**
 * mod_ifsession removes a single-valued directive that a merged `<IfClass>`/`<IfUser>`/
 * `<IfGroup>` section sets from the whole server tree before adding the section's own
 * (`ifsess_remove_param`, reference §4.3): `<Directory>` sections outside the merged
 * ones lose it, so `<IfUser bob> Umask 002` gives bob that umask in every directory.
 * (ProFTPD keeps a section's `DirUmask`, the second value of a two-value Umask; ftpkit
 * drops the pair.)
 */
function withoutMergedKeys(settings: Settings, setBy: Partial<Record<keyof Settings, unknown>>, applied: readonly Layer<SettingsLayer>[]): Settings {
  const keys = PER_DIRECTORY_KEYS.filter((k) => setBy[k] !== undefined);
  if (keys.length === 0 || settings.directories.every((d) => d.settings === undefined)) return settings;
  const merged = new Set(applied.flatMap((l) => l.content.directories ?? []));
  const directories = settings.directories.map((d): DirectorySection => {
    if (d.settings === undefined || merged.has(d) || !keys.some((k) => d.settings?.[k] !== undefined)) return d;
    const rest: Record<string, unknown> = { ...d.settings };
    for (const k of keys) delete rest[k];
    const { settings: _dropped, ...section } = d;
    return Object.keys(rest).length === 0 ? section : { ...section, settings: rest as DirectorySettings };
  });
  return { ...settings, directories };
}

/** Answers of {@link resolveSessionConfig}, per configuration object (bounded). */
const resolved = new WeakMap<FtpkitConfig, Map<string, EffectiveConfig>>();
const RESOLVED_MAX = 4096;

interface Resolution {
  readonly className: string | undefined;
  readonly authenticated: boolean;
  readonly user: string | undefined;
  readonly groups: readonly string[];
  readonly anonymous: AnonymousConfig | undefined;
}

function resolveEffective(config: FtpkitConfig, server: ServerConfig, classes: ClassRegistry, who: Resolution): EffectiveConfig {
  const { className, authenticated, user, groups, anonymous } = who;
  const origin: Record<string, string> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS)) origin[key] = 'default';
  let base = overlay(DEFAULT_SETTINGS, config.global.settings, '<Global>', origin);
  base = overlay(base, server.settings, server.label, origin);

  const layers: Layer<SettingsLayer>[] = [...config.global.layers, ...server.layers];
  const merged = mergeLayers<Settings>(base, layers as Layer<Partial<Settings>>[], { className, authenticated, user, groups }, { accumulate: ACCUMULATING_KEYS });
  for (const [key, layer] of Object.entries(merged.setBy)) origin[key] = (layer as Layer<SettingsLayer>).label ?? 'layer';
  for (const layer of merged.applied) {
    for (const key of ACCUMULATING_KEYS) if (layer.content[key] !== undefined) origin[key] = layer.label ?? 'layer';
  }

  let settings = merged.value;
  let anonymousLimits: readonly LimitSection[] = [];
  if (anonymous) {
    const { limits, directories, ...rest } = anonymous.settings;
    anonymousLimits = limits ?? [];
    settings = overlay(settings, rest, anonymous.label, origin);
    // ProFTPD consults the server's <Directory> sections only for paths outside the
    // anonymous root (`dir_match_path`), which an anonymous session cannot reach.
    settings = { ...settings, directories: directories ?? [] };
    origin['directories'] = anonymous.label;
  }
  settings = withoutMergedKeys(settings, merged.setBy, merged.applied);
  // One section per path: a merged (or the server's own) section replaces the others (§4.3).
  if (new Set(settings.directories.map((d) => d.path)).size !== settings.directories.length) {
    const seen = new Set<string>();
    settings = { ...settings, directories: settings.directories.filter((d) => !seen.has(d.path) && seen.add(d.path) !== undefined) };
  }

  let root: string | undefined;
  if (anonymous) root = anonymous.dir;
  else if (authenticated) {
    root = settings.defaultRoot.find((r) => r.groups === undefined || evalGroupExpr(r.groups, groups))?.path;
  }

  const effective: EffectiveConfig = {
    server,
    className,
    authenticated,
    ...(user !== undefined ? { user } : {}),
    groups,
    ...(anonymous ? { anonymous } : {}),
    settings,
    anonymousLimits,
    ...(root !== undefined ? { root } : {}),
    applied: merged.applied.map((l) => l.label ?? l.kind),
    origin,
    classes,
    daemon: config.daemon,
    anonymousSections: [...server.anonymous, ...config.global.anonymous],
  };
  return effective;
}

/**
 * `AllowForeignAddress` (reference §7.3): may a data connection go to / come from
 * `proposed` when the control connection's peer is `peer`? `on` allows; a class allows
 * addresses that satisfy it and otherwise falls back to the same-address check; `off`
 * (the default) requires the same address (IPv4 and IPv4-mapped compare equal).
 */
export function foreignAddressAllowed(effective: EffectiveConfig, proposed: string, peer: string): boolean {
  const setting = effective.settings.allowForeignAddress;
  if (setting === true) return true;
  if (typeof setting === 'object' && effective.classes.satisfies(setting.className, { address: proposed })) return true;
  const a = norm(proposed);
  return a !== undefined && a === norm(peer);
}

/**
 * ftpkit's delay after a failed login, in milliseconds, when `DelayEngine` is on (the
 * default) and no `DelayOnEvent FailedLogin` is set. ProFTPD's mod_delay, on by default,
 * only evens out response times; ftpkit also slows password guessing down by default.
 */
export const DEFAULT_FAILED_LOGIN_DELAY_MS = 1000;

/**
 * How long a failed login waits before its `530`, in milliseconds: 0 under
 * `DelayEngine off`, else the last `DelayOnEvent FailedLogin` (its minimum, as mod_delay
 * uses), else {@link DEFAULT_FAILED_LOGIN_DELAY_MS}.
 */
export function failedLoginDelayMs(settings: Settings): number {
  if (!settings.delayEngine) return 0;
  const rule = settings.delayOnEvent?.findLast((r) => r.event === 'FailedLogin');
  return rule === undefined ? DEFAULT_FAILED_LOGIN_DELAY_MS : rule.minMs;
}
