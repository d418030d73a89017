/**
 * What kind of address a server advertises, in the words of the NAT guide's FAQ:
 * "Non-public IP addresses are defined by RFC 1918, and include 10.x, 172.16.x and
 * 192.168.0.x".
 */
import ipaddr from 'ipaddr.js';

export type AddressKind =
  | 'public'
  | 'private'
  | 'shared'
  | 'loopback'
  | 'link-local'
  | 'unspecified'
  | 'reserved'
  | 'multicast'
  | 'invalid';

export interface AddressClass {
  kind: AddressKind;
  /** True only for addresses a client on the Internet can reach. */
  routable: boolean;
  /** For reports: `private (RFC 1918)`, `public`, `public (documentation range, RFC 5737)`. */
  label: string;
}

/** Documentation ranges (RFC 5737): used as "public" addresses in examples and test networks. */
const DOC_V4: readonly [string, number][] = [
  ['192.0.2.0', 24],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
];

/** ipaddr.js range names -> class. */
const RANGES: Partial<Record<string, AddressClass>> = {
  unicast: { kind: 'public', routable: true, label: 'public' },
  private: { kind: 'private', routable: false, label: 'private (RFC 1918)' },
  uniqueLocal: { kind: 'private', routable: false, label: 'private (RFC 4193 unique local)' },
  carrierGradeNat: { kind: 'shared', routable: false, label: 'carrier-grade NAT (RFC 6598, not reachable from the Internet)' },
  loopback: { kind: 'loopback', routable: false, label: 'loopback' },
  linkLocal: { kind: 'link-local', routable: false, label: 'link-local' },
  unspecified: { kind: 'unspecified', routable: false, label: 'unspecified' },
  multicast: { kind: 'multicast', routable: false, label: 'multicast' },
  broadcast: { kind: 'multicast', routable: false, label: 'broadcast' },
};

/** Classify an IPv4 or IPv6 address (IPv4-mapped IPv6 counts as its IPv4 address). */
export function classifyAddress(text: string): AddressClass {
  if (!ipaddr.isValid(text)) return { kind: 'invalid', routable: false, label: 'not an IP address' };
  const addr = ipaddr.process(text);
  const range = addr.range();
  const known = RANGES[range];
  if (known !== undefined) return known;
  if (addr.kind() === 'ipv4') {
    for (const [net, bits] of DOC_V4) {
      if (addr.match(ipaddr.IPv4.parse(net), bits)) {
        return { kind: 'public', routable: true, label: 'public (documentation range, RFC 5737)' };
      }
    }
  }
  return { kind: 'reserved', routable: false, label: `reserved (${range})` };
}

/** The IPv4 form of an IPv4-mapped IPv6 address, other addresses unchanged. */
export function unmapAddress(text: string): string {
  if (!ipaddr.isValid(text)) return text;
  return ipaddr.process(text).toString();
}

/** True for a literal IPv4 or IPv6 address (not a name). */
export function isIpLiteral(text: string): boolean {
  return ipaddr.isValid(text) && (ipaddr.IPv4.isValidFourPartDecimal(text) || text.includes(':'));
}
