/**
 * Streaming PROXY protocol header decoder: bytes in, one header out, then the rest of the
 * stream belongs to the application protocol.
 *
 * Theory of operation. The decoder is a small state machine (see `STATES`) fed byte
 * ranges; every chunking of the same bytes gives the same result. It tells v2 from v1 by the
 * first byte (§2.2 "Identifying the protocol version": 0x0D starts the v2 signature, `P` the
 * v1 `PROXY`) and checks every signature byte as it arrives, so a peer that does not speak the
 * protocol is rejected at its first wrong byte, not after a timeout. v1 collects the line up
 * to CRLF and rejects a lone CR or LF at once and a line with no CRLF within 107 bytes (§2.1);
 * the fields are parsed only once the CRLF is there. v2 reads the 16 fixed bytes, checking the
 * version, command and family as they arrive, then the length against the family's address
 * block and `maxHeaderBytes`, and only then allocates exactly 16 + length bytes and collects
 * the rest (§2.2). Memory is bounded: 107 bytes for v1, `maxHeaderBytes` (at most 65551) for
 * v2. The bytes after the header in the final chunk come back as `rest`, a view of that
 * chunk, not a copy. Peer input never throws; a result of `error` is final.
 */
import { ProxyProtocolError, type ProxyProblem } from './errors.js';
import { hex } from './text.js';
import type { DecodeResult, ProxyHeader } from './types.js';
import { V1_MAX_LINE, parseV1Line } from './v1.js';
import { V2_FIXED, V2_MAX_HEADER, V2_SIGNATURE, checkFamily, checkLength, checkVersionCommand, parseV2 } from './v2.js';

/** Options of {@link ProxyHeaderDecoder}. */
export interface ProxyHeaderDecoderOptions {
  /** Versions accepted; default both (§2: v2 receivers should also accept v1). */
  versions?: readonly (1 | 2)[];
  /** Largest v2 header accepted, 16 + length; default and maximum 65551 (the format's own limit), minimum 16. */
  maxHeaderBytes?: number;
}

/** The decoder's states, as data: what the next byte does in each of them. */
export const STATES: Readonly<Record<string, string>> = {
  signature: 'first byte 0x0D → v2 signature, "P" → v1 "PROXY", other → ERR_PROXY_SIGNATURE; each next byte must match the signature; after 12 (v2) or 5 (v1) → v2-fixed or v1-line, or ERR_PROXY_VERSION_NOT_ALLOWED',
  'v1-line': 'CR LF → parse the line → done or ERR_PROXY_V1_SYNTAX; lone CR or LF → ERR_PROXY_V1_SYNTAX; 107 bytes without CRLF → ERR_PROXY_V1_TOO_LONG',
  'v2-fixed': 'byte 13 → check version/command; byte 14 → check family; byte 16 → check length → v2-body (or parse at once when the length is 0)',
  'v2-body': 'collect 16 + length bytes → parse → done or ERR_PROXY_V2_*',
  done: 'push() throws ERR_PROXY_DECODER_DONE: the rest belongs to the application',
  error: 'final: push() returns the same error',
};

const SIGNATURE = 0;
const V1_LINE = 1;
const V2_FIXED_STATE = 2;
const V2_BODY = 3;
const DONE = 4;
const ERROR = 5;

const V1_SIGNATURE = Uint8Array.of(0x50, 0x52, 0x4f, 0x58, 0x59); // "PROXY"
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const NEED_MORE: DecodeResult = { state: 'need-more' };

/**
 * Reads one PROXY protocol header (v1 or v2) from a byte stream.
 *
 * ```ts
 * const decoder = new ProxyHeaderDecoder();
 * socket.on('data', (chunk) => {
 *   const r = decoder.push(chunk);
 *   if (r.state === 'done') start(r.header, r.rest);
 *   else if (r.state === 'error') socket.destroy();
 * });
 * ```
 */
export class ProxyHeaderDecoder {
  readonly #v1: boolean;
  readonly #v2: boolean;
  readonly #max: number;
  #state = SIGNATURE;
  #buf: Uint8Array = new Uint8Array(V1_MAX_LINE);
  #filled = 0;
  #isV2 = false;
  #result: DecodeResult = NEED_MORE;

  constructor(options: ProxyHeaderDecoderOptions = {}) {
    const versions = options.versions ?? [1, 2];
    if (!Array.isArray(versions) || versions.length === 0 || versions.some((v) => v !== 1 && v !== 2)) {
      throw new ProxyProtocolError('ERR_PROXY_OPTION_INVALID', 'versions must be a non-empty list of 1 and/or 2');
    }
    const max = options.maxHeaderBytes ?? V2_MAX_HEADER;
    if (!Number.isInteger(max) || max < V2_FIXED || max > V2_MAX_HEADER) {
      throw new ProxyProtocolError('ERR_PROXY_OPTION_INVALID', `maxHeaderBytes must be an integer from ${V2_FIXED} to ${V2_MAX_HEADER}`);
    }
    this.#v1 = versions.includes(1);
    this.#v2 = versions.includes(2);
    this.#max = max;
  }

