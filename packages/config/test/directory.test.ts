// <Directory> sections: parsing, path matching (ProFTPD src/dirtree.c) and <Limit> walks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkLimit,
  directoryPath,
  directoryTree,
  formatDiagnostic,
  matchDirectory,
  parseConfig,
  type DirectorySection,
  type EffectiveConfig,
} from '../src/index.js';
import { fixture, parseOk, session } from './helpers.js';

const dir = (path: string): DirectorySection => ({ path, limits: [], label: `<Directory ${path}>` });
const labels = (sections: readonly DirectorySection[]): string[] => sections.map((s) => s.path);

/** The first anonymous section of Debian's anonymous.conf sample, as shipped. */
const sample = readFileSync(fixture('debian-samples/anonymous.conf'), 'utf8').split('\n').slice(0, 73).join('\n').replace('<Anonymous ~ftp>', '<Anonymous /srv/ftp>');

describe('<Directory> in the configuration', () => {
  it("Debian's anonymous.conf upload directory parses: its <Limit> sections belong to the section, last-defined first", () => {
    const config = parseOk(sample);
    const anon = config.main.anonymous[0];
    expect(anon?.settings.directories).toHaveLength(1);
    const d = anon?.settings.directories?.[0];
    expect(d?.path).toBe('uploads/*');
    expect(d?.label).toBe('<Directory uploads/*> (test.conf:62)');
    expect(d?.limits.map((l) => l.commands)).toEqual([['STOR'], ['READ']]);
    expect(anon?.settings.limits?.map((l) => l.commands)).toEqual([['WRITE'], ['LOGIN']]);
  });

  it('is allowed in the server config, <VirtualHost>, <Global>, <Anonymous> and conditional sections', () => {
    const c = parseOk(`<Directory /srv/a>\n<Limit WRITE>\nDenyAll\n</Limit>\n</Directory>
<Global>\n<Directory /srv/g>\n</Directory>\n</Global>
<VirtualHost 10.0.0.9>\n<Directory ~/private>\n</Directory>\n</VirtualHost>
<IfUser bob>\n<Directory /srv/a>\n<Limit WRITE>\nAllowAll\n</Limit>\n</Directory>\n</IfUser>\n`);
    expect(labels(c.main.settings.directories ?? [])).toEqual(['/srv/a']);
    expect(labels(c.global.settings.directories ?? [])).toEqual(['/srv/g']);
    expect(labels(c.virtualHosts[0]?.settings.directories ?? [])).toEqual(['~/private']);
    expect(labels(c.main.layers[0]?.content.directories ?? [])).toEqual(['/srv/a']);
  });

  it('reports misuse with file:line and a fix', () => {
    const r = parseConfig(
      [
        '<Directory pub>', // 1: relative outside <Anonymous>
        '</Directory>',
        '<Directory /srv/a>', // 3
        '  DisplayChdir .message', // 4: not per directory in ftpkit
        '  ServerName x', // 5: not allowed in <Directory>
        '  <Directory /srv/a/b>', // 6: no nesting
        '  </Directory>',
        '  <Limit LOGIN>', // 8
        '    DenyAll',
        '  </Limit>',
        '</Directory>',
        '<Directory /srv/a>', // 12: same path twice
        '</Directory>',
        '<Directory>', // 14: no path
        '</Directory>',
      ].join('\n'),
      { file: 'd.conf' },
    );
    expect(r.ok).toBe(false);
    expect([...r.errors, ...r.warnings].map((e) => formatDiagnostic(e))).toEqual([
      "d.conf:1: <Directory pub>: relative path not allowed in non-<Anonymous> sections — write an absolute path (<Directory /srv/ftp/pub>), ~/pub for the user's home, or move the section into <Anonymous>",
      'd.conf:4: DisplayChdir inside <Directory> is not implemented by ftpkit: only <Limit> sections and AllowOverwrite, AllowStoreRestart, AllowRetrieveRestart, HiddenStores, DeleteAbortedStores, Umask apply per directory — move DisplayChdir out of the <Directory> section (it then applies to the whole server or <Anonymous> section)',
      'd.conf:5: ServerName is not allowed inside <Directory> — move it to the server config, <VirtualHost> or <Global>',
      'd.conf:6: <Directory> is not allowed inside <Directory> — put <Directory> in the server config, <VirtualHost>, <Global> or <Anonymous> (not nested)',
      "d.conf:12: <Directory> section already configured for '/srv/a' (first at line 3) — merge the two sections into one",
      'd.conf:14: <Directory> takes one path, got 0 — write <Directory /srv/ftp/uploads> (inside <Anonymous>: <Directory uploads/*>)',
      'd.conf:3: warning: <Limit LOGIN> inside <Directory /srv/a> has no effect: logins are checked at the server and <Anonymous> level — move the <Limit LOGIN> section out of <Directory>',
    ]);
  });

  it('lenient mode: a per-directory setting ftpkit cannot apply is a warning that says so', () => {
    const r = parseConfig('<Directory /srv/a>\nShowSymlinks off\n</Directory>\n', { file: 'l.conf', lenient: true });
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => formatDiagnostic(w))).toEqual([
      'l.conf:2: warning: ShowSymlinks inside <Directory> is not implemented by ftpkit: only <Limit> sections and AllowOverwrite, AllowStoreRestart, AllowRetrieveRestart, HiddenStores, DeleteAbortedStores, Umask apply per directory; ShowSymlinks is not applied to <Directory /srv/a> — move ShowSymlinks out of the <Directory> section (it then applies to the whole server or <Anonymous> section)',
    ]);
  });

  it('<Directory *> inside <Anonymous> is the anonymous section itself', () => {
    const c = parseOk('<Anonymous /srv/ftp>\nUser ftp\n<Directory *>\n<Limit WRITE>\nDenyAll\n</Limit>\n</Directory>\n</Anonymous>\n');
    const anon = c.main.anonymous[0];
    expect(anon?.settings.directories).toBeUndefined();
    expect(anon?.settings.limits?.map((l) => l.commands)).toEqual([['WRITE']]);
  });
});

