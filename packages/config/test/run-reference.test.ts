// The [RUN] observations of reference §9.5/§9.6 (ProFTPD 1.3.8), expressed as configurations.
import { describe, expect, it } from 'vitest';
import { checkLimit, resolveSessionConfig, selectServer, selectServerByHost } from '../src/index.js';
import { parseOk, session } from './helpers.js';

const conf3 = parseOk(`
ServerName main
DefaultAddress 127.0.0.1
UseReverseDNS off
MasqueradeAddress 203.0.113.7
Port 2150
<Limit EPRT EPSV>
  DenyAll
</Limit>
<Class loop>
  From 127.0.0.1
</Class>
<Class two>
  From 127.0.0.2
</Class>
<VirtualHost 127.0.0.2>
  ServerName "vhost 127.0.0.2"
  Port 2150
  MasqueradeAddress 203.0.113.8
  <IfUser ftptest>
    MasqueradeAddress 192.0.2.99
  </IfUser>
</VirtualHost>
<VirtualHost 127.0.0.1>
  Port 2151
  ServerName "namebased a"
  ServerAlias a.test.example
</VirtualHost>
<VirtualHost 127.0.0.1>
  Port 2151
  ServerName "namebased b"
  ServerAlias b.test.example
  MasqueradeAddress 203.0.113.9
</VirtualHost>
<VirtualHost 127.0.0.1>
  Port 2152
  <IfClass regex ^lo>
    MasqueradeAddress 192.0.2.1
  </IfClass>
  <Limit PASV>
    Order allow,deny
    AllowClass two
    DenyAll
  </Limit>
</VirtualHost>
`);

describe('vhost selection by local address ([RUN] §9.6, wildcard :2150)', () => {
  it.each([
    ['127.0.0.1', 'main', '203.0.113.7'],
    ['::ffff:127.0.0.2', 'vhost 127.0.0.2', '203.0.113.8'],
    ['127.0.0.3', 'main', '203.0.113.7'],
  ])('to %s -> %s', (localAddress, name, masq) => {
    const s = session(conf3, { localAddress, localPort: 2150, remoteAddress: '127.0.0.1' });
    expect(s.settings.serverName).toBe(name);
    expect(s.settings.masqueradeAddress?.host).toBe(masq);
  });
  it('to 192.0.2.200: 500 Sorry, no server available…', () => {
    const r = selectServer(conf3, { localAddress: '::ffff:192.0.2.200', localPort: 2150 });
    expect(r).toEqual({ ok: false, error: { code: 'ERR_NO_SERVER', replyCode: 500, message: 'Sorry, no server available to handle request on ::ffff:192.0.2.200' } });
  });
  it('main: EPSV denied by <Limit EPRT EPSV>, PASV allowed; vhost 127.0.0.2 does not inherit it', () => {
    const m = session(conf3, { localAddress: '127.0.0.1', localPort: 2150, remoteAddress: '127.0.0.1', authenticated: true, user: 'ftptest' });
    expect(checkLimit(m, 'EPSV', { address: '127.0.0.1' }).allowed).toBe(false);
    expect(checkLimit(m, 'PASV', { address: '127.0.0.1' }).allowed).toBe(true);
    const v = session(conf3, { localAddress: '127.0.0.2', localPort: 2150, remoteAddress: '127.0.0.1', authenticated: true, user: 'ftptest' });
    expect(checkLimit(v, 'EPSV', { address: '127.0.0.1' }).allowed).toBe(true);
    expect(v.settings.masqueradeAddress?.host).toBe('192.0.2.99');
  });
});

