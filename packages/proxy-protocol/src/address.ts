/**
 * IP addresses in the two forms the PROXY protocol carries: text in v1 (§2.1) and network
 * byte order in v2 (§2.2). Parsing is strict, as §2.1 asks: IPv4 is exactly four decimal
 * integers 0..255 without heading zeroes; IPv6 is groups of 1 to 4 hex digits with at most
 * one `::` and exactly 128 bits (a trailing dotted quad, as inet_ntop writes `::ffff:a.b.c.d`,
 * is accepted); no zone, no brackets, no spaces. Text out is canonical: dotted quad, RFC 5952
 * for IPv6, and IPv4-mapped IPv6 as `::ffff:a.b.c.d` (the form Node's sockets report).
 */
import ipaddr from 'ipaddr.js';

/** Parses a dotted-quad IPv4 address strictly (§2.1) into 4 bytes, or `undefined`. */
export function parseIPv4(text: string): Uint8Array | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return Uint8Array.from(ipaddr.IPv4.parse(text).toByteArray());
}

const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** Parses an IPv6 address strictly (§2.1) into 16 bytes, or `undefined`. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (!IPV6_CHARS.test(text) || !text.includes(':') || !ipaddr.IPv6.isValid(text)) return undefined;
  if (text.includes('.') && !ipaddr.IPv4.isValidFourPartDecimal(text.slice(text.lastIndexOf(':') + 1))) return undefined;
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** Dotted quad of 4 bytes. */
export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 text of 16 bytes; IPv4-mapped addresses as `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2). */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  }
  return new ipaddr.IPv6(Array.from(bytes.subarray(0, 16))).toRFC5952String();
}