describe('<Directory> paths (dir_match_path, recur_match_path)', () => {
  it('makes paths absolute: <Anonymous> root for relative paths, ~, ~user, %u; unknown users resolve to nothing', () => {
    const place = { anonymousRoot: '/srv/ftp', user: 'bob', home: '/home/bob', homeOf: (u: string) => (u === 'amy' ? '/home/amy' : undefined) };
    expect(directoryPath('uploads/*', place)).toBe('/srv/ftp/uploads/*');
    expect(directoryPath('uploads/', place)).toBe('/srv/ftp/uploads');
    expect(directoryPath('/srv//x/./y/', place)).toBe('/srv/x/y');
    expect(directoryPath('~', place)).toBe('/home/bob');
    expect(directoryPath('~/public_html/*', place)).toBe('/home/bob/public_html/*');
    expect(directoryPath('~amy/in', place)).toBe('/home/amy/in');
    expect(directoryPath('~zed/in', place)).toBeUndefined();
    expect(directoryPath('/home/%u/in', place)).toBe('/home/bob/in');
    expect(directoryPath('/*', place)).toBe('/*');
    expect(directoryPath('pub', { home: '/home/bob' })).toBeUndefined();
    // A literal root is not a pattern.
    expect(directoryPath('in', { anonymousRoot: '/srv/[ftp]' })).toBe('/srv/\\[ftp\\]/in');
  });

  const tree = (...paths: string[]) => directoryTree(paths.map(dir), {});

  it('a directory covers itself and its whole subtree; /* only what is inside it', () => {
    const t = tree('/srv/pub', '/srv/in/*');
    expect(labels(matchDirectory(t, '/srv/pub'))).toEqual(['/srv/pub']);
    expect(labels(matchDirectory(t, '/srv/pub/a/b/c.txt'))).toEqual(['/srv/pub']);
    expect(labels(matchDirectory(t, '/srv/public'))).toEqual([]);
    expect(labels(matchDirectory(t, '/srv/in'))).toEqual([]);
    expect(labels(matchDirectory(t, '/srv/in/'))).toEqual([]);
    expect(labels(matchDirectory(t, '/srv/in/x'))).toEqual(['/srv/in/*']);
    expect(labels(matchDirectory(t, '/srv/in/x/y'))).toEqual(['/srv/in/*']);
  });

  it('globs anywhere (Bug#3491: the path itself may be the pattern); * also crosses /', () => {
    const t = tree('/home/*/incoming', '/data/?x');
    expect(labels(matchDirectory(t, '/home/bob/incoming'))).toEqual(['/home/*/incoming']);
    expect(labels(matchDirectory(t, '/home/bob/incoming/f'))).toEqual(['/home/*/incoming']);
    expect(labels(matchDirectory(t, '/home/bob/outgoing'))).toEqual([]);
    expect(labels(matchDirectory(t, '/data/ax/f'))).toEqual(['/data/?x']);
  });

  it('the most specific section wins; the chain names its parents up to the top (_find_best_dir)', () => {
    const t = tree('/', '/srv/*', '/srv/ftp', '/srv/ftp/pub/incoming', '/srv/ftpx');
    expect(labels(matchDirectory(t, '/srv/ftp/pub/incoming/a'))).toEqual(['/srv/ftp/pub/incoming', '/srv/ftp', '/srv/*', '/']);
    expect(labels(matchDirectory(t, '/srv/ftp/pub'))).toEqual(['/srv/ftp', '/srv/*', '/']);
    expect(labels(matchDirectory(t, '/srv/ftpx/a'))).toEqual(['/srv/ftpx', '/srv/*', '/']);
    expect(labels(matchDirectory(t, '/srv'))).toEqual(['/']);
    expect(labels(matchDirectory(t, '/etc'))).toEqual(['/']);
  });

  it('between siblings that both match, the first in check order (last-defined) wins', () => {
    const t = tree('/a/*/x', '/a/b/*');
    expect(labels(matchDirectory(t, '/a/b/x'))).toEqual(['/a/*/x']);
    expect(labels(matchDirectory(directoryTree([dir('/a/b/*'), dir('/a/*/x')], {}), '/a/b/x'))).toEqual(['/a/b/*']);
  });

  it('an unresolved section matches nothing', () => {
    const t = directoryTree([dir('~/x')], {});
    expect(t.unresolved.map((s) => s.path)).toEqual(['~/x']);
    expect(matchDirectory(t, '/x')).toEqual([]);
  });
});