describe('HOST and ServerAlias ([RUN] §9.6 :2151, §9.5)', () => {
  const at = { localAddress: '::ffff:127.0.0.1', localPort: 2151 };
  it('connect gets the first vhost on the address, HOST b switches to b and its masquerade', () => {
    const first = session(conf3, { ...at, remoteAddress: '127.0.0.1' });
    expect(first.settings.serverName).toBe('namebased a');
    const h = selectServerByHost(conf3, 'B.test.example', { ...at, current: first.server });
    expect(h.ok && h.value.changed).toBe(true);
    const after = resolveSessionConfig(conf3, { ...at, remoteAddress: '127.0.0.1', host: 'b.test.example', authenticated: true, user: 'ftptest' });
    expect(after.ok && after.value.settings.masqueradeAddress?.host).toBe('203.0.113.9');
  });
  it.each([
    ['127.0.0.1', 'ok', false],
    ['[::1]', 'ok', false],
    ['127.0.0.9', 504, '127.0.0.9: Unknown hostname provided'],
    ['nosuch.test.example', 504, 'nosuch.test.example: Unknown hostname provided'],
    ['127.0.0.1:2130', 501, '127.0.0.1:2130: Invalid hostname provided'],
    ['[::1', 501, '[::1: Invalid IPv6 address provided'],
  ])('HOST %s', (arg, code, msg) => {
    const r = selectServerByHost(conf3, arg, at);
    if (code === 'ok') expect(r.ok && r.value.changed).toBe(msg);
    else expect(r).toMatchObject({ ok: false, error: { replyCode: code, message: msg } });
  });
});

describe(':2152 <IfClass regex ^lo> and <Limit PASV> AllowClass two / DenyAll', () => {
  const at = { localAddress: '127.0.0.1', localPort: 2152 };
  it('class loop: masquerade 192.0.2.1, PASV denied', () => {
    const s = session(conf3, { ...at, remoteAddress: '127.0.0.1', authenticated: true, user: 'u' });
    expect(s.className).toBe('loop');
    expect(s.settings.masqueradeAddress?.host).toBe('192.0.2.1');
    expect(checkLimit(s, 'PASV', { address: '127.0.0.1' })).toMatchObject({ allowed: false, reason: expect.stringContaining('DenyAll matched') });
  });
  it('class two: no masquerade, PASV allowed by AllowClass', () => {
    const s = session(conf3, { ...at, remoteAddress: '127.0.0.2', authenticated: true, user: 'u' });
    expect(s.className).toBe('two');
    expect(s.settings.masqueradeAddress).toBeUndefined();
    expect(checkLimit(s, 'PASV', { address: '127.0.0.2' })).toMatchObject({ allowed: true, reason: expect.stringContaining('AllowClass matched') });
  });
});

function one(body: string, verb: string, ctx: { address?: string; user?: string; groups?: string[] } = {}) {
  const c = parseOk(`<Class loop>\nFrom 127.0.0.1\n</Class>\n${body}`);
  const s = session(c, { remoteAddress: ctx.address ?? '127.0.0.1', authenticated: true, user: ctx.user ?? 'ftptest', groups: ctx.groups ?? ['ftpgroup'] });
  return checkLimit(s, verb, { address: ctx.address ?? '127.0.0.1' });
}

