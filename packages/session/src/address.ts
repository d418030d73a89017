/**
 * Address comparisons of the data-connection checks (ProFTPD `pr_netaddr_cmp`,
 * `pr_inet_allowforeignaddress`; reference §3.3, §7.3). IPv4 and IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`) compare equal, so a dual-stack listener sees the same client.
 */
import ipaddr from 'ipaddr.js';

/** Canonical text of an address: IPv4-mapped IPv6 becomes IPv4; IPv6 is compressed. Unparseable text is returned lower-cased. */
export function canonicalAddress(address: string): string {
  try {
    return ipaddr.process(address).toString();
  } catch {
    return address.toLowerCase();
  }
}

/** `pr_netaddr_cmp(a, b) == 0`. */
export function sameAddress(a: string, b: string): boolean {
  return a === b || canonicalAddress(a) === canonicalAddress(b);
}

/** The IPv4 form of an IPv4 or IPv4-mapped address, else undefined (native IPv6, garbage). */
export function ipv4Of(address: string): string | undefined {
  try {
    const parsed = ipaddr.process(address);
    return parsed.kind() === 'ipv4' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** True for a native IPv6 address (not IPv4-mapped). */
export function isNativeIpv6(address: string): boolean {
  try {
    return ipaddr.process(address).kind() === 'ipv6';
  } catch {
    return false;
  }
}

/** RFC 1918 private IPv4 (10/8, 172.16/12, 192.168/16), also in IPv4-mapped form. */
export function isRfc1918(address: string): boolean {
  try {
    const parsed = ipaddr.process(address);
    return parsed.kind() === 'ipv4' && parsed.range() === 'private';
  } catch {
    return false;
  }
}

/**
 * AllowForeignAddress (§7.3): may `address` (a PORT/EPRT target or a passive peer) be
 * used when the control connection comes from `client`? The client's own address is
 * always allowed; `true` allows anything; a predicate allows what it accepts.
 */
export function addressAllowed(
  policy: boolean | ((address: string) => boolean),
  address: string,
  client: string,
): boolean {
  if (policy === true) return true;
  if (typeof policy === 'function' && policy(canonicalAddress(address))) return true;
  return sameAddress(address, client);
}
