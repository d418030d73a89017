import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, formatDiagnostics, groupsOf, resolveSessionConfig } from '../../src/index.js';
import { loadAuthGroupFile, loadAuthUserFile, loadConfigFile } from '../../src/node/index.js';
import { fixture } from '../helpers.js';

const debianRoot = fixture('debian');

describe("Debian's proftpd.conf (proftpd-core 1.3.8, unmodified) starts", () => {
  const r = loadConfigFile(join(debianRoot, 'etc/proftpd/proftpd.conf'), { root: debianRoot, env: {} });
  it('without errors, reading modules.conf and conf.d/', () => {
    if (!r.ok) throw new Error(formatDiagnostics(r));
    expect(r.config.files.map((f) => f.slice(debianRoot.length))).toEqual(['/etc/proftpd/proftpd.conf', '/etc/proftpd/modules.conf', '/etc/proftpd/conf.d/nat.conf']);
  });
  it('process directives are honoured', () => {
    if (!r.ok) throw new Error('not ok');
    expect(r.config.daemon).toMatchObject({ user: 'proftpd', group: 'nogroup', maxInstances: 30, useIPv6: true, systemLog: '/var/log/proftpd/proftpd.log', serverType: 'standalone' });
    expect(r.config.main).toMatchObject({ port: 21, defaultServer: true });
  });
  it('session settings are typed', () => {
    if (!r.ok) throw new Error('not ok');
    const s = resolveSessionConfig(r.config, { localAddress: '192.168.1.20', localPort: 21, remoteAddress: '198.51.100.4' });
    if (!s.ok) throw new Error(s.error.message);
    expect(s.value.settings).toMatchObject({
      serverName: 'Debian',
      deferWelcome: false,
      showSymlinks: true,
      timeoutNoTransfer: 600,
      timeoutStalled: 600,
      timeoutIdle: 1200,
      displayLogin: 'welcome.msg',
      displayChdir: '.message',
      listOptions: '-l',
      denyFilter: '\\*.*/',
      umask: { file: 0o022, dir: 0o022 },
      allowOverwrite: true,
      transferLog: '/var/log/proftpd/xferlog',
      passivePorts: { min: 49152, max: 65534 },
      masqueradeAddress: { host: '203.0.113.7', kind: 'ipv4' },
    });
    expect(s.value.settings.limits.map((l) => l.commands)).toEqual([['EPSV']]);
  });
  it('what cannot apply is noted, by name and line', () => {
    const notes = r.warnings.map((w) => formatDiagnostic(w).slice(debianRoot.length));
    expect(notes).toContain('/etc/proftpd/modules.conf:7: note: ModulePath: modules are built into ftpkit; ModulePath is ignored');
    expect(notes).toContain('/etc/proftpd/modules.conf:18: note: LoadModule mod_ctrls_admin.c: not available in ftpkit; <IfModule mod_ctrls_admin.c> sections are skipped');
    expect(notes).toContain('/etc/proftpd/modules.conf:82: note: LoadModule mod_dynmasq.c: built into ftpkit');
    expect(notes).toContain('/etc/proftpd/proftpd.conf:20: note: ServerType standalone: ftpkit always runs standalone');
    expect(r.warnings.every((w) => w.severity === 'note')).toBe(true);
  });
});

