import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MasqueradeResolver,
  addressScope,
  dynmasqFailedLine,
  dynmasqUnchangedLine,
  dynmasqUpdatedLine,
  guardVerdict,
  isHostName,
  masqueradingAsLine,
  masqueradingLine,
  normalizeAddress,
  parseIp,
  parseNetwork,
  scopeOf,
} from '../src/index.js';

describe('parseIp / normalizeAddress', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:1.2.3.4', '1.2.3.4'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['[::ffff:1.2.3.4]', '1.2.3.4'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['[::1]', '::1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['1.2.3', undefined],
    ['127.1', undefined],
    ['010.0.0.1', undefined],
    ['256.0.0.1', undefined],
    ['0x7f.0.0.1', undefined],
    ['example.test', undefined],
    ['', undefined],
  ])('%j → %j', (input, want) => {
    expect(normalizeAddress(input)).toBe(want);
  });

  it('marks IPv4-mapped input', () => {
    expect(parseIp('::ffff:10.0.0.1')).toMatchObject({ family: 4, mapped: true, text: '10.0.0.1' });
    expect(parseIp('10.0.0.1')).toMatchObject({ family: 4, mapped: false });
    expect(parseIp('::1')).toMatchObject({ family: 6, mapped: false });
  });

  it('property: any IPv4 and its IPv4-mapped form normalise to the same dotted quad', () => {
    fc.assert(fc.property(fc.ipV4(), (a) => {
      expect(normalizeAddress(a)).toBe(a);
      expect(normalizeAddress(`::ffff:${a}`)).toBe(a);
    }));
  });
});

describe('parseNetwork', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.5', '10.0.0.5/32'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['fd00::/8', 'fd00::/8'],
    ['::1', '::1/128'],
    ['10.0.0.0/33', undefined],
    ['::ffff:10.0.0.0/90', undefined],
    ['10.0.0.0/', undefined],
    ['10.0.0.0/x', undefined],
    ['nope/8', undefined],
  ])('%j → %j', (input, want) => {
    expect(parseNetwork(input)?.text).toBe(want);
  });
});

