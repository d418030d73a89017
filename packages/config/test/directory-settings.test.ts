// Per-directory settings: AllowOverwrite, AllowStoreRestart, AllowRetrieveRestart,
// DeleteAbortedStores, HiddenStores and Umask inside <Directory> (ProFTPD reads them with
// get_param_ptr(CURRENT_CONF, …) from the section that matches the target, merge_down
// having copied each parent's values into it).
import { describe, expect, it } from 'vitest';
import { directorySettings, directoryTree, formatDiagnostic, parseConfig, PER_DIRECTORY_SETTINGS } from '../src/index.js';
import { parseOk, session } from './helpers.js';

const conf = `AllowOverwrite off
Umask 022
HiddenStores on
<Directory /srv/ftp>
  AllowStoreRestart on
  Umask 027 077
</Directory>
<Directory /srv/ftp/incoming>
  AllowOverwrite on
  HiddenStores off
  DeleteAbortedStores on
</Directory>
<Directory /srv/ftp/incoming/*.part>
  AllowRetrieveRestart off
</Directory>
<Directory /srv/ftp/pub/*>
  HiddenStores .up. .tmp
  AllowStoreRestart off
</Directory>
<Anonymous /srv/anon>
  User ftp
  AllowOverwrite on
  <Directory drop>
    AllowOverwrite off
    Umask 077
  </Directory>
</Anonymous>
`;

describe('<Directory> settings in the configuration', () => {
  it('are parsed into the section, each key as written; HiddenStores off stays explicit', () => {
    const c = parseOk(conf);
    const byPath = new Map((c.main.settings.directories ?? []).map((d) => [d.path, d.settings]));
    expect(byPath.get('/srv/ftp')).toEqual({ allowStoreRestart: true, umask: { file: 0o027, dir: 0o077 } });
    expect(byPath.get('/srv/ftp/incoming')).toEqual({ allowOverwrite: true, hiddenStores: false, deleteAbortedStores: true });
    expect(byPath.get('/srv/ftp/pub/*')).toEqual({ hiddenStores: { prefix: '.up.', suffix: '.tmp' }, allowStoreRestart: false });
    // The server's own values are untouched.
    expect(c.main.settings.allowOverwrite).toBe(false);
    expect(c.main.settings.hiddenStores).toEqual({ prefix: '.in.', suffix: '.' });
    expect(c.main.anonymous[0]?.settings.directories?.[0]?.settings).toEqual({ allowOverwrite: false, umask: { file: 0o077, dir: 0o077 } });
    expect(PER_DIRECTORY_SETTINGS).toEqual(['AllowOverwrite', 'AllowStoreRestart', 'AllowRetrieveRestart', 'HiddenStores', 'DeleteAbortedStores', 'Umask']);
  });

  it('a section with only <Limit> sections has no settings', () => {
    const c = parseOk('<Directory /srv/a>\n<Limit STOR>\nDenyAll\n</Limit>\n</Directory>\n');
    expect(c.main.settings.directories?.[0]?.settings).toBeUndefined();
  });

  it('bad values and duplicates inside <Directory> are errors with file:line; unsupported directives stay refused', () => {
    const r = parseConfig(
      ['<Directory /srv/a>', '  Umask 999', '  AllowOverwrite on', '  AllowOverwrite off', '  HideFiles ^\\.', '  MasqueradeAddress 1.2.3.4', '</Directory>'].join('\n'),
      { file: 'd.conf' },
    );
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => formatDiagnostic(e))).toEqual([
      'd.conf:2: Umask 999: not an octal mode such as 022 — write Umask 022 022',
      'd.conf:4: AllowOverwrite is set twice here (first at line 3) — keep one AllowOverwrite line in this context',
      'd.conf:5: HideFiles (mod_core) is not implemented by ftpkit — remove it, or load the configuration in lenient mode to ignore it',
      'd.conf:6: MasqueradeAddress is not allowed inside <Directory> — move it to the server config, <VirtualHost> or <Global>',
    ]);
  });
});