describe('Debian sample configurations', () => {
  it('basic.conf parses strictly: <Limit SITE_CHMOD>, an <Anonymous ~ftp> with UserAlias and <Limit WRITE>', () => {
    const r = loadConfigFile(fixture('debian-samples/basic.conf'));
    if (!r.ok) throw new Error(formatDiagnostics(r));
    const anon = r.config.main.anonymous[0];
    expect(anon).toMatchObject({ dir: '~ftp', user: 'ftp', group: 'ftp', userAliases: [{ alias: 'anonymous', user: 'ftp' }] });
    expect(r.config.main.settings.limits?.[0]?.commands).toEqual(['SITE_CHMOD']);
  });
  it('anonymous.conf names each directive ftpkit does not implement; lenient mode turns them into warnings', () => {
    const strict = loadConfigFile(fixture('debian-samples/anonymous.conf'));
    expect(strict.ok).toBe(false);
    const names = [...new Set(strict.errors.map((e) => e.directive))];
    expect(names).toEqual(['GroupOwner', 'HideUser', 'IgnoreHidden']);
    expect(strict.errors.every((e) => e.code === 'ERR_CONFIG_NOT_IMPLEMENTED')).toBe(true);
    const lenient = loadConfigFile(fixture('debian-samples/anonymous.conf'), { lenient: true });
    expect(lenient.ok).toBe(true);
    expect(lenient.warnings.filter((w) => w.code === 'ERR_CONFIG_NOT_IMPLEMENTED').length).toBe(strict.errors.length);
    // The <Directory> sections are read, with their <Limit> sections.
    const [first, second] = lenient.config?.main.anonymous ?? [];
    expect(first?.settings.directories?.map((d) => [d.path, d.limits.map((l) => l.commands.join(' '))])).toEqual([['uploads/*', ['STOR', 'READ']]]);
    expect(second?.settings.directories?.map((d) => [d.path, d.limits.map((l) => l.commands.join(' '))])).toEqual([
      ['submissions/public', ['STOR MKD XMKD RMD XRMD', 'READ']],
    ]);
  });
  it('virtual.conf: ServerType inetd stays an error even in lenient mode', () => {
    const r = loadConfigFile(fixture('debian-samples/virtual.conf'), { lenient: true });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => formatDiagnostic(e).replace(/^.*debian-samples\//, ''))).toEqual([
      'virtual.conf:5: ServerType inetd: ftpkit runs only as a standalone daemon — write ServerType standalone and stop the inetd/xinetd/systemd socket that serves this port',
    ]);
  });
});

describe('Include, <IfDefine>, %{env:}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpkit-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'sites'));
  mkdirSync(join(dir, 'sites', 'a'));
  mkdirSync(join(dir, 'sites', 'b'));
  writeFileSync(join(dir, 'conf.d', '20-ports.conf'), 'PassivePorts 60000 60100\n');
  writeFileSync(join(dir, 'conf.d', '10-masq.conf'), 'MasqueradeAddress %{env:PUBLIC_IP}\n');
  writeFileSync(join(dir, 'conf.d', 'notes.txt'), 'ServerName "from txt"\n');
  writeFileSync(join(dir, 'sites', 'a', 'site.conf'), '<VirtualHost 10.0.0.1>\nServerName a\n</VirtualHost>\n');
  writeFileSync(join(dir, 'sites', 'b', 'site.conf'), '<VirtualHost 10.0.0.2>\nServerName b\n</VirtualHost>\n');
  writeFileSync(join(dir, 'loop.conf'), 'Include loop.conf\n');
  writeFileSync(
    join(dir, 'main.conf'),
    'Include conf.d/*.conf\nInclude sites/*/site.conf\n<IfDefine TLS>\nTLSEngine on\n</IfDefine>\n<IfDefine !TLS>\nTLSEngine off\n</IfDefine>\n',
  );
  it('globs (also in directory components) in sorted order, relative to the including file', () => {
    const r = loadConfigFile(join(dir, 'main.conf'), { env: { PUBLIC_IP: '203.0.113.5' }, defines: ['TLS'] });
    if (!r.ok) throw new Error(formatDiagnostics(r));
    expect(r.config.files.map((f) => f.slice(dir.length + 1))).toEqual(['main.conf', 'conf.d/10-masq.conf', 'conf.d/20-ports.conf', 'sites/a/site.conf', 'sites/b/site.conf']);
    expect(r.config.main.settings).toMatchObject({ masqueradeAddress: { host: '203.0.113.5' }, passivePorts: { min: 60000, max: 60100 }, tlsEngine: true });
    expect(r.config.virtualHosts.map((v) => v.settings.serverName)).toEqual(['a', 'b']);
  });
  it('-D absent: the other branch; %{env:} unset: MasqueradeAddress is empty, an error', () => {
    const r = loadConfigFile(join(dir, 'main.conf'), { env: {} });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => formatDiagnostic(e).slice(dir.length + 1))).toEqual([
      'conf.d/10-masq.conf:1: MasqueradeAddress: missing required name parameter — write MasqueradeAddress 203.0.113.7 (the public address) or MasqueradeAddress ftp.example.com',
    ]);
    expect(r.warnings.map((e) => e.message)).toContain('environment variable PUBLIC_IP is not set; %{env:PUBLIC_IP} is empty');
  });
  it('a directory includes every file in it; an include loop and a missing file are errors', () => {
    writeFileSync(join(dir, 'dir.conf'), 'Include conf.d\n');
    const r = loadConfigFile(join(dir, 'dir.conf'), { env: { PUBLIC_IP: '203.0.113.5' } });
    if (!r.ok) throw new Error(formatDiagnostics(r));
    expect(r.config.main.settings.serverName).toBe('from txt');
    const loop = loadConfigFile(join(dir, 'loop.conf'));
    expect(loop.errors[0]?.message).toMatch(/^Include loop\.conf: .*loop\.conf includes itself/);
    writeFileSync(join(dir, 'missing.conf'), 'Include /nonexistent/ftpkit.conf\n');
    expect(formatDiagnostics(loadConfigFile(join(dir, 'missing.conf')))).toMatch(/missing\.conf:1: Include \/nonexistent\/ftpkit\.conf: \/nonexistent\/ftpkit\.conf: no such file or directory — fix the path, or remove the Include$/);
    expect(loadConfigFile(join(dir, 'nope.conf')).errors[0]).toMatchObject({ line: 0, message: 'cannot read the configuration: ENOENT' });
  });
});

