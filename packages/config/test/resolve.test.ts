import { describe, expect, it } from 'vitest';
import { checkLimit, foreignAddressAllowed, formatDiagnostics, limitDeniedReply, parseConfig, resolveSessionConfig } from '../src/index.js';
import { resolveVirtualHostNames } from '../src/node/index.js';
import { parseOk, session } from './helpers.js';

describe('AllowForeignAddress (reference §7.3)', () => {
  const c = parseOk('<Class fxp>\nFrom 127.0.0.2\n</Class>\n<VirtualHost 10.0.0.1>\nAllowForeignAddress fxp\n</VirtualHost>\n<VirtualHost 10.0.0.2>\nAllowForeignAddress on\n</VirtualHost>');
  it('off by default: only the control peer (IPv4-mapped compares equal)', () => {
    const s = session(c, { remoteAddress: '127.0.0.1' });
    expect(foreignAddressAllowed(s, '::ffff:127.0.0.1', '127.0.0.1')).toBe(true);
    expect(foreignAddressAllowed(s, '127.0.0.2', '127.0.0.1')).toBe(false);
  });
  it('class: addresses in the class, else the same-address check; on: anything', () => {
    const s = session(c, { localAddress: '10.0.0.1', remoteAddress: '127.0.0.1' });
    expect(foreignAddressAllowed(s, '127.0.0.2', '127.0.0.1')).toBe(true);
    expect(foreignAddressAllowed(s, '127.0.0.3', '127.0.0.1')).toBe(false);
    expect(foreignAddressAllowed(s, '127.0.0.1', '127.0.0.1')).toBe(true);
    expect(foreignAddressAllowed(session(c, { localAddress: '10.0.0.2', remoteAddress: '127.0.0.1' }), '192.0.2.9', '127.0.0.1')).toBe(true);
  });
});

describe('login-time resolution', () => {
  const c = parseOk(`
DefaultRoot /srv/staff staff
DefaultRoot ~
UserAlias bobby bob
<IfGroup staff>
  TimeoutIdle 60
</IfGroup>
<IfAuthenticated>
  TimeoutIdle 120
  AllowOverwrite on
</IfAuthenticated>`);
  it('DefaultRoot: the first rule whose group expression matches', () => {
    expect(session(c, { remoteAddress: '1.1.1.1', authenticated: true, user: 'a', groups: ['staff'] }).root).toBe('/srv/staff');
    expect(session(c, { remoteAddress: '1.1.1.1', authenticated: true, user: 'a', groups: ['users'] }).root).toBe('~');
    expect(session(c, { remoteAddress: '1.1.1.1' }).root).toBeUndefined();
  });
  it('IfAuthenticated beats IfGroup for the same directive (it is merged first)', () => {
    const s = session(c, { remoteAddress: '1.1.1.1', authenticated: true, user: 'a', groups: ['staff'] });
    expect(s.settings.timeoutIdle).toBe(120);
    expect(s.applied).toEqual(['<IfAuthenticated> (test.conf:8)', '<IfGroup staff> (test.conf:5)']);
    expect(s.origin.allowOverwrite).toBe('<IfAuthenticated> (test.conf:8)');
    expect(s.origin.timeoutLogin).toBe('default');
  });
  it('UserAlias maps the login name to the real user', () => {
    expect(session(c, { remoteAddress: '1.1.1.1', authenticated: true, user: 'bobby' }).user).toBe('bob');
  });
  it('HOST by name and serverId through resolveSessionConfig; unknown names are 504', () => {
    const h = parseOk('<VirtualHost 10.0.0.5>\nServerAlias *.example.org\nServerName wild\n</VirtualHost>');
    const byName = resolveSessionConfig(h, { localAddress: '10.0.0.5', localPort: 21, remoteAddress: '1.1.1.1', host: 'ftp.example.org' });
    expect(byName.ok && byName.value.settings.serverName).toBe('wild');
    const byId = resolveSessionConfig(h, { localAddress: '10.0.0.5', localPort: 21, remoteAddress: '1.1.1.1', serverId: 0 });
    expect(byId.ok && byId.value.server.kind).toBe('main');
    expect(resolveSessionConfig(h, { localAddress: '10.0.0.5', localPort: 21, remoteAddress: '1.1.1.1', host: 'ftp.example.com' })).toMatchObject({ ok: false, error: { replyCode: 504 } });
  });
});

describe('shared answers', () => {
  const c = parseOk(`
<Class lan>
  From 10.1.0.0/16
</Class>
<IfClass lan>
  TimeoutIdle 30
</IfClass>
<IfUser alice>
  TimeoutIdle 40
</IfUser>
<IfGroup ops>
  TimeoutIdle 50
</IfGroup>`);
  it('clients of one class (and one user and groups) get the same object; any difference gets another', () => {
    const a = session(c, { remoteAddress: '10.1.2.3' });
    expect(session(c, { remoteAddress: '10.1.9.9' })).toBe(a);
    expect(a.settings.timeoutIdle).toBe(30);
    const outside = session(c, { remoteAddress: '192.0.2.1' });
    expect(outside).not.toBe(a);
    expect(outside.className).toBeUndefined();
    expect(outside.settings.timeoutIdle).not.toBe(30);
    const alice = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'alice', groups: [] });
    expect(alice.settings.timeoutIdle).toBe(40);
    expect(session(c, { remoteAddress: '192.0.2.7', authenticated: true, user: 'alice', groups: [] })).toBe(alice);
    const ops = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob', groups: ['ops'] });
    expect(ops.settings.timeoutIdle).toBe(50);
    expect(session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob', groups: ['users'] }).settings.timeoutIdle).not.toBe(50);
  });
  it('a class known in advance replaces matching the address (null: in no class)', () => {
    expect(session(c, { remoteAddress: '', className: 'lan' })).toBe(session(c, { remoteAddress: '10.1.0.1' }));
    expect(session(c, { remoteAddress: '10.1.0.1', className: null }).className).toBeUndefined();
    expect(session(c, { remoteAddress: '10.1.0.1', className: null }).settings.timeoutIdle).not.toBe(30);
  });
  it('another configuration object answers for itself', () => {
    const d = parseOk('<Class lan>\nFrom 10.1.0.0/16\n</Class>\n<IfClass lan>\nTimeoutIdle 31\n</IfClass>');
    expect(session(d, { remoteAddress: '10.1.2.3' }).settings.timeoutIdle).toBe(31);
    expect(session(c, { remoteAddress: '10.1.2.3' }).settings.timeoutIdle).toBe(30);
  });
});

