/**
 * The effective configuration of one session.
 *
 * The server app fills a {@link SessionConfig} from `@ftpkit/config` (the `<IfClass>`
 * layers already merged for the connecting client); embedders write one by hand. The
 * core never parses configuration files. After a successful PASS the session calls
 * {@link SessionConfig.onLogin} (when set) and continues with the configuration it
 * returns, so `<IfUser>`/`<IfGroup>` settings (MasqueradeAddress, PassivePorts,
 * `<Limit>`…) apply from the next command on, as in ProFTPD's mod_ifsession.
 *
 * Defaults are chosen for embedders (overwrite and resume allowed); the server app
 * passes ProFTPD's directive defaults explicitly.
 */
import type { MasqueradeResolver } from '@ftpkit/masquerade';
import type { PortAllocator } from '@ftpkit/port-allocator';
import type { AuthenticatedUser, ControlChannel } from './ports.js';

/** Timeouts in seconds; `0` turns one off (ProFTPD `Timeout*` directives, §7.1). */
export interface SessionTimeouts {
  /** TimeoutLogin: from connect until a successful login. Default 300. */
  login: number;
  /** TimeoutIdle: no command received (ignored during a transfer). Default 600. */
  idle: number;
  /** TimeoutNoTransfer: logged in, no transfer opened or closed. Default 0 (ProFTPD arms it only when configured). */
  noTransfer: number;
  /** TimeoutStalled: a transfer (or the wait for its data connection) makes no progress. Default 3600. */
  stalled: number;
  /** A PASV/EPSV listener nobody connected to is closed and its port returned. Default 60. */
  passiveAccept: number;
}

/** What a `<Limit>` check sees (ProFTPD `dir_check`). */
export interface LimitContext {
  /** The logged-in user (or the USER name during login checks), undefined before USER. */
  user: string | undefined;
  /** The user's groups, primary first (empty before login). */
  groups: readonly string[];
  /** The session's class (ProFTPD: at most one), from {@link SessionConfig.classes}. */
  class: string | undefined;
  classes: readonly string[];
  remoteAddress: string;
  localAddress: string;
  /** Normalised virtual path the command acts on; the working directory for commands without a path. */
  path: string;
  /** The command's argument as sent. */
  argument: string | undefined;
  /** The command's ProFTPD group (`READ`, `WRITE`, `DIRS`, `LOGIN`, `MISC`, `NONE`) from @ftpkit/command. */
  group: string | undefined;
  anonymous: boolean;
}

export type LimitDecision = 'allow' | 'deny';

/**
 * `<Limit>` as a function: called with the canonical verb (`PWD` for `XPWD`; `LOGIN`
 * after a successful PASS; `SITE_CHMOD` for SITE CHMOD as ProFTPD names it) and its
 * context. The checker applies ProFTPD's rules (the verb, then its group, then `ALL`,
 * which excludes PASV/EPSV/PORT/EPRT).
 */
export type LimitChecker = (verb: string, ctx: LimitContext) => LimitDecision;

/**
 * TLSRequired (ProFTPD mod_tls): what must be protected. `control`: every command but
 * AUTH, FEAT, SYST and QUIT needs a protected control connection (`550`); with
 * `authOnly`, only USER, PASS and ACCT do. `data`: `required` — transfers and listings
 * need `PROT P` (`522`) and `PROT C` is refused (`534`); `forbidden` — `PROT P` is
 * refused (`534`).
 */
export interface TlsRequirement {
  readonly control: 'required' | 'optional';
  readonly data: 'required' | 'optional' | 'forbidden';
  readonly authOnly?: boolean;
}

/**
 * FTPS (RFC 4217) settings of a session. Present = TLS is offered (TLSEngine on): FEAT
 * lists `AUTH TLS`, `PBSZ` and `PROT`, and AUTH TLS upgrades the control connection
 * through {@link ControlChannel.upgradeTls}. TLSMasqueradeAddress is a `tls` policy of
 * the {@link SessionConfig.masquerade} resolver, which sees whether the session is secure.
 */
