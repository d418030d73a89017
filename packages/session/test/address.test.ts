import { describe, expect, it } from 'vitest';
import { addressAllowed, canonicalAddress, ipv4Of, isNativeIpv6, isRfc1918, sameAddress } from '../src/address.js';

describe('address checks', () => {
  it('treats IPv4-mapped IPv6 as IPv4 (pr_netaddr_cmp)', () => {
    expect(sameAddress('::ffff:127.0.0.1', '127.0.0.1')).toBe(true);
    expect(sameAddress('::1', '127.0.0.1')).toBe(false);
    expect(canonicalAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalAddress('2001:db8:0:0::1')).toBe('2001:db8::1');
    expect(ipv4Of('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipv4Of('::1')).toBeUndefined();
    expect(isNativeIpv6('::1')).toBe(true);
    expect(isNativeIpv6('::ffff:1.2.3.4')).toBe(false);
  });

  it('recognises RFC 1918 only', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '::ffff:10.0.0.1']) expect(isRfc1918(a)).toBe(true);
    for (const a of ['127.0.0.1', '100.64.0.1', '172.32.0.1', '203.0.113.7', 'fd00::1', 'junk']) expect(isRfc1918(a)).toBe(false);
  });

  it('AllowForeignAddress: off, on, predicate', () => {
    expect(addressAllowed(false, '127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(addressAllowed(false, '127.0.0.2', '127.0.0.1')).toBe(false);
    expect(addressAllowed(true, '1.2.3.4', '127.0.0.1')).toBe(true);
    const fxp = (a: string): boolean => a === '127.0.0.2';
    expect(addressAllowed(fxp, '::ffff:127.0.0.2', '127.0.0.1')).toBe(true);
    expect(addressAllowed(fxp, '127.0.0.3', '127.0.0.1')).toBe(false);
    expect(addressAllowed(fxp, '127.0.0.1', '127.0.0.1')).toBe(true);
  });

});
