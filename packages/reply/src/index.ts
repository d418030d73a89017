/**
 * @packageDocumentation
 * The FTP reply codec, sans-IO: encodes single- and multi-line replies exactly as
 * RFC 959 §4.2 says (reply text can never inject a line: CR goes out as CR NUL per
 * RFC 2640, LF as NUL), quotes 257 path names (RFC 959 Appendix II), formats and parses
 * the 227 and 229 passive replies (RFC 959 §4.1.2, RFC 2428 §3) with the variants real
 * servers send, and decodes a reply stream for clients and proxies with bounded memory.
 * No IO, no Node APIs: it runs in Node, Deno, Bun and browsers.
 *
 * @example
 * ```ts
 * import { ReplyDecoder, encodeReply, formatPasv, parsePasv } from '@ftpkit/reply';
 *
 * encodeReply(227, formatPasv('203.0.113.7', 60007));
 * // '227 Entering Passive Mode (203,0,113,7,234,103).\r\n'
 * encodeReply(211, ['Features:', 'EPSV', 'UTF8', 'End']);
 * // '211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n'
 *
 * const decoder = new ReplyDecoder();
 * for (const reply of decoder.push('227 Entering Passive Mode (10,0,0,1,4,1)\r\n')) {
 *   if (reply.ok && reply.code === 227) console.log(parsePasv(reply.text)); // { ok: true, value: { host: '10.0.0.1', port: 1025 } }
 * }
 * ```
 */
export { ReplyCodecError } from './errors.js';
export type { ReplyCodecErrorCode, ReplyProblem, Result } from './errors.js';
export { encodeReply, escapeReplyText, parsePathname, quotePathname } from './encode.js';
export { formatEpsv, formatPasv, parseEpsv, parsePasv } from './passive.js';
export { ReplyDecoder, STATES } from './decoder.js';
export type { DecodedReply, ReplyDecoderOptions } from './decoder.js';
