/**
 * `@ftpkit/masquerade`: which IPv4 address goes into the 227 reply for this client?
 * ProFTPD's `MasqueradeAddress`, `TLSMasqueradeAddress` and per-class masquerading as an
 * ordered, explainable policy chain, with a guard that never tells a client on a public
 * address to connect to a private one. This entry point is pure (no IO, no clock);
 * `@ftpkit/masquerade/node` keeps DNS names fresh.
 *
 * @example
 * ```ts
 * import { MasqueradeResolver, fixedDns } from '@ftpkit/masquerade';
 *
 * const resolver = new MasqueradeResolver({
 *   policies: [
 *     { kind: 'client-network', entries: [{ match: 'class:internal', address: '10.1.2.3' }] },
 *     { kind: 'dns', name: 'ftp.example.com' },
 *   ],
 *   dns: fixedDns({ 'ftp.example.com': '203.0.113.7' }),
 * });
 * const answer = resolver.resolve({ localAddress: '10.1.2.3', remoteAddress: '198.51.100.9' });
 * // answer.ok && answer.address === '203.0.113.7', answer.rule === 'dns'
 * // answer.reason === "DNS name 'ftp.example.com': resolved to 203.0.113.7 (fixed)"
 * ```
 *
 * @packageDocumentation
 */
export {
  type AddressScope,
  type GuardVerdict,
  type Ip,
  type Network,
  addressScope,
  guardVerdict,
  inNetwork,
  isHostName,
  normalizeAddress,
  parseIp,
  parseNetwork,
  scopeOf,
} from './address.js';
export { MasqueradeError, type MasqueradeErrorCode } from './errors.js';
export {
  dynmasqFailedLine,
  dynmasqUnchangedLine,
  dynmasqUpdatedLine,
  ipv6PasvLines,
  masqueradingAsLine,
  masqueradingLine,
} from './log.js';
export {
  type Answer,
  type ClientNetworkEntry,
  type DnsAnswer,
  type DnsLookup,
  type MasqueradeContext,
  type MasqueradeResolverOptions,
  type Policy,
  type RuleKind,
  type Step,
  MasqueradeResolver,
  REFUSAL_TEXT,
  fixedDns,
  masqueradeAddressPolicy,
} from './resolver.js';
