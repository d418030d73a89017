/**
 * Addresses: parsing and normalisation (IPv4-mapped IPv6 becomes IPv4), the scope of an
 * address (public, private, loopback, …) and the NAT-safety guard built on it.
 *
 * Ranges come from ipaddr.js (the one address library of the project):
 * - private: 10/8, 172.16/12, 192.168/16 (RFC 1918); IPv6 unique local fc00::/7 (RFC 4193)
 *   and the deprecated site-local fec0::/10 (RFC 3879);
 * - link-local: 169.254/16 (RFC 3927), fe80::/10 (RFC 4291 §2.5.6);
 * - loopback: 127/8 (RFC 1122 §3.2.1.3), ::1 (RFC 4291 §2.5.3);
 * - unspecified: 0/8 (RFC 1122 §3.2.1.3), :: (RFC 4291 §2.5.2);
 * - multicast 224/4 and broadcast 255.255.255.255 (nobody can connect to them), ff00::/8.
 * Everything else is public, including the documentation ranges 192.0.2/24,
 * 198.51.100/24, 203.0.113/24 (RFC 5737) and 2001:db8::/32 (RFC 3849), so that examples
 * behave like the real Internet. Extra internal networks (for example carrier-grade NAT
 * 100.64/10, RFC 6598) are added with `internalRanges`.
 */
import ipaddr from 'ipaddr.js';
import { MasqueradeError } from './errors.js';

/** Where an address lives, as far as "can a client out there connect to it?" goes. */
export type AddressScope = 'public' | 'private' | 'link-local' | 'loopback' | 'unspecified' | 'multicast';

/** A parsed, normalised address. */
export interface Ip {
  /** Canonical text: dotted quad for IPv4 (also for IPv4-mapped input), RFC 5952 for IPv6. */
  readonly text: string;
  readonly family: 4 | 6;
  /** The input was IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2). */
  readonly mapped: boolean;
  readonly ip: ipaddr.IPv4 | ipaddr.IPv6;
}

/**
 * Parses an IP address strictly: IPv4 only as four decimal parts (no `127.1`, no octal),
 * IPv6 in any RFC 4291 §2.2 form, optionally in brackets, optionally with a zone.
 * IPv4-mapped IPv6 is returned as IPv4. Returns `undefined` for anything else.
 */
export function parseIp(input: string): Ip | undefined {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) {
    const ip = ipaddr.IPv4.parse(s);
    return { text: ip.toString(), family: 4, mapped: false, ip };
  }
  if (!s.includes(':') || !ipaddr.IPv6.isValid(s)) return undefined;
  const v6 = ipaddr.IPv6.parse(s);
  if (v6.isIPv4MappedAddress()) {
    const ip = v6.toIPv4Address();
    return { text: ip.toString(), family: 4, mapped: true, ip };
  }
  return { text: v6.toRFC5952String(), family: 6, mapped: false, ip: v6 };
}

/**
 * The canonical form of an address (`::ffff:1.2.3.4` → `1.2.3.4`, `2001:DB8:0::1` →
 * `2001:db8::1`), or `undefined` when it is not an IP address.
 */
export function normalizeAddress(input: string): string | undefined {
  return parseIp(input)?.text;
}

/** A CIDR block or a single address, parsed. */
export interface Network {
  readonly text: string;
  readonly family: 4 | 6;
  readonly base: ipaddr.IPv4 | ipaddr.IPv6;
  readonly bits: number;
}

/**
 * Parses `a.b.c.d/n`, `x::/n` or a single address (a /32 or /128). An IPv4-mapped base
 * (`::ffff:10.0.0.0/104`) becomes the IPv4 block it denotes. Returns `undefined` when invalid.
 */
export function parseNetwork(input: string): Network | undefined {
  const s = input.trim();
  const slash = s.indexOf('/');
  if (slash < 0) {
    const ip = parseIp(s);
    if (ip === undefined) return undefined;
    const bits = ip.family === 4 ? 32 : 128;
    return { text: `${ip.text}/${bits}`, family: ip.family, base: ip.ip, bits };
  }
  const ip = parseIp(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(bitsText)) return undefined;
  let bits = Number(bitsText);
  if (ip.mapped) {
    if (bits < 96) return undefined;
    bits -= 96;
  }
  if (bits > (ip.family === 4 ? 32 : 128)) return undefined;
  return { text: `${ip.text}/${bits}`, family: ip.family, base: ip.ip, bits };
}

