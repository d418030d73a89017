/**
 * The typed configuration: what a `proftpd.conf` means, as plain data. Parsing a file
 * produces it (`parseConfig`); embedders can also build it in code (`defineConfig`).
 */
import type { ClassDefinition, Layer, NameExpr, NetAclRule } from '@ftpkit/classes';

/** Where a value came from: a file and a 1-based line. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** An inclusive port range (`PassivePorts 60000 60100`). */
export interface PortRange {
  readonly min: number;
  readonly max: number;
}

/**
 * A host given by the operator (`MasqueradeAddress 1.2.3.4` or `ftp.example.com`).
 * A `name` may be a DNS name or, for MasqueradeAddress, an interface name (`eth0`):
 * resolving it is the server's job (see @ftpkit/masquerade).
 */
export interface HostSpec {
  readonly host: string;
  readonly kind: 'ipv4' | 'ipv6' | 'name';
}

/** `AllowForeignAddress on|off|<class>`. */
export type AllowForeignAddress = boolean | { readonly className: string };

/** `HiddenStores on|prefix [suffix]`: uploads go to `<prefix><name><suffix>` until complete. */
export interface HiddenStores {
  readonly prefix: string;
  readonly suffix: string;
}

/** `MaxClients` / `MaxClientsPerHost`: the limit and an optional reply text (`%m` = the limit). */
export interface ClientLimit {
  readonly max: number;
  readonly message?: string;
}

/**
 * `DelayOnEvent event delay` (mod_delay): a fixed delay (`minMs === maxMs`) or a range
 * `min-max`. ftpkit applies the `FailedLogin` event, with its minimum as ProFTPD does.
 */
export interface DelayRule {
  readonly event: 'FailedLogin' | 'USER' | 'PASS' | 'Connect';
  readonly minMs: number;
  readonly maxMs: number;
}

/** `Umask file [dir]` as numbers (0o022). */
export interface Umask {
  readonly file: number;
  readonly dir: number;
}

/** One `DefaultRoot dir [group-expression]` line. `~` stands for the user's home. */
export interface DefaultRootRule {
  readonly path: string;
  readonly groups?: NameExpr;
}

/** `ServerIdent on|off ["text"]`. */
export interface ServerIdent {
  readonly on: boolean;
  readonly text?: string;
}

/** `TLSRequired`: what must be protected. */
export interface TlsRequired {
  readonly control: 'required' | 'optional';
  readonly data: 'required' | 'optional' | 'forbidden';
  /** `auth…` forms: only USER/PASS must be protected on the control channel. */
  readonly authOnly: boolean;
}

/** TLS protocol versions ftpkit can offer. */
export type TlsProtocol = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * One `<Limit cmd…>` section (ProFTPD src/dirtree.c `check_limit`). `commands` are
 * upper-case command names or the groups READ, WRITE, DIRS, ALL and LOGIN, with the
 * X-variants paired (PWD ↔ XPWD…). Each Allow/Deny line is one rule list.
 */
export interface LimitSection {
  readonly commands: readonly string[];
  readonly order: 'allow,deny' | 'deny,allow';
  readonly allowAll: boolean;
  readonly denyAll: boolean;
  readonly allow: readonly (readonly NetAclRule[])[];
  readonly deny: readonly (readonly NetAclRule[])[];
  readonly allowUser: readonly NameExpr[];
  readonly denyUser: readonly NameExpr[];
  readonly allowGroup: readonly NameExpr[];
  readonly denyGroup: readonly NameExpr[];
  readonly allowClass: readonly NameExpr[];
  readonly denyClass: readonly NameExpr[];
  /** `<Limit PASV EPSV> (proftpd.conf:12)`. */
  readonly label: string;
  readonly source?: SourceLocation;
}

/**
 * The settings a `<Directory>` section can give the paths it covers: the ones ProFTPD
 * looks up per path (`get_param_ptr(CURRENT_CONF, …)` after `dir_check` of the target).
 * `hiddenStores: false` is `HiddenStores off` (it turns off a parent's or the server's).
 */
export interface DirectorySettings {
  readonly allowOverwrite?: boolean;
  readonly allowStoreRestart?: boolean;
  readonly allowRetrieveRestart?: boolean;
  readonly deleteAbortedStores?: boolean;
  readonly hiddenStores?: HiddenStores | false;
  readonly umask?: Umask;
}

/**
 * One `<Directory path>` section (ProFTPD mod_core `add_directory`). `path` is kept as
 * written: absolute (`/srv/ftp/pub`), `~`/`~user` forms (expanded per session) or,
 * inside `<Anonymous>`, relative to the anonymous root (`uploads/*`). A trailing `/*`
 * means the directory's contents only; otherwise the directory itself and everything
 * below it. Globs (`*`, `?`, `[…]`) may appear anywhere; `*` also matches `/`.
 */
