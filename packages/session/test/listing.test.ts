import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatListLine,
  formatMlsxEntry,
  globMatch,
  lsTime,
  modeString,
  parseListArgs,
  permFact,
  DEFAULT_MLST_FACTS,
} from '../src/listing.js';
import type { FileInfo } from '../src/ports.js';

const now = Date.UTC(2026, 10, 24, 5, 30, 42);
const file: FileInfo = { name: 'hello.txt', type: 'file', size: 6, mtime: now - 60_000, mode: 0o644, owner: 'ftptest', group: 'ftptest' };

describe('LIST lines (ProFTPD mod_ls format)', () => {
  it('formats a recent file like ProFTPD', () => {
    expect(formatListLine(file, now)).toBe('-rw-r--r--   1 ftptest  ftptest         6 Nov 24 05:29 hello.txt');
  });

  it('uses the year for files older than six months and for future files', () => {
    const old = { ...file, mtime: Date.UTC(2019, 2, 4, 10, 0) };
    expect(formatListLine(old, now)).toBe('-rw-r--r--   1 ftptest  ftptest         6 Mar  4  2019 hello.txt');
    expect(lsTime(now + 2 * 3600_000, now)).toBe('Nov 24  2026');
    expect(lsTime(now + 60_000, now)).toBe('Nov 24 05:31');
  });

  it('falls back to numeric ids, then ftp', () => {
    const anon: FileInfo = { name: 'd', type: 'dir', size: 4096, mtime: now, mode: 0o755, uid: 1000, nlink: 12 };
    expect(formatListLine(anon, now)).toBe('drwxr-xr-x  12 1000     ftp          4096 Nov 24 05:30 d');
  });

  it('renders every mode bit', () => {
    expect(modeString('file', 0o4755)).toBe('-rwsr-xr-x');
    expect(modeString('file', 0o4644)).toBe('-rwSr--r--');
    expect(modeString('dir', 0o2775)).toBe('drwxrwsr-x');
    expect(modeString('dir', 0o1777)).toBe('drwxrwxrwt');
    expect(modeString('dir', 0o1776)).toBe('drwxrwxrwT');
    expect(modeString('link', 0o777)).toBe('lrwxrwxrwx');
    expect(modeString('other', 0o600)).toBe('prw-------');
  });
});

