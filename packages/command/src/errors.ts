/**
 * Results and errors of the command codec.
 *
 * A misbehaving peer is data, not an exception: the decoder emits `error` events and the
 * argument parsers return `{ ok: false, error }` with the reply to send (500 syntax,
 * 501 arguments, 504 parameter not implemented, 522 protocol family). Only caller misuse
 * (an invalid option) throws a {@link CommandCodecError} with a stable `code`.
 */

/** What is wrong with a command line or argument the client sent. */
export interface CommandProblem {
  /** Stable identifier, e.g. `ERR_PORT_SYNTAX`. Match on this. */
  code: string;
  /** The reply code to send. */
  replyCode: number;
  /** The reply text to send with it (ProFTPD's wording where ProFTPD has one). */
  message: string;
}

/** The result of a parser: a value, or a {@link CommandProblem}. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: CommandProblem };

/** The `code` of every {@link CommandCodecError} (caller misuse). */
export type CommandCodecErrorCode = 'ERR_COMMAND_OPTION_INVALID' | 'ERR_COMMAND_TIME_INVALID' | 'ERR_COMMAND_VERB_INVALID';

/** Thrown for caller misuse only. Callers match on `code`, not `instanceof`. */
export class CommandCodecError extends Error {
  readonly code: CommandCodecErrorCode;

  constructor(code: CommandCodecErrorCode, message: string) {
    super(message);
    this.name = 'CommandCodecError';
    this.code = code;
  }
}

/** Builds a failed {@link Result}. */
export function fail<T>(code: string, replyCode: number, message: string): Result<T> {
  return { ok: false, error: { code, replyCode, message } };
}

/** Builds a successful {@link Result}. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}