export interface DirectorySection {
  readonly path: string;
  /** Its `<Limit>` sections in check order (last-defined first). */
  readonly limits: readonly LimitSection[];
  /** The settings it gives the paths it covers (absent: none). */
  readonly settings?: DirectorySettings;
  /** `<Directory uploads/*> (proftpd.conf:62)`. */
  readonly label: string;
  readonly source?: SourceLocation;
}

/**
 * The settings a session sees. Every key is one directive; layers (`<IfClass>`,
 * `<IfUser>`…), `<Global>` and `<Anonymous>` override them key by key. `limits`,
 * `defaultRoot` and `directories` accumulate instead (merged entries first).
 */
export interface Settings {
  readonly serverName: string;
  readonly serverIdent: ServerIdent;
  readonly serverAdmin?: string;
  readonly masqueradeAddress?: HostSpec;
  readonly tlsMasqueradeAddress?: HostSpec;
  readonly passivePorts?: PortRange;
  readonly allowForeignAddress: AllowForeignAddress;
  readonly allowOverwrite: boolean;
  readonly allowStoreRestart: boolean;
  readonly allowRetrieveRestart: boolean;
  readonly hiddenStores?: HiddenStores;
  readonly deleteAbortedStores: boolean;
  readonly maxClients?: ClientLimit;
  readonly maxClientsPerHost?: ClientLimit;
  /** Counted at connect over every connection from the host, logged in or not (mod_auth). */
  readonly maxConnectionsPerHost?: ClientLimit;
  readonly maxLoginAttempts: number;
  /** `DelayEngine` (mod_delay): off = no delay after failed logins. */
  readonly delayEngine: boolean;
  /** `DelayOnEvent` lines, in order (a later line for the same event wins). */
  readonly delayOnEvent?: readonly DelayRule[];
  /** Seconds; 0 disables. */
  readonly timeoutIdle: number;
  readonly timeoutLogin: number;
  readonly timeoutNoTransfer: number;
  readonly timeoutStalled: number;
  /** xferlog path; absent or `NONE` = no transfer log. */
  readonly transferLog?: string;
  readonly umask: Umask;
  readonly displayLogin?: string;
  readonly displayChdir?: string;
  readonly accessGrantMsg?: string;
  readonly deferWelcome: boolean;
  readonly listOptions?: string;
  /** POSIX ERE source; a command argument matching it is refused. */
  readonly denyFilter?: string;
  readonly allowFilter?: string;
  readonly requireValidShell: boolean;
  readonly rootLogin: boolean;
  readonly identLookups: boolean;
  readonly showSymlinks: boolean;
  readonly authUserFile?: string;
  readonly authGroupFile?: string;
  readonly tlsEngine: boolean;
  readonly tlsProtocol: readonly TlsProtocol[];
  readonly tlsRsaCertificateFile?: string;
  readonly tlsRsaCertificateKeyFile?: string;
  readonly tlsEcCertificateFile?: string;
  readonly tlsEcCertificateKeyFile?: string;
  readonly tlsCertificateChainFile?: string;
  readonly tlsRequired: TlsRequired;
  readonly tlsOptions: readonly string[];
  readonly proxyProtocolEngine: boolean;
  /** Seconds. */
  readonly proxyProtocolTimeout: number;
  readonly proxyProtocolVersion: 'protocolV1' | 'protocolV2';
  /** `ProxyProtocolOptions`: `UseProxiedServerAddress` picks the `<VirtualHost>` by the header's destination. */
  readonly proxyProtocolOptions: readonly 'UseProxiedServerAddress'[];
  readonly defaultRoot: readonly DefaultRootRule[];
  /** In check order: the first section that decides wins. */
  readonly limits: readonly LimitSection[];
  /**
   * `<Directory>` sections, most recently merged or defined first; one per path (a
   * merged `<IfUser>`/`<IfGroup>`/`<IfClass>` section replaces the server's of the same path).
   */
  readonly directories: readonly DirectorySection[];
}

/** A layer of settings: some keys only. */
export type SettingsLayer = Partial<Settings>;

/** `UserAlias alias real-user`. */
export interface UserAlias {
  readonly alias: string;
  readonly user: string;
}

