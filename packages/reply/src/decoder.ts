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

function isCode(line: string): boolean {
  const a = line.charCodeAt(0);
  const b = line.charCodeAt(1);
  const c = line.charCodeAt(2);
  return a >= 49 && a <= 54 && b >= 48 && b <= 57 && c >= 48 && c <= 57;
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
    while (pos < n) {
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
      if (isCode(h) && h.charCodeAt(3) === 45) {
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
    if (this.#state === MULTI) {
      if (text.startsWith(this.#code) && (text.length === 3 || text.charCodeAt(3) === 32)) {
        const lines = this.#lines;
        lines.push(text.slice(4));
        return this.#emit(Number(this.#code), lines);
      }
      const c0 = text.charCodeAt(0);
      if (c0 === 32) this.#lines.push(text.slice(1));
      else if (text.charCodeAt(3) === 45 && text.startsWith(this.#code)) this.#lines.push(text.slice(4));
      else this.#lines.push(text);
      return undefined;
    }
    // IDLE
    if (text === '') {
      this.#bytes = 0;
      this.#latin1 = false;
      return undefined;
    }
    const sep = text.charCodeAt(3);
    if (isCode(text) && (sep === 32 || sep === 45 || text.length === 3)) {
      if (sep === 45) {
        this.#state = MULTI;
        this.#code = text.slice(0, 3);
        this.#lines = [text.slice(4)];
        return undefined;
      }
      return this.#emit(Number(text.slice(0, 3)), [text.slice(4)]);
    }
    this.#bytes = 0;
    this.#latin1 = false;
    return {
      ok: false,
      error: { code: 'ERR_REPLY_SYNTAX', replyCode: 421, message: `not an FTP reply line: ${excerpt(text)}` },
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
