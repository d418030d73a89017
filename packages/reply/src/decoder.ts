/**
 * Streaming reply decoder for clients, proxies and probes: bytes in, whole replies out.
 *
 * Theory of operation. Replies are lines ending in LF (CRLF on the wire; a bare LF is
 * accepted, the CR before it is dropped). A line `DDD<SP>text` outside a reply is a
 * single-line reply; `DDD-text` opens a multi-line reply that ends at the first line
 * `DDD<SP>text` with the same code (RFC 959 §4.2). Between them, a repeated `DDD-` or one
 * leading space is removed, the inverse of `encodeReply`. The decoder is a small state
 * machine over three states (see `STATES`), fed one line at a time; a line split across
 * chunks waits in a buffer, so every chunking of the same bytes gives the same replies.
 *
 * Memory is bounded by `maxReplyBytes`: a reply that grows past it (counting CRLFs) is
 * reported once as `ERR_REPLY_TOO_LARGE` and the rest of it is skipped while the decoder
 * keeps only the first bytes of each line (to see the end line), then decoding resumes.
 * Text is UTF-8 (RFC 2640); a line that is not valid UTF-8 is read as Latin-1 instead
 * (lossless: each byte becomes U+0000–U+00FF) and its reply is marked `latin1: true`.
 * CR NUL inside a line is read as CR (RFC 2640 §3.1). Nothing here throws on peer input.
 */
import { ReplyCodecError, excerpt, type ReplyProblem } from './errors.js';

/** A decoded reply, or a problem with the byte stream. */
export type DecodedReply =
  | {
      ok: true;
      /** The three-digit reply code. */
      code: number;
      /** The text of each line, without code, separator, continuation padding or CRLF. */
      lines: string[];
      /** `lines` joined with `\n`. */
      text: string;
      /** Set when a line was not valid UTF-8 and was read as Latin-1. */
      latin1?: true;
    }
  | { ok: false; error: ReplyProblem };

export interface ReplyDecoderOptions {
  /** Largest reply accepted, in bytes including CRLFs. Default 1 MiB (a STAT listing can be long). */
  maxReplyBytes?: number;
}

/**
 * The decoder's states, as data: what a complete line does in each of them.
 * `idle`: between replies; `multi`: inside a multi-line reply; `skip-line` / `skip-reply`:
 * discarding the rest of a line or reply that grew past the limit.
 */
export const STATES: Readonly<Record<string, string>> = {
  idle: 'DDD<SP>text → emit a reply; DDD-text → multi; empty line → idle (tolerated); other → emit ERR_REPLY_SYNTAX',
  multi: 'DDD<SP>text with the open code → emit the reply, idle; any other line → add it, multi',
  'skip-line': 'line end → idle',
  'skip-reply': 'DDD<SP>text with the open code → idle; any other line → skip-reply',
};

const IDLE = 0;
const MULTI = 1;
const SKIP_LINE = 2;
const SKIP_REPLY = 3;

const DEFAULT_MAX = 1024 * 1024;
const HEAD = 4;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ENCODER = new TextEncoder();

/** Latin-1 decoding (each byte one code point); TextDecoder's 'latin1' is windows-1252. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** Drops the NUL of every CR NUL pair (RFC 2640 §3.1). */
function dropCrNul(bytes: Uint8Array): Uint8Array {
  if (bytes.indexOf(0) === -1) return bytes;
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b === 0 && i > 0 && bytes[i - 1] === 13) continue;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** UTF-8 length of `s[from, to)` (valid UTF-16: it came from a decoder). */
function utf8Length(s: string, from: number, to: number): number {
  let n = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c < 0x800 ? 1 : c >= 0xd800 && c <= 0xdbff ? (i++, 2) : 2;
  }
  return n;
}

/** The reply code (100-699) spelled at `s[at, at + 3)`, or 0. */
function codeAt(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  const c = s.charCodeAt(at + 2) - 48;
  return a >= 1 && a <= 6 && b >= 0 && b <= 9 && c >= 0 && c <= 9 ? a * 100 + b * 10 + c : 0;
}

/**
 * Streaming reply decoder. Feed it what the socket gives; it returns the replies that
 * are complete. `end()` at end of stream reports a truncated reply.
 *
 * ```ts
 * const d = new ReplyDecoder();
 * d.push('211-Features:\r\n EPSV\r\n'); // []
 * d.push('211 End\r\n');                // [{ ok: true, code: 211, lines: ['Features:', 'EPSV', 'End'], … }]
 * ```
 */
