import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { globMatch, matchNetAcl, matchNetAclList, parseNetAcl, parseNetAclList, type NetAclContext } from '../src/index.js';

function rule(token: string) {
  const r = parseNetAcl(token);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parseNetAcl: token forms (src/netacl.c pr_netacl_create)', () => {
  it.each([
    ['all', 'all'],
    ['NONE', 'none'],
    ['10.0.0.0/8', 'cidr'],
    ['!10.0.0.0/8', 'cidr'],
    ['2001:db8::/32', 'cidr'],
    ['192.168.1.0/255.255.255.0', 'cidr'],
    ['192.168.1.5', 'ip'],
    ['::1', 'ip'],
    ['10.1.2.', 'ip-glob'],
    ['10.1.*', 'ip-glob'],
    ['*.example.com', 'dns-glob'],
    ['.example.com', 'dns-glob'],
    ['host.example.com', 'dns'],
    ['localhost', 'dns'],
  ])('%s is a %s rule', (token, kind) => {
    expect(rule(token).kind).toBe(kind);
  });

  it('a dotted netmask (ftpkit extension) becomes a prefix length', () => {
    expect(rule('192.168.1.0/255.255.255.0')).toMatchObject({ kind: 'cidr', prefix: 24, family: 4 });
    expect(rule('10.0.0.0/255.0.0.0')).toMatchObject({ prefix: 8 });
  });

  it.each([
    ['10.0.0.0/33', "bad ACL definition '10.0.0.0/33': prefix length must be 0-32 for IPv4"],
    ['::/129', "bad ACL definition '::/129': prefix length must be 0-128 for IPv6"],
    ['10.0.0.0/255.0.255.0', "bad ACL definition '10.0.0.0/255.0.255.0': netmask 255.0.255.0 is not contiguous"],
    ['10.0.0.0/x', "bad ACL definition '10.0.0.0/x': 'x' is neither a prefix length nor an IPv4 netmask"],
    ['example.com/24', "bad ACL definition 'example.com/24': 'example.com' is not an IP address"],
    ['!all', "bad ACL definition '!all': the ! negation operator cannot be used with ALL/NONE"],
    ['300.1.1.1', "bad ACL definition '300.1.1.1': '300.1.1.1' is not a dotted-quad IPv4 address"],
    ['fe80::zz', "bad ACL definition 'fe80::zz': 'fe80::zz' is not an IPv6 address"],
    ['bad host', "bad ACL definition 'bad host': 'bad host' is not a host name, address or network"],
    ['!', "bad ACL definition '!': nothing after !"],
  ])('%s is refused', (token, message) => {
    const r = parseNetAcl(token);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ code: 'ERR_ACL_INVALID', message });
  });
});

describe('matchNetAcl: 1 / 0 / -1 (pr_netacl_match)', () => {
  const c = (address: string, reverseDns?: string): NetAclContext => ({ address, reverseDns });
  it.each<[string, NetAclContext, 1 | 0 | -1]>([
    ['all', c('1.2.3.4'), 1],
    ['none', c('1.2.3.4'), -1],
    ['10.0.0.0/8', c('10.9.8.7'), 1],
    ['10.0.0.0/8', c('11.0.0.1'), 0],
    ['!10.0.0.0/8', c('10.9.8.7'), -1],
    ['!10.0.0.0/8', c('11.0.0.1'), 1],
    ['10.0.0.0/8', c('::ffff:10.1.2.3'), 1],
    ['10.0.0.0/255.0.0.0', c('::ffff:10.1.2.3'), 1],
    ['127.0.0.1', c('::ffff:127.0.0.1'), 1],
    ['::ffff:127.0.0.1', c('127.0.0.1'), 1],
    ['::ffff:0:0/96', c('10.1.2.3'), 1],
    ['2001:db8::/32', c('2001:db8::5'), 1],
    ['2001:db8::/32', c('10.1.2.3'), 0],
    ['10.0.0.0/8', c('2001:db8::5'), 0],
    ['::1', c('0:0:0:0:0:0:0:1'), 1],
    ['192.168.0.', c('192.168.0.77'), 1],
    ['192.168.0.', c('192.168.1.77'), 0],
    ['10.1.*', c('::ffff:10.1.9.9'), 1],
    ['10.1.[0-4].*', c('10.1.3.9'), 1],
    ['10.1.[0-4].*', c('10.1.5.9'), 0],
    ['*.example.com', c('1.2.3.4', 'ftp.example.com'), 1],
    ['*.example.com', c('1.2.3.4', 'FTP.Example.COM.'), 1],
    ['.example.com', c('1.2.3.4', 'a.b.example.com'), 1],
    ['*.example.com', c('1.2.3.4'), 0],
    ['!*.example.com', c('1.2.3.4'), 0],
    ['!*.example.com', c('1.2.3.4', 'ftp.example.org'), 1],
    ['host.example.com', c('1.2.3.4', 'host.example.com'), 1],
    ['localhost', c('127.0.0.1'), 0],
    ['localhost', c('127.0.0.1', 'localhost'), 1],
    ['127.0.0.1', c('not-an-address'), 0],
  ])('%s vs %j -> %d', (token, ctx, want) => {
    expect(matchNetAcl(rule(token), ctx)).toBe(want);
  });
});