describe('<Limit> inside <Directory> (dir_check_limits, reference §6.2)', () => {
  const anon = (config = parseOk(sample)): EffectiveConfig => session(config, { remoteAddress: '192.0.2.1', authenticated: true, user: 'anonymous' });
  const check = (e: EffectiveConfig, verb: string, path?: string) => checkLimit(e, verb, { address: '192.0.2.1', path });

  it('the upload-only directory of anonymous.conf: STOR there, no RETR there, no writes elsewhere', () => {
    const e = anon();
    expect(check(e, 'STOR', '/srv/ftp/uploads/a.txt')).toMatchObject({ allowed: true, section: '<Limit STOR> (test.conf:67)', directory: '<Directory uploads/*> (test.conf:62)' });
    expect(check(e, 'RETR', '/srv/ftp/uploads/a.txt')).toMatchObject({ allowed: false, section: '<Limit READ> (test.conf:63)' });
    expect(check(e, 'SIZE', '/srv/ftp/uploads/a.txt').allowed).toBe(false);
    // MKD is WRITE: the directory has no answer, its parent <Anonymous> denies.
    expect(check(e, 'MKD', '/srv/ftp/uploads/new')).toMatchObject({ allowed: false, section: '<Limit WRITE> (test.conf:56)' });
    expect(check(e, 'DELE', '/srv/ftp/uploads/a.txt').allowed).toBe(false);
    expect(check(e, 'RNFR', '/srv/ftp/uploads/a.txt')).toMatchObject({ allowed: false, section: '<Limit WRITE> (test.conf:56)' });
    expect(check(e, 'STOR', '/srv/ftp/a.txt')).toMatchObject({ allowed: false, section: '<Limit WRITE> (test.conf:56)' });
    expect(check(e, 'RETR', '/srv/ftp/pub/a.txt').allowed).toBe(true);
    // `uploads/*` is the contents: the directory itself is not restricted.
    expect(check(e, 'CWD', '/srv/ftp/uploads').allowed).toBe(true);
    expect(check(e, 'LIST', '/srv/ftp/uploads').allowed).toBe(true);
    // Without a path only the <Anonymous> and server levels apply.
    expect(check(e, 'STOR').allowed).toBe(false);
  });

  it('walks parent <Directory> sections, then the server; the first level that decides wins', () => {
    const c = parseOk(`<Limit READ>\nDenyAll\n</Limit>
<Directory /srv>\n<Limit STOR>\nDenyAll\n</Limit>\n</Directory>
<Directory /srv/in>\n<Limit READ>\nAllowAll\n</Limit>\n</Directory>
<Directory /srv/in/private>\n<Limit DIRS>\nDenyUser bob\n</Limit>\n</Directory>\n`);
    const e = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(check(e, 'STOR', '/srv/in/private/f')).toMatchObject({ allowed: false, section: '<Limit STOR> (test.conf:5)', directory: '<Directory /srv/in/private> (test.conf:14)' });
    expect(check(e, 'RETR', '/srv/in/private/f')).toMatchObject({ allowed: true, section: '<Limit READ> (test.conf:10)' });
    expect(check(e, 'RETR', '/srv/other/f')).toMatchObject({ allowed: false, section: '<Limit READ> (test.conf:1)' });
    expect(check(e, 'CWD', '/srv/in/private').allowed).toBe(false);
    expect(check(e, 'CWD', '/srv/in').allowed).toBe(true);
    const amy = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'amy' });
    expect(check(amy, 'CWD', '/srv/in/private').allowed).toBe(true);
  });

  it('the command name decides before its group at every level, the group before ALL', () => {
    const c = parseOk(`<Limit STOR>\nAllowAll\n</Limit>\n<Directory /srv>\n<Limit WRITE>\nDenyAll\n</Limit>\n<Limit ALL>\nDenyAll\n</Limit>\n</Directory>\n`);
    const e = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(check(e, 'STOR', '/srv/f')).toMatchObject({ allowed: true, section: '<Limit STOR> (test.conf:1)' });
    expect(check(e, 'DELE', '/srv/f')).toMatchObject({ allowed: false, section: '<Limit WRITE> (test.conf:5)' });
    expect(check(e, 'RETR', '/srv/f')).toMatchObject({ allowed: false, section: '<Limit ALL> (test.conf:8)' });
    expect(check(e, 'PASV', '/srv/f').allowed).toBe(true);
  });

  it('a <Directory> in a matching <IfUser> replaces the server section of the same path (§4.3)', () => {
    const c = parseOk(`<Directory /srv/pub>\n<Limit WRITE>\nDenyAll\n</Limit>\n</Directory>
<IfUser bob>\n<Directory /srv/pub>\n<Limit STOR>\nAllowAll\n</Limit>\n</Directory>\n</IfUser>\n`);
    const bob = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(labels(bob.settings.directories)).toEqual(['/srv/pub']);
    expect(check(bob, 'STOR', '/srv/pub/f').allowed).toBe(true);
    expect(check(bob, 'DELE', '/srv/pub/f').allowed).toBe(true);
    const amy = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'amy' });
    expect(check(amy, 'STOR', '/srv/pub/f').allowed).toBe(false);
  });

  it("a server's own section replaces <Global>'s of the same path", () => {
    const c = parseOk(`<Global>\n<Directory /srv>\n<Limit READ>\nDenyAll\n</Limit>\n</Directory>\n</Global>\n<Directory /srv>\n<Limit READ>\nAllowAll\n</Limit>\n</Directory>\n`);
    const e = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(check(e, 'RETR', '/srv/f').allowed).toBe(true);
  });

  it("an anonymous session uses its <Anonymous> section's <Directory> sections only", () => {
    const c = parseOk(`<Directory /srv/ftp/pub>\n<Limit READ>\nDenyAll\n</Limit>\n</Directory>\n<Anonymous /srv/ftp>\nUser ftp\nUserAlias anonymous ftp\n</Anonymous>\n`);
    const e = anon(c);
    expect(e.settings.directories).toEqual([]);
    expect(check(e, 'RETR', '/srv/ftp/pub/f').allowed).toBe(true);
    const bob = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(check(bob, 'RETR', '/srv/ftp/pub/f').allowed).toBe(false);
  });

  it('an anonymous write needs an allow inside <Anonymous>: a <Directory> there counts, the server does not', () => {
    const c = parseOk(`<Limit STOR>\nAllowAll\n</Limit>\n<Anonymous /srv/ftp>\nUser ftp\nUserAlias anonymous ftp\n<Directory incoming>\n<Limit WRITE>\nAllowAll\n</Limit>\n</Directory>\n</Anonymous>\n`);
    const e = anon(c);
    expect(check(e, 'STOR', '/srv/ftp/incoming/f').allowed).toBe(true);
    expect(check(e, 'MKD', '/srv/ftp/incoming').allowed).toBe(true);
    expect(check(e, 'STOR', '/srv/ftp/f').allowed).toBe(false);
  });

  it('~ paths need the session tree (home and root); the default tree leaves them out', () => {
    const c = parseOk(`DefaultRoot ~\n<Directory ~/ro>\n<Limit WRITE>\nDenyAll\n</Limit>\n</Directory>\n`);
    const e = session(c, { remoteAddress: '192.0.2.1', authenticated: true, user: 'bob' });
    expect(check(e, 'STOR', '/home/bob/ro/f').allowed).toBe(true);
    const directories = directoryTree(e.settings.directories, { home: '/home/bob', user: 'bob' });
    expect(checkLimit(e, 'STOR', { address: '192.0.2.1', path: '/home/bob/ro/f', directories }).allowed).toBe(false);
    expect(checkLimit(e, 'STOR', { address: '192.0.2.1', path: '/home/bob/rw/f', directories }).allowed).toBe(true);
  });
});