describe('directorySettings (the settings of a path)', () => {
  const tree = directoryTree(session(parseOk(conf), { remoteAddress: '198.51.100.9' }).settings.directories, {});

  it('the matched section first, then its parents; keys nobody sets are absent', () => {
    expect(directorySettings(tree, '/srv/ftp/incoming/a.txt')).toEqual({
      allowOverwrite: true,
      hiddenStores: false,
      deleteAbortedStores: true,
      allowStoreRestart: true,
      umask: { file: 0o027, dir: 0o077 },
    });
    // A glob section below /srv/ftp/incoming: its own key, then incoming's, then /srv/ftp's.
    expect(directorySettings(tree, '/srv/ftp/incoming/big.part')).toEqual({
      allowRetrieveRestart: false,
      allowOverwrite: true,
      hiddenStores: false,
      deleteAbortedStores: true,
      allowStoreRestart: true,
      umask: { file: 0o027, dir: 0o077 },
    });
    expect(directorySettings(tree, '/srv/ftp/pub/x.iso')).toEqual({
      hiddenStores: { prefix: '.up.', suffix: '.tmp' },
      allowStoreRestart: false,
      umask: { file: 0o027, dir: 0o077 },
    });
    // `/srv/ftp/pub/*` does not cover /srv/ftp/pub itself (a new directory there is /srv/ftp's).
    expect(directorySettings(tree, '/srv/ftp/pub')).toEqual({ allowStoreRestart: true, umask: { file: 0o027, dir: 0o077 } });
    expect(directorySettings(tree, '/srv/ftp/readme')).toEqual({ allowStoreRestart: true, umask: { file: 0o027, dir: 0o077 } });
  });

  it('outside every section: nothing (the session values apply), the same empty object each time', () => {
    const a = directorySettings(tree, '/home/bob/x');
    expect(a).toEqual({});
    expect(directorySettings(tree, '/tmp')).toBe(a);
  });

  it('an anonymous session uses its <Anonymous> sections (relative to the root) over the <Anonymous> values', () => {
    const anon = session(parseOk(conf), { remoteAddress: '198.51.100.9', authenticated: true, user: 'ftp' });
    expect(anon.settings.allowOverwrite).toBe(true);
    const t = directoryTree(anon.settings.directories, { anonymousRoot: '/srv/anon' });
    expect(directorySettings(t, '/srv/anon/drop/f')).toEqual({ allowOverwrite: false, umask: { file: 0o077, dir: 0o077 } });
    expect(directorySettings(t, '/srv/anon/f')).toEqual({});
    expect(directorySettings(t, '/srv/ftp/incoming/f')).toEqual({});
  });

  it('a setting a matching <IfUser> sets is removed from the other sections (mod_ifsession), not from its own', () => {
    const c = parseOk(`${conf}<IfUser bob>\nUmask 002\nAllowOverwrite off\n<Directory /srv/ftp/pub/*>\nAllowOverwrite on\n</Directory>\n</IfUser>\n`);
    const bob = session(c, { remoteAddress: '198.51.100.9', authenticated: true, user: 'bob' });
    expect(bob.settings.umask).toEqual({ file: 0o002, dir: 0o002 });
    const t = directoryTree(bob.settings.directories, {});
    // As ProFTPD 1.3.8 did with <IfUser alice> Umask 002: a new file in a `Umask 077 027` directory got 0664.
    expect(directorySettings(t, '/srv/ftp/incoming/a')).toEqual({ hiddenStores: false, deleteAbortedStores: true, allowStoreRestart: true });
    expect(directorySettings(t, '/srv/ftp/pub/x')).toEqual({ allowOverwrite: true, allowStoreRestart: true });
    // Other users keep the sections as written.
    const amy = session(c, { remoteAddress: '198.51.100.9', authenticated: true, user: 'amy' });
    expect(directorySettings(directoryTree(amy.settings.directories, {}), '/srv/ftp/incoming/a')).toMatchObject({ allowOverwrite: true, umask: { file: 0o027, dir: 0o077 } });
  });

  it('a <Directory> in a matching <IfUser> replaces the server section of the same path', () => {
    const c = parseOk(`${conf}<IfUser bob>\n<Directory /srv/ftp/incoming>\nAllowOverwrite off\n</Directory>\n</IfUser>\n`);
    const bob = session(c, { remoteAddress: '198.51.100.9', authenticated: true, user: 'bob' });
    expect(directorySettings(directoryTree(bob.settings.directories, {}), '/srv/ftp/incoming/a')).toEqual({
      allowOverwrite: false,
      allowStoreRestart: true,
      umask: { file: 0o027, dir: 0o077 },
    });
  });
});
