/** Error of a parser: a stable `code`, a suggested FTP reply code and a human message. */
export interface ParseError {
  readonly code: string;
  readonly replyCode: number;
  readonly message: string;
}

/** The result of parsing untrusted text: never thrown, always returned. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ParseError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(code: string, message: string, replyCode = 501): Result<T> {
  return { ok: false, error: { code, replyCode, message } };
}

/** An error thrown for caller misuse; match on `code`, not on the class. */
export class ClassesError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ClassesError';
    this.code = code;
  }
}
