/**
 * The directive catalogue: what ftpkit implements (typed settings), what it recognises
 * but cannot apply (notes), what ProFTPD has and ftpkit does not implement (reported
 * by name), and the contexts each may appear in (ProFTPD `CHECK_CONF`).
 */
import type { DaemonSettings, DirectorySettings, Settings } from './model.js';
import * as v from './values.js';

/** Configuration contexts. `<IfClass>`/`<IfUser>`/`<IfGroup>` take their parent's. */
export type Context = 'server' | 'vhost' | 'global' | 'anon' | 'dir' | 'limit' | 'class';

const SVG: readonly Context[] = ['server', 'vhost', 'global'];
const SVGA: readonly Context[] = ['server', 'vhost', 'global', 'anon'];
/** Also per directory (ProFTPD looks them up for the command's path). */
const SVGAD: readonly Context[] = ['server', 'vhost', 'global', 'anon', 'dir'];

/** A directive that sets one key of `Settings`. */
export interface SettingSpec {
  readonly name: string;
  readonly key: keyof Settings;
  readonly contexts: readonly Context[];
  readonly parse: v.ValueParser<unknown>;
  /** Repeated lines accumulate (DefaultRoot, TLSOptions) instead of being an error. */
  readonly multi?: boolean;
}

function s(name: string, key: keyof Settings, contexts: readonly Context[], parse: v.ValueParser<unknown>, multi = false): SettingSpec {
  return multi ? { name, key, contexts, parse, multi } : { name, key, contexts, parse };
}

/** Directives that set a per-session setting (all may appear in `<IfClass>`/`<IfUser>`/`<IfGroup>`). */
export const SETTING_DIRECTIVES: readonly SettingSpec[] = [
  s('ServerName', 'serverName', SVG, v.text),
  s('ServerIdent', 'serverIdent', SVG, v.serverIdent),
  s('ServerAdmin', 'serverAdmin', SVG, v.text),
  s('MasqueradeAddress', 'masqueradeAddress', SVG, v.hostSpec),
  s('TLSMasqueradeAddress', 'tlsMasqueradeAddress', SVG, v.hostSpec),
  s('PassivePorts', 'passivePorts', SVG, v.passivePorts),
  s('AllowForeignAddress', 'allowForeignAddress', SVGA, v.allowForeign),
  s('AllowOverwrite', 'allowOverwrite', SVGAD, v.bool),
  s('AllowStoreRestart', 'allowStoreRestart', SVGAD, v.bool),
  s('AllowRetrieveRestart', 'allowRetrieveRestart', SVGAD, v.bool),
  s('HiddenStores', 'hiddenStores', SVGAD, v.hiddenStores),
  s('DeleteAbortedStores', 'deleteAbortedStores', SVGAD, v.bool),
  s('MaxClients', 'maxClients', SVGA, v.clientLimit),
  s('MaxClientsPerHost', 'maxClientsPerHost', SVGA, v.clientLimit),
  s('MaxConnectionsPerHost', 'maxConnectionsPerHost', SVG, v.clientLimit),
  s('MaxLoginAttempts', 'maxLoginAttempts', SVG, v.integer(1, 1000, 3)),
  s('DelayEngine', 'delayEngine', SVG, v.bool),
  s('DelayOnEvent', 'delayOnEvent', SVG, v.delayOnEvent, true),
  s('TimeoutIdle', 'timeoutIdle', SVGA, v.seconds(65535)),
  s('TimeoutLogin', 'timeoutLogin', SVG, v.seconds(65535, 1)),
  s('TimeoutNoTransfer', 'timeoutNoTransfer', SVGA, v.seconds(65535)),
  s('TimeoutStalled', 'timeoutStalled', SVGA, v.seconds(65535)),
  s('TransferLog', 'transferLog', SVGA, v.absolutePath(true, '/var/log/proftpd/xferlog')),
  s('Umask', 'umask', SVGAD, v.umask),
  s('DisplayLogin', 'displayLogin', SVGA, v.path),
  s('DisplayChdir', 'displayChdir', SVGA, v.displayChdir),
  s('AccessGrantMsg', 'accessGrantMsg', SVGA, v.text),
  s('DeferWelcome', 'deferWelcome', SVG, v.bool),
  s('ListOptions', 'listOptions', SVGA, v.listOptions),
  s('DenyFilter', 'denyFilter', SVGA, v.regex),
  s('AllowFilter', 'allowFilter', SVGA, v.regex),
  s('RequireValidShell', 'requireValidShell', SVGA, v.bool),
  s('RootLogin', 'rootLogin', SVGA, v.bool),
  s('IdentLookups', 'identLookups', SVG, v.bool),
  s('ShowSymlinks', 'showSymlinks', SVGA, v.bool),
  s('AuthUserFile', 'authUserFile', SVG, v.absolutePath(false, '/etc/proftpd/ftpd.passwd')),
  s('AuthGroupFile', 'authGroupFile', SVG, v.absolutePath(false, '/etc/proftpd/ftpd.group')),
  s('DefaultRoot', 'defaultRoot', SVG, v.defaultRoot, true),
  s('TLSEngine', 'tlsEngine', SVG, v.bool),
  s('TLSProtocol', 'tlsProtocol', SVG, v.tlsProtocol),
  s('TLSRSACertificateFile', 'tlsRsaCertificateFile', SVG, v.path),
  s('TLSRSACertificateKeyFile', 'tlsRsaCertificateKeyFile', SVG, v.path),
  s('TLSECCertificateFile', 'tlsEcCertificateFile', SVG, v.path),
  s('TLSECCertificateKeyFile', 'tlsEcCertificateKeyFile', SVG, v.path),
  s('TLSCertificateChainFile', 'tlsCertificateChainFile', SVG, v.path),
  s('TLSRequired', 'tlsRequired', SVGA, v.tlsRequired),
  s('TLSOptions', 'tlsOptions', SVGA, v.tlsOptions, true),
  s('ProxyProtocolEngine', 'proxyProtocolEngine', SVG, v.bool),
  s('ProxyProtocolTimeout', 'proxyProtocolTimeout', SVG, v.seconds(3600, 1)),
  s('ProxyProtocolVersion', 'proxyProtocolVersion', SVG, v.proxyProtocolVersion),
  s('ProxyProtocolOptions', 'proxyProtocolOptions', SVG, v.proxyProtocolOptions, true),
];