export interface SessionTlsConfig {
  /** TLSRequired. Default: nothing required. */
  required?: TlsRequirement;
  /** Anonymous logins (USER in `anonymousUsers`) are exempt from `required`. Default `false`. */
  exemptAnonymous?: boolean;
  /**
   * A protected data connection must resume the control connection's TLS session (what
   * ProFTPD and vsftpd `require_ssl_reuse` do): it ties the data connection to this
   * session even when NAT or a load balancer hides the client's address. `false` is
   * ProFTPD's `TLSOptions NoSessionReuseRequired`. Default `true`.
   */
  requireSessionReuse?: boolean;
  /** Accept CCC (RFC 4217 §6) when the control connection is not required to be protected. Default `false`. */
  allowCcc?: boolean;
}

/**
 * The settings that can differ by path (ProFTPD `<Directory>`: AllowOverwrite,
 * AllowStoreRestart, AllowRetrieveRestart, DeleteAbortedStores). The session's own
 * values ({@link SessionConfig.allowOverwrite}…) apply where
 * {@link SessionConfig.pathSettings} gives none.
 */
export interface PathSettings {
  allowOverwrite: boolean;
  allowStoreRestart: boolean;
  allowRetrieveRestart: boolean;
  deleteAbortedStores: boolean;
}

export interface SessionConfig {
  /** ServerName, shown in the default banner. Default `ftpkit`. */
  serverName?: string;
  /**
   * ServerIdent: `true` (default) → `220 ftpkit Server (<serverName>) [<address>]`;
   * `false` → `220 <address> FTP server ready`; a string → `220 <string>` (ProFTPD
   * `ServerIdent on "text"`). `<address>` is the masquerade address when the resolver
   * gives one, else the control connection's local address.
   */
  serverIdent?: boolean | string;
  /** The whole 220 text; wins over serverIdent. */
  banner?: string;
  /** ServerAdmin, quoted by HELP. Default `root@localhost`. */
  serverAdmin?: string;
  /**
   * UseIPv6: whether EPSV and EPRT accept network protocol 2 (RFC 2428). With `false`
   * they answer `522 Network protocol not supported, use (1)`. Default `true`.
   */
  ipv6?: boolean;
  /** MasqueradeAddress: what to advertise in 227 and the banner. Default: the control connection's local address. */
  masquerade?: MasqueradeResolver;
  /** PassivePorts. Default: kernel-chosen ports. */
  passivePorts?: PortAllocator;
  /**
   * AllowForeignAddress (§7.3): `false` (default) — PORT/EPRT addresses and passive
   * peers must be the client's own address (IPv4-mapped IPv6 equals IPv4); `true` —
   * anything; a predicate — the addresses it accepts (a `<Class>` in ProFTPD).
   */
  allowForeignAddress?: boolean | ((address: string) => boolean);
  /**
   * ProFTPD silently replaces an RFC 1918 PORT/EPRT address from a public client by the
   * client's address. ftpkit refuses it with a 500 pointing to passive mode unless this
   * is `true`. Default `false`.
   */
  allowPortRewrite?: boolean;
  /** `<Limit>`; default allows everything. */
  limit?: LimitChecker;
  /** Verbs omitted from FEAT (server-level `<Limit EPSV> DenyAll` hides EPSV, ProFTPD Issue #1383). */
  featHidden?: readonly string[];
  /** MaxLoginAttempts. Default 3. */
  maxLoginAttempts?: number;
  /**
   * Milliseconds a failed login waits before its `530 Login incorrect.`, counted from the
   * PASS command, so guessing is slow and the reply time does not tell whether the user
   * exists (ProFTPD mod_delay `DelayOnEvent FailedLogin`). Timed with the session's clock:
   * other sessions are not held up; a session closed meanwhile gets no reply. Later
   * commands of the session wait behind it. `0` turns it off. Default `0` (the server app
   * turns it on).
   */
  loginFailureDelay?: number;
  timeouts?: Partial<SessionTimeouts>;
  /** AllowOverwrite. Default `true`. */
  allowOverwrite?: boolean;
  /** AllowStoreRestart (REST + STOR/APPE resume). Default `true`. */
  allowStoreRestart?: boolean;
  /** AllowRetrieveRestart (REST + RETR). Default `true`. */
  allowRetrieveRestart?: boolean;
  /** DeleteAbortedStores: discard a partial upload instead of keeping it. Default `false`. */
  deleteAbortedStores?: boolean;
  /**
   * Per-path settings (ProFTPD `<Directory>`): called with the normalised virtual path
   * of the file a command acts on — STOR/APPE/REST+STOR (AllowStoreRestart,
   * AllowOverwrite, DeleteAbortedStores), RETR (AllowRetrieveRestart), RNTO's target
   * (AllowOverwrite) — and the keys it returns win over the session's values above;
   * `undefined` or a missing key keeps them. Called on every such command, by every
   * session sharing this config: keep it cheap (cache by path, bounded) and pure.
   * Default: none (the same values everywhere).
   */
  pathSettings?: (path: string) => Readonly<Partial<PathSettings>> | undefined;
  /** The session's class names (`<Class>`), first = the class. */
  classes?: readonly string[];
  /** Advertise UTF8 in FEAT and accept `OPTS UTF8 ON` (RFC 2640). Default `true`. */
  useUtf8?: boolean;
  /** LIST/NLST show dot files without `-a` (ProFTPD `ListOptions -a`). Default `false`. */
  showDotFiles?: boolean;
  /** USER names answered with the anonymous 331 text. Default `anonymous`, `ftp`. */
  anonymousUsers?: readonly string[];
  /** The configuration to use after login (mod_ifsession `<IfUser>`/`<IfGroup>`). */
  onLogin?: (user: AuthenticatedUser) => SessionConfig;
  /**
   * HOST (RFC 7151) name-based virtual hosts: the configuration for `name`, or
   * undefined for an unknown name (504). Without it, only the literal local address is accepted.
   */
  onHost?: (name: string) => SessionConfig | undefined;
  /** FTPS: offered when present (see {@link SessionTlsConfig}). Default: not offered. */
  tls?: SessionTlsConfig;
}

