/**
 * Errors. Two kinds, never mixed:
 * - what a peer sent is data: the decoder returns `{ state: 'error', error: { code, message } }`
 *   with a {@link ProxyProblemCode}; nothing here throws on peer input. There is no FTP reply
 *   code: the spec says to abort the connection, not to answer (proxy-protocol.txt §2.1).
 * - caller misuse (an address that cannot be encoded, a bad trusted list, a bad option)
 *   throws a {@link ProxyProtocolError} with a stable {@link ProxyProtocolErrorCode}.
 * Match on `code`, not on `instanceof`.
 */

/** Why a header was rejected. */
export type ProxyProblemCode =
  /** Neither the v1 `PROXY` nor the v2 12-byte signature (§2.2: "the connection must be dropped"). */
  | 'ERR_PROXY_SIGNATURE'
  /** A valid header of a version the decoder was told not to accept (`versions`). */
  | 'ERR_PROXY_VERSION_NOT_ALLOWED'
  /** v1: no CRLF within the first 107 bytes (§2.1). */
  | 'ERR_PROXY_V1_TOO_LONG'
  /** v1: the line does not match the grammar exactly (§2.1), including a lone CR or LF. */
  | 'ERR_PROXY_V1_SYNTAX'
  /** v2: the version nibble of the 13th byte is not 2 (§2.2). */
  | 'ERR_PROXY_V2_VERSION'
  /** v2: the command nibble is neither LOCAL (0) nor PROXY (1) (§2.2). */
  | 'ERR_PROXY_V2_COMMAND'
  /** v2: an address family above 3 or a transport protocol above 2 (§2.2). */
  | 'ERR_PROXY_V2_FAMILY'
  /** v2: the length is shorter than the address block of the announced family (§2.2). */
  | 'ERR_PROXY_V2_LENGTH'
  /** v2: the header is longer than the decoder's `maxHeaderBytes`. */
  | 'ERR_PROXY_V2_TOO_LARGE'
  /** v2: a TLV runs past the end of the header, or a known TLV has an impossible value (§2.2.1–2.2.7). */
  | 'ERR_PROXY_V2_TLV'
  /** v2: the CRC32C TLV does not match the header (§2.2.3: "MUST treat the TCP connection as invalid"). */
  | 'ERR_PROXY_V2_CRC32C'
  /** The stream ended inside the header (§2.2: "reject incoming connections containing partial protocol headers"). */
  | 'ERR_PROXY_TRUNCATED';

/** A rejected header, as data. */
export interface ProxyProblem {
  code: ProxyProblemCode;
  message: string;
}

/** Codes thrown for caller misuse. */
export type ProxyProtocolErrorCode =
  /** `encodeV1`/`encodeV2` got a header the format cannot carry (bad address, v1 LOCAL, unix in v1, TLV too long). */
  | 'ERR_PROXY_ENCODE_INVALID'
  /** `parseTrusted`/`trusted` got an entry that is not an IP address or CIDR block. */
  | 'ERR_PROXY_TRUSTED_INVALID'
  /** A bad option (`maxHeaderBytes`, `versions`, `timeoutMs`). */
  | 'ERR_PROXY_OPTION_INVALID'
  /** `push()` after the decoder returned `done`: the rest belongs to the application protocol. */
  | 'ERR_PROXY_DECODER_DONE';

/** An error with a stable `code`, thrown only for caller misuse. */
export class ProxyProtocolError extends Error {
  readonly code: ProxyProtocolErrorCode;
  constructor(code: ProxyProtocolErrorCode, message: string) {
    super(message);
    this.name = 'ProxyProtocolError';
    this.code = code;
  }
}