describe('LIST lines: the memoised formatting', () => {
  /** ls -l as the format says, computed afresh for every line. */
  const reference = (info: FileInfo, at: number): string => {
    const d = new Date(info.mtime);
    const M = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
    const old = info.mtime < at - 180 * 24 * 3600_000 || info.mtime > at + 3600_000;
    const two = (n: number): string => String(n).padStart(2, '0');
    const when = `${M} ${String(d.getUTCDate()).padStart(2)} ${old ? ` ${d.getUTCFullYear()}` : `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`}`;
    const owner = info.owner ?? (info.uid !== undefined ? String(info.uid) : 'ftp');
    const group = info.group ?? (info.gid !== undefined ? String(info.gid) : 'ftp');
    return `${modeString(info.type, info.mode)} ${String(info.nlink ?? 1).padStart(3)} ${owner.padEnd(8)} ${group.padEnd(8)} ${String(info.size).padStart(8)} ${when} ${info.name}`;
  };

  it('property: every line equals ls -l computed afresh, whatever the mode, time and now (also around the six-month and one-hour edges)', () => {
    const edge = fc.constantFrom(0, -1, 1, 59_999, 60_000, 180 * 24 * 3600_000, 180 * 24 * 3600_000 + 1, -3600_000, -3600_001);
    fc.assert(
      fc.property(
        fc.constantFrom('file' as const, 'dir' as const, 'link' as const, 'other' as const),
        fc.integer({ min: 0, max: 0o7777 }),
        fc.integer({ min: -2_000_000_000_000, max: 4_000_000_000_000 }),
        fc.oneof(fc.integer({ min: -2_000_000_000_000, max: 4_000_000_000_000 }), edge),
        fc.record({ size: fc.nat(), nlink: fc.integer({ min: 1, max: 5000 }), uid: fc.nat(70000) }),
        (type, mode, at, offset, rest) => {
          const info: FileInfo = { name: 'n', type, mode, mtime: Math.abs(offset) < 10 ** 9 ? at - offset : offset, ...rest };
          expect(formatListLine(info, at)).toBe(reference(info, at));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a line for the same minute is the same text before and after the memo fills', () => {
    const base = Date.UTC(2026, 10, 24, 5, 0);
    const first = formatListLine({ ...file, mtime: base + 1234 }, now);
    for (let i = 0; i < 10_000; i++) formatListLine({ ...file, mtime: base - i * 60_000, mode: i % 0o7777 }, now);
    expect(formatListLine({ ...file, mtime: base + 1234 }, now)).toBe(first);
    expect(first).toBe('-rw-r--r--   1 ftptest  ftptest         6 Nov 24 05:00 hello.txt');
  });
});

describe('MLSx facts (RFC 3659 §7)', () => {
  const info: FileInfo = { ...file, uid: 1000, gid: 100, unique: '801U12' };
  it('formats the default facts', () => {
    expect(formatMlsxEntry(info, DEFAULT_MLST_FACTS, true, 'hello.txt')).toBe(
      'modify=20261124052942;perm=adfrw;size=6;type=file;unique=801U12;' +
        'UNIX.group=100;UNIX.groupname=ftptest;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=ftptest; hello.txt',
    );
  });
  it('honours the selection and cdir', () => {
    const dir: FileInfo = { name: 'd', type: 'dir', size: 4096, mtime: now, mode: 0o755 };
    expect(formatMlsxEntry(dir, ['type', 'perm'], true, '.', 'cdir')).toBe('type=cdir;perm=flcdmpe; .');
    expect(formatMlsxEntry(dir, ['type', 'perm'], true, '..', 'pdir')).toBe('type=pdir;perm=flcdmpe; ..');
    expect(formatMlsxEntry(dir, ['type', 'perm', 'unique'], false, 'd')).toBe('type=dir;perm=fle; d');
    expect(formatMlsxEntry(dir, ['size', 'type'], true, 'd')).toBe('type=dir; d');
    expect(formatMlsxEntry(info, ['UNIX.owner', 'UNIX.group', 'UNIX.ownername', 'UNIX.groupname'], true, 'f')).toBe(
      'UNIX.owner=1000;UNIX.group=100;UNIX.ownername=ftptest;UNIX.groupname=ftptest; f',
    );
    expect(formatMlsxEntry({ ...info, type: 'link' }, ['type'], true, 'l')).toBe('type=OS.unix=symlink; l');
  });
  it('derives perm from mode bits and write access', () => {
    expect(permFact(file, false)).toBe('r');
    expect(permFact({ ...file, mode: 0o444 }, true)).toBe('r');
    expect(permFact({ ...file, mode: 0o200 }, true)).toBe('adfw');
  });
});

describe('LIST arguments and globbing', () => {
  it.each([
    [undefined, { all: false, recursive: false, path: undefined }],
    ['-la', { all: true, recursive: false, path: undefined }],
    ['-l', { all: false, recursive: false, path: undefined }],
    ['-l dir', { all: false, recursive: false, path: 'dir' }],
    ['-a -l  dir name', { all: true, recursive: false, path: 'dir name' }],
    ['-- -weird', { all: false, recursive: false, path: '-weird' }],
    ['-- -R', { all: false, recursive: false, path: '-R' }],
    ['-lR  sub', { all: false, recursive: true, path: 'sub' }],
    ['-l -aR', { all: true, recursive: true, path: undefined }],
    ['dir -R', { all: false, recursive: false, path: 'dir -R' }],
  ])('%j', (arg, want) => expect(parseListArgs(arg)).toEqual(want));

  it.each([
    ['*.txt', 'a.txt', true],
    ['*.txt', 'a.txt.gz', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[ab]*', 'bz', true],
    ['[!ab]*', 'bz', false],
    ['[a-c]x', 'bx', true],
    ['*a*b*', 'xxaxxbxx', true],
    ['*', '', true],
    ['[', '[', true],
  ])('glob %s ~ %s = %s', (pattern, name, want) => expect(globMatch(pattern, name)).toBe(want));
});