/** {@link SessionTlsConfig} with its defaults filled in. */
export interface EffectiveTlsConfig {
  readonly required: Readonly<Required<TlsRequirement>>;
  readonly exemptAnonymous: boolean;
  readonly requireSessionReuse: boolean;
  readonly allowCcc: boolean;
}

/** A {@link SessionConfig} with every default filled in (internal, cached per config object). */
export interface EffectiveConfig {
  readonly source: SessionConfig;
  readonly serverName: string;
  readonly serverIdent: boolean | string;
  readonly banner: string | undefined;
  readonly serverAdmin: string;
  readonly ipv6: boolean;
  readonly masquerade: MasqueradeResolver | undefined;
  readonly passivePorts: PortAllocator | undefined;
  readonly allowForeignAddress: boolean | ((address: string) => boolean);
  readonly allowPortRewrite: boolean;
  readonly limit: LimitChecker | undefined;
  readonly featHidden: ReadonlySet<string>;
  readonly maxLoginAttempts: number;
  readonly loginFailureDelay: number;
  readonly timeouts: Readonly<SessionTimeouts>;
  readonly allowOverwrite: boolean;
  readonly allowStoreRestart: boolean;
  readonly allowRetrieveRestart: boolean;
  readonly deleteAbortedStores: boolean;
  readonly pathSettings: ((path: string) => Readonly<Partial<PathSettings>> | undefined) | undefined;
  readonly classes: readonly string[];
  readonly useUtf8: boolean;
  readonly showDotFiles: boolean;
  readonly anonymousUsers: ReadonlySet<string>;
  /** FTPS settings; undefined when TLS is not offered. */
  readonly tls: EffectiveTlsConfig | undefined;
}

