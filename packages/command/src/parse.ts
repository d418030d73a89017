/**
 * Splitting a command line into verb and argument (RFC 959 §5.3: `<verb> <SP> <argument>`).
 *
 * The argument is everything after the first space, verbatim: a file name keeps its
 * leading, inner and trailing spaces and its quotes (`RETR  two spaces .txt` has the
 * argument ` two spaces .txt`). The verb is upper-cased for ASCII letters only, so that
 * no Unicode case mapping can turn another string into a verb (`ſtor` stays unknown
 * instead of becoming `STOR`).
 *
 * As ProFTPD reads a line: blanks before the verb are skipped (` NOOP`), a tab also ends
 * the verb (`CWD<TAB>/`), and an argument of spaces only is no argument at all (`NOOP  `
 * is `NOOP`, `PWD   ` is `PWD`).
 *
 * `encodeCommand` is the client side: it builds the line a client sends, with a CR
 * inside the argument sent as CR NUL (RFC 2640 §3.1) and a LF as NUL, so that a file name
 * can never add a command.
 */
import { CommandCodecError } from './errors.js';

/** A command line split into its verb and argument. */
export interface ParsedCommand {
  /** The verb, ASCII letters upper-cased (`'RETR'`); `''` for an empty line. */
  verb: string;
  /** Everything after the first space, verbatim; `undefined` when the line has no space. */
  arg: string | undefined;
}

/** Upper-cases ASCII letters only (`'ſtor'` → `'ſTOR'`, never `'STOR'`). */
export function asciiUpper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return upperFrom(s, i);
  }
  return s;
}

function upperFrom(s: string, from: number): string {
  let ascii = true;
  for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 128;
  if (ascii) return s.toUpperCase();
  let out = s.slice(0, from);
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return out;
}

const SEPARATOR = /[ \t]/;
const SPACES = /^ *$/;
const LEADING = /^[ \t]+/;

/**
 * Splits a command line: `parseCommand('retr my file.txt')` →
 * `{ verb: 'RETR', arg: 'my file.txt' }`; `parseCommand('PWD')` → `{ verb: 'PWD', arg: undefined }`;
 * `parseCommand('PWD ')` and `parseCommand('PWD   ')` → `{ verb: 'PWD', arg: '' }`.
 */
export function parseCommand(text: string): ParsedCommand {
  const line = LEADING.test(text) ? text.replace(LEADING, '') : text;
  const sp = line.search(SEPARATOR);
  if (sp === -1) return { verb: asciiUpper(line), arg: undefined };
  const arg = line.slice(sp + 1);
  return { verb: asciiUpper(line.slice(0, sp)), arg: SPACES.test(arg) ? '' : arg };
}

const VERB = /^[A-Za-z]{1,16}$/;
const ESCAPES = /\r|\n/g;

/**
 * The command line a client sends, CRLF included: `encodeCommand('RETR', 'a b.txt')` →
 * `'RETR a b.txt\r\n'`. A CR in the argument is sent as CR NUL (RFC 2640 §3.1), a LF as
 * NUL; the argument is otherwise verbatim. Encode the string as UTF-8 to send it.
 *
 * @throws CommandCodecError `ERR_COMMAND_VERB_INVALID` unless the verb is 1–16 ASCII letters.
 */
export function encodeCommand(verb: string, arg?: string): string {
  if (!VERB.test(verb)) throw new CommandCodecError('ERR_COMMAND_VERB_INVALID', `a verb is 1 to 16 ASCII letters, got ${JSON.stringify(verb)}`);
  if (arg === undefined) return `${verb}\r\n`;
  return `${verb} ${arg.replace(ESCAPES, (c) => (c === '\r' ? '\r\0' : '\0'))}\r\n`;
}