/** One `<Anonymous dir>` section: read-only unless one of its `<Limit>` sections allows writing. */
export interface AnonymousConfig {
  readonly dir: string;
  /** The system user the anonymous session runs as and logs in as (`User ftp`). */
  readonly user?: string;
  readonly group?: string;
  readonly userAliases: readonly UserAlias[];
  /** `AnonRequirePassword` (default off: any password is accepted). */
  readonly requirePassword: boolean;
  readonly settings: SettingsLayer;
  readonly label: string;
  readonly source?: SourceLocation;
}

/** The main server or one `<VirtualHost>`. */
export interface ServerConfig {
  /** 0 for the main server, 1… for virtual hosts in definition order. */
  readonly id: number;
  readonly kind: 'main' | 'vhost';
  /** `main server` or `<VirtualHost 192.168.0.10> (proftpd.conf:20)`. */
  readonly label: string;
  /**
   * Addresses this server answers on: `DefaultAddress` of the main server (empty = any
   * address no virtual host claims), or the `<VirtualHost>` arguments. IP literals or
   * names (the server resolves names).
   */
  readonly addresses: readonly string[];
  readonly port: number;
  /** `ServerAlias` names for RFC 7151 HOST (exact, case-insensitive, or globs). */
  readonly aliases: readonly string[];
  readonly defaultServer: boolean;
  /** Settings given directly in this server's context (not yet merged with `<Global>`). */
  readonly settings: SettingsLayer;
  /** Conditional layers in definition order. */
  readonly layers: readonly Layer<SettingsLayer>[];
  readonly anonymous: readonly AnonymousConfig[];
  readonly userAliases: readonly UserAlias[];
  readonly source?: SourceLocation;
}

/** `<Global>`: copied into every server; a server's own settings win over it. */
export interface GlobalConfig {
  readonly settings: SettingsLayer;
  readonly layers: readonly Layer<SettingsLayer>[];
  readonly anonymous: readonly AnonymousConfig[];
  readonly userAliases: readonly UserAlias[];
}

/**
 * Settings of the daemon itself (server config context only). The server honours
 * them: `pidFile`, `systemLog`, and `user`/`group` (drop privileges after binding the
 * listeners when started as root).
 */
export interface DaemonSettings {
  readonly serverType: 'standalone';
  readonly pidFile?: string;
  readonly systemLog?: string;
  readonly user?: string;
  readonly group?: string;
  readonly maxInstances?: number;
  readonly useIPv6: boolean;
  readonly socketBindTight: boolean;
  readonly useReverseDns: boolean;
  /** `DynMasqRefresh` seconds (mod_dynmasq): re-resolve MasqueradeAddress names. */
  readonly dynMasqRefresh?: number;
  /**
   * `PassivePortsShared on` (ftpkit, the `--passive-share` flag as a directive): a passive
   * port serves several clients at once, told apart by their address.
   */
  readonly passivePortsShared?: boolean;
}

/** The whole configuration. */
export interface FtpkitConfig {
  readonly main: ServerConfig;
  readonly virtualHosts: readonly ServerConfig[];
  readonly global: GlobalConfig;
  /** Global, in definition order. */
  readonly classes: readonly ClassDefinition[];
  readonly daemon: DaemonSettings;
  /** Files read, in order. */
  readonly files: readonly string[];
}

/** The values used for settings no directive sets. */
export const DEFAULT_SETTINGS: Settings = {
  serverName: 'ftpkit',
  serverIdent: { on: true },
  allowForeignAddress: false,
  allowOverwrite: false,
  allowStoreRestart: false,
  allowRetrieveRestart: true,
  deleteAbortedStores: false,
  maxLoginAttempts: 3,
  delayEngine: true,
  timeoutIdle: 600,
  timeoutLogin: 300,
  timeoutNoTransfer: 300,
  timeoutStalled: 3600,
  umask: { file: 0o022, dir: 0o022 },
  deferWelcome: false,
  requireValidShell: true,
  rootLogin: false,
  identLookups: false,
  showSymlinks: true,
  tlsEngine: false,
  tlsProtocol: ['TLSv1.2', 'TLSv1.3'],
  tlsRequired: { control: 'optional', data: 'optional', authOnly: false },
  tlsOptions: [],
  proxyProtocolEngine: false,
  proxyProtocolTimeout: 3,
  proxyProtocolVersion: 'protocolV1',
  proxyProtocolOptions: [],
  defaultRoot: [],
  limits: [],
  directories: [],
};

/** The daemon defaults. */
export const DEFAULT_DAEMON: DaemonSettings = {
  serverType: 'standalone',
  useIPv6: true,
  socketBindTight: false,
  useReverseDns: true,
};

/** Keys whose values accumulate across layers instead of being replaced. */
export const ACCUMULATING_KEYS: readonly (keyof Settings)[] = ['limits', 'defaultRoot', 'directories'];
