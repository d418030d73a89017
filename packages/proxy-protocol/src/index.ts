/**
 * `@ftpkit/proxy-protocol`: the HAProxy PROXY protocol, versions 1 and 2
 * (proxy-protocol.txt, "The PROXY protocol Versions 1 & 2"), for servers behind layer-4
 * load balancers. A streaming header decoder (v1 and v2; IPv4, IPv6, UNIX, LOCAL, UNSPEC;
 * TLVs with ALPN, AUTHORITY, CRC32C verified when present, UNIQUE_ID, SSL and NETNS),
 * encoders for both versions, and the trusted-source check. This entry point is pure (no
 * IO, no clock); `@ftpkit/proxy-protocol/node` reads the header from a socket with a timeout.
 *
 * @example
 * ```ts
 * import { ProxyHeaderDecoder, encodeV2, trusted } from '@ftpkit/proxy-protocol';
 *
 * const bytes = encodeV2({ family: 'tcp4', source: { address: '198.51.100.7', port: 50123 },
 *                          destination: { address: '203.0.113.10', port: 21 } });
 * const decoder = new ProxyHeaderDecoder();
 * const r = decoder.push(bytes);
 * // r.state === 'done', r.header.source => { address: '198.51.100.7', port: 50123 }, r.rest => the first FTP bytes
 * trusted('::ffff:10.0.0.5', ['10.0.0.0/8']); // true: only these peers may send a header
 * ```
 *
 * @packageDocumentation
 */
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
export { crc32c } from './crc32c.js';
export { type ProxyHeaderDecoderOptions, ProxyHeaderDecoder, STATES, decodeProxyHeader } from './decoder.js';
export {
  type ProxyProblem,
  type ProxyProblemCode,
  type ProxyProtocolErrorCode,
  ProxyProtocolError,
} from './errors.js';
export {
  type SslTlvInit,
  PP2_CLIENT,
  PP2_TYPE,
  UNIQUE_ID_MAX,
  alpnTlv,
  authorityTlv,
  crc32cTlv,
  netnsTlv,
  noopTlv,
  sslTlv,
  uniqueIdTlv,
} from './tlv.js';
export { type TrustedList, parseTrusted, trusted } from './trusted.js';
export type {
  DecodeResult,
  ProxyAddress,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyHeaderInit,
  ProxySsl,
  ProxyTransport,
  Tlv,
} from './types.js';
export { V1_MAX_LINE, encodeV1 } from './v1.js';
export { type EncodeV2Options, V2_MAX_HEADER, V2_SIGNATURE, encodeV2 } from './v2.js';