describe('lists', () => {
  it('From: all first is the only rule; a later all/none stops parsing', () => {
    const a = parseNetAclList(['all', '10.0.0.0/8']);
    expect(a.ok && a.value.map((r) => r.kind)).toEqual(['all']);
    const b = parseNetAclList(['10.0.0.0/8,192.168.0.0/16', 'none', '1.2.3.4']);
    expect(b.ok && b.value.map((r) => r.text)).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
  });
  it('Allow: an optional leading "from"; all later in the list is an error', () => {
    const a = parseNetAclList(['from', '10.0.0.0/8,', '!10.0.0.5'], 'allow');
    expect(a.ok && a.value.map((r) => r.text)).toEqual(['10.0.0.0/8', '!10.0.0.5']);
    const b = parseNetAclList(['10.0.0.0/8', 'all'], 'allow');
    expect(b.ok).toBe(false);
    expect(parseNetAclList([], 'allow').ok).toBe(false);
  });
  it('check_ip_access: a matching negation vetoes the line; one positive match is needed', () => {
    const r = parseNetAclList(['10.0.0.0/8', '!10.0.0.5'], 'allow');
    if (!r.ok) throw new Error('parse');
    expect(matchNetAclList(r.value, { address: '10.0.0.4' })).toBe(true);
    expect(matchNetAclList(r.value, { address: '10.0.0.5' })).toBe(false);
    expect(matchNetAclList(r.value, { address: '11.0.0.5' })).toBe(false);
    const onlyNegated = parseNetAclList(['!10.0.0.0/8'], 'allow');
    if (!onlyNegated.ok) throw new Error('parse');
    expect(matchNetAclList(onlyNegated.value, { address: '11.0.0.5' })).toBe(false);
    const none = parseNetAclList(['none'], 'allow');
    expect(none.ok && matchNetAclList(none.value, { address: '11.0.0.5' })).toBe(false);
    const all = parseNetAclList(['all'], 'allow');
    expect(all.ok && matchNetAclList(all.value, { address: '11.0.0.5' })).toBe(true);
  });
});

describe('properties', () => {
  it('an IPv4 address and its IPv4-mapped form match every CIDR rule the same way', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, len) => {
        const r = rule(`${net}/${len}`);
        expect(matchNetAcl(r, { address: `::ffff:${addr}` })).toBe(matchNetAcl(r, { address: addr }));
      }),
    );
  });
  it('a dotted netmask and its prefix length are the same rule', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, len) => {
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        const dotted = [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
        expect(matchNetAcl(rule(`${net}/${dotted}`), { address: addr })).toBe(matchNetAcl(rule(`${net}/${len}`), { address: addr }));
      }),
    );
  });
  it('negation flips a match into -1 and a miss into 1', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, len) => {
        const plain = matchNetAcl(rule(`${net}/${len}`), { address: addr });
        const neg = matchNetAcl(rule(`!${net}/${len}`), { address: addr });
        expect(neg).toBe(plain === 1 ? -1 : 1);
      }),
    );
  });
});

describe('globMatch', () => {
  it.each([
    ['*.example.org', 'a.example.org', true],
    ['*.example.org', 'example.org', false],
    ['ftp?.example.org', 'ftp1.example.org', true],
    ['ftp[!0-9].x', 'ftp1.x', false],
    ['{a,b}.x', 'b.x', true],
    ['a+b', 'a+b', true],
    ['a.b', 'axb', false],
  ])('%s ~ %s = %s', (p, t, want) => {
    expect(globMatch(p, t)).toBe(want);
  });
});
