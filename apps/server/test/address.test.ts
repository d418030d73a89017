import { describe, expect, it } from 'vitest';
import { classifyAddress, isIpLiteral, unmapAddress } from '../src/address.js';

describe('classifyAddress', () => {
  it.each([
    ['10.1.2.3', 'private', false],
    ['172.16.0.1', 'private', false],
    ['192.168.0.10', 'private', false],
    ['::ffff:192.168.1.2', 'private', false],
    ['fd00::1', 'private', false],
    ['100.64.0.1', 'shared', false],
    ['127.0.0.1', 'loopback', false],
    ['0.0.0.0', 'unspecified', false],
    ['169.254.1.1', 'link-local', false],
    ['8.8.8.8', 'public', true],
    ['203.0.113.7', 'public', true],
    ['240.0.0.1', 'reserved', false],
    ['ftp.example.com', 'invalid', false],
  ] as const)('%s is %s', (a, kind, routable) => {
    const c = classifyAddress(a);
    expect(c.kind).toBe(kind);
    expect(c.routable).toBe(routable);
  });
  it('says RFC 1918 for the FAQ case', () => {
    expect(classifyAddress('192.168.1.2').label).toBe('private (RFC 1918)');
  });
  it('unmaps IPv4-mapped addresses and recognises literals', () => {
    expect(unmapAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapAddress('::1')).toBe('::1');
    expect(isIpLiteral('1.2.3.4')).toBe(true);
    expect(isIpLiteral('::1')).toBe(true);
    expect(isIpLiteral('1.2.3')).toBe(false);
    expect(isIpLiteral('ftp.example.com')).toBe(false);
  });
});
