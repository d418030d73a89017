/**
 * Reply encoding, RFC 959 §4.2.
 *
 * A reply is `DDD<SP>text<CRLF>`. A multi-line reply opens with `DDD-text`, ends with
 * `DDD<SP>text`, and every line between is sent with one leading space, so that no
 * continuation line can ever look like the end line (RFC 959 §4.2 says a continuation
 * line that starts with digits must be padded; always padding is what ProFTPD does
 * for FEAT and what RFC 2389 §3.2 requires for feature lines).
 *
 * Line injection is impossible: a CR inside reply text is sent as CR NUL (RFC 2640 §3.1,
 * RFC 854's NVT rule for a CR that is not a line end) and a LF is sent as NUL (the
 * convention vsftpd uses; RFC 959 has no way to send a bare LF). A file name in a 257
 * reply therefore reaches the wire as `"a""b\r\0c"`, never as a second reply line.
 */
import { ReplyCodecError, fail, type Result } from './errors.js';

const NEEDS_ESCAPE = /[\r\n]/;
const ESCAPES = /\r|\n/g;

function escapeChar(c: string): string {
  return c === '\r' ? '\r\0' : '\0';
}

/** Reply text with CR sent as CR NUL and LF as NUL, so that it stays on one line. */
export function escapeReplyText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, escapeChar) : text;
}

function checkCode(code: number): void {
  // RFC 959 §4.2: three digits, first digit 1-5; RFC 2228 §4 adds the 6yz protected replies.
  if (!Number.isInteger(code) || code < 100 || code > 699) {
    throw new ReplyCodecError('ERR_REPLY_CODE_INVALID', `reply code must be an integer from 100 to 699, got ${String(code)}`);
  }
}

/**
 * Encodes one reply, CRLF included.
 *
 * - `encodeReply(200, 'OK')` → `"200 OK\r\n"`
 * - `encodeReply(211, ['Features:', 'EPSV', 'End'])` → `"211-Features:\r\n EPSV\r\n211 End\r\n"`
 *
 * A one-element array is a single-line reply. Every line between the first and the last
 * gets one leading space. CR and LF inside any text are escaped (see
 * {@link escapeReplyText}); reply text can never add a line.
 *
 * @throws ReplyCodecError `ERR_REPLY_CODE_INVALID` for a code outside 100–699,
 *   `ERR_REPLY_LINES_EMPTY` for an empty array.
 */
export function encodeReply(code: number, text: string | readonly string[]): string {
  checkCode(code);
  if (typeof text === 'string') return `${code} ${escapeReplyText(text)}\r\n`;
  const n = text.length;
  if (n === 0) throw new ReplyCodecError('ERR_REPLY_LINES_EMPTY', 'a reply needs at least one line');
  const last = escapeReplyText(text[n - 1] as string);
  if (n === 1) return `${code} ${last}\r\n`;
  let out = `${code}-${escapeReplyText(text[0] as string)}\r\n`;
  for (let i = 1; i < n - 1; i++) out += ` ${escapeReplyText(text[i] as string)}\r\n`;
  return `${out}${code} ${last}\r\n`;
}

/**
 * Quotes a path name for a 257 reply (RFC 959 Appendix II): wraps it in double quotes
 * and doubles every embedded quote. `quotePathname('/a "b"')` → `"/a ""b"""`.
 * CR and LF are left to {@link encodeReply}, which escapes them.
 */
export function quotePathname(path: string): string {
  return `"${path.replaceAll('"', '""')}"`;
}

/**
 * Reads the path name out of a 257 reply's text, the inverse of {@link quotePathname}
 * (RFC 959 Appendix II): `'"/a ""b""" created'` → `/a "b"`. Accepts the text with or
 * without its `257 ` prefix and skips any text before the opening quote.
 */
export function parsePathname(text: string): Result<string> {
  const open = text.indexOf('"');
  if (open === -1) return fail('ERR_PATHNAME_SYNTAX', 550, 'no quoted path name in the 257 reply');
  let path = '';
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q === -1) return fail('ERR_PATHNAME_SYNTAX', 550, 'the quoted path name in the 257 reply is not closed');
    path += text.slice(from, q);
    if (text.charCodeAt(q + 1) !== 34) return { ok: true, value: path };
    path += '"';
    from = q + 2;
  }
}
