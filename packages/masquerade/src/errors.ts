/**
 * Errors thrown for caller misuse (a bad policy, option or context). Peer input never
 * throws: an answer the resolver cannot give is a refusal in the {@link Answer}.
 * Match on `err.code`, not on `instanceof`.
 */
export type MasqueradeErrorCode =
  | 'ERR_MASQUERADE_ADDRESS_INVALID'
  | 'ERR_MASQUERADE_NOT_IPV4'
  | 'ERR_MASQUERADE_MATCH_INVALID'
  | 'ERR_MASQUERADE_DNS_REQUIRED'
  | 'ERR_MASQUERADE_POLICY_INVALID'
  | 'ERR_MASQUERADE_CONTEXT_INVALID'
  | 'ERR_MASQUERADE_OPTION_INVALID';

/** An error with a stable `code`. */
export class MasqueradeError extends Error {
  readonly code: MasqueradeErrorCode;
  constructor(code: MasqueradeErrorCode, message: string) {
    super(message);
    this.name = 'MasqueradeError';
    this.code = code;
  }
}
