/**
 * The passive-mode replies: `227 Entering Passive Mode (a1,a2,a3,a4,p1,p2).`
 * (RFC 959 §4.1.2, §4.2.2; the text and trailing period are ProFTPD's) and
 * `229 Entering Extended Passive Mode (|||port|)` (RFC 2428 §3).
 *
 * Formatting is strict. Parsing is what FTP clients must do with real servers: RFC 1123
 * §4.1.2.6 tells clients to scan the 227 text for the six numbers rather than rely on
 * parentheses, and servers do send `227 =a1,a2,…`, no parentheses, or spaces after the
 * commas. The 229 parser accepts any delimiter from `!` to `~` except digits
 * (RFC 2428 §3), with or without parentheses and with spaces around the port.
 */
import { ReplyCodecError, excerpt, fail, type Result } from './errors.js';

const MAPPED = /^::ffff:/i;

/** `a.b.c.d` (decimal, no leading zeros, each 0-255) as `a,b,c,d`, else undefined. */
function pasvFields(ip: string): string | undefined {
  const from = ip.charCodeAt(0) === 58 && MAPPED.test(ip) ? 7 : 0;
  let out = '';
  let fields = 0;
  let value = 0;
  let digits = 0;
  for (let i = from; i <= ip.length; i++) {
    const c = i < ip.length ? ip.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255 || ++fields > 4) return undefined;
      out += fields === 1 ? `${value}` : `,${value}`;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return undefined; // leading zero
      value = value * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  return fields === 4 ? out : undefined;
}

function checkPort(port: number, min: number): void {
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new ReplyCodecError('ERR_REPLY_PORT_INVALID', `port must be an integer from ${min} to 65535, got ${String(port)}`);
  }
}

/**
 * The text of a 227 reply, without the code: `formatPasv('203.0.113.7', 60007)` →
 * `"Entering Passive Mode (203,0,113,7,234,103)."`. `p1 = port >> 8`, `p2 = port & 255`
 * (RFC 959 §4.1.2). An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is accepted and
 * sent as its IPv4 form.
 *
 * @throws ReplyCodecError `ERR_REPLY_ADDRESS_INVALID` when `ipv4` is not a dotted IPv4
 *   address (PASV cannot carry IPv6: answer 522 and let the client use EPSV),
 *   `ERR_REPLY_PORT_INVALID` for a port outside 1–65535.
 */
export function formatPasv(ipv4: string, port: number): string {
  const fields = pasvFields(ipv4);
  if (fields === undefined) {
    throw new ReplyCodecError('ERR_REPLY_ADDRESS_INVALID', `PASV needs a dotted IPv4 address, got ${JSON.stringify(ipv4)}`);
  }
  checkPort(port, 1);
  return `Entering Passive Mode (${fields},${port >> 8},${port & 255}).`;
}

/** The text of a 229 reply (RFC 2428 §3): `formatEpsv(60000)` → `"Entering Extended Passive Mode (|||60000|)"`. */
export function formatEpsv(port: number): string {
  checkPort(port, 1);
  return `Entering Extended Passive Mode (|||${port}|)`;
}

/** Removes a leading `DDD ` / `DDD-`; a different code than `expected` is an error. */
function stripCode(text: string, expected: string, what: string): Result<string> {
  const t = text.trimStart();
  const c0 = t.charCodeAt(0);
  const sep = t.charCodeAt(3);
  if (c0 >= 48 && c0 <= 57 && /^\d{3}$/.test(t.slice(0, 3)) && (sep === 32 || sep === 45 || Number.isNaN(sep))) {
    const code = t.slice(0, 3);
    if (code !== expected) return fail('ERR_REPLY_UNEXPECTED_CODE', 425, `expected a ${expected} reply to ${what}, got ${code}`);
    return { ok: true, value: t.slice(4) };
  }
  return { ok: true, value: text };
}

const PASV_NUMBERS = /(?<!\d)(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3})(?!\d)/;

/**
 * Reads host and port out of a 227 reply, with or without its `227 ` prefix. Accepts
 * `(a1,a2,a3,a4,p1,p2)` anywhere in the text, with or without parentheses, after `=`,
 * with spaces around the commas. Each field must be 0–255 and the port 1–65535.
 *
 * Errors (`replyCode` 425): `ERR_REPLY_UNEXPECTED_CODE` (a reply other than 227),
 * `ERR_PASV_SYNTAX` (no six numbers), `ERR_PASV_VALUE` (a field above 255, or port 0).
 */
export function parsePasv(text: string): Result<{ host: string; port: number }> {
  const body = stripCode(text, '227', 'PASV');
  if (!body.ok) return body;
  const m = PASV_NUMBERS.exec(body.value);
  if (m === null) return fail('ERR_PASV_SYNTAX', 425, `no address and port in the 227 reply ${excerpt(text)}`);
  const f = m.slice(1, 7).map(Number);
  if (f.some((n) => n > 255)) return fail('ERR_PASV_VALUE', 425, `a field above 255 in the 227 reply ${excerpt(text)}`);
  const port = (f[4] as number) * 256 + (f[5] as number);
  if (port === 0) return fail('ERR_PASV_VALUE', 425, `port 0 in the 227 reply ${excerpt(text)}`);
  return { ok: true, value: { host: `${f[0]}.${f[1]}.${f[2]}.${f[3]}`, port } };
}

// RFC 2428 §3: (<d><d><d><port><d>); the delimiter is ASCII 33-126; digits would be ambiguous.
const EPSV_PORT = /([!-/:-~])\1\1 *(\d{1,5}) *\1/;

/**
 * Reads the port out of a 229 reply (RFC 2428 §3), with or without its `229 ` prefix:
 * `(|||port|)` with any delimiter from `!` to `~` other than a digit, with or without
 * parentheses, spaces allowed around the port. The address is the control connection's
 * (RFC 2428 §3), so none is returned.
 *
 * Errors (`replyCode` 425): `ERR_REPLY_UNEXPECTED_CODE`, `ERR_EPSV_SYNTAX`, `ERR_EPSV_VALUE`
 * (port 0 or above 65535).
 */
export function parseEpsv(text: string): Result<{ port: number }> {
  const body = stripCode(text, '229', 'EPSV');
  if (!body.ok) return body;
  const m = EPSV_PORT.exec(body.value);
  if (m === null) return fail('ERR_EPSV_SYNTAX', 425, `no (|||port|) in the 229 reply ${excerpt(text)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return fail('ERR_EPSV_VALUE', 425, `port ${port} in the 229 reply is outside 1-65535`);
  return { ok: true, value: { port } };
}