  /** `need-more` until the header is complete, then `done` with the header and the bytes after it, or `error`. */
  push(chunk: Uint8Array): DecodeResult {
    if (this.#state === DONE) throw new ProxyProtocolError('ERR_PROXY_DECODER_DONE', 'the header is complete: the rest of the stream belongs to the application');
    if (this.#state === ERROR) return this.#result;
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case SIGNATURE: {
          const b = chunk[i++]!;
          if (this.#filled === 0) {
            if (b === V2_SIGNATURE[0]) this.#isV2 = true;
            else if (b !== V1_SIGNATURE[0]) return this.#fail('ERR_PROXY_SIGNATURE', `first byte 0x${hex(b)} starts neither a v1 ("PROXY") nor a v2 header`);
          }
          const sig = this.#isV2 ? V2_SIGNATURE : V1_SIGNATURE;
          if (b !== sig[this.#filled]) {
            return this.#fail('ERR_PROXY_SIGNATURE', `byte ${this.#filled + 1} (0x${hex(b)}) does not match the ${this.#isV2 ? 'v2' : 'v1'} signature`);
          }
          this.#buf[this.#filled++] = b;
          if (this.#filled === sig.length) {
            if (!(this.#isV2 ? this.#v2 : this.#v1)) return this.#fail('ERR_PROXY_VERSION_NOT_ALLOWED', `a v${this.#isV2 ? 2 : 1} header, but only v${this.#isV2 ? 1 : 2} is accepted`);
            this.#state = this.#isV2 ? V2_FIXED_STATE : V1_LINE;
          }
          break;
        }
        case V1_LINE: {
          const b = chunk[i++]!;
          const prev = this.#buf[this.#filled - 1];
          this.#buf[this.#filled++] = b;
          if (prev === CR) {
            if (b !== LF) return this.#fail('ERR_PROXY_V1_SYNTAX', `CR not followed by LF at byte ${this.#filled - 1}`);
            return this.#finish(parseV1Line(this.#buf.subarray(0, this.#filled - 2), this.#filled), chunk.subarray(i));
          }
          if (b === LF) return this.#fail('ERR_PROXY_V1_SYNTAX', `LF without CR at byte ${this.#filled}`);
          if (this.#filled === V1_SIGNATURE.length + 1 && b !== SP) return this.#fail('ERR_PROXY_V1_SYNTAX', `byte 6 (0x${hex(b)}) must be the space after "PROXY"`);
          if (this.#filled >= V1_MAX_LINE) return this.#fail('ERR_PROXY_V1_TOO_LONG', `no CRLF within the first ${V1_MAX_LINE} bytes`);
          break;
        }
        case V2_FIXED_STATE: {
          const b = chunk[i++]!;
          this.#buf[this.#filled++] = b;
          const problem =
            this.#filled === 13 ? checkVersionCommand(b)
            : this.#filled === 14 ? checkFamily(this.#buf[12]!, b)
            : this.#filled === V2_FIXED ? checkLength(this.#buf[12]!, this.#buf[13]!, (this.#buf[14]! << 8) | b, this.#max)
            : undefined;
          if (problem) return this.#fail(problem.code, problem.message);
          if (this.#filled === V2_FIXED) {
            const whole = new Uint8Array(V2_FIXED + ((this.#buf[14]! << 8) | b));
            whole.set(this.#buf.subarray(0, V2_FIXED));
            this.#buf = whole;
            this.#state = V2_BODY;
            if (whole.length === V2_FIXED) return this.#finish(parseV2(whole), chunk.subarray(i));
          }
          break;
        }
        case V2_BODY: {
          const n = Math.min(this.#buf.length - this.#filled, chunk.length - i);
          this.#buf.set(chunk.subarray(i, i + n), this.#filled);
          this.#filled += n;
          i += n;
          if (this.#filled === this.#buf.length) return this.#finish(parseV2(this.#buf), chunk.subarray(i));
          break;
        }
      }
    }
    return NEED_MORE;
  }

  /**
   * The stream ended. `done` again if the header was complete, otherwise `error`
   * ERR_PROXY_TRUNCATED (§2.2: "reject incoming connections containing partial protocol headers").
   */
  end(): DecodeResult {
    if (this.#state === DONE && this.#result.state === 'done') return { ...this.#result, rest: new Uint8Array(0) };
    if (this.#state === ERROR) return this.#result;
    return this.#fail(
      'ERR_PROXY_TRUNCATED',
      this.#filled === 0 ? 'the stream ended before a PROXY protocol header' : `the stream ended ${this.#filled} byte(s) into the PROXY protocol header`,
    );
  }

  /** The outcome so far: `need-more`, `done` (with the `rest` of its final chunk) or `error`. */
  get result(): DecodeResult {
    return this.#result;
  }

  #finish(parsed: ProxyHeader | ProxyProblem, rest: Uint8Array): DecodeResult {
    if ('code' in parsed) return this.#fail(parsed.code, parsed.message);
    this.#state = DONE;
    this.#result = { state: 'done', header: parsed, rest };
    return this.#result;
  }

  #fail(code: ProxyProblem['code'], message: string): DecodeResult {
    this.#state = ERROR;
    this.#result = { state: 'error', error: { code, message } };
    return this.#result;
  }
}


/**
 * Decodes a header from bytes that hold all of it: `done` (with the bytes after it as
 * `rest`) or `error`; bytes that end inside the header give ERR_PROXY_TRUNCATED.
 */
export function decodeProxyHeader(bytes: Uint8Array, options?: ProxyHeaderDecoderOptions): DecodeResult {
  const decoder = new ProxyHeaderDecoder(options);
  const r = decoder.push(bytes);
  return r.state === 'need-more' ? decoder.end() : r;
}
