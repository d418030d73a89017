/**
 * Results and errors of the reply codec.
 *
 * A misbehaving peer is data, not an exception: parsers and the decoder return
 * `{ ok: false, error }`. Only caller misuse (a reply code outside 100–699, a bad
 * address given to `formatPasv`) throws a {@link ReplyCodecError} with a stable `code`.
 */

/** What went wrong with bytes or text that came from the peer. */
export interface ReplyProblem {
  /** Stable identifier, e.g. `ERR_REPLY_TOO_LARGE`. Match on this. */
  code: string;
  /**
   * The reply a proxy would give its own client for this problem: `421` when the
   * upstream control connection is unusable (decoder errors), `425` when a data
   * connection cannot be set up from an unreadable 227/229, `550` for an unreadable 257.
   */
  replyCode: number;
  /** Human-readable explanation, safe to log. */
  message: string;
}

/** The result of a parser: a value, or a {@link ReplyProblem}. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ReplyProblem };

/** The `code` of every {@link ReplyCodecError} (caller misuse). */
export type ReplyCodecErrorCode =
  | 'ERR_REPLY_CODE_INVALID'
  | 'ERR_REPLY_LINES_EMPTY'
  | 'ERR_REPLY_ADDRESS_INVALID'
  | 'ERR_REPLY_PORT_INVALID'
  | 'ERR_REPLY_OPTION_INVALID';

/** Thrown for caller misuse only. Callers match on `code`, not `instanceof`. */
export class ReplyCodecError extends Error {
  readonly code: ReplyCodecErrorCode;

  constructor(code: ReplyCodecErrorCode, message: string) {
    super(message);
    this.name = 'ReplyCodecError';
    this.code = code;
  }
}

/** Builds a failed {@link Result}. */
export function fail<T>(code: string, replyCode: number, message: string): Result<T> {
  return { ok: false, error: { code, replyCode, message } };
}

/** Shortens peer text for use inside an error message. */
export function excerpt(text: string, max = 40): string {
  const shown = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(shown);
}