describe('<Limit> semantics ([RUN] §9.5, §9.6, reference §6.2)', () => {
  it(':2160 DenyAll then AllowAll in two sections -> allowed (last-defined first)', () => {
    expect(one('<Limit PASV>\nDenyAll\n</Limit>\n<Limit PASV>\nAllowAll\n</Limit>', 'PASV').allowed).toBe(true);
  });
  it(':2161 AllowAll then DenyAll -> denied', () => {
    expect(one('<Limit PASV>\nAllowAll\n</Limit>\n<Limit PASV>\nDenyAll\n</Limit>', 'PASV').allowed).toBe(false);
  });
  it(':2162 server DenyAll + <IfUser> AllowAll -> allowed after login', () => {
    expect(one('<Limit PASV>\nDenyAll\n</Limit>\n<IfUser ftptest>\n<Limit PASV>\nAllowAll\n</Limit>\n</IfUser>', 'PASV').allowed).toBe(true);
    expect(one('<Limit PASV>\nDenyAll\n</Limit>\n<IfUser ftptest>\n<Limit PASV>\nAllowAll\n</Limit>\n</IfUser>', 'PASV', { user: 'other' }).allowed).toBe(false);
  });
  it('N: Order deny,allow / Deny from 127.0.0.0/8 / Allow from 127.0.0.2 denies 127.0.0.2 too', () => {
    const body = '<Limit PASV>\nOrder deny,allow\nDeny from 127.0.0.0/8\nAllow from 127.0.0.2\n</Limit>';
    expect(one(body, 'PASV', { address: '127.0.0.1' }).allowed).toBe(false);
    expect(one(body, 'PASV', { address: '127.0.0.2' }).allowed).toBe(false);
    expect(one(body, 'PASV', { address: '10.0.0.1' }).allowed).toBe(false); // implicit deny
  });
  it('Order allow,deny: allow wins; nothing matched -> implicit allow', () => {
    const body = '<Limit STOR>\nAllow from 10.0.0.0/8\nDeny from all\n</Limit>';
    expect(one(body, 'STOR', { address: '10.1.1.1' }).allowed).toBe(true);
    expect(one(body, 'STOR', { address: '11.1.1.1' }).allowed).toBe(false);
    expect(one('<Limit STOR>\nDeny from 10.0.0.0/8\n</Limit>', 'STOR', { address: '11.1.1.1' }).allowed).toBe(true);
  });
  it('L: <Limit ALL> DenyAll leaves PASV, EPSV, PORT, EPRT, PROT, OPTS alone; denies PWD, NOOP', () => {
    const body = '<Limit ALL>\nDenyAll\n</Limit>';
    for (const v of ['PASV', 'EPSV', 'PORT', 'EPRT', 'PROT', 'OPTS']) expect(one(body, v).allowed).toBe(true);
    for (const v of ['PWD', 'NOOP', 'RETR', 'STOR']) expect(one(body, v).allowed).toBe(false);
  });
  it('groups: READ covers RETR/SIZE, WRITE covers STOR/DELE/MKD/XMKD/SITE CHMOD, DIRS covers LIST/CWD/XPWD', () => {
    expect(one('<Limit READ>\nDenyAll\n</Limit>', 'RETR').allowed).toBe(false);
    expect(one('<Limit READ>\nDenyAll\n</Limit>', 'STOR').allowed).toBe(true);
    for (const v of ['STOR', 'DELE', 'XMKD', 'SITE CHMOD']) expect(one('<Limit WRITE>\nDenyAll\n</Limit>', v).allowed).toBe(false);
    for (const v of ['LIST', 'CWD', 'XPWD']) expect(one('<Limit DIRS>\nDenyAll\n</Limit>', v).allowed).toBe(false);
  });
  it('the command name decides before its group, the group before ALL', () => {
    expect(one('<Limit WRITE>\nDenyAll\n</Limit>\n<Limit STOR>\nAllowAll\n</Limit>', 'STOR').allowed).toBe(true);
    expect(one('<Limit ALL>\nDenyAll\n</Limit>\n<Limit READ>\nAllowAll\n</Limit>', 'RETR').allowed).toBe(true);
  });
  it('X-variants are paired: <Limit MKD> also limits XMKD', () => {
    expect(one('<Limit MKD>\nDenyAll\n</Limit>', 'XMKD').allowed).toBe(false);
  });
  it('AllowUser / DenyGroup / AllowGroup expressions', () => {
    const body = '<Limit STOR>\nAllowUser alice,bob\nDenyAll\n</Limit>';
    expect(one(body, 'STOR', { user: 'bob' }).allowed).toBe(true);
    expect(one(body, 'STOR', { user: 'carol' }).allowed).toBe(false);
    expect(one('<Limit DELE>\nDenyGroup staff\n</Limit>', 'DELE', { groups: ['staff'] }).allowed).toBe(false);
    expect(one('<Limit DELE>\nAllowGroup AND staff admin\nDenyAll\n</Limit>', 'DELE', { groups: ['staff'] }).allowed).toBe(false);
    expect(one('<Limit DELE>\nAllowGroup OR staff admin\nDenyAll\n</Limit>', 'DELE', { groups: ['staff'] }).allowed).toBe(true);
    expect(one('<Limit DELE>\nAllowUser regex ^adm\nDenyAll\n</Limit>', 'DELE', { user: 'admin1' }).allowed).toBe(true);
  });
});

