/**
 * Which peers may send a PROXY header. §5: "accepting the header only from a number of
 * known sources should be safe"; anyone else could spoof their address with it.
 *
 * A trusted list holds IP addresses and CIDR blocks, IPv4 and IPv6. IPv4-mapped IPv6 is
 * IPv4 on both sides (`::ffff:10.0.0.5`, as a dual-stack socket reports an IPv4 peer, matches
 * `10.0.0.0/8`; `::ffff:10.0.0.0/104` is `10.0.0.0/8`). A zone (`fe80::1%eth0`) is ignored.
 * Entries are parsed strictly (no `10.1`, no octal or hex IPv4) and a bad entry throws, since
 * a typo in a trust list must not silently trust nobody, or everybody.
 */
import ipaddr from 'ipaddr.js';
import { parseIPv6 } from './address.js';
import { ProxyProtocolError } from './errors.js';

/** A parsed trusted list: build it once with {@link parseTrusted}, test peers with {@link trusted}. */
export interface TrustedList {
  readonly kind: 'trusted-list';
  /** The entries as given. */
  readonly entries: readonly string[];
  /** `[network, prefix]` pairs as ipaddr.js matches them. */
  readonly ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

interface Parsed {
  addr: ipaddr.IPv4 | ipaddr.IPv6;
  /** IPv4-mapped IPv6 turned into IPv4. */
  mapped: boolean;
}

/** A strict address (see address.ts), IPv4-mapped IPv6 as IPv4. */
function parseAddress(text: string): Parsed | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return { addr: ipaddr.IPv4.parse(text), mapped: false };
  if (parseIPv6(text) === undefined) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? { addr: v6.toIPv4Address(), mapped: true } : { addr: v6, mapped: false };
}

const PREFIX = /^(?:0|[1-9][0-9]{0,2})$/;

/** Parses a trusted list. Throws ERR_PROXY_TRUSTED_INVALID for an entry that is not an address or CIDR block. */
export function parseTrusted(entries: readonly string[]): TrustedList {
  if (!Array.isArray(entries)) throw new ProxyProtocolError('ERR_PROXY_TRUSTED_INVALID', 'the trusted list must be an array of addresses and CIDR blocks');
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const entry of entries) {
    const bad = (): ProxyProtocolError => new ProxyProtocolError('ERR_PROXY_TRUSTED_INVALID', `trusted entry "${String(entry)}" is not an IP address or CIDR block (a.b.c.d/n, x::/n)`);
    if (typeof entry !== 'string') throw bad();
    const s = entry.trim();
    const slash = s.indexOf('/');
    const parsed = parseAddress(slash < 0 ? s : s.slice(0, slash));
    if (parsed === undefined) throw bad();
    const { addr, mapped } = parsed;
    const full = addr.kind() === 'ipv4' ? 32 : 128;
    let bits = full;
    if (slash >= 0) {
      const p = s.slice(slash + 1);
      if (!PREFIX.test(p)) throw bad();
      bits = Number(p) - (mapped ? 96 : 0);
      if (bits < 0 || bits > full) throw bad();
    }
    ranges.push([addr, bits]);
  }
  return { kind: 'trusted-list', entries: [...entries], ranges };
}

/**
 * Whether `address` (a socket's remote address) is in the trusted list. Anything that is not
 * an IP address, `undefined` included (a socket already closed), is not trusted. Throws only
 * when `list` is a string array with a bad entry (ERR_PROXY_TRUSTED_INVALID).
 */
export function trusted(address: string | undefined, list: TrustedList | readonly string[]): boolean {
  const parsed = Array.isArray(list) ? parseTrusted(list) : (list as TrustedList);
  if (typeof address !== 'string') return false;
  const addr = parseAddress(address.trim().replace(/%[^%]*$/, ''))?.addr; // a zone is ignored
  if (addr === undefined) return false;
  for (const [net, bits] of parsed.ranges) {
    if (net.kind() === addr.kind() && addr.match(net as never, bits)) return true;
  }
  return false;
}