/** A directive of the daemon itself (server config only). */
export interface DaemonSpec {
  readonly name: string;
  readonly key: keyof DaemonSettings;
  readonly parse: v.ValueParser<unknown>;
}

/** Daemon-level directives. `User`/`Group` also appear in `<Anonymous>` with another meaning. */
export const DAEMON_DIRECTIVES: readonly DaemonSpec[] = [
  { name: 'PidFile', key: 'pidFile', parse: v.absolutePath(false, '/run/proftpd.pid') },
  { name: 'SystemLog', key: 'systemLog', parse: v.absolutePath(true, '/var/log/proftpd/proftpd.log') },
  { name: 'User', key: 'user', parse: v.text },
  { name: 'Group', key: 'group', parse: v.text },
  { name: 'MaxInstances', key: 'maxInstances', parse: v.integer(1, 1_000_000, 30) },
  { name: 'UseIPv6', key: 'useIPv6', parse: v.bool },
  { name: 'SocketBindTight', key: 'socketBindTight', parse: v.bool },
  { name: 'UseReverseDNS', key: 'useReverseDns', parse: v.bool },
  { name: 'PassivePortsShared', key: 'passivePortsShared', parse: v.bool },
  {
    name: 'DynMasqRefresh',
    key: 'dynMasqRefresh',
    parse: (args, name) => {
      if (args.length !== 1) return v.bad(`${name} takes 1 argument, got ${args.length}`, `write ${name} 300 (seconds)`);
      const a = args[0] as string;
      if (!/^\d+$/.test(a) || Number(a) < 1) return v.bad(`${name}: must be greater than zero: '${a}'`, `write ${name} 300 (seconds between re-resolutions of MasqueradeAddress names)`);
      return v.good(Number(a));
    },
  },
];

/** Directives with a meaning for each server (not layerable). */
export const SERVER_DIRECTIVES: readonly { readonly name: string; readonly contexts: readonly Context[] }[] = [
  { name: 'Port', contexts: ['server', 'vhost'] },
  { name: 'DefaultAddress', contexts: ['server'] },
  { name: 'ServerAlias', contexts: ['server', 'vhost'] },
  { name: 'DefaultServer', contexts: ['server', 'vhost'] },
  { name: 'UserAlias', contexts: SVGA },
  { name: 'AnonRequirePassword', contexts: ['anon'] },
  { name: 'ServerType', contexts: ['server'] },
];

/** Directives inside `<Limit>`. */
export const LIMIT_DIRECTIVES: readonly string[] = [
  'Order',
  'Allow',
  'Deny',
  'AllowAll',
  'DenyAll',
  'AllowUser',
  'DenyUser',
  'AllowGroup',
  'DenyGroup',
  'AllowClass',
  'DenyClass',
];

/** Directives inside `<Class>`. */
export const CLASS_DIRECTIVES: readonly string[] = ['From', 'Satisfy'];

/** Sections ftpkit understands (the conditional ones are handled by the syntax layer). */
export const SECTIONS: readonly string[] = [
  'Global',
  'VirtualHost',
  'Anonymous',
  'Directory',
  'Limit',
  'Class',
  'IfClass',
  'IfUser',
  'IfGroup',
  'IfAuthenticated',
  'IfModule',
  'IfDefine',
];