describe('<Limit LOGIN> at connect and at PASS (reference §6.3)', () => {
  const c = parseOk('<Class loop>\nFrom 127.0.0.1\n</Class>\n<Limit LOGIN>\nDenyClass loop\n</Limit>');
  it('K: DenyClass loop refuses the connection of a loop client', () => {
    const s = session(c, { remoteAddress: '127.0.0.1' });
    expect(checkLimit(s, 'LOGIN', { address: '127.0.0.1' }).allowed).toBe(false);
    expect(checkLimit(session(c, { remoteAddress: '127.0.0.2' }), 'LOGIN', { address: '127.0.0.2' }).allowed).toBe(true);
  });
  it('AllowUser: its presence accepts the connection; at PASS it decides', () => {
    const c2 = parseOk('<Limit LOGIN>\nAllowUser alice\nDenyAll\n</Limit>');
    const s = session(c2, { remoteAddress: '198.51.100.1' });
    expect(checkLimit(s, 'LOGIN', { address: '198.51.100.1' }).allowed).toBe(true);
    expect(checkLimit(s, 'LOGIN', { address: '198.51.100.1', phase: 'pass', user: 'alice' }).allowed).toBe(true);
    expect(checkLimit(s, 'LOGIN', { address: '198.51.100.1', phase: 'pass', user: 'mallory' })).toMatchObject({ allowed: false, reason: expect.stringContaining('DenyAll') });
  });
  it('<Limit ALL> does not cover LOGIN', () => {
    const c3 = parseOk('<Limit ALL>\nDenyAll\n</Limit>');
    expect(checkLimit(session(c3, { remoteAddress: '1.1.1.1' }), 'LOGIN', { address: '1.1.1.1' }).allowed).toBe(true);
  });
});

describe('<Anonymous>: read-only unless allowed inside the section', () => {
  const c = parseOk(`
<Anonymous /srv/ftp>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  AllowOverwrite on
  <Limit STOR>
    AllowAll
  </Limit>
</Anonymous>
<Limit WRITE>
  AllowAll
</Limit>`);
  const anon = session(c, { remoteAddress: '198.51.100.1', authenticated: true, user: 'anonymous' });
  it('the alias selects the section; its settings apply and its dir is the root', () => {
    expect(anon.anonymous?.dir).toBe('/srv/ftp');
    expect(anon.user).toBe('ftp');
    expect(anon.root).toBe('/srv/ftp');
    expect(anon.settings.allowOverwrite).toBe(true);
  });
  it('STOR allowed by the section, DELE denied although the server allows WRITE', () => {
    expect(checkLimit(anon, 'STOR', { address: '198.51.100.1' }).allowed).toBe(true);
    expect(checkLimit(anon, 'DELE', { address: '198.51.100.1' })).toMatchObject({ allowed: false, reason: expect.stringContaining('read-only') });
    expect(checkLimit(anon, 'RETR', { address: '198.51.100.1' }).allowed).toBe(true);
  });
  it('a normal user is not anonymous', () => {
    const u = session(c, { remoteAddress: '198.51.100.1', authenticated: true, user: 'alice' });
    expect(u.anonymous).toBeUndefined();
    expect(u.settings.allowOverwrite).toBe(false);
    expect(checkLimit(u, 'DELE', { address: '198.51.100.1' }).allowed).toBe(true);
  });
});