export const DEFAULT_TIMEOUTS: Readonly<SessionTimeouts> = Object.freeze({
  login: 300,
  idle: 600,
  noTransfer: 0,
  stalled: 3600,
  passiveAccept: 60,
});

const cache = new WeakMap<SessionConfig, EffectiveConfig>();
const EMPTY: readonly string[] = Object.freeze([]);

function seconds(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/**
 * Fill in the defaults of a {@link SessionConfig}. Sessions that share one config
 * object share the result (the config is treated as immutable once handed over).
 */
export function effectiveConfig(config: SessionConfig): EffectiveConfig {
  const hit = cache.get(config);
  if (hit !== undefined) return hit;
  const t = config.timeouts ?? {};
  const effective: EffectiveConfig = Object.freeze({
    source: config,
    serverName: config.serverName ?? 'ftpkit',
    serverIdent: config.serverIdent ?? true,
    banner: config.banner,
    serverAdmin: config.serverAdmin ?? 'root@localhost',
    ipv6: config.ipv6 ?? true,
    masquerade: config.masquerade,
    passivePorts: config.passivePorts,
    allowForeignAddress: config.allowForeignAddress ?? false,
    allowPortRewrite: config.allowPortRewrite ?? false,
    limit: config.limit,
    featHidden: new Set((config.featHidden ?? EMPTY).map((v) => v.toUpperCase())),
    maxLoginAttempts: Math.max(1, Math.floor(config.maxLoginAttempts ?? 3)),
    loginFailureDelay: Number.isFinite(config.loginFailureDelay) ? Math.max(0, config.loginFailureDelay as number) : 0,
    timeouts: Object.freeze({
      login: seconds(t.login, DEFAULT_TIMEOUTS.login),
      idle: seconds(t.idle, DEFAULT_TIMEOUTS.idle),
      noTransfer: seconds(t.noTransfer, DEFAULT_TIMEOUTS.noTransfer),
      stalled: seconds(t.stalled, DEFAULT_TIMEOUTS.stalled),
      passiveAccept: seconds(t.passiveAccept, DEFAULT_TIMEOUTS.passiveAccept),
    }),
    allowOverwrite: config.allowOverwrite ?? true,
    allowStoreRestart: config.allowStoreRestart ?? true,
    allowRetrieveRestart: config.allowRetrieveRestart ?? true,
    deleteAbortedStores: config.deleteAbortedStores ?? false,
    pathSettings: config.pathSettings,
    classes: config.classes ?? EMPTY,
    useUtf8: config.useUtf8 ?? true,
    showDotFiles: config.showDotFiles ?? false,
    anonymousUsers: new Set((config.anonymousUsers ?? ['anonymous', 'ftp']).map((u) => u.toLowerCase())),
    tls: config.tls === undefined ? undefined : effectiveTls(config.tls),
  });
  cache.set(config, effective);
  return effective;
}

/** A per-path setting at `path` ({@link SessionConfig.pathSettings}), else the session's value. */
export function settingAt<K extends keyof PathSettings>(config: EffectiveConfig, key: K, path: string): PathSettings[K] {
  const value = config.pathSettings?.(path)?.[key];
  return value === undefined ? config[key] : value;
}

function effectiveTls(tls: SessionTlsConfig): EffectiveTlsConfig {
  const r = tls.required;
  return Object.freeze({
    required: Object.freeze({ control: r?.control ?? 'optional', data: r?.data ?? 'optional', authOnly: r?.authOnly ?? false }),
    exemptAnonymous: tls.exemptAnonymous ?? false,
    requireSessionReuse: tls.requireSessionReuse ?? true,
    allowCcc: tls.allowCcc ?? false,
  });
}
