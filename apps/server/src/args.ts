/**
 * Command-line parsing for `ftpkit` (node:util parseArgs, no framework).
 *
 * Every subcommand has its own option table; unknown options and bad values are
 * reported as a {@link UsageError} (exit code 2) with the subcommand's usage text.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line mistake: print `message` and the usage, exit 2. */
export class UsageError extends Error {
  readonly code: string = 'ERR_USAGE';
  readonly usage: string;
  constructor(message: string, usage: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

export type LogFormat = 'pretty' | 'json';

/** Server options given as flags instead of a file (also accepted by `check` and `firewall`). */
export interface ServerFlags {
  root?: string;
  listen?: string;
  port?: number;
  masquerade?: string;
  passivePorts?: string;
  users: string[];
  anonymous: boolean;
  allowForeignAddress: boolean;
  exhaustion?: 'refuse' | 'kernel';
  /** At most this many passive ports held at once by one client address (0 = no cap). */
  passivePerClient?: number;
  /** `--tls`: FTPS on every server (TLSEngine on); a self-signed certificate where none is configured. */
  tls?: boolean;
}

export interface ConfigFlags {
  config?: string;
  defines: string[];
  lenient: boolean;
}

/** How one process takes part in a larger deployment (`ftpkit serve` only; with --config too). */
export interface ScaleFlags {
  /** `--workers n`: run n processes (node:cluster); undefined = one process. */
  workers?: number;
  /** `--passive-partition i/n`: this instance's part of every PassivePorts range (index from 0). */
  partition?: { index: number; count: number };
  /** `--passive-share`: share mode for passive ports (also `PassivePortsShared on`). */
  share: boolean;
  /** `--passive-expose advertised:listened` (repeatable). */
  expose: { from: { min: number; max: number }; to: { min: number; max: number } }[];
}

export interface ServeArgs extends ConfigFlags {
  command: 'serve';
  flags: ServerFlags;
  scale: ScaleFlags;
  logFormat?: LogFormat;
  logLevel: string;
  drainTimeoutMs: number;
}

export interface CheckArgs extends ConfigFlags {
  command: 'check';
  flags: ServerFlags;
  json: boolean;
  scan: boolean;
  strict: boolean;
}

export interface ProbeArgs {
  command: 'probe';
  url: string;
  expectPorts?: string;
  expectAddress?: string;
  timeoutMs: number;
  json: boolean;
  epsv: boolean;
  pasv: boolean;
  list: boolean;
}

export interface FirewallArgs extends ConfigFlags {
  command: 'firewall';
  flags: ServerFlags;
  format: 'nftables' | 'iptables';
  publicAddress?: string;
  serverAddress?: string;
  role?: 'router' | 'host';
}

export type CliArgs =
  | ServeArgs
  | CheckArgs
  | ProbeArgs
  | FirewallArgs
  | { command: 'help'; topic?: string }
  | { command: 'version' };

export const MAIN_USAGE: string = `Usage: ftpkit <command> [options]

Commands:
  serve      run the FTP server (no options: serve ./ftp-root on 127.0.0.1:2121, anonymous, read-only)
  check      validate a configuration and check NAT settings (like proftpd -t, plus more)
  probe      test a server from the client's side: PASV/EPSV address, port, data connection
  firewall   print nftables or iptables rules for the control port and passive range

Run 'ftpkit <command> --help' for the options of a command.
  -h, --help       show help
  -v, --version    show the version
`;

const SERVER_FLAGS_USAGE = `Server options (instead of a configuration file):
  --root <dir>                 folder to serve (default ./ftp-root, created if missing)
  --listen <address>           address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  -p, --port <n>               control port (default 2121)
  --masquerade <ip|name>       address advertised in PASV replies (MasqueradeAddress)
  --passive-ports <a-b>        passive port range (default 60000-60100)
  --user <name:password>       a login with read-write access to the root (repeatable)
  --anonymous                  also allow anonymous read-only logins when --user is given
  --allow-foreign-address      allow data connections from/to other addresses (FXP)`;

const EXHAUSTION_USAGE = `  --exhaustion refuse|kernel   when every PassivePorts port is taken: refuse with 425, or let
                               the kernel pick a port outside the range, as ProFTPD does
                               (default kernel; both are logged). Works with --config too.
  --passive-per-client <n>     at most n passive ports held at once by one client address,
                               so one address cannot take the whole range (425 beyond it;
                               default 0 = no cap, as ProFTPD). Works with --config too.`;

const TLS_USAGE = `  --tls                        FTPS (AUTH TLS, PROT P) on every server, as TLSEngine on; where
                               no certificate is configured, a self-signed one generated for
                               testing (clients must not verify it). Works with --config too.`;

const CONFIG_USAGE = `Configuration:
  -c, --config <file>          a proftpd.conf-style configuration file
  -D, --define <NAME>          define NAME for <IfDefine NAME> (repeatable)
  --lenient                    warn about unknown directives instead of failing`;

export const SERVE_USAGE: string = `Usage: ftpkit serve [--config file | server options]

${CONFIG_USAGE}

${SERVER_FLAGS_USAGE}

Passive ports:
${EXHAUSTION_USAGE}

FTPS:
${TLS_USAGE}

Scaling out (these work with --config too):
  --workers <n>                run n server processes sharing the control port (node:cluster);
                               each takes its own part of every PassivePorts range; a worker
                               that dies is replaced
  --passive-partition <i>/<n>  this instance hands out only part i of n of every PassivePorts
                               range (instances behind a load balancer, e.g. 1/2 and 2/2)
  --passive-share              one passive port serves several clients at once, told apart by
                               their address (a few ports for many clients: Kubernetes);
                               in a configuration file: PassivePortsShared on
  --passive-expose <a-b>:<c-d> listen on c-d, advertise a-b (Docker -p a-b:c-d); repeatable,
                               every PassivePorts port must be covered

Logging and lifecycle:
  --log-format pretty|json     default: pretty on a terminal, JSON otherwise
  --log-level <level>          trace, debug, info (default), warn, error
  --drain-timeout <seconds>    on SIGTERM, how long transfers may run before closing (default 30)

Signals: SIGHUP reloads the configuration (open sessions keep theirs); SIGTERM/SIGINT drain.
`;

export const CHECK_USAGE: string = `Usage: ftpkit check [--config file | server options]

Validates the configuration (exit 1 with file:line errors), resolves every
MasqueradeAddress, scans the PassivePorts range for ports other processes hold, and
compares the range with MaxClients.

${CONFIG_USAGE}

${SERVER_FLAGS_USAGE}

Output:
  --json                       machine-readable report
  --no-scan                    do not try to bind the passive ports
  --strict                     exit 1 on warnings too
`;

export const PROBE_USAGE: string = `Usage: ftpkit probe ftp://[user[:password]@]host[:port] [options]

Connects like a client, logs in (anonymous by default), sends PASV and EPSV, decodes the
advertised address and port, and opens a data connection for LIST. Exit code 0 when every
check passes, 1 otherwise.

Options:
  --expect-ports <a-b>         the PassivePorts range the ports must lie in
  --expect-address <ip>        the address PASV must advertise (your public IP)
  --timeout <ms>               connect/reply timeout for each step (default 5000)
  --no-epsv | --no-pasv        skip one of the two
  --no-list                    only check the advertised address, no data connection
  --json                       machine-readable report
`;

export const FIREWALL_USAGE: string = `Usage: ftpkit firewall --format nftables|iptables [--config file | server options] [options]

Prints rules for the control port(s) and passive range(s) of the configuration.
  role router: DNAT from the public address to the server, and FORWARD accepts;
  role host:   INPUT accepts on the FTP server itself.

Options:
  --format nftables|iptables   output syntax (nft -f / iptables-restore --noflush)
  --public <ip>                the router's public address (default: MasqueradeAddress)
  --server <lan ip>            the FTP server's LAN address (default: the configured address)
  --role router|host           default: router when both addresses are known, else host

${CONFIG_USAGE}

${SERVER_FLAGS_USAGE}
`;

const configOptions = {
  config: { type: 'string', short: 'c' },
  define: { type: 'string', short: 'D', multiple: true },
  lenient: { type: 'boolean' },
} as const;

const serverOptions = {
  root: { type: 'string' },
  listen: { type: 'string' },
  port: { type: 'string', short: 'p' },
  masquerade: { type: 'string' },
  'passive-ports': { type: 'string' },
  user: { type: 'string', multiple: true },
  anonymous: { type: 'boolean' },
  'allow-foreign-address': { type: 'boolean' },
  exhaustion: { type: 'string' },
  'passive-per-client': { type: 'string' },
  tls: { type: 'boolean' },
} as const;

const helpOption = { help: { type: 'boolean', short: 'h' } } as const;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function parse(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Parse a TCP port argument (1-65535). */
export function parsePortNumber(text: string, what: string, usage: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new UsageError(`${what}: '${text}' is not a port number (1-65535)`, usage);
  }
  return Number(text);
}

/** Parse "a-b" (or a single port) into a range; both ends 1024-65535 like PassivePorts. */
export function parsePortRangeArg(text: string, what: string, usage: string): { min: number; max: number } {
  const m = /^(\d{1,5})(?:\s*[-:]\s*(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: '${text}' is not a port range such as 60000-60100`, usage);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < 1024 || max > 65535 || min > max) {
    throw new UsageError(`${what}: '${text}' must be min-max with 1024 <= min <= max <= 65535`, usage);
  }
  return { min, max };
}

function serverFlags(values: Values, usage: string): ServerFlags {
  const flags: ServerFlags = {
    users: strs(values['user']),
    anonymous: values['anonymous'] === true,
    allowForeignAddress: values['allow-foreign-address'] === true,
  };
  const root = str(values['root']);
  if (root !== undefined) flags.root = root;
  const listen = str(values['listen']);
  if (listen !== undefined) flags.listen = listen;
  const port = str(values['port']);
  if (port !== undefined) flags.port = parsePortNumber(port, '--port', usage);
  const masq = str(values['masquerade']);
  if (masq !== undefined) {
    if (masq.trim() === '') throw new UsageError('--masquerade: an address or name is required', usage);
    flags.masquerade = masq;
  }
  const pp = str(values['passive-ports']);
  if (pp !== undefined) {
    const r = parsePortRangeArg(pp, '--passive-ports', usage);
    // PassivePorts needs two ports, min below max (ProFTPD mod_core set_passiveports).
    if (r.min === r.max) throw new UsageError(`--passive-ports: '${pp}' must span at least two ports (min-max, min below max)`, usage);
    flags.passivePorts = `${r.min}-${r.max}`;
  }
  for (const u of flags.users) {
    const i = u.indexOf(':');
    if (i <= 0 || i === u.length - 1) throw new UsageError(`--user: '${u}' must be name:password`, usage);
    if (/\s/.test(u.slice(0, i))) throw new UsageError(`--user: the name '${u.slice(0, i)}' contains white space`, usage);
  }
  const ex = str(values['exhaustion']);
  if (ex !== undefined) {
    if (ex !== 'refuse' && ex !== 'kernel') throw new UsageError(`--exhaustion: '${ex}' must be refuse or kernel`, usage);
    flags.exhaustion = ex;
  }
  const cap = str(values['passive-per-client']);
  if (cap !== undefined) {
    if (!/^\d{1,5}$/.test(cap)) throw new UsageError(`--passive-per-client: '${cap}' is not a number of ports`, usage);
    flags.passivePerClient = Number(cap);
  }
  if (values['tls'] === true) flags.tls = true;
  return flags;
}

/**
 * True when a flag that stands for a directive was given (those cannot be combined with
 * --config; `--exhaustion` and `--passive-per-client` can, as no directive sets them).
 */
export function hasServerFlags(flags: ServerFlags): boolean {
  return (
    flags.root !== undefined ||
    flags.listen !== undefined ||
    flags.port !== undefined ||
    flags.masquerade !== undefined ||
    flags.passivePorts !== undefined ||
    flags.users.length > 0 ||
    flags.anonymous ||
    flags.allowForeignAddress
  );
}

function configFlags(values: Values, flags: ServerFlags, usage: string): ConfigFlags {
  const out: ConfigFlags = { defines: strs(values['define']), lenient: values['lenient'] === true };
  const config = str(values['config']);
  if (config !== undefined) {
    if (hasServerFlags(flags)) {
      throw new UsageError(
        'server options (--root, --port, --masquerade, …) cannot be combined with --config: set the directives in the file',
        usage,
      );
    }
    out.config = config;
  }
  return out;
}

function noPositionals(positionals: string[], usage: string): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`, usage);
}

const scaleOptions = {
  workers: { type: 'string' },
  'passive-partition': { type: 'string' },
  'passive-share': { type: 'boolean' },
  'passive-expose': { type: 'string', multiple: true },
} as const;

function scaleFlags(values: Values, usage: string): ScaleFlags {
  const out: ScaleFlags = { share: values['passive-share'] === true, expose: [] };
  const workers = str(values['workers']);
  if (workers !== undefined) {
    if (!/^\d{1,3}$/.test(workers) || Number(workers) < 1 || Number(workers) > 256) {
      throw new UsageError(`--workers: '${workers}' must be a number of processes from 1 to 256`, usage);
    }
    out.workers = Number(workers);
  }
  const part = str(values['passive-partition']);
  if (part !== undefined) {
    const m = /^(\d{1,4})\/(\d{1,4})$/.exec(part);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (m === null || index < 1 || count < 1 || index > count) {
      throw new UsageError(`--passive-partition: '${part}' must be i/n with 1 <= i <= n (this instance's part, e.g. 1/2)`, usage);
    }
    out.partition = { index: index - 1, count };
  }
  for (const e of strs(values['passive-expose'])) {
    const [advertised, listened, ...extra] = e.split(':');
    if (advertised === undefined || listened === undefined || extra.length > 0) {
      throw new UsageError(`--passive-expose: '${e}' must be advertised:listened, e.g. 30000-30099:60000-60099`, usage);
    }
    const to = parsePortRangeArg(advertised, '--passive-expose', usage);
    const from = parsePortRangeArg(listened, '--passive-expose', usage);
    if (to.max - to.min !== from.max - from.min) {
      throw new UsageError(`--passive-expose: '${e}': ${advertised} and ${listened} differ in size`, usage);
    }
    out.expose.push({ from, to });
  }
  return out;
}

/** Parse `process.argv.slice(2)`. Throws {@link UsageError}. */
export function parseCli(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      return rest[0] === undefined ? { command: 'help' } : { command: 'help', topic: rest[0] };
    case '-v':
    case '--version':
    case 'version':
      return { command: 'version' };
    case 'serve': {
      const { values, positionals } = parse(
        rest,
        { ...configOptions, ...serverOptions, ...scaleOptions, ...helpOption, 'log-format': { type: 'string' }, 'log-level': { type: 'string' }, 'drain-timeout': { type: 'string' } },
        SERVE_USAGE,
      );
      if (values['help'] === true) return { command: 'help', topic: 'serve' };
      noPositionals(positionals, SERVE_USAGE);
      const flags = serverFlags(values, SERVE_USAGE);
      const logFormat = str(values['log-format']);
      if (logFormat !== undefined && logFormat !== 'pretty' && logFormat !== 'json') {
        throw new UsageError(`--log-format: '${logFormat}' must be pretty or json`, SERVE_USAGE);
      }
      const logLevel = str(values['log-level']) ?? 'info';
      if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
        throw new UsageError(`--log-level: '${logLevel}' is not a level`, SERVE_USAGE);
      }
      const drain = str(values['drain-timeout']) ?? '30';
      if (!/^\d+(\.\d+)?$/.test(drain)) throw new UsageError(`--drain-timeout: '${drain}' is not a number of seconds`, SERVE_USAGE);
      return {
        command: 'serve',
        ...configFlags(values, flags, SERVE_USAGE),
        flags,
        scale: scaleFlags(values, SERVE_USAGE),
        ...(logFormat === undefined ? {} : { logFormat }),
        logLevel,
        drainTimeoutMs: Math.round(Number(drain) * 1000),
      };
    }
    case 'check': {
      const { values, positionals } = parse(
        rest,
        { ...configOptions, ...serverOptions, ...helpOption, json: { type: 'boolean' }, 'no-scan': { type: 'boolean' }, strict: { type: 'boolean' } },
        CHECK_USAGE,
      );
      if (values['help'] === true) return { command: 'help', topic: 'check' };
      noPositionals(positionals, CHECK_USAGE);
      const flags = serverFlags(values, CHECK_USAGE);
      return {
        command: 'check',
        ...configFlags(values, flags, CHECK_USAGE),
        flags,
        json: values['json'] === true,
        scan: values['no-scan'] !== true,
        strict: values['strict'] === true,
      };
    }
    case 'probe': {
      const { values, positionals } = parse(
        rest,
        {
          ...helpOption,
          'expect-ports': { type: 'string' },
          'expect-address': { type: 'string' },
          timeout: { type: 'string' },
          json: { type: 'boolean' },
          'no-epsv': { type: 'boolean' },
          'no-pasv': { type: 'boolean' },
          'no-list': { type: 'boolean' },
        },
        PROBE_USAGE,
      );
      if (values['help'] === true) return { command: 'help', topic: 'probe' };
      const [url, ...extra] = positionals;
      if (url === undefined) throw new UsageError('a URL such as ftp://ftp.example.com is required', PROBE_USAGE);
      noPositionals(extra, PROBE_USAGE);
      const expectPorts = str(values['expect-ports']);
      if (expectPorts !== undefined) {
        for (const part of expectPorts.split(',')) parsePortRangeArg(part, '--expect-ports', PROBE_USAGE);
      }
      const timeout = str(values['timeout']) ?? '5000';
      if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
        throw new UsageError(`--timeout: '${timeout}' is not a number of milliseconds`, PROBE_USAGE);
      }
      if (values['no-epsv'] === true && values['no-pasv'] === true) {
        throw new UsageError('--no-epsv and --no-pasv together leave nothing to probe', PROBE_USAGE);
      }
      const expectAddress = str(values['expect-address']);
      return {
        command: 'probe',
        url,
        ...(expectPorts === undefined ? {} : { expectPorts }),
        ...(expectAddress === undefined ? {} : { expectAddress }),
        timeoutMs: Number(timeout),
        json: values['json'] === true,
        epsv: values['no-epsv'] !== true,
        pasv: values['no-pasv'] !== true,
        list: values['no-list'] !== true,
      };
    }
    case 'firewall': {
      const { values, positionals } = parse(
        rest,
        {
          ...configOptions,
          ...serverOptions,
          ...helpOption,
          format: { type: 'string' },
          public: { type: 'string' },
          server: { type: 'string' },
          role: { type: 'string' },
        },
        FIREWALL_USAGE,
      );
      if (values['help'] === true) return { command: 'help', topic: 'firewall' };
      noPositionals(positionals, FIREWALL_USAGE);
      const format = str(values['format']);
      if (format !== 'nftables' && format !== 'iptables') {
        throw new UsageError(
          format === undefined ? '--format nftables|iptables is required' : `--format: '${format}' must be nftables or iptables`,
          FIREWALL_USAGE,
        );
      }
      const role = str(values['role']);
      if (role !== undefined && role !== 'router' && role !== 'host') {
        throw new UsageError(`--role: '${role}' must be router or host`, FIREWALL_USAGE);
      }
      const flags = serverFlags(values, FIREWALL_USAGE);
      const pub = str(values['public']);
      const srv = str(values['server']);
      return {
        command: 'firewall',
        ...configFlags(values, flags, FIREWALL_USAGE),
        flags,
        format,
        ...(pub === undefined ? {} : { publicAddress: pub }),
        ...(srv === undefined ? {} : { serverAddress: srv }),
        ...(role === undefined ? {} : { role }),
      };
    }
    default:
      throw new UsageError(`unknown command '${command}'`, MAIN_USAGE);
  }
}

/** The usage text for `ftpkit help <topic>`. */
export function usageFor(topic: string | undefined): string {
  switch (topic) {
    case 'serve':
      return SERVE_USAGE;
    case 'check':
      return CHECK_USAGE;
    case 'probe':
      return PROBE_USAGE;
    case 'firewall':
      return FIREWALL_USAGE;
    default:
      return MAIN_USAGE;
  }
}
