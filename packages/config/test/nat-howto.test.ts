// Every configuration example of ProFTPD's NAT guide (shared/reference/proftpd-nat-howto.txt),
// parsed and resolved to what it means in ProFTPD.
import { describe, expect, it } from 'vitest';
import { checkLimit, limitDeniedReply } from '../src/index.js';
import { parseFixture, session } from './helpers.js';

describe('NAT guide: MasqueradeAddress and PassivePorts lines (with trailing comments)', () => {
  it('MasqueradeAddress ftp.mydomain.com # using a DNS name', () => {
    const c = parseFixture('nat-howto/masquerade-dns.conf');
    expect(session(c, { remoteAddress: '198.51.100.9' }).settings.masqueradeAddress).toEqual({ host: 'ftp.mydomain.com', kind: 'name' });
  });
  it('MasqueradeAddress 123.45.67.89 # using an IP address', () => {
    const c = parseFixture('nat-howto/masquerade-ip.conf');
    expect(session(c, { remoteAddress: '198.51.100.9' }).settings.masqueradeAddress).toEqual({ host: '123.45.67.89', kind: 'ipv4' });
  });
  it('MasqueradeAddress 1.2.3.4 (FAQ)', () => {
    const c = parseFixture('nat-howto/faq-masquerade-ip.conf');
    expect(session(c, { remoteAddress: '198.51.100.9' }).settings.masqueradeAddress?.host).toBe('1.2.3.4');
  });
  it('PassivePorts 60000 65535 # These ports should be safe...', () => {
    const c = parseFixture('nat-howto/passive-ports.conf');
    expect(session(c, { remoteAddress: '198.51.100.9' }).settings.passivePorts).toEqual({ min: 60000, max: 65535 });
  });
});

describe('NAT guide: <Limit EPSV PASV> DenyAll refuses passive transfers', () => {
  const c = parseFixture('nat-howto/limit-epsv-pasv.conf');
  const s = session(c, { remoteAddress: '198.51.100.9', authenticated: true, user: 'alice' });
  it.each(['PASV', 'EPSV', 'pasv'])('%s is denied with 501', (verb) => {
    const d = checkLimit(s, verb, { address: '198.51.100.9' });
    expect(d.allowed).toBe(false);
    expect(d.section).toBe('<Limit EPSV PASV> (nat-howto/limit-epsv-pasv.conf:1)');
    expect(limitDeniedReply(verb)).toEqual({ code: 501, text: `${verb.toUpperCase()}: Operation not permitted` });
  });
  it.each(['PORT', 'EPRT', 'RETR', 'LIST'])('%s stays allowed', (verb) => {
    expect(checkLimit(s, verb, { address: '198.51.100.9' }).allowed).toBe(true);
  });
});

describe('NAT guide: a <VirtualHost> for the LAN address has no MasqueradeAddress', () => {
  const c = parseFixture('nat-howto/lan-vhost.conf');
  it('a LAN client (192.168.0.x) connecting to the LAN address gets the vhost, no masquerading', () => {
    const s = session(c, { localAddress: '192.168.0.10', remoteAddress: '192.168.0.77' });
    expect(s.server.kind).toBe('vhost');
    expect(s.settings.serverName).toBe('Some Other Server Name');
    expect(s.settings.masqueradeAddress).toBeUndefined();
    // The main server's settings are not inherited by virtual hosts (only <Global> is).
    expect(s.settings.passivePorts).toBeUndefined();
  });
  it('the same, over an IPv4-mapped IPv6 listener', () => {
    const s = session(c, { localAddress: '::ffff:192.168.0.10', remoteAddress: '::ffff:192.168.0.77' });
    expect(s.server.kind).toBe('vhost');
    expect(s.settings.masqueradeAddress).toBeUndefined();
  });
  it('a public client arriving through the NAT on another address gets the main server and the masquerade address', () => {
    const s = session(c, { localAddress: '10.0.0.5', remoteAddress: '203.0.113.50' });
    expect(s.server.kind).toBe('main');
    expect(s.settings.serverName).toBe('Some Server Name');
    expect(s.settings.masqueradeAddress).toEqual({ host: 'my.domain.com', kind: 'name' });
    expect(s.settings.passivePorts).toEqual({ min: 60000, max: 65535 });
    expect(s.origin.masqueradeAddress).toBe('main server');
  });
  it('a 10.x client on the main address is masqueraded too: only the address it connects to matters', () => {
    expect(session(c, { localAddress: '10.0.0.5', remoteAddress: '10.9.9.9' }).settings.masqueradeAddress?.host).toBe('my.domain.com');
  });
});

describe('NAT guide: classes pick the MasqueradeAddress per client network (mod_ifsession)', () => {
  const c = parseFixture('nat-howto/ifclass.conf');
  it.each([
    ['10.4.5.6', 'internal', '10.1.2.3'],
    ['::ffff:10.4.5.6', 'internal', '10.1.2.3'],
    ['192.168.0.7', undefined, '1.2.3.4'],
    ['203.0.113.50', undefined, '1.2.3.4'],
    ['2001:db8::50', undefined, '1.2.3.4'],
  ])('client %s (class %s) gets %s, at connect and after login', (remoteAddress, cls, masq) => {
    const atConnect = session(c, { remoteAddress });
    expect(atConnect.className).toBe(cls);
    expect(atConnect.settings.masqueradeAddress?.host).toBe(masq);
    const afterLogin = session(c, { remoteAddress, authenticated: true, user: 'bob', groups: ['users'] });
    expect(afterLogin.settings.masqueradeAddress?.host).toBe(masq);
    expect(afterLogin.origin.masqueradeAddress).toMatch(/^<IfClass !?internal> \(nat-howto\/ifclass\.conf:\d+\)$/);
  });
});