export class ReplyDecoder {
  readonly #max: number;
  #state = IDLE;
  #buf: Uint8Array = new Uint8Array(256);
  /** Bytes of the incomplete line in #buf (at most HEAD while skipping). */
  #len = 0;
  /** Bytes of the open reply's complete lines, CRLFs included. */
  #bytes = 0;
  /** Length of the line being skipped (to tell `DDD` from `DDD\r…`). */
  #skipped = 0;
  #code = '';
  #codeNum = 0;
  #lines: string[] = [];
  #latin1 = false;

  /** @throws ReplyCodecError `ERR_REPLY_OPTION_INVALID` when `maxReplyBytes` is not a positive integer. */
  constructor(opts: ReplyDecoderOptions = {}) {
    const max = opts.maxReplyBytes ?? DEFAULT_MAX;
    if (!Number.isSafeInteger(max) || max < 8) {
      throw new ReplyCodecError('ERR_REPLY_OPTION_INVALID', `maxReplyBytes must be an integer of at least 8, got ${String(max)}`);
    }
    this.#max = max;
  }

  /** Bytes held for the reply that is not complete yet (bounded by `maxReplyBytes`). */
  get bufferedBytes(): number {
    return this.#bytes + this.#len;
  }

  /** Decodes the next bytes (a string is sent as UTF-8). Returns the replies they complete. */
  push(chunk: Uint8Array | string): DecodedReply[] {
    const data = typeof chunk === 'string' ? ENCODER.encode(chunk) : chunk;
    const n = data.length;
    const out: DecodedReply[] = [];
    let pos = 0;
    let last = -2; // the chunk's last LF, looked up once
    let fast = true;
    while (pos < n) {
      if (fast && this.#len === 0 && this.#state < SKIP_LINE) {
        if (last === -2) last = data.lastIndexOf(10);
        // Only when no reply can outgrow the limit inside the region.
        if (last >= pos && this.#bytes + (last + 1 - pos) <= this.#max) {
          fast = this.#fast(data, pos, last, out);
          if (fast) {
            pos = last + 1;
            continue;
          }
        }
      }
      const lf = data.indexOf(10, pos);
      const end = lf === -1 ? n : lf;
      if (this.#state >= SKIP_LINE) {
        const take = Math.min(end - pos, HEAD - this.#len);
        if (take > 0) this.#append(data, pos, pos + take);
        this.#skipped += end - pos;
        if (lf === -1) break;
        this.#endSkippedLine();
        pos = lf + 1;
        continue;
      }
      if (this.#bytes + this.#len + (end - pos) + (lf === -1 ? 0 : 1) > this.#max) {
        out.push(this.#tooLarge(data, pos, end));
        pos = end;
        continue;
      }
      if (lf === -1) {
        this.#append(data, pos, n);
        break;
      }
      let line: Uint8Array;
      if (this.#len === 0) line = data.subarray(pos, lf);
      else {
        this.#append(data, pos, lf);
        line = this.#buf.subarray(0, this.#len);
        this.#len = 0;
      }
      this.#bytes += line.length + 1;
      const r = this.#line(line);
      if (r !== undefined) out.push(r);
      pos = lf + 1;
    }
    return out;
  }

  /**
   * The complete lines of `data[from, last]` (`data[last]` is LF, no partial line pending,
   * no reply able to outgrow the limit) decoded in one call and cut at each LF. Returns
   * false, having done nothing, when the region needs the line-by-line path: invalid UTF-8
   * (Latin-1 fallback) or NUL (CR NUL).
   */
  #fast(data: Uint8Array, from: number, last: number, out: DecodedReply[]): boolean {
    let text: string;
    try {
      text = UTF8.decode(data.subarray(from, last + 1));
    } catch {
      return false;
    }
    if (text.indexOf('\0') !== -1) return false;
    const before = this.#bytes;
    let opened = -1; // where, in text, the reply still open at the end began (-1: before the region)
    let s = 0;
    for (;;) {
      const i = text.indexOf('\n', s);
      if (i === -1) break;
      const e = i > s && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
      const idle = this.#state === IDLE;
      const r = this.#lineAt(text, s, e);
      if (r !== undefined) out.push(r);
      if (idle && this.#state === MULTI) opened = s;
      s = i + 1;
    }
    // Bytes of the reply left open: its lines in this region (CRLFs included), plus before.
    if (this.#state === MULTI) this.#bytes = opened === -1 ? before + (last + 1 - from) : utf8Length(text, opened, text.length);
    else this.#bytes = 0;
    return true;
  }

  /**
   * End of stream: returns `ERR_REPLY_TRUNCATED` if a reply was incomplete, and resets
   * the decoder for reuse.
   */
  end(): DecodedReply[] {
    const open = this.#state !== IDLE || this.#len > 0;
    const code = this.#code;
    this.reset();
    if (!open) return [];
    const what = code === '' ? 'a reply' : `the multi-line ${code} reply`;
    return [{ ok: false, error: { code: 'ERR_REPLY_TRUNCATED', replyCode: 421, message: `the stream ended inside ${what}` } }];
  }

  /** Forgets any partial reply. */
  reset(): void {
    this.#state = IDLE;
    this.#len = 0;
    this.#bytes = 0;
    this.#skipped = 0;
    this.#code = '';
    this.#lines = [];
    this.#latin1 = false;
  }

  #append(data: Uint8Array, from: number, to: number): void {
    const need = this.#len + (to - from);
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.max(need, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(data.subarray(from, to), this.#len);
    this.#len = need;
  }

  #tooLarge(data: Uint8Array, pos: number, end: number): DecodedReply {
    // Keep the first bytes of the current line: in a multi-line reply it may be the end line.
    const head = new Uint8Array(HEAD);
    const fromBuf = Math.min(this.#len, HEAD);
    head.set(this.#buf.subarray(0, fromBuf));
    const fromData = Math.min(end - pos, HEAD - fromBuf);
    head.set(data.subarray(pos, pos + fromData), fromBuf);
    const headLen = fromBuf + fromData;
    this.#skipped = this.#len + (end - pos);
    if (this.#state === IDLE) {
      const h = latin1(head.subarray(0, headLen));
      if (codeAt(h, 0) !== 0 && h.charCodeAt(3) === 45) {
        this.#code = h.slice(0, 3);
        this.#state = SKIP_REPLY;
      } else this.#state = SKIP_LINE;
    } else this.#state = SKIP_REPLY;
    const code = this.#code;
    this.#buf.set(head.subarray(0, headLen));
    this.#len = headLen;
    this.#lines = [];
    this.#bytes = 0;
    const what = code === '' ? 'a reply line' : `the ${code} reply`;
    return {
      ok: false,
      error: { code: 'ERR_REPLY_TOO_LARGE', replyCode: 421, message: `${what} is longer than ${this.#max} bytes; skipped` },
    };
  }

  #endSkippedLine(): void {
    const b = this.#buf;
    let size = this.#skipped;
    if (size > 0 && size <= HEAD && b[size - 1] === 13) size--;
    const isEnd =
      this.#state === SKIP_LINE ||
      (this.#len >= 3 && latin1(b.subarray(0, 3)) === this.#code && (size === 3 || b[3] === 32));
    this.#len = 0;
    this.#skipped = 0;
    if (isEnd) {
      this.#state = IDLE;
      this.#code = '';
    }
  }

  #line(raw: Uint8Array): DecodedReply | undefined {
    let bytes = raw;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    bytes = dropCrNul(bytes);
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      text = latin1(bytes);
      this.#latin1 = true;
    }
    return this.#lineAt(text, 0, text.length);
  }

  /** One line, `src[s, e)` without its line end, through the state machine. */
  #lineAt(src: string, s: number, e: number): DecodedReply | undefined {
    const len = e - s;
    const sep = len > 3 ? src.charCodeAt(s + 3) : -1;
    if (this.#state === MULTI) {
      const own = len >= 3 && src.startsWith(this.#code, s);
      if (own && (len === 3 || sep === 32)) {
        const lines = this.#lines;
        lines.push(len === 3 ? '' : src.slice(s + 4, e));
        return this.#emit(this.#codeNum, lines);
      }
      if (len > 0 && src.charCodeAt(s) === 32) this.#lines.push(src.slice(s + 1, e));
      else if (own && sep === 45) this.#lines.push(src.slice(s + 4, e));
      else this.#lines.push(src.slice(s, e));
      return undefined;
    }
    // IDLE
    if (len === 0) {
      this.#bytes = 0;
      this.#latin1 = false;
      return undefined;
    }
    const code = codeAt(src, s);
    if (code !== 0 && (len === 3 || sep === 32 || sep === 45)) {
      const text = len === 3 ? '' : src.slice(s + 4, e);
      if (sep === 45) {
        this.#state = MULTI;
        this.#code = src.slice(s, s + 3);
        this.#codeNum = code;
        this.#lines = [text];
        return undefined;
      }
      if (this.#latin1) return this.#emit(code, [text]);
      this.#bytes = 0; // a single-line reply: nothing else to reset
      return { ok: true, code, lines: [text], text };
    }
    this.#bytes = 0;
    this.#latin1 = false;
    return {
      ok: false,
      error: { code: 'ERR_REPLY_SYNTAX', replyCode: 421, message: `not an FTP reply line: ${excerpt(src.slice(s, e))}` },
    };
  }

  #emit(code: number, lines: string[]): DecodedReply {
    const latin = this.#latin1;
    this.#state = IDLE;
    this.#code = '';
    this.#lines = [];
    this.#bytes = 0;
    this.#latin1 = false;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('\n');
    return latin ? { ok: true, code, lines, text, latin1: true } : { ok: true, code, lines, text };
  }
}
