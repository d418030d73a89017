/**
 * Streaming command decoder: bytes from the control connection in, command lines out.
 *
 * Theory of operation. The control connection is a Telnet NVT stream (RFC 959 §4.1,
 * RFC 854). Every byte goes through one transition table, `TRANSITIONS`, indexed by the
 * current state and the byte's class; the entry gives the next state and an action:
 *
 * - `DATA` / `CR`: ordinary bytes are kept; LF ends the line (a CR just before it is
 *   dropped, so CRLF and bare LF both work); in `CR` (just after a CR) a NUL is dropped,
 *   because CR NUL is how RFC 854 and RFC 2640 §3.1 send a CR that is part of the text.
 * - `IAC` (after byte 255): `IAC IAC` is one data byte 255; `IAC IP` and `IAC DM` (the
 *   Telnet "interrupt" and Synch that RFC 959 §4.1.3 puts before ABOR) are dropped and
 *   mark the next line `urgent`; `IAC WILL/WONT/DO/DONT` go to `OPT`; `IAC SB` to `SB`;
 *   other commands (NOP, AYT, …) are dropped.
 * - `OPT`: the option byte. Every option is refused (RFC 854, RFC 1143): `WILL x` is
 *   answered `DONT x`, `DO x` is answered `WONT x`, `WONT`/`DONT` need no answer.
 * - `SB` / `SB_IAC`: a subnegotiation, dropped up to `IAC SE`.
 * - `SYNCH` (just after `IAC IP`): a bare DM byte is dropped. Clients send the Synch's
 *   `IAC` as TCP urgent data (BSD ftp, Perl Net::FTP: `IAC IP` + urgent `IAC` + `DM ABOR`);
 *   Node cannot set SO_OOBINLINE, so that one urgent byte never arrives and the DM would
 *   otherwise start the ABOR line.
 * - `ABOR_CR`: Python's ftplib sends the whole `ABOR\r\n` as urgent data, so its LF is
 *   the byte that never arrives. A line that is exactly `ABOR` (any case) therefore ends
 *   at its CR, and a LF (or NUL) right after it is dropped.
 *
 * A line holds at most `maxLineLength` bytes (not counting its line end). A longer line is
 * reported once as a 500 error as soon as it overflows; its remaining bytes are dropped
 * until the next LF, where decoding resumes. Memory never exceeds `maxLineLength + 1`
 * bytes per decoder, and nothing here throws on peer input.
 *
 * Lines are UTF-8 (RFC 2640). A line that is not valid UTF-8 is refused with 501, or,
 * with `invalidUtf8: 'latin1'`, read as Latin-1 (each byte one code point U+0000–U+00FF,
 * so the bytes can be recovered exactly) and flagged. Nothing is replaced by U+FFFD.
 *
 * Fast path: when nothing is pending, the complete lines of a chunk are decoded with one
 * `TextDecoder` call and cut at each LF. Byte 255 (IAC) is never valid UTF-8 and NUL is
 * looked for in the decoded text, so a chunk with Telnet commands, CR NUL or invalid
 * UTF-8 falls back to the table; both paths give the same events for every chunking.
 */
import { CommandCodecError, type CommandProblem } from './errors.js';

/** One thing the decoder found in the byte stream, in stream order. */
export type CommandEvent =
  | {
      kind: 'line';
      /** The command line without its line end, verbatim (spaces and quotes kept). */
      line: string;
      /** Preceded by Telnet IP or DM (Synch), as RFC 959 §4.1.3 asks for ABOR. */
      urgent: boolean;
      /** Set when the line was not valid UTF-8 and was read as Latin-1 (`invalidUtf8: 'latin1'`). */
      latin1?: true;
    }
  | { kind: 'error'; error: CommandProblem }
  /** Bytes to write back to the client: the refusal of a Telnet option. */
  | { kind: 'telnet'; response: Uint8Array };

export interface CommandDecoderOptions {
  /**
   * Longest command line accepted, in bytes, line end not counted. Default 4096
   * (ProFTPD's `CommandBufferSize` default is 4103). At least 16.
   */
  maxLineLength?: number;
  /** What to do with a line that is not valid UTF-8: `'reject'` (501, default) or `'latin1'`. */
  invalidUtf8?: 'reject' | 'latin1';
}

// Telnet bytes (RFC 854).
const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;