/** Recognised directives that cannot apply to ftpkit: accepted with a note, never fatal. */
export const NOTE_DIRECTIVES: Readonly<Record<string, string>> = {
  ModulePath: 'modules are built into ftpkit; ModulePath is ignored',
  ModuleControlsACLs: 'ftpkit has no module controls; ignored',
  ScoreboardFile: 'ftpkit counts sessions in memory and needs no scoreboard; ignored',
  ScoreboardMutex: 'ftpkit needs no scoreboard; ignored',
  WtmpLog: 'ftpkit does not write wtmp records; ignored',
  UseLastlog: 'ftpkit does not write lastlog records; ignored',
  PersistentPasswd: 'ftpkit reads users from AuthUserFile only; ignored',
  UseSendFile: 'ftpkit chooses how to copy file data itself; ignored',
  MultilineRFC2228: 'ftpkit always sends RFC 959 multi-line replies; ignored',
  DebugLevel: 'use the server log level instead; ignored',
  SyslogLevel: 'use the server log level instead; ignored',
  SyslogFacility: 'ftpkit logs through its own logger; ignored',
  TraceLog: 'ftpkit has no trace log; ignored',
  Trace: 'ftpkit has no trace log; ignored',
  TraceOptions: 'ftpkit has no trace log; ignored',
  SetEnv: 'set environment variables in the service definition instead; ignored',
  UnsetEnv: 'set environment variables in the service definition instead; ignored',
  ProcessTitles: 'ftpkit does not rename processes; ignored',
  TCPBackLog: 'ftpkit uses the Node.js listen backlog; ignored',
  TCPNoDelay: 'ftpkit sets TCP_NODELAY itself; ignored',
  SocketOptions: 'ftpkit uses the operating system socket defaults; ignored',
  CommandBufferSize: 'ftpkit limits command lines to 4096 bytes; ignored',
  RLimitCPU: 'set resource limits in the service definition instead; ignored',
  RLimitMemory: 'set resource limits in the service definition instead; ignored',
  RLimitOpenFiles: 'set resource limits in the service definition instead; ignored',
  RLimitChroot: 'ftpkit confines sessions without chroot(2); ignored',
  FSCachePolicy: 'ftpkit has no stat cache; ignored',
  IncludeOptions: 'ftpkit includes files in sorted order and follows symlinks; ignored',
  DelayTable: 'ftpkit keeps no timing table (DelayOnEvent FailedLogin sets the delay after a failed login); ignored',
  DelayControlsACLs: 'ftpkit has no module controls; ignored',
  LoadModule: '',
  ServerType: '',
};

const UNSUPPORTED_CORE = `AllowChmod AllowEmptyPasswords AllowLogSymlinks AnonAllowRobots AnonRejectPasswords AuthAliasOnly
AuthOrder AuthPAM AuthPAMConfig AuthUsingAlias CDPath CreateHome DefaultChdir DefaultTransferMode DirFakeGroup DirFakeMode
DirFakeUser DisplayConnect DisplayFileTransfer DisplayGoAway DisplayQuit ExtendedLog GroupOwner GroupPassword HideFiles
HideGroup HideNoAccess HideUser IgnoreHidden LogFormat MaxClientsPerClass MaxClientsPerUser MaxCommandRate
MaxConnectionRate MaxHostsPerUser MaxRetrieveFileSize MaxStoreFileSize MaxTransfersPerHost
MaxTransfersPerUser PathAllowFilter PathDenyFilter Protocols RegexOptions RootRevoke ServerLog TimeoutLinger
TimeoutSession TimesGMT TransferRate UseEncoding UseFtpUsers UseGlobbing UseUTF8 UserOwner UserPassword
AccessDenyMsg IfSessionOptions SQLAuthTypes TLSCACertificateFile TLSCACertificatePath TLSCARevocationFile
TLSCARevocationPath TLSCipherSuite TLSDHParamFile TLSLog TLSPassPhraseProvider TLSRenegotiate TLSSessionCache
TLSVerifyClient TLSVerifyDepth TLSVerifyOrder TLSServerCipherPreference TLSStaplingEngine TLSNextProtocol
TLSPKCS12File TLSTimeoutHandshake TLSUserName TLSECDHCurve TLSCertificateFile TLSCertificateKeyFile TLSDSACertificateFile
TLSDSACertificateKeyFile TLSServerInfoFile TLSSessionTickets TLSPreSharedKey ProxyProtocolIgnore DynMasqControlsACLs`;