describe('AuthUserFile / AuthGroupFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ftpkit-auth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads ftpasswd files, reports bad lines by number, and finds groups', () => {
    const users = join(dir, 'ftpd.passwd');
    writeFileSync(
      users,
      [
        'alice:$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2mdvgY..TKjv1T..8RadRt2qvUHYRLr/TsVArtr91iR1:1001:1001::/srv/ftp/alice:/bin/false',
        'bob:$1$saltsalt$9xy1btjgzLYfb7hivXtC//:1002:1001:Bob:/srv/ftp/bob:/bin/sh',
        'broken:x:1003',
        'carol:x:abc:1001::/srv/ftp/carol:/bin/false',
        'alice:x:1004:1001::/srv/ftp/alice2:/bin/false',
        '',
      ].join('\n'),
    );
    chmodSync(users, 0o600);
    const u = loadAuthUserFile(users);
    expect(u.entries.map((e) => e.name)).toEqual(['alice', 'bob']);
    expect(u.errors.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '3: line has 3 fields, expected 7 (name:password:uid:gid:gecos:home:shell)',
      "4: user carol: uid 'abc' and gid '1001' must be numbers",
      '5: user alice is listed again (first on line 1); the first entry is used',
    ]);
    const groups = join(dir, 'ftpd.group');
    writeFileSync(groups, 'ftpusers:x:1001:\nstaff:x:2000:bob,carol\n');
    const g = loadAuthGroupFile(groups);
    expect(g.errors).toEqual([]);
    expect(groupsOf(u.entries[1] as never, g.entries)).toEqual(['ftpusers', 'staff']);
  });
  it('refuses a world-writable file and reports a missing one', () => {
    const p = join(dir, 'open.passwd');
    writeFileSync(p, 'x:y:1:1::/h:/s\n');
    chmodSync(p, 0o666);
    expect(loadAuthUserFile(p).errors[0]?.message).toBe('unable to use world-writable AuthUserFile');
    expect(loadAuthGroupFile(join(dir, 'none')).errors[0]?.message).toBe('cannot read AuthGroupFile: ENOENT');
  });
});
