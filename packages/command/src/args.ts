/**
 * Typed parsers for command arguments. Each returns `{ ok: true, value }` or
 * `{ ok: false, error: { code, replyCode, message } }` where `replyCode` and `message` are
 * the reply to send (ProFTPD's wording where ProFTPD has one; reference §0, §3.2-§3.4).
 * None of them throws, whatever the client sent.
 */
import ipaddr from 'ipaddr.js';
import { CommandCodecError, fail, ok, type Result } from './errors.js';
import { asciiUpper } from './parse.js';

/** An address family number of RFC 2428 §2: 1 = IPv4, 2 = IPv6. */
export type AddressFamily = 1 | 2;

export interface FamilyOptions {
  /** The families the server accepts; default `[1, 2]`. Others get 522 naming these. */
  families?: readonly AddressFamily[];
}

const BOTH: readonly AddressFamily[] = [1, 2];
const MISSING = 'Invalid number of parameters';

function missing<T>(): Result<T> {
  return fail('ERR_ARG_MISSING', 501, MISSING);
}

function unsupportedFamily<T>(families: readonly AddressFamily[]): Result<T> {
  // RFC 2428 §2/§3: 522 lists the supported families in parentheses.
  return fail('ERR_FAMILY_UNSUPPORTED', 522, `Network protocol not supported, use (${families.join(',')})`);
}

const PORT_ARG = /^(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})$/;

/**
 * `PORT h1,h2,h3,h4,p1,p2` (RFC 959 §4.1.2): six decimal fields, each 0–255, no spaces.
 * As ProFTPD (reference §3.3), the address 0.0.0.0 and port 0 are refused. Every refusal is
 * `501 Illegal PORT command`; `code` tells `ERR_PORT_SYNTAX` from `ERR_PORT_VALUE`, the two
 * cases ProFTPD logs differently (`… is not syntactically valid` / `… has invalid value(s)`).
 */
export function parsePortArg(arg: string | undefined): Result<{ host: string; port: number }> {
  if (arg === undefined || arg === '') return missing();
  const m = PORT_ARG.exec(arg);
  if (m === null) return fail('ERR_PORT_SYNTAX', 501, 'Illegal PORT command');
  const f = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (f.some((n) => n > 255)) return fail('ERR_PORT_VALUE', 501, 'Illegal PORT command');
  const port = f[4] * 256 + f[5];
  if ((f[0] | f[1] | f[2] | f[3]) === 0 || port === 0) return fail('ERR_PORT_VALUE', 501, 'Illegal PORT command');
  return ok({ host: `${f[0]}.${f[1]}.${f[2]}.${f[3]}`, port });
}

const DIGITS = /^\d+$/;