const MODULE_PREFIXES: readonly (readonly [RegExp, string])[] = [
  [/^Quota/i, 'mod_quotatab'],
  [/^SQL/i, 'mod_sql'],
  [/^LDAP/i, 'mod_ldap'],
  [/^SFTP/i, 'mod_sftp'],
  [/^AdminControls/i, 'mod_ctrls_admin'],
  [/^Controls/i, 'mod_ctrls'],
  [/^Ban/i, 'mod_ban'],
  [/^Rewrite/i, 'mod_rewrite'],
  [/^Radius/i, 'mod_radius'],
  [/^Wrap/i, 'mod_wrap2'],
  [/^Exec/i, 'mod_exec'],
  [/^Shaper/i, 'mod_shaper'],
  [/^Deflate/i, 'mod_deflate'],
  [/^Copy/i, 'mod_copy'],
  [/^Memcache/i, 'mod_memcache'],
  [/^Redis/i, 'mod_redis'],
  [/^GeoIP/i, 'mod_geoip'],
  [/^SNMP/i, 'mod_snmp'],
  [/^VRoot/i, 'mod_vroot'],
  [/^(Ratio|Ratios|FileRatio|ByteRatio|CwdRatio|HostRatio|UserRatio|GroupRatio|AnonRatio|SaveRatios|RatioFile|RatioTempFile)/i, 'mod_ratio'],
  [/^(MaxLoad)/i, 'mod_load'],
  [/^Ident/i, 'mod_ident'],
  [/^(UniqueID)/i, 'mod_unique_id'],
  [/^(FACL)/i, 'mod_facl'],
  [/^Readme/i, 'mod_readme'],
  [/^Site(Misc)/i, 'mod_site_misc'],
  [/^DNSBL/i, 'mod_dnsbl'],
  [/^AuthOTP/i, 'mod_auth_otp'],
];

const UNSUPPORTED = new Map<string, string>(UNSUPPORTED_CORE.split(/\s+/).filter(Boolean).map((n) => [n.toLowerCase(), n]));

/** Unsupported sections (their contents are skipped). */
export const UNSUPPORTED_SECTIONS: readonly string[] = ['IfVersion', 'IfOption'];

/** The setting directives allowed inside `<Directory>`, as the schema's contexts say. */
const PER_DIRECTORY_SPECS: readonly SettingSpec[] = SETTING_DIRECTIVES.filter((d) => d.contexts.includes('dir'));

/**
 * Settings ftpkit applies per directory: inside `<Directory>` they apply to the paths
 * the section covers (see `DirectorySettings`).
 */
export const PER_DIRECTORY_SETTINGS: readonly string[] = PER_DIRECTORY_SPECS.map((d) => d.name);

/** The same settings by their key in `Settings` and `DirectorySettings`. */
export const PER_DIRECTORY_KEYS: readonly (keyof DirectorySettings)[] = PER_DIRECTORY_SPECS.map((d) => d.key as keyof DirectorySettings);

/**
 * Settings ProFTPD also accepts inside `<Directory>` (per path), which ftpkit applies
 * per session only: inside `<Directory>` they are reported as not implemented.
 */
export const DIRECTORY_SETTINGS: readonly string[] = ['DisplayChdir', 'ListOptions', 'ShowSymlinks', 'AllowFilter', 'DenyFilter', 'TLSRequired'];

/** If `name` is a ProFTPD directive ftpkit does not implement: its canonical name and module. */
export function unsupportedDirective(name: string): { readonly name: string; readonly module: string } | undefined {
  const canonical = UNSUPPORTED.get(name.toLowerCase());
  if (canonical !== undefined) {
    const module = /^TLS/.test(canonical) ? 'mod_tls' : /^ProxyProtocol/.test(canonical) ? 'mod_proxy_protocol' : /^DynMasq/.test(canonical) ? 'mod_dynmasq' : /^SQL/.test(canonical) ? 'mod_sql' : /^IfSession/.test(canonical) ? 'mod_ifsession' : 'mod_core';
    return { name: canonical, module };
  }
  for (const [re, module] of MODULE_PREFIXES) if (re.test(name)) return { name, module };
  return undefined;
}

/** Every directive name ftpkit knows, for "did you mean" suggestions (implemented first). */
export function knownDirectiveNames(): string[] {
  return [
    ...SETTING_DIRECTIVES.map((d) => d.name),
    ...DAEMON_DIRECTIVES.map((d) => d.name),
    ...SERVER_DIRECTIVES.map((d) => d.name),
    ...LIMIT_DIRECTIVES,
    ...CLASS_DIRECTIVES,
    'Include',
    'Define',
    ...Object.keys(NOTE_DIRECTIVES),
    ...UNSUPPORTED.values(),
  ];
}

/** Lookup tables by lower-case name. */
export const SETTING_BY_NAME: ReadonlyMap<string, SettingSpec> = new Map(SETTING_DIRECTIVES.map((d) => [d.name.toLowerCase(), d]));
export const DAEMON_BY_NAME: ReadonlyMap<string, DaemonSpec> = new Map(DAEMON_DIRECTIVES.map((d) => [d.name.toLowerCase(), d]));
