// Vectors produced by `openssl passwd -1/-5/-6` (OpenSSL 3.0) and Python's crypt (libxcrypt).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashPassword, identifyHash, md5Crypt, shaCrypt, verifyPassword } from '../../src/node/index.js';

const LONG = 'a-very-long-password-that-is-longer-than-sixty-four-bytes-for-sure-0123456789abcdef';

describe('MD5-crypt ($1$)', () => {
  it.each([
    ['secret', '$1$saltsalt$9xy1btjgzLYfb7hivXtC//'],
    ['pässwörd', '$1$saltsalt$VReRfkQ8Hs1aayf/oxMkG/'],
    ['', '$1$saltsalt$5Jhcit4zN9UlGiA0txPkO0'],
    [LONG, '$1$saltsalt$4EdeqgDnckUeKU/08stoQ/'],
  ])('%j', async (pw, hash) => {
    expect(md5Crypt(pw, 'saltsalt')).toBe(hash);
    expect(await verifyPassword(hash, pw)).toBe(true);
    expect(await verifyPassword(hash, `${pw}x`)).toBe(false);
  });
});

describe('SHA-crypt ($5$, $6$)', () => {
  it.each([
    ['secret', '$5$saltsaltsaltsalt$X0ra9qlY7TJaGBDgorLevriQfwysW8fXnbybcO4mF4/'],
    ['pässwörd', '$5$saltsaltsaltsalt$DQML1zBzgnGKZzzHKgCBv5swKIuOk206JdqmVkFv1f6'],
    [LONG, '$5$saltsaltsaltsalt$VeYDR53mrIfKApZriAgh6FBkhKaQpnbZV/Om2TCO8c5'],
    ['secret', '$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2mdvgY..TKjv1T..8RadRt2qvUHYRLr/TsVArtr91iR1'],
    ['pässwörd', '$6$abc$wXvLgMChht3U87i888StiQy1W/EK2Ge3H6rxIRM8l0prwhG1icmLmgEOcYMiXbSth/t5JyRjjVGbqvVEQ7j9n/'],
    [LONG, '$6$abc$CQz1fY7kaU4R5yYYZitl6xCrrx21SYJN0VPJpq.Br5u9tmwnUjbk0ostD38WdRKSQkZqJINzVlZqXAyNsJeoC0'],
    ['secret', '$5$rounds=1000$roundsalt$lUCbt9XtIcgnEwqC0F1ZqnVZJuvR2.Yizn/Gj0BBD9/'],
    ['pässwörd', '$5$rounds=1000$roundsalt$QVIfWSyNrLGiH5GmOQ7Fvyk95arh0O6e1S7zb7FBAcC'],
    ['secret', '$6$rounds=12345$xy$nKMUaKSS03zxSArVY/CyV2HEtpq6iGVvFUbXLwNB5fXtCUipcjhA.KjbTrffyaRvENZkokKx/w/n3eU4dtaZ41'],
    ['pässwörd', '$6$rounds=12345$xy$adas5JpX3W1pASGs2wGOD8aPmcHEUDsH5xKYhS8v/h2P/fpWeeypa0t./xq59WLn660jnXaCnP4u1Cix7E7um/'],
  ])('%j -> %s', async (pw, hash) => {
    const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]*)\$/.exec(hash) as RegExpExecArray;
    expect(shaCrypt(Number(m[1]) as 5 | 6, pw, m[3] as string, m[2] ? Number(m[2]) : undefined)).toBe(hash);
    expect(await verifyPassword(hash, pw)).toBe(true);
    expect(await verifyPassword(hash, 'wrong')).toBe(false);
  });
});

describe('bcrypt ($2b$, $2y$ as ftpasswd/htpasswd write it)', () => {
  it.each([
    ['secret', '$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW'],
    ['secret', '$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW'],
    ['pässwörd', '$2b$04$abcdefghijklmnopqrstuuyx2n0Zzopyr9QuYTMCfOJJOj526QVoC'],
  ])('%j', async (pw, hash) => {
    expect(await verifyPassword(hash, pw)).toBe(true);
    expect(await verifyPassword(hash, 'wrong')).toBe(false);
  });
});

describe('other hashes', () => {
  it.each(['*', '!', '!$6$abc$x', '', 'abJnggxhB/yWI', '$1$', '$2y$04$short', '$7$whatever'])('%j never verifies', async (hash) => {
    expect(await verifyPassword(hash, 'secret')).toBe(false);
  });
  it('identifies schemes', () => {
    expect(['$1$a$b', '$5$a$b', '$6$a$b', '$2y$10$x', 'xy'].map(identifyHash)).toEqual(['md5-crypt', 'sha256-crypt', 'sha512-crypt', 'bcrypt', 'unsupported']);
  });
  it('hashPassword round-trips for every scheme', async () => {
    for (const scheme of ['md5-crypt', 'sha256-crypt', 'sha512-crypt'] as const) {
      const h = hashPassword('correct horse', { scheme });
      expect(identifyHash(h)).toBe(scheme);
      expect(await verifyPassword(h, 'correct horse')).toBe(true);
    }
    const b = hashPassword('correct horse', { scheme: 'bcrypt', rounds: 4 });
    expect(b.startsWith('$2y$04$')).toBe(true);
    expect(await verifyPassword(b, 'correct horse')).toBe(true);
  });
  it('property: a hash verifies its own password and not another', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), async (pw, other) => {
        const h = hashPassword(pw, { scheme: 'md5-crypt' });
        expect(await verifyPassword(h, pw)).toBe(true);
        if (other !== pw) expect(await verifyPassword(h, other)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });
});