// Byte classes, in TRANSITIONS column order.
const CLASS_NAMES = ['other', 'LF', 'CR', 'NUL', 'IAC', 'WILL|WONT|DO|DONT', 'SB', 'SE', 'IP', 'DM', 'other Telnet command'] as const;
const NCLASS = CLASS_NAMES.length;
const CLASS: Uint8Array = new Uint8Array(256);
CLASS[10] = 1;
CLASS[13] = 2;
CLASS[0] = 3;
CLASS[IAC] = 4;
for (const b of [WILL, WONT, DO, DONT]) CLASS[b] = 5;
CLASS[250] = 6; // SB
CLASS[240] = 7; // SE
CLASS[244] = 8; // IP
CLASS[242] = 9; // DM
for (const b of [241, 243, 245, 246, 247, 248, 249]) CLASS[b] = 10; // NOP BRK AO AYT EC EL GA

/** 1 for the bytes DATA and CR keep as they are: all but LF, CR, NUL and IAC. */
const PLAIN: Uint8Array = new Uint8Array(256).fill(1);
for (const b of [10, 13, 0, IAC]) PLAIN[b] = 0;
const IAC_BYTE: Uint8Array = Uint8Array.of(IAC);

const STATE_NAMES = ['DATA', 'CR', 'IAC', 'OPT', 'SB', 'SB_IAC', 'SYNCH', 'ABOR_CR'] as const;
const ACTION_NAMES = ['keep', 'keep 255', 'end line', 'drop', 'urgent', 'negotiate', 'answer'] as const;
type StateName = (typeof STATE_NAMES)[number];
type ActionName = (typeof ACTION_NAMES)[number];
const DATA = 0;
const CR = 1;
const ABOR_CR = 7;
const KEEP = 0;
const KEEP_FF = 1;
const END = 2;
const URGENT = 4;
const NEGOTIATE = 5;
const ANSWER = 6;

type Row = readonly (readonly [state: StateName, action: ActionName])[];

const keep = ['DATA', 'keep'] as const;
const drop = (state: StateName): readonly [StateName, ActionName] => [state, 'drop'];
const all = (entry: readonly [StateName, ActionName]): Row => Array.from({ length: NCLASS }, () => entry);

/**
 * The Telnet/line state machine as data: for each state, the next state and action for
 * each byte class (`other, LF, CR, NUL, IAC, WILL|WONT|DO|DONT, SB, SE, IP, DM, other
 * Telnet command`). Exported for documentation and tests.
 */
export const TRANSITIONS: Readonly<Record<StateName, Row>> = {
  //        other  LF                    CR               NUL                IAC                    NEG                       SB              SE              IP                    DM                   CMD
  DATA: [keep, ['DATA', 'end line'], ['CR', 'keep'], keep, drop('IAC'), keep, keep, keep, keep, keep, keep],
  CR: [keep, ['DATA', 'end line'], ['CR', 'keep'], drop('DATA'), drop('IAC'), keep, keep, keep, keep, keep, keep],
  // After IAC, a byte that is no Telnet command is read as data (so a LF still ends the line).
  IAC: [keep, ['DATA', 'end line'], ['CR', 'keep'], keep, ['DATA', 'keep 255'], ['OPT', 'negotiate'], drop('SB'), drop('DATA'), ['SYNCH', 'urgent'], ['DATA', 'urgent'], drop('DATA')],
  OPT: all(['DATA', 'answer']),
  SB: [drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB_IAC'), drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB')],
  SB_IAC: [drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('SB'), drop('DATA'), drop('SB'), drop('SB'), drop('SB')],
  SYNCH: [keep, ['DATA', 'end line'], ['CR', 'keep'], keep, drop('IAC'), keep, keep, keep, drop('SYNCH'), drop('DATA'), keep],
  ABOR_CR: [keep, drop('DATA'), ['CR', 'keep'], drop('DATA'), drop('IAC'), keep, keep, keep, keep, keep, keep],
};

/** TRANSITIONS compiled: entry = next state << 4 | action. */
const TABLE: Uint8Array = new Uint8Array(STATE_NAMES.length * NCLASS);
STATE_NAMES.forEach((name, s) => {
  TRANSITIONS[name].forEach(([next, action], c) => {
    TABLE[s * NCLASS + c] = (STATE_NAMES.indexOf(next) << 4) | ACTION_NAMES.indexOf(action);
  });
});

/** The buffer holds exactly `ABOR\r`, in any case. */
function isAborCr(b: Uint8Array, len: number): boolean {
  return len === 5 && b[4] === 13 && ((b[0] as number) | 32) === 97 && ((b[1] as number) | 32) === 98 && ((b[2] as number) | 32) === 111 && ((b[3] as number) | 32) === 114;
}