describe('addressScope (ipaddr.js ranges)', () => {
  it.each([
    ['203.0.113.7', 'public'],
    ['8.8.8.8', 'public'],
    ['100.64.0.1', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.5', 'private'],
    ['::ffff:192.168.1.5', 'private'],
    ['169.254.1.1', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'multicast'],
    ['2001:db8::1', 'public'],
    ['fd12::1', 'private'],
    ['fec0::1', 'private'],
    ['fe80::1', 'link-local'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['ff02::1', 'multicast'],
    ['nope', undefined],
  ])('%s is %s', (address, scope) => {
    expect(addressScope(address)).toBe(scope);
  });

  it('internalRanges add private networks', () => {
    expect(addressScope('100.64.0.1', ['100.64.0.0/10'])).toBe('private');
    expect(addressScope('2001:db8::1', ['2001:db8::/32'])).toBe('private');
    expect(addressScope('203.0.113.7', ['100.64.0.0/10'])).toBe('public');
  });
});

describe('guardVerdict', () => {
  const ip = (s: string) => parseIp(s)!;
  it.each([
    // advertised, client, safe
    ['203.0.113.7', '198.51.100.9', true],
    ['10.1.2.3', '198.51.100.9', false],
    ['169.254.1.1', '198.51.100.9', false],
    ['127.0.0.1', '198.51.100.9', false],
    ['0.0.0.0', '198.51.100.9', false],
    ['10.1.2.3', '192.168.1.20', true],
    ['203.0.113.7', '192.168.1.20', true],
    ['127.0.0.1', '192.168.1.20', false],
    ['0.0.0.0', '192.168.1.20', false],
    ['224.0.0.1', '192.168.1.20', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['10.1.2.3', '127.0.0.1', true],
    ['0.0.0.0', '127.0.0.1', false],
    ['10.1.2.3', '2001:db8::9', false],
    ['10.1.2.3', 'fd00::9', true],
    ['10.1.2.3', '::ffff:198.51.100.9', false],
    ['10.1.2.3', '::ffff:10.9.9.9', true],
  ])('advertise %s to %s: safe=%s', (advertised, client, safe) => {
    expect(guardVerdict(ip(advertised), ip(client)).safe).toBe(safe);
  });

  const anyV4 = fc.ipV4();
  const asClient = (a: string, mapped: boolean) => (mapped ? `::ffff:${a}` : a);

  it('property: with the guard on, a public client is never told a non-public address', () => {
    fc.assert(fc.property(fc.array(anyV4, { maxLength: 4 }), anyV4, anyV4, fc.boolean(), (statics, local, client, mapped) => {
      const r = new MasqueradeResolver({ policies: statics.map((address) => ({ kind: 'static' as const, address })) });
      const a = r.resolve({ localAddress: asClient(local, mapped), remoteAddress: asClient(client, mapped) });
      if (!a.ok) {
        expect(a.replyCode).toBe(425);
        return;
      }
      const clientIp = parseIp(client)!;
      expect(guardVerdict(parseIp(a.address)!, clientIp).safe).toBe(true);
      if (scopeOf(clientIp) === 'public') expect(addressScope(a.address)).toBe('public');
      // The first safe candidate is chosen: every earlier one was guarded.
      const candidates = [...statics, local];
      const firstSafe = candidates.find((c) => guardVerdict(parseIp(c)!, clientIp).safe);
      expect(a.address).toBe(firstSafe);
    }));
  });

  it('property: IPv4-mapped and plain IPv4 contexts get the same answer', () => {
    fc.assert(fc.property(fc.array(anyV4, { maxLength: 3 }), anyV4, anyV4, (statics, local, client) => {
      const r = new MasqueradeResolver({
        policies: [
          { kind: 'client-network', entries: [{ match: '10.0.0.0/8', address: '10.1.1.1' }] },
          { kind: 'local-map', map: { '192.168.0.0/16': '203.0.113.1' } },
          ...statics.map((address) => ({ kind: 'static' as const, address })),
        ],
      });
      const plain = r.resolve({ localAddress: local, remoteAddress: client });
      const mapped = r.resolve({ localAddress: `::ffff:${local}`, remoteAddress: `::ffff:${client}` });
      expect(mapped).toEqual(plain);
    }));
  });
});

describe('isHostName (RFC 1123 §2.1)', () => {
  it.each([
    ['ftp.example.com', true],
    ['ftp.example.com.', true],
    ['localhost', true],
    ['a-b.example', true],
    ['3com.example', true],
    ['-a.example', false],
    ['a-.example', false],
    ['a..example', false],
    ['under_score.example', false],
    ['300.1.1.1', false],
    ['1.2.3.4', false],
    ['', false],
    [`${'a'.repeat(64)}.example`, false],
  ])('%j → %s', (name, ok) => {
    expect(isHostName(name)).toBe(ok);
  });
});

describe("ProFTPD's log texts", () => {
  it('startup lines', () => {
    expect(masqueradingLine('127.0.0.1', 2121, '203.0.113.7')).toBe('127.0.0.1:2121 masquerading as 203.0.113.7');
    expect(masqueradingLine('::1', 2122, '203.0.113.7')).toBe('::1:2122 masquerading as 203.0.113.7');
    expect(masqueradingLine('127.0.0.1', 2135, 'late.test.example')).toBe('127.0.0.1:2135 masquerading as late.test.example');
    expect(masqueradingAsLine('203.0.113.7', 'ftp.example.com')).toBe("Masquerading as '203.0.113.7' (ftp.example.com)");
  });

  it('mod_dynmasq lines', () => {
    expect(dynmasqUpdatedLine('masq.test.example', '198.51.100.21', '198.51.100.20')).toBe(
      "MasqueradeAddress 'masq.test.example' updated for new address 198.51.100.21 (was 198.51.100.20)",
    );
    expect(dynmasqUpdatedLine('late.test.example', '198.51.100.30', undefined)).toBe(
      "MasqueradeAddress 'late.test.example' updated for new address 198.51.100.30 (was (null))",
    );
    expect(dynmasqUnchangedLine('x.example')).toBe("MasqueradeAddress 'x.example' has not changed addresses");
    expect(dynmasqFailedLine('lo')).toBe("unable to resolve 'lo', keeping previous address");
  });
});