describe('<Limit LOGIN> inside conditional and anonymous sections', () => {
  it('an <IfClass> <Limit LOGIN> DenyAll refuses the connection of that class', () => {
    const c = parseOk('<Class bad>\nFrom 198.51.100.0/24\n</Class>\n<IfClass bad>\n<Limit LOGIN>\nDenyAll\n</Limit>\n</IfClass>');
    expect(checkLimit(session(c, { remoteAddress: '198.51.100.7' }), 'LOGIN', { address: '198.51.100.7' }).allowed).toBe(false);
    expect(checkLimit(session(c, { remoteAddress: '198.51.101.7' }), 'LOGIN', { address: '198.51.101.7' }).allowed).toBe(true);
  });
  it('at connect an <Anonymous> AllowAll outweighs a server DenyAll (OR); at PASS of a normal user the server DenyAll applies', () => {
    const c = parseOk('<Limit LOGIN>\nDenyAll\n</Limit>\n<Anonymous /srv/ftp>\nUser ftp\n<Limit LOGIN>\nAllowAll\n</Limit>\n</Anonymous>');
    const s = session(c, { remoteAddress: '1.1.1.1' });
    expect(checkLimit(s, 'LOGIN', { address: '1.1.1.1' }).allowed).toBe(true);
    expect(checkLimit(s, 'LOGIN', { address: '1.1.1.1', phase: 'pass', user: 'alice' }).allowed).toBe(false);
    const anon = session(c, { remoteAddress: '1.1.1.1', authenticated: true, user: 'ftp' });
    expect(checkLimit(anon, 'LOGIN', { address: '1.1.1.1' }).allowed).toBe(false);
  });
});

describe('replies and warnings', () => {
  it.each<[string, string | undefined, number, string]>([
    ['PASV', undefined, 501, 'PASV: Operation not permitted'],
    ['eprt', '|1|1.2.3.4|5|', 501, 'EPRT: Operation not permitted'],
    ['HOST', 'ftp.example.com', 504, 'ftp.example.com: Permission denied'],
    ['PWD', undefined, 550, 'PWD: Permission denied'],
    ['RETR', 'hello.txt', 550, 'hello.txt: Operation not permitted'],
    ['NOOP', undefined, 550, 'Operation not permitted'],
  ])('%s %s -> %d %s', (verb, arg, code, text) => {
    expect(limitDeniedReply(verb, arg)).toEqual({ code, text });
  });
  it('an IPv6 MasqueradeAddress is accepted with a warning; SocketBindTight + DefaultServer warns', () => {
    const r = parseConfig('MasqueradeAddress 2001:db8::7\nSocketBindTight on\nDefaultServer on\n', { file: 'a.conf' });
    expect(formatDiagnostics(r).split('\n')).toEqual([
      'a.conf:1: warning: MasqueradeAddress 2001:db8::7 is an IPv6 address, but PASV replies carry IPv4 only: PASV gets 522 (use EPSV) — give MasqueradeAddress the public IPv4 address',
      'a.conf:1: warning: SocketBindTight in effect, ignoring DefaultServer — remove DefaultServer, or set SocketBindTight off',
    ]);
  });
  it('an include callback may also return a bare array of files (contract form)', () => {
    const c = parseOk('Include x.conf', { include: () => [{ file: 'x.conf', text: 'TimeoutIdle 42' }] });
    expect(c.main.settings.timeoutIdle).toBe(42);
  });
});

describe('resolveVirtualHostNames (/node)', () => {
  it('replaces names by their addresses, keeps and reports the ones that fail', async () => {
    const c = parseOk('<VirtualHost ftp.example.com>\nServerName named\n</VirtualHost>\n<VirtualHost gone.example.com 10.0.0.9>\n</VirtualHost>');
    const r = await resolveVirtualHostNames(c, async (name) => {
      if (name === 'ftp.example.com') return ['192.0.2.10', '2001:db8::10'];
      throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    });
    expect(r.config.virtualHosts.map((v) => v.addresses)).toEqual([['192.0.2.10', '2001:db8::10'], ['gone.example.com', '10.0.0.9']]);
    expect(r.unresolved).toEqual([{ server: '<VirtualHost gone.example.com 10.0.0.9> (test.conf:4)', name: 'gone.example.com', message: 'ENOTFOUND' }]);
    expect(session(r.config, { localAddress: '192.0.2.10', remoteAddress: '1.1.1.1' }).settings.serverName).toBe('named');
  });
});
