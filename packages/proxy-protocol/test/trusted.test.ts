import { describe, expect, it } from 'vitest';
import { parseTrusted, trusted } from '../src/index.js';

describe('trusted', () => {
  const list = parseTrusted(['10.0.0.0/8', '192.0.2.7', '2001:db8:1::/48', '::ffff:172.16.0.0/108', 'fe80::/10']);
  it.each([
    ['10.1.2.3', true],
    ['::ffff:10.1.2.3', true], // a dual-stack socket's view of an IPv4 peer
    ['::FFFF:10.1.2.3', true],
    ['11.0.0.1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['2001:db8:1:ffff::1', true],
    ['2001:db8:2::1', false],
    ['172.16.5.5', true], // from the IPv4-mapped CIDR entry (/108 = /12)
    ['172.32.0.1', false],
    ['fe80::1%eth0', true], // the zone is ignored
    ['::1', false],
    ['127.0.0.1', false],
    ['', false],
    ['not an address', false],
    ['10.1', false],
    ['010.0.0.1', false],
    [undefined, false],
  ])('%s → %s', (addr, expected) => expect(trusted(addr as string | undefined, list)).toBe(expected));

  it('trims spaces around an entry', () => {
    expect(trusted('10.9.9.9', [' 10.0.0.0/8 '])).toBe(true);
  });

  it('takes a plain array too', () => {
    expect(trusted('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(trusted('127.0.0.2', ['127.0.0.1'])).toBe(false);
    expect(trusted('127.0.0.1', [])).toBe(false);
  });

  it('/0 trusts a whole family, not the other', () => {
    expect(trusted('203.0.113.1', ['0.0.0.0/0'])).toBe(true);
    expect(trusted('2001:db8::1', ['0.0.0.0/0'])).toBe(false);
    expect(trusted('2001:db8::1', ['::/0'])).toBe(true);
    expect(trusted('::ffff:203.0.113.1', ['::/0'])).toBe(false); // IPv4-mapped is IPv4
  });

  it.each(['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.1/8', '0x0a.0.0.0/8', 'example.com', '', '::/129', '::ffff:10.0.0.0/95', 'fe80::%eth0/10', '*'])(
    'refuses the entry %j with ERR_PROXY_TRUSTED_INVALID',
    (entry) => {
      expect(() => parseTrusted([entry])).toThrow(expect.objectContaining({ code: 'ERR_PROXY_TRUSTED_INVALID' }));
      expect(() => trusted('10.0.0.1', [entry])).toThrow(expect.objectContaining({ code: 'ERR_PROXY_TRUSTED_INVALID' }));
    },
  );
});