/** `s[at, at + 5)` is `ABOR\r`, in any case. */
function isAborCrAt(s: string, at: number): boolean {
  return s.charCodeAt(at + 4) === 13 && (s.charCodeAt(at) | 32) === 97 && (s.charCodeAt(at + 1) | 32) === 98 && (s.charCodeAt(at + 2) | 32) === 111 && (s.charCodeAt(at + 3) | 32) === 114;
}

const DEFAULT_MAX = 4096;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Latin-1 decoding (each byte one code point); TextDecoder's 'latin1' is windows-1252. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** UTF-8 length of `s[from, to)` (the text is valid UTF-16 here: it came from a decoder). */
function utf8Length(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Streaming command decoder. Feed it what the socket gives; it returns the events the
 * bytes complete: command lines, errors to answer (and carry on), and Telnet refusals to
 * write back.
 *
 * ```ts
 * const d = new CommandDecoder();
 * d.push(bytes('USER anonymous\r\nPA')); // [{ kind: 'line', line: 'USER anonymous', urgent: false }]
 * d.push(bytes('SS guest\r\n'));         // [{ kind: 'line', line: 'PASS guest', urgent: false }]
 * ```
 */
export class CommandDecoder {
  readonly #max: number;
  readonly #latin1: boolean;
  readonly #tooLong: CommandProblem;
  #state = DATA;
  #buf: Uint8Array = new Uint8Array(0);
  #len = 0;
  /** Dropping the rest of an over-long line. */
  #skip = false;
  #urgent = false;
  /** The WILL/WONT/DO/DONT byte waiting for its option byte. */
  #verb = 0;

  /** @throws CommandCodecError `ERR_COMMAND_OPTION_INVALID` for a bad option. */
  constructor(opts: CommandDecoderOptions = {}) {
    const max = opts.maxLineLength ?? DEFAULT_MAX;
    if (!Number.isSafeInteger(max) || max < 16) {
      throw new CommandCodecError('ERR_COMMAND_OPTION_INVALID', `maxLineLength must be an integer of at least 16, got ${String(max)}`);
    }
    const mode = opts.invalidUtf8 ?? 'reject';
    if (mode !== 'reject' && mode !== 'latin1') {
      throw new CommandCodecError('ERR_COMMAND_OPTION_INVALID', `invalidUtf8 must be 'reject' or 'latin1', got ${String(mode)}`);
    }
    this.#max = max;
    this.#latin1 = mode === 'latin1';
    this.#tooLong = Object.freeze({ code: 'ERR_COMMAND_TOO_LONG', replyCode: 500, message: `Command line too long (more than ${max} bytes)` });
  }

  /** Bytes of the incomplete line held (at most `maxLineLength + 1`). */
  get bufferedBytes(): number {
    return this.#len;
  }

  /** Decodes the next bytes; returns the events they complete, in order. */
  push(chunk: Uint8Array): CommandEvent[] {
    const out: CommandEvent[] = [];
    const n = chunk.length;
    let pos = 0;
    if (this.#len > 0 || this.#skip || this.#state !== DATA) {
      // Finish the pending line (and any Telnet sequence) with the table.
      const lf = chunk.indexOf(10);
      pos = lf === -1 ? n : lf + 1;
      this.#slow(chunk, 0, pos, out);
      if (this.#state !== DATA || this.#len > 0 || this.#skip) {
        this.#slow(chunk, pos, n, out);
        return out;
      }
    }
    const last = pos < n ? chunk.lastIndexOf(10) : -1;
    if (last >= pos) {
      if (!this.#fast(chunk, pos, last, out)) this.#slow(chunk, pos, last + 1, out);
      pos = last + 1;
    }
    if (pos < n) this.#slow(chunk, pos, n, out);
    return out;
  }

  /** Forgets any partial line and Telnet state. */
  reset(): void {
    this.#state = DATA;
    this.#len = 0;
    this.#skip = false;
    this.#urgent = false;
    this.#verb = 0;
  }

  /**
   * The complete lines of `chunk[from, last]` (`chunk[last]` is LF, state is DATA, nothing
   * pending) in one decode. Returns false, having emitted nothing, when the region needs
   * the table: Telnet commands or invalid UTF-8 (the decode fails) or NUL.
   */
  #fast(chunk: Uint8Array, from: number, last: number, out: CommandEvent[]): boolean {
    let text: string;
    try {
      text = UTF8.decode(chunk.subarray(from, last + 1));
    } catch {
      return false;
    }
    if (text.indexOf('\0') !== -1) return false;
    const max = this.#max;
    // No line can be longer than the region; a UTF-16 unit is at most 3 UTF-8 bytes.
    const check = last - from > max;
    let s = 0;
    for (;;) {
      const i = text.indexOf('\n', s);
      if (i === -1) break;
      // `ABOR\r` followed by more than the LF ends at its CR, as in the table (ABOR_CR).
      while (i - s > 5 && isAborCrAt(text, s)) {
        out.push({ kind: 'line', line: text.slice(s, s + 4), urgent: this.#urgent });
        this.#urgent = false;
        s += 5;
      }
      const e = i > s && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
      if (check && (e - s > max || ((e - s) * 3 > max && utf8Length(text, s, e) > max))) {
        this.#urgent = false;
        out.push({ kind: 'error', error: this.#tooLong });
      } else {
        out.push({ kind: 'line', line: text.slice(s, e), urgent: this.#urgent });
        this.#urgent = false;
      }
      s = i + 1;
    }
    return true;
  }

  /**
   * Runs `chunk[from, to)` through the transition table. A run of bytes that are neither
   * LF, CR, NUL nor IAC is kept in one copy when the state is DATA or CR: that is what the
   * table does with each of them, one by one.
   */
  #slow(chunk: Uint8Array, from: number, to: number, out: CommandEvent[]): void {
    let state = this.#state;
    let i = from;
    while (i < to) {
      const b = chunk[i] as number;
      if (state <= CR && PLAIN[b] === 1) {
        let j = i + 1;
        while (j < to && PLAIN[chunk[j] as number] === 1) j++;
        this.#keepRun(chunk, i, j, out);
        state = DATA;
        i = j;
        continue;
      }
      const t = TABLE[state * NCLASS + (CLASS[b] as number)] as number;
      state = t >> 4;
      switch (t & 15) {
        case KEEP:
          this.#keepRun(chunk, i, i + 1, out);
          if (b === 13 && !this.#skip && isAborCr(this.#buf, this.#len)) {
            this.#endLine(out); // ftplib's urgent ABOR: its LF never arrives (see ABOR_CR)
            state = ABOR_CR;
          }
          break;
        case KEEP_FF:
          this.#keepRun(IAC_BYTE, 0, 1, out);
          break;
        case END:
          this.#endLine(out);
          break;
        case URGENT:
          this.#urgent = true;
          break;
        case NEGOTIATE:
          this.#verb = b;
          break;
        case ANSWER:
          // RFC 854 / RFC 1143: refuse every option; never answer WONT or DONT.
          if (this.#verb === WILL) out.push({ kind: 'telnet', response: new Uint8Array([IAC, DONT, b]) });
          else if (this.#verb === DO) out.push({ kind: 'telnet', response: new Uint8Array([IAC, WONT, b]) });
          break;
        default: // DROP
      }
      i++;
    }
    this.#state = state;
  }

  /** Keeps `bytes[from, to)` in the line; reports the line too long when it overflows. */
  #keepRun(bytes: Uint8Array, from: number, to: number, out: CommandEvent[]): void {
    if (this.#skip) return;
    const len = this.#len;
    const need = len + (to - from);
    // max + 1 bytes may be held (the last may be the CR before LF); one more overflows.
    if (need > this.#max + 1) {
      this.#skip = true;
      this.#len = 0;
      this.#urgent = false;
      out.push({ kind: 'error', error: this.#tooLong });
      return;
    }
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.min(Math.max(64, need, len * 2), this.#max + 1));
      grown.set(this.#buf.subarray(0, len));
      this.#buf = grown;
    }
    if (to - from === 1) this.#buf[len] = bytes[from] as number;
    else this.#buf.set(bytes.subarray(from, to), len);
    this.#len = need;
  }

  #endLine(out: CommandEvent[]): void {
    const urgent = this.#urgent;
    this.#urgent = false;
    if (this.#skip) {
      this.#skip = false;
      return;
    }
    let n = this.#len;
    this.#len = 0;
    if (n > 0 && this.#buf[n - 1] === 13) n--;
    if (n > this.#max) {
      out.push({ kind: 'error', error: this.#tooLong });
      return;
    }
    const bytes = this.#buf.subarray(0, n);
    let line: string;
    try {
      line = UTF8.decode(bytes);
    } catch {
      if (!this.#latin1) {
        out.push({ kind: 'error', error: { code: 'ERR_COMMAND_ENCODING', replyCode: 501, message: 'Command line is not valid UTF-8' } });
        return;
      }
      out.push({ kind: 'line', line: latin1(bytes), urgent, latin1: true });
      return;
    }
    out.push({ kind: 'line', line, urgent });
  }
}