/** Whether `ip` lies in `net` (different families never match). */
export function inNetwork(ip: Ip, net: Network): boolean {
  if (ip.family !== net.family) return false;
  return ip.ip.match(net.base, net.bits);
}

const V4_SCOPES: Readonly<Record<string, AddressScope>> = {
  private: 'private',
  linkLocal: 'link-local',
  loopback: 'loopback',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'multicast',
};
const V6_SCOPES: Readonly<Record<string, AddressScope>> = {
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
  loopback: 'loopback',
  unspecified: 'unspecified',
  multicast: 'multicast',
};

/**
 * The scope of a parsed address. `internal` lists extra networks to treat as private
 * (for example `100.64.0.0/10`, carrier-grade NAT, or a VPN range).
 */
export function scopeOf(ip: Ip, internal: readonly Network[] = []): AddressScope {
  const range = ip.ip.range();
  const scope = (ip.family === 4 ? V4_SCOPES : V6_SCOPES)[range];
  if (scope !== undefined) return scope;
  return internal.some((net) => inNetwork(ip, net)) ? 'private' : 'public';
}

/**
 * The scope of an address given as text (IPv4-mapped IPv6 is classified as IPv4),
 * or `undefined` when it is not an IP address.
 *
 * @example addressScope('::ffff:192.168.1.5') // 'private'
 */
export function addressScope(address: string, internalRanges: readonly string[] = []): AddressScope | undefined {
  const ip = parseIp(address);
  return ip === undefined ? undefined : scopeOf(ip, parseNetworks(internalRanges, 'internalRanges'));
}

/** Parses a list of CIDRs given as an option; throws ERR_MASQUERADE_OPTION_INVALID. */
export function parseNetworks(list: readonly string[], option: string): Network[] {
  return list.map((text) => {
    const net = parseNetwork(text);
    if (net === undefined) {
      throw new MasqueradeError('ERR_MASQUERADE_OPTION_INVALID', `${option}: '${text}' is not an address or CIDR block`);
    }
    return net;
  });
}

/** The guard's verdict on advertising one address to one client. */
export type GuardVerdict = { safe: true } | { safe: false; why: string };

/**
 * Is it safe to tell `client` to connect to `advertised`? Unsafe (the client cannot reach it):
 * - an unspecified, multicast or broadcast address, to anyone;
 * - a loopback address, to a client that is not itself on loopback;
 * - any non-public address (private, link-local, loopback), to a client on a public address.
 * A private client told a private or a public address is fine, and so is a public client
 * told a public address: NAT hairpinning and split DNS are the network's business.
 */
export function guardVerdict(advertised: Ip, client: Ip, internal: readonly Network[] = []): GuardVerdict {
  const a = scopeOf(advertised, internal);
  const c = scopeOf(client, internal);
  if (a === 'unspecified' || a === 'multicast') {
    return { safe: false, why: `${advertised.text} is ${a === 'unspecified' ? 'the unspecified address' : 'a multicast/broadcast address'}; no client can connect to it` };
  }
  if (a === 'loopback' && c !== 'loopback') {
    return { safe: false, why: `${advertised.text} is a loopback address and client ${client.text} is not on this host` };
  }
  if (c === 'public' && a !== 'public') {
    return { safe: false, why: `${advertised.text} is a ${a} address and client ${client.text} is public` };
  }
  return { safe: true };
}

/**
 * Is `name` a syntactically valid host name (RFC 1123 §2.1: labels of letters, digits and
 * hyphens, 1-63 characters, not starting or ending with a hyphen, 253 characters at most;
 * a trailing dot is allowed; the last label is not all digits, so `300.1.1.1` is no name)?
 */
export function isHostName(name: string): boolean {
  const s = name.endsWith('.') ? name.slice(0, -1) : name;
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] ?? '');
}
