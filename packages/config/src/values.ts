/**
 * Value parsers of directive arguments. Each returns `{ok:true,value}` or
 * `{ok:false,message,fix?}`; build.ts adds the file, line and directive name.
 */
import { compilePosixRegex, parseNameExpr } from '@ftpkit/classes';
import ipaddr from 'ipaddr.js';
import type {
  AllowForeignAddress,
  ClientLimit,
  DefaultRootRule,
  DelayRule,
  HiddenStores,
  HostSpec,
  PortRange,
  ServerIdent,
  TlsProtocol,
  TlsRequired,
  Umask,
} from './model.js';

/** Outcome of a value parser. */
export type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly fix?: string };

export function good<T>(value: T): Check<T> {
  return { ok: true, value };
}

export function bad<T>(message: string, fix?: string): Check<T> {
  return fix === undefined ? { ok: false, message } : { ok: false, message, fix };
}

/** A parser of a directive's arguments; `name` is the directive as written. */
export type ValueParser<T> = (args: readonly string[], name: string) => Check<T>;

function exactly<T>(n: number, usage: string, inner: (args: readonly string[], name: string) => Check<T>): ValueParser<T> {
  return (args, name) => {
    if (args.length !== n) return bad(`${name} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, `write ${usage}`);
    return inner(args, name);
  };
}

const TRUE = new Set(['on', 'yes', 'true', '1']);
const FALSE = new Set(['off', 'no', 'false', '0']);

/** ProFTPD's `get_boolean`: on/off, yes/no, true/false, 1/0, any case; undefined otherwise. */
export function parseBoolean(arg: string): boolean | undefined {
  const v = arg.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

export const bool: ValueParser<boolean> = (args, name) => {
  const arg = args[0];
  const v = args.length === 1 && arg !== undefined ? parseBoolean(arg) : undefined;
  if (v === undefined) return bad(`${name} expects on or off, got '${args.join(' ')}'`, `write ${name} on or ${name} off`);
  return good(v);
};

/** Seconds: `300`, `5m`, `2h`, `30s` or `hh:mm:ss` (pr_str_get_duration). */
export function parseDuration(arg: string): number | undefined {
  let m = /^(\d+)$/.exec(arg);
  if (m) return Number(m[1]);
  m = /^(\d+)\s*(h|hr|hrs|hour|hours|m|min|mins|minute|minutes|s|sec|secs|second|seconds)$/i.exec(arg);
  if (m) {
    const unit = (m[2] as string).toLowerCase()[0];
    return Number(m[1]) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
  }
  m = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(arg);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return undefined;
}

export function seconds(max: number, min = 0): ValueParser<number> {
  return exactly(1, 'a number of seconds', (args, name) => {
    const v = parseDuration(args[0] as string);
    if (v === undefined || v < min || v > max) {
      return bad(`${name} '${args[0]}' is not a number of seconds between ${min} and ${max}`, `write ${name} 600 (seconds; 10m and 00:10:00 also work${min === 0 ? '; 0 disables it' : ''})`);
    }
    return good(v);
  });
}

export function integer(min: number, max: number, example: number): ValueParser<number> {
  return exactly(1, 'a number', (args, name) => {
    const a = args[0] as string;
    const v = /^\d+$/.test(a) ? Number(a) : Number.NaN;
    if (!(v >= min && v <= max)) return bad(`${name} '${a}' is not a whole number between ${min} and ${max}`, `write ${name} ${example}`);
    return good(v);
  });
}

export const text: ValueParser<string> = exactly(1, 'one value (quote it if it has spaces)', (args) => good(args[0] as string));

export const path: ValueParser<string> = exactly(1, 'one path', (args, name) => {
  const p = args[0] as string;
  if (p === '') return bad(`${name} needs a path`, `write ${name} /path/to/file`);
  return good(p);
});

/** A path that must be absolute (PidFile, SystemLog, TransferLog, AuthUserFile…) or `NONE` when allowed. */
export function absolutePath(allowNone: boolean, example: string): ValueParser<string> {
  return exactly(1, 'one absolute path', (args, name) => {
    const p = args[0] as string;
    if (allowNone && p.toUpperCase() === 'NONE') return good('NONE');
    if (!p.startsWith('/')) {
      return bad(`${name} '${p}' is not an absolute path`, `write the full path, e.g. ${name} ${example}${allowNone ? ` (or ${name} NONE)` : ''}`);
    }
    return good(p);
  });
}

/** Classifies a host: IPv4 literal, IPv6 literal, or a name (DNS or interface). */
export function classifyHost(host: string): HostSpec['kind'] | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) return 'ipv4';
  if (host.includes(':')) return ipaddr.IPv6.isValid(host) ? 'ipv6' : undefined;
  if (/^[\d.]+$/.test(host)) return undefined;
  return /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/.test(host) ? 'name' : undefined;
}

/** MasqueradeAddress / TLSMasqueradeAddress: `ip-address|dns-name|device-name`. */
export const hostSpec: ValueParser<HostSpec> = (args, name) => {
  if (args.length !== 1 || args[0] === '') {
    return bad(`${name}: missing required name parameter`, `write ${name} 203.0.113.7 (the public address) or ${name} ftp.example.com`);
  }
  const host = args[0] as string;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const kind = classifyHost(bare);
  if (kind === undefined) return bad(`${name} '${host}' is neither an IP address nor a host or interface name`, `write ${name} 203.0.113.7 or ${name} ftp.example.com`);
  return good({ host: kind === 'ipv6' ? ipaddr.IPv6.parse(bare).toString() : bare, kind });
};

const PASSIVE_FIX = 'PassivePorts needs two ports 1024–65535, min below max (e.g. PassivePorts 60000 60100)';

/** `PassivePorts min max` with mod_core's checks (`set_passiveports`). */
export const passivePorts: ValueParser<PortRange> = (args, name) => {
  if (args.length !== 2) return bad(`${name} takes 2 ports, got ${args.length}`, PASSIVE_FIX);
  const [a, b] = args as [string, string];
  const num = (s: string): number => (/^\d+$/.test(s) ? Number(s) : Number.NaN);
  const min = num(a);
  const max = num(b);
  if (!(min > 0 && min <= 65535)) return bad(`${name} ${a} ${b}: min port must be allowable port number`, PASSIVE_FIX);
  if (!(max > 0 && max <= 65535)) return bad(`${name} ${a} ${b}: max port must be allowable port number`, PASSIVE_FIX);
  if (min < 1024 || max < 1024) return bad(`${name} ${a} ${b}: port numbers must be above 1023`, PASSIVE_FIX);
  if (max <= min) return bad(`${name} ${a} ${b}: min port must be less than max port`, PASSIVE_FIX);
  return good({ min, max });
};

export const allowForeign: ValueParser<AllowForeignAddress> = exactly(1, 'AllowForeignAddress on|off|<class>', (args) => {
  const a = args[0] as string;
  const b = parseBoolean(a);
  return good(b ?? { className: a });
});

/** `HiddenStores on|off|prefix [suffix]`: on = `.in.` + name + `.`. */
export const hiddenStores: ValueParser<HiddenStores | false> = (args, name) => {
  if (args.length < 1 || args.length > 2) return bad(`${name} takes on, off or a prefix [suffix], got ${args.length} arguments`, `write ${name} on`);
  const first = args[0] as string;
  const b = args.length === 1 ? parseBoolean(first) : undefined;
  if (b === false) return good(false);
  if (b === true) return good({ prefix: '.in.', suffix: '.' });
  if (first.includes('/') || (args[1] ?? '').includes('/')) return bad(`${name} prefix and suffix cannot contain '/'`, `write ${name} .in. .`);
  return good({ prefix: first, suffix: args[1] ?? '.' });
};

/** `MaxClients n|none ["message"]`. */
export const clientLimit: ValueParser<ClientLimit | false> = (args, name) => {
  if (args.length < 1 || args.length > 2) return bad(`${name} takes a number (or none) and an optional message, got ${args.length} arguments`, `write ${name} 10 "Sorry, the maximum number of clients (%m) are already connected."`);
  const first = args[0] as string;
  if (first.toLowerCase() === 'none') return good(false);
  if (!/^\d+$/.test(first) || Number(first) < 1) return bad(`${name} '${first}' must be a number of clients of at least 1, or none`, `write ${name} 10`);
  return good(args[1] !== undefined ? { max: Number(first), message: args[1] } : { max: Number(first) });
};

export const umask: ValueParser<Umask> = (args, name) => {
  if (args.length < 1 || args.length > 2) return bad(`${name} takes a file umask and an optional directory umask, got ${args.length} arguments`, `write ${name} 022 022`);
  const vals = args.map((a) => (/^0?[0-7]{1,4}$/.test(a) ? Number.parseInt(a, 8) : Number.NaN));
  if (vals.some((v) => Number.isNaN(v) || v > 0o777)) return bad(`${name} ${args.join(' ')}: not an octal mode such as 022`, `write ${name} 022 022`);
  return good({ file: vals[0] as number, dir: vals[1] ?? (vals[0] as number) });
};

/** A POSIX ERE (DenyFilter, AllowFilter). */
export const regex: ValueParser<string> = (args, name) => {
  if (args.length < 1 || args.length > 2) return bad(`${name} takes one regular expression, got ${args.length} arguments`, `write ${name} "\\*.*/"`);
  const r = compilePosixRegex(args[0] as string);
  if (!r.ok) return bad(`${name}: ${r.error.message}`, 'fix the regular expression (POSIX extended syntax)');
  return good(args[0] as string);
};

export const serverIdent: ValueParser<ServerIdent> = (args, name) => {
  const b = args[0] !== undefined ? parseBoolean(args[0]) : undefined;
  if (b === undefined || args.length > 2) return bad(`${name} expects on|off ["text"], got '${args.join(' ')}'`, `write ${name} on "FTP server ready"`);
  return good(args[1] !== undefined ? { on: b, text: args[1] } : { on: b });
};

const TLS_ALL: readonly TlsProtocol[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** `TLSProtocol TLSv1.2 TLSv1.3`, `ALL -TLSv1 -TLSv1.1`, `SSLv23` (= all). */
export const tlsProtocol: ValueParser<readonly TlsProtocol[]> = (args, name) => {
  if (args.length === 0) return bad(`${name} needs at least one protocol`, `write ${name} TLSv1.2 TLSv1.3`);
  let set = new Set<TlsProtocol>();
  for (const raw of args) {
    const sign = raw.startsWith('+') || raw.startsWith('-') ? raw[0] : '';
    const p = sign ? raw.slice(1) : raw;
    const lower = p.toLowerCase();
    let list: readonly TlsProtocol[];
    if (lower === 'all' || lower === 'sslv23') list = TLS_ALL;
    else {
      const hit = TLS_ALL.find((t) => t.toLowerCase() === lower);
      if (!hit) {
        const fix = lower === 'sslv3' ? 'SSLv3 is broken and not offered; use TLSv1.2 TLSv1.3' : `use TLSv1.2, TLSv1.3, ALL or -TLSv1`;
        return bad(`${name}: unknown protocol '${p}'`, fix);
      }
      list = [hit];
    }
    if (sign === '-') set = new Set([...set].filter((t) => !list.includes(t)));
    else list.forEach((t) => set.add(t));
  }
  if (set.size === 0) return bad(`${name} ${args.join(' ')} leaves no protocol`, `write ${name} TLSv1.2 TLSv1.3`);
  return good(TLS_ALL.filter((t) => set.has(t)));
};

/** `TLSRequired on|off|both|ctrl|control|data|!data|auth|auth+data|auth+!data|ctrl+!data`. */
export const tlsRequired: ValueParser<TlsRequired> = exactly(1, 'TLSRequired on', (args, name) => {
  const a = (args[0] as string).toLowerCase();
  const b = parseBoolean(a);
  const R = (control: TlsRequired['control'], data: TlsRequired['data'], authOnly = false): Check<TlsRequired> => good({ control, data, authOnly });
  if (b === true || a === 'both') return R('required', 'required');
  if (b === false) return R('optional', 'optional');
  switch (a) {
    case 'ctrl':
    case 'control':
      return R('required', 'optional');
    case 'data':
      return R('optional', 'required');
    case '!data':
      return R('optional', 'forbidden');
    case 'ctrl+!data':
      return R('required', 'forbidden');
    case 'auth':
      return R('required', 'optional', true);
    case 'auth+data':
      return R('required', 'required', true);
    case 'auth+!data':
      return R('required', 'forbidden', true);
    default:
      return bad(`${name}: unknown value '${args[0]}'`, `write ${name} on, off, ctrl, data, !data, auth, auth+data or auth+!data`);
  }
});

const TLS_OPTIONS = [
  'AllowClientRenegotiations',
  'AllowDotLogin',
  'AllowPerUser',
  'AllowWeakDH',
  'AllowWeakSecurity',
  'EnableDiags',
  'ExportCertData',
  'IgnoreSNI',
  'NoCertRequest',
  'NoEmptyFragments',
  'NoSessionReuseRequired',
  'NoTicketsRequired',
  'StdEnvVars',
  'UseImplicitSSL',
  'dNSNameRequired',
  'iPAddressRequired',
  'CommonNameRequired',
];

export const tlsOptions: ValueParser<readonly string[]> = (args, name) => {
  if (args.length === 0) return bad(`${name} needs at least one option`, `write ${name} NoSessionReuseRequired`);
  for (const a of args) {
    const known = TLS_OPTIONS.find((o) => o.toLowerCase() === a.toLowerCase());
    if (!known) return bad(`${name}: unknown TLSOption '${a}'`, `use one of ${TLS_OPTIONS.join(', ')}`);
  }
  return good(args.map((a) => TLS_OPTIONS.find((o) => o.toLowerCase() === a.toLowerCase()) as string));
};

export const proxyProtocolVersion: ValueParser<'protocolV1' | 'protocolV2'> = exactly(1, 'ProxyProtocolVersion protocolV1', (args, name) => {
  const a = (args[0] as string).toLowerCase();
  if (a === 'protocolv1' || a === 'haproxyv1') return good('protocolV1');
  if (a === 'protocolv2' || a === 'haproxyv2') return good('protocolV2');
  return bad(`${name}: unknown version '${args[0]}'`, `write ${name} protocolV1 or ${name} protocolV2`);
});

/** `ProxyProtocolOptions UseProxiedServerAddress` (mod_proxy_protocol's one option). */
export const proxyProtocolOptions: ValueParser<readonly 'UseProxiedServerAddress'[]> = (args, name) => {
  if (args.length === 0) return bad(`${name}: wrong number of parameters`, `write ${name} UseProxiedServerAddress`);
  for (const a of args) {
    if (a.toLowerCase() !== 'useproxiedserveraddress') return bad(`${name}: unknown ProxyProtocolOption '${a}'`, `the one option is UseProxiedServerAddress`);
  }
  return good(['UseProxiedServerAddress']);
};

const MAX_DELAY_MS = 2_147_483_647;

/**
 * A mod_delay duration in milliseconds (`delay_str_get_duration_ms`): `1500` or `1500ms`,
 * `2s`/`2sec`, `mm:ss.mmm`, and the range forms `1000-2000`, `1000-2000ms`, `1-2s`.
 */
export function parseDelayMs(arg: string): { min: number; max: number } | undefined {
  let m = /^(\d{1,2}):(\d{1,2})\.(\d{1,4})$/.exec(arg);
  if (m) {
    const ms = Number(m[1]) * 60_000 + Number(m[2]) * 1000 + Number(m[3]);
    return { min: ms, max: ms };
  }
  m = /^(\d+)(?:-(\d+))?(ms|s|sec)?$/i.exec(arg);
  if (!m) return undefined;
  const unit = (m[3] ?? 'ms').toLowerCase() === 'ms' ? 1 : 1000;
  const min = Number(m[1]) * unit;
  const max = m[2] === undefined ? min : Number(m[2]) * unit;
  if (min > MAX_DELAY_MS || max > MAX_DELAY_MS || (m[2] !== undefined && min >= max)) return undefined;
  return { min, max };
}

const DELAY_EVENTS: readonly DelayRule['event'][] = ['FailedLogin', 'USER', 'PASS', 'Connect'];

/** `DelayOnEvent FailedLogin|USER|PASS|Connect delay` (mod_delay). */
export const delayOnEvent: ValueParser<DelayRule> = (args, name) => {
  const fix = `write ${name} FailedLogin 1000ms`;
  if (args.length !== 2) return bad(`${name} takes an event and a delay, got ${args.length} arguments`, fix);
  const event = DELAY_EVENTS.find((e) => e.toLowerCase() === (args[0] as string).toLowerCase());
  if (event === undefined) return bad(`${name}: unknown/unsupported event: ${args[0]}`, `the events are ${DELAY_EVENTS.join(', ')}; ${fix}`);
  const d = parseDelayMs(args[1] as string);
  if (d === undefined) return bad(`${name}: error parsing delay parameter '${args[1]}'`, `give milliseconds (1000 or 1000ms), seconds (2s) or a range (1000-2000ms); ${fix}`);
  return good({ event, minMs: d.min, maxMs: d.max });
};

/** `ListOptions "-la" [strict] [maxdepth n]…`: the options string is kept; flags after it are accepted. */
export const listOptions: ValueParser<string> = (args, name) => {
  if (args.length === 0) return bad(`${name} needs the ls options`, `write ${name} "-l"`);
  return good(args[0] as string);
};

/** `DisplayChdir path [on|off]`. */
export const displayChdir: ValueParser<string> = (args, name) => {
  if (args.length < 1 || args.length > 2 || (args[1] !== undefined && parseBoolean(args[1]) === undefined)) {
    return bad(`${name} takes a file name and an optional on|off, got '${args.join(' ')}'`, `write ${name} .message`);
  }
  return good(args[0] as string);
};

/** `DefaultRoot dir [group-expression]` (group expression: AND of names, `!` negates). */
export const defaultRoot: ValueParser<DefaultRootRule> = (args, name) => {
  if (args.length < 1 || args.length > 2) return bad(`${name} takes a directory and an optional group list, got ${args.length} arguments`, `write ${name} ~ or ${name} /srv/ftp staff,!admin`);
  const dir = args[0] as string;
  if (!dir.startsWith('/') && !dir.startsWith('~')) return bad(`${name} '${dir}' must be an absolute path or start with ~`, `write ${name} ~`);
  if (args[1] === undefined) return good({ path: dir });
  const expr = parseNameExpr([args[1]], { defaultOp: 'and' });
  if (!expr.ok) return bad(`${name}: ${expr.error.message}`, `write ${name} ${dir} staff,!admin`);
  return good({ path: dir, groups: expr.value });
};

/** An address of `DefaultAddress` or `<VirtualHost>`: IP literal or host name. */
export function address(arg: string): Check<string> {
  const bare = arg.startsWith('[') && arg.endsWith(']') ? arg.slice(1, -1) : arg;
  const kind = classifyHost(bare);
  if (kind === undefined) return bad(`'${arg}' is not an IP address or host name`, 'write an address such as 192.168.0.10 or ::1, or a host name');
  return good(kind === 'ipv6' ? ipaddr.IPv6.parse(bare).toString() : bare);
}
