import { describe, expect, it } from 'vitest';
import { crypt, hashPassword, hashScheme, verifyPassword } from '../src/crypt.js';

// Vectors produced by glibc crypt(3) / `openssl passwd`.
const VECTORS: [string, string][] = [
  ['Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  [
    'a very much longer password that is more than 64 characters long for sure, yes indeed',
    '$6$rounds=1000$ab$GlYFnfFKOJpuO4MR0Re4Gn5ooWJL3UjPKUv.ukYBuMub2yXvyQ69nN2kIUyuYErOrVrWCcUtJe3jbzExbFQpB1',
  ],
  ['password', '$1$abcdefgh$G//4keteveJp0qb8z2DxG/'],
  ['', '$1$x$fwjfZtMwarkdetsjiQreU1'],
];

describe('crypt(3)', () => {
  it.each(VECTORS)('reproduces %j -> %s', (password, hash) => {
    expect(crypt(password, hash)).toBe(hash);
    expect(verifyPassword(password, hash)).toBe(true);
    expect(verifyPassword(`${password}x`, hash)).toBe(false);
  });

  it('refuses what it cannot check', () => {
    expect(crypt('secret', 'abNANd1rDfiNc')).toBeUndefined();
    expect(verifyPassword('secret', 'abNANd1rDfiNc')).toBe(false);
    expect(verifyPassword('secret', '$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.')).toBe(false);
    expect(verifyPassword('', '')).toBe(false);
    expect(verifyPassword('', '*')).toBe(false);
    expect(hashScheme('$y$abc')).toBe('unsupported');
  });
});

describe('in-memory hashes', () => {
  it('verifies the right password only and never stores it in clear', () => {
    const h = hashPassword('s3cret');
    expect(h).not.toContain('s3cret');
    expect(hashScheme(h)).toBe('scrypt');
    expect(verifyPassword('s3cret', h)).toBe(true);
    expect(verifyPassword('s3cret ', h)).toBe(false);
    expect(hashPassword('s3cret')).not.toBe(h);
  });
});