describe('precedence through the file ([RUN] §9.5 G, §9.6 :2153-:2168)', () => {
  const base = '<Class loop>\nFrom 127.0.0.1\n</Class>\n';
  const masq = (body: string, user = 'ftptest', groups = ['ftpgroup']) =>
    session(parseOk(base + body), { remoteAddress: '127.0.0.1', authenticated: true, user, groups }).settings.masqueradeAddress?.host;
  it('G: <IfClass loop> .77 beats <IfUser ftptest> .99; PassivePorts from IfClass', () => {
    const c = parseOk(`${base}<IfClass loop>\nMasqueradeAddress 192.0.2.77\nPassivePorts 60020 60030\n</IfClass>\n<IfUser ftptest>\nMasqueradeAddress 192.0.2.99\n</IfUser>`);
    const s = session(c, { remoteAddress: '127.0.0.1', authenticated: true, user: 'ftptest' });
    expect(s.settings.masqueradeAddress?.host).toBe('192.0.2.77');
    expect(s.settings.passivePorts).toEqual({ min: 60020, max: 60030 });
    expect(session(c, { remoteAddress: '127.0.0.1' }).settings.masqueradeAddress?.host).toBe('192.0.2.77');
  });
  it(':2154 IfGroup beats IfUser', () => {
    expect(masq('<IfUser ftptest>\nMasqueradeAddress 192.0.2.60\n</IfUser>\n<IfGroup ftpgroup>\nMasqueradeAddress 192.0.2.50\n</IfGroup>')).toBe('192.0.2.50');
  });
  it(':2155 two IfUser: last-defined wins', () => {
    expect(masq('<IfUser ftptest>\nMasqueradeAddress 192.0.2.61\n</IfUser>\n<IfUser regex ^ftp>\nMasqueradeAddress 192.0.2.62\n</IfUser>')).toBe('192.0.2.62');
  });
  it(':2164/:2165/:2166/:2167 class expressions', () => {
    expect(masq('<IfClass AND loop two>\nMasqueradeAddress 192.0.2.4\n</IfClass>')).toBeUndefined();
    expect(masq('<IfClass loop two>\nMasqueradeAddress 192.0.2.5\n</IfClass>')).toBe('192.0.2.5');
    expect(session(parseOk('<IfClass !loop>\nMasqueradeAddress 192.0.2.6\n</IfClass>'), { remoteAddress: '127.0.0.1' }).settings.masqueradeAddress?.host).toBe('192.0.2.6');
    expect(masq('<IfClass loop>\nMasqueradeAddress 192.0.2.11\n</IfClass>\n<IfClass regex .*>\nMasqueradeAddress 192.0.2.12\n</IfClass>')).toBe('192.0.2.12');
  });
  it(':2168 <Global> MasqueradeAddress reaches every vhost; a vhost own value wins', () => {
    const c = parseOk('<Global>\nMasqueradeAddress 203.0.113.70\n</Global>\n<VirtualHost 127.0.0.2>\n</VirtualHost>\n<VirtualHost 127.0.0.3>\nMasqueradeAddress 203.0.113.71\n</VirtualHost>');
    expect(session(c, { localAddress: '127.0.0.2', remoteAddress: '1.1.1.1' }).settings.masqueradeAddress?.host).toBe('203.0.113.70');
    expect(session(c, { localAddress: '127.0.0.3', remoteAddress: '1.1.1.1' }).settings.masqueradeAddress?.host).toBe('203.0.113.71');
    expect(session(c, { localAddress: '10.0.0.5', remoteAddress: '1.1.1.1' }).settings.masqueradeAddress?.host).toBe('203.0.113.70');
  });
});

describe('selection rules', () => {
  it('DefaultServer catches unknown addresses when the main server has its own address', () => {
    const c = parseOk('DefaultAddress 10.0.0.1\n<VirtualHost 10.0.0.2>\nServerName lan\nDefaultServer on\n</VirtualHost>\n<VirtualHost 10.0.0.3>\n</VirtualHost>');
    expect(session(c, { localAddress: '10.0.0.9', remoteAddress: '1.1.1.1' }).settings.serverName).toBe('lan');
    expect(session(c, { localAddress: '10.0.0.1', remoteAddress: '1.1.1.1' }).server.kind).toBe('main');
  });
  it('SocketBindTight ignores DefaultServer (and says so)', () => {
    const r = parseOk('SocketBindTight on\nDefaultAddress 10.0.0.1\n<VirtualHost 10.0.0.2>\nDefaultServer on\n</VirtualHost>');
    expect(selectServer(r, { localAddress: '10.0.0.9', localPort: 21 }).ok).toBe(false);
    expect(selectServer(r, { localAddress: '127.0.0.9', localPort: 21 })).toMatchObject({ ok: true, value: { kind: 'main' } });
  });
  it('the only server on a port takes every address', () => {
    const c = parseOk('DefaultAddress 10.0.0.1\nPort 2121');
    expect(selectServer(c, { localAddress: '192.0.2.1', localPort: 2121 }).ok).toBe(true);
  });
});