/** A decimal port 1–65535 with no sign, spaces or other characters. */
function portNumber(s: string): number | undefined {
  if (s.length > 5 || !DIGITS.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * A textual IPv6 address from the client, checked with ipaddr.js, written as RFC 5952 does
 * (lower case, `::` compression, `::ffff:a.b.c.d` for IPv4-mapped). Zone ids are refused: a
 * client's `%eth0` means nothing on the server.
 */
function ipv6Text(addr: string): string | undefined {
  if (addr.includes('%') || !ipaddr.IPv6.isValid(addr)) return undefined;
  const ip = ipaddr.IPv6.parse(addr);
  return ip.isIPv4MappedAddress() ? `::ffff:${ip.toIPv4Address().toString()}` : ip.toString();
}

/**
 * `EPRT <d><af><d><addr><d><port><d>` (RFC 2428 §2). The delimiter is the first
 * character and may be any of ASCII 33–126. `af` 1 takes a dotted-decimal IPv4 address,
 * 2 an IPv6 address (both checked with ipaddr.js); the port is 1–65535.
 *
 * - an `af` other than the accepted families (including a non-number): `522 Network
 *   protocol not supported, use (1,2)` (`ERR_FAMILY_UNSUPPORTED`), checked first, as ProFTPD does;
 * - a missing delimiter or trailing text: `501 Illegal EPRT command` (`ERR_EPRT_SYNTAX`);
 * - a bad address or port: `501 Illegal EPRT command` (`ERR_EPRT_ADDRESS`, `ERR_EPRT_PORT`).
 *   ProFTPD answers port 0 later with 500 and wraps ports above 65535; both are refused here.
 */
export function parseEprtArg(
  arg: string | undefined,
  opts: FamilyOptions = {},
): Result<{ family: AddressFamily; host: string; port: number }> {
  if (arg === undefined || arg === '') return missing();
  const d = arg.charCodeAt(0);
  if (d < 33 || d > 126) return fail('ERR_EPRT_SYNTAX', 501, 'Illegal EPRT command');
  const parts = arg.split(arg[0] as string);
  const families = opts.families ?? BOTH;
  const family = parts[1] === '1' ? 1 : parts[1] === '2' ? 2 : 0;
  if (family === 0 || !families.includes(family)) return unsupportedFamily(families);
  if (parts.length !== 5 || parts[4] !== '') return fail('ERR_EPRT_SYNTAX', 501, 'Illegal EPRT command');
  const addr = parts[2] as string;
  const host = family === 1 ? (ipaddr.IPv4.isValidFourPartDecimal(addr) ? addr : undefined) : ipv6Text(addr);
  if (host === undefined) return fail('ERR_EPRT_ADDRESS', 501, 'Illegal EPRT command');
  const port = portNumber(parts[3] as string);
  if (port === undefined) return fail('ERR_EPRT_PORT', 501, 'Illegal EPRT command');
  return ok({ family, host, port });
}

/** What `EPSV` asked for (RFC 2428 §3, §4). */
export type EpsvRequest = { kind: 'all' } | { kind: 'family'; family: AddressFamily } | { kind: 'any' };

/**
 * `EPSV`, `EPSV <af>` or `EPSV ALL` (RFC 2428 §3-§4; `ALL` in any case). No argument →
 * `any` (the family of the control connection). A number outside the accepted families →
 * `522 Network protocol not supported, use (1,2)`; anything else →
 * `501 EPSV: unknown network protocol` (ProFTPD, reference §3.2).
 */
export function parseEpsvArg(arg: string | undefined, opts: FamilyOptions = {}): Result<EpsvRequest> {
  if (arg === undefined || arg === '') return ok({ kind: 'any' });
  if (asciiUpper(arg) === 'ALL') return ok({ kind: 'all' });
  if (!DIGITS.test(arg)) return fail('ERR_EPSV_SYNTAX', 501, 'EPSV: unknown network protocol');
  const families = opts.families ?? BOTH;
  const family = arg === '1' ? 1 : arg === '2' ? 2 : 0;
  if (family === 0 || !families.includes(family)) return unsupportedFamily(families);
  return ok({ kind: 'family', family });
}

/** ProFTPD's `'<CMD> <arg>' not understood` (the command line as the client sent it). */
function notUnderstood<T>(code: string, replyCode: number, verb: string, arg: string): Result<T> {
  return fail(code, replyCode, `'${arg === '' ? verb : `${verb} ${arg}`}' not understood`);
}

/** The words of an argument, split at spaces as ProFTPD splits a command line. */
function words(arg: string): string[] {
  return arg.split(' ').filter((x) => x !== '');
}

/**
 * `TYPE` (RFC 959 §4.1.2, §5.3.2) as ProFTPD's mod_xfer reads it: one or two words; `A`
 * (with any format, `A N`, `A T`) and `L 7` are ASCII, `I` and `L 8` are binary, in any
 * case. Another type gets `504 TYPE not implemented for '<type>' parameter` (the first
 * word: `TYPE L 16` names `L`, `TYPE Q` names `Q`); no argument or more than two words
 * get `500 'TYPE …' not understood`.
 */
export function parseTypeArg(arg: string | undefined): Result<{ type: 'A' | 'I' }> {
  const text = arg ?? '';
  const w = words(text);
  if (w.length < 1 || w.length > 2) return notUnderstood('ERR_TYPE_SYNTAX', 500, 'TYPE', text);
  const t = asciiUpper(w[0] as string);
  const p = w[1];
  if (t === 'A' || (t === 'L' && p === '7')) return ok({ type: 'A' });
  if (t === 'I' || (t === 'L' && p === '8')) return ok({ type: 'I' });
  return fail('ERR_TYPE_UNSUPPORTED', 504, `TYPE not implemented for '${w[0] as string}' parameter`);
}

/** One-letter arguments of MODE and STRU: the supported one, the RFC 959 ones a server may refuse, the rest. */
function letterArg<T extends string>(
  verb: string,
  arg: string | undefined,
  supported: T,
  known: string,
  what: string,
  codes: { syntax: string; unsupported: string },
): Result<T> {
  const text = arg ?? '';
  // ProFTPD: anything but exactly one word is `501 '<CMD> …' not understood`.
  if (words(text).length !== 1) return notUnderstood(codes.syntax, 501, verb, text);
  const word = text.trim();
  const a = asciiUpper(word);
  if (a === supported) return ok(supported);
  if (a.length === 1 && known.includes(a)) return fail(codes.unsupported, 504, `'${verb} ${word}' unsupported ${what}`);
  return fail(codes.syntax, 501, `'${verb} ${word}' unrecognized ${what}`);
}

/**
 * `MODE` (RFC 959 §4.1.2): only `S` (stream) is supported. `B` and `C` (RFC 959) get
 * `504 'MODE B' unsupported transfer mode`; anything else (`Z` too: no deflate here)
 * `501 'MODE Z' unrecognized transfer mode` (the argument as sent, as ProFTPD); no
 * argument or more than one word `501 'MODE …' not understood`.
 */
export function parseModeArg(arg: string | undefined): Result<'S'> {
  return letterArg('MODE', arg, 'S', 'BC', 'transfer mode', { syntax: 'ERR_MODE_SYNTAX', unsupported: 'ERR_MODE_UNSUPPORTED' });
}

/**
 * `STRU` (RFC 959 §4.1.2): only `F` (file) is supported. `R` and `P` get
 * `504 'STRU R' unsupported structure type`; anything else
 * `501 'STRU X' unrecognized structure type`; no argument or more than one word
 * `501 'STRU …' not understood`.
 */
export function parseStruArg(arg: string | undefined): Result<'F'> {
  return letterArg('STRU', arg, 'F', 'RP', 'structure type', { syntax: 'ERR_STRU_SYNTAX', unsupported: 'ERR_STRU_UNSUPPORTED' });
}

/**
 * `ALLO <size> [R <size>]` (RFC 959 §4.1.3) as ProFTPD's mod_xfer checks it: one or three
 * words, else `504 'ALLO …' not understood`; a size that is not a decimal number →
 * `504 <size>: Invalid ALLO argument`. The value is the requested size in bytes.
 */
export function parseAlloArg(arg: string | undefined): Result<number> {
  const text = arg ?? '';
  const w = words(text);
  if (w.length !== 1 && w.length !== 3) return notUnderstood('ERR_ALLO_SYNTAX', 504, 'ALLO', text);
  const size = w[0] as string;
  if (!/^[+-]?\d+$/.test(size)) return fail('ERR_ALLO_INVALID', 504, `${size}: Invalid ALLO argument`);
  return ok(Number(size));
}

/**
 * `REST <offset>` in stream mode (RFC 3659 §5.3): a decimal byte offset from 0 to
 * 2^53−1 (`Number.MAX_SAFE_INTEGER`), digits only. Anything else → 501 (`ERR_REST_INVALID`).
 */
export function parseRestArg(arg: string | undefined): Result<number> {
  if (arg === undefined || arg === '') return missing();
  if (arg.length > 16 || !DIGITS.test(arg)) return fail('ERR_REST_INVALID', 501, 'Invalid REST parameter');
  const n = Number(arg);
  return Number.isSafeInteger(n) ? ok(n) : fail('ERR_REST_INVALID', 501, 'Invalid REST parameter');
}

/**
 * `OPTS <command> [<options>]` (RFC 2389 §4): the command name, upper-cased, and the rest
 * after one space, verbatim (`undefined` when there is none).
 */
export function parseOptsArg(arg: string | undefined): Result<{ command: string; options: string | undefined }> {
  if (arg === undefined || arg.trim() === '') return missing();
  const sp = arg.indexOf(' ');
  if (sp === -1) return ok({ command: asciiUpper(arg), options: undefined });
  return ok({ command: asciiUpper(arg.slice(0, sp)), options: arg.slice(sp + 1) });
}

const UTF8_ON: ReadonlySet<string> = new Set(['ON', 'YES', 'TRUE', '1']);
const UTF8_OFF: ReadonlySet<string> = new Set(['OFF', 'NO', 'FALSE', '0']);

/**
 * The option of `OPTS UTF8` (draft-ietf-ftpext-utf-8-option, used with RFC 2640), read as
 * ProFTPD 1.3.8 reads it: one boolean word, in any case (`ON`/`YES`/`TRUE`/`1` → true,
 * `OFF`/`NO`/`FALSE`/`0` → false). No option or more than one word →
 * `501 'OPTS UTF8' not understood`; another word → `501 Invalid UTF8 option`.
 */
export function parseUtf8Option(options: string | undefined): Result<boolean> {
  const w = words(options ?? '');
  if (w.length !== 1) return fail('ERR_OPTS_UTF8_SYNTAX', 501, "'OPTS UTF8' not understood");
  const o = asciiUpper(w[0] as string);
  if (UTF8_ON.has(o)) return ok(true);
  if (UTF8_OFF.has(o)) return ok(false);
  return fail('ERR_OPTS_UTF8_INVALID', 501, 'Invalid UTF8 option');
}

/**
 * The fact list of `OPTS MLST fact;fact;…` (RFC 3659 §7.9): the requested fact names, in
 * order, empty when none (which turns every optional fact off). Never fails: unknown
 * facts are simply not selected (see {@link selectMlstFacts}).
 */
export function parseMlstOptions(options: string | undefined): string[] {
  if (options === undefined) return [];
  return options
    .split(';')
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

/**
 * The supported facts a client selected with `OPTS MLST` (fact names are case-insensitive,
 * RFC 3659 §7.5), in the server's order and spelling.
 */
export function selectMlstFacts(requested: readonly string[], supported: readonly string[]): string[] {
  const want = new Set(requested.map((f) => f.toLowerCase()));
  return supported.filter((f) => want.has(f.toLowerCase()));
}

/**
 * The FEAT line for MLST (RFC 3659 §7.8): every supported fact followed by `*` when it is
 * enabled and `;`. `formatMlstFeat(['type', 'size', 'perm'], ['type', 'size'])` →
 * `'MLST type*;size*;perm;'`.
 */
export function formatMlstFeat(supported: readonly string[], enabled: readonly string[]): string {
  const on = new Set(enabled.map((f) => f.toLowerCase()));
  return `MLST ${supported.map((f) => `${f}${on.has(f.toLowerCase()) ? '*' : ''};`).join('')}`;
}

/** The text of the 200 reply to `OPTS MLST` (RFC 3659 §7.9): `'MLST OPTS type;size;'`. */
export function formatMlstOptsReply(enabled: readonly string[]): string {
  return `MLST OPTS ${enabled.map((f) => `${f};`).join('')}`;
}

/** What `HOST` named (RFC 7151 §3). */
export type HostRequest = { kind: 'ipv4' | 'ipv6' | 'name'; host: string };

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * `HOST <host>` (RFC 7151 §3): a domain name, a dotted IPv4 address, or an IPv6 address in
 * square brackets. Names come back in lower case without a trailing dot, IPv6 addresses as
 * RFC 5952 writes them. A port, a bare IPv6 address or anything else →
 * `501 <arg>: Invalid hostname provided` (ProFTPD, reference §9.5).
 */
export function parseHostArg(arg: string | undefined): Result<HostRequest> {
  if (arg === undefined || arg === '') return missing();
  const invalid = fail<HostRequest>('ERR_HOST_INVALID', 501, `${arg}: Invalid hostname provided`);
  if (arg.startsWith('[') && arg.endsWith(']')) {
    const v6 = ipv6Text(arg.slice(1, -1));
    return v6 === undefined ? invalid : ok({ kind: 'ipv6', host: v6 });
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(arg)) return ok({ kind: 'ipv4', host: arg });
  const name = arg.endsWith('.') ? arg.slice(0, -1) : arg;
  if (name.length === 0 || name.length > 253 || !name.split('.').every((l) => LABEL.test(l))) return invalid;
  // A name of digits and dots only would be a malformed IPv4 address.
  if (/^[\d.]+$/.test(name)) return invalid;
  return ok({ kind: 'name', host: name.toLowerCase() });
}

const TIME_VAL = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * A `time-val` (RFC 3659 §2.3), `YYYYMMDDHHMMSS[.sss]` in UTC, as MDTM and MFMT use it,
 * to milliseconds since 1970 (fractions beyond milliseconds are dropped). An impossible
 * date (month 13, 30 February, second 60) → `501 Invalid time value`.
 */
export function parseTimeVal(s: string): Result<number> {
  const m = TIME_VAL.exec(s);
  const bad = fail<number>('ERR_TIME_INVALID', 501, 'Invalid time value');
  if (m === null) return bad;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== sec
  ) {
    return bad;
  }
  return ok(t);
}

/**
 * Milliseconds since 1970 as a `time-val` (RFC 3659 §2.3), UTC: `formatTimeVal(0)` →
 * `'19700101000000'`; with `millis: true`, `'19700101000000.000'`.
 *
 * @throws CommandCodecError `ERR_COMMAND_TIME_INVALID` for a time outside the years 0–9999.
 */
export function formatTimeVal(ms: number, opts: { millis?: boolean } = {}): string {
  const t = new Date(ms);
  const year = t.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) {
    throw new CommandCodecError('ERR_COMMAND_TIME_INVALID', `a time-val needs a time in the years 0-9999, got ${String(ms)}`);
  }
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const base = `${p(year, 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
  return opts.millis === true ? `${base}.${p(t.getUTCMilliseconds(), 3)}` : base;
}

/**
 * `MFMT <time-val> <path>` (draft-somers-ftp-mfxx §3): the new modification time and the
 * path, verbatim. A missing path or bad time → 501.
 */
export function parseMfmtArg(arg: string | undefined): Result<{ time: number; path: string }> {
  if (arg === undefined) return missing();
  const sp = arg.indexOf(' ');
  if (sp === -1 || sp === arg.length - 1) return missing();
  const time = parseTimeVal(arg.slice(0, sp));
  return time.ok ? ok({ time: time.value, path: arg.slice(sp + 1) }) : time;
}
