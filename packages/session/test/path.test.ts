import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { baseName, joinPath, parentPath, resolvePath } from '../src/path.js';

const ok = (cwd: string, arg: string, home?: string): string => {
  const r = resolvePath(cwd, arg, home);
  if (!r.ok) throw new Error(`refused ${arg}`);
  return r.path;
};

describe('resolvePath', () => {
  it.each([
    ['/', 'a', '/a'],
    ['/', '/a/b/', '/a/b'],
    ['/a', 'b', '/a/b'],
    ['/a', '..', '/'],
    ['/a/b', '../c', '/a/c'],
    ['/', '..', '/'],
    ['/', '../../etc/passwd', '/etc/passwd'],
    ['/a', '/../../etc', '/etc'],
    ['/a', '.', '/a'],
    ['/a', '', '/a'],
    ['/a', './b//c/./', '/a/b/c'],
    ['/a', 'x\\..\\y', '/a/x\\..\\y'],
    ['/a', '...', '/a/...'],
    ['/a', 'name with spaces ', '/a/name with spaces '],
  ])('%s + %j = %s', (cwd, arg, want) => {
    expect(ok(cwd, arg)).toBe(want);
  });

  it('expands ~ to the home directory only as a whole first segment', () => {
    expect(ok('/x', '~', '/home/u')).toBe('/home/u');
    expect(ok('/x', '~/a/../b', '/home/u')).toBe('/home/u/b');
    expect(ok('/x', '~user', '/home/u')).toBe('/x/~user');
  });

  it('refuses NUL bytes', () => {
    expect(resolvePath('/', 'a\0b')).toEqual({ ok: false, reason: 'nul' });
  });

  it('never escapes the root and is always normalised (property)', () => {
    const segment = fc.constantFrom('a', 'b', '..', '.', '', '...', 'c\\..', ' ');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.array(segment, { maxLength: 8 }), fc.boolean(), (cwdSegs, argSegs, absolute) => {
        const cwd = ok('/', cwdSegs.join('/'));
        const path = ok(cwd, (absolute ? '/' : '') + argSegs.join('/'));
        expect(path.startsWith('/')).toBe(true);
        expect(path === '/' || !path.endsWith('/')).toBe(true);
        const parts = path.split('/').slice(1);
        expect(parts.includes('..')).toBe(false);
        expect(parts.includes('.')).toBe(false);
        expect(path === '/' || !parts.includes('')).toBe(true);
        // Idempotent.
        expect(ok('/', path)).toBe(path);
      }),
    );
  });
});

describe('path helpers', () => {
  it('parent, base name, join', () => {
    expect(parentPath('/')).toBe('/');
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b')).toBe('/a');
    expect(baseName('/a/b')).toBe('b');
    expect(baseName('/')).toBe('');
    expect(joinPath('/', 'x')).toBe('/x');
    expect(joinPath('/a', 'x')).toBe('/a/x');
  });
});
