// Vectors produced by `openssl passwd -1/-5/-6` (OpenSSL 3.0) and Python's crypt (libxcrypt).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hashPassword, identifyHash, md5Crypt, shaCrypt, verifyPassword } from '../../src/node/index.js';
import { jsRounds } from '../../src/node/crypt.js';
import { wasmRounds } from '../../src/node/crypt-wasm.js';

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

// The test vectors of Drepper's "Unix crypt using SHA-256 and SHA-512" (also glibc's and
// passlib's), each checked against libxcrypt; the rounds=10 ones show the minimum of 1000.
const SPEC_VECTORS: [string, string, string][] = [
  ['$5$saltstring', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  ['$5$rounds=10000$saltstringsaltstring', 'Hello world!', '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA'],
  ['$5$rounds=5000$toolongsaltstring', 'This is just a test', '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5'],
  [
    '$5$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  ['$5$rounds=77777$short', 'we have a short salt string but not a short password', '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/'],
  ['$5$rounds=123456$asaltof16chars..', 'a short string', '$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD'],
  ['$5$rounds=10$roundstoolow', 'the minimum number is still observed', '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC'],
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  [
    '$6$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    '$6$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    '$6$rounds=77777$short',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    '$6$rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    '$6$rounds=10$roundstoolow',
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

describe('SHA-crypt: the specification vectors', () => {
  it.each(SPEC_VECTORS)('%s %j', async (setting, pw, hash) => {
    const m = /^\$([56])\$(?:rounds=(\d+)\$)?(.*)$/.exec(setting) as RegExpExecArray;
    expect(shaCrypt(Number(m[1]) as 5 | 6, pw, m[3] as string, m[2] ? Number(m[2]) : undefined)).toBe(hash);
    expect(await verifyPassword(hash, pw)).toBe(true);
    expect(await verifyPassword(hash, `${pw}!`)).toBe(false);
  });

  it('more libxcrypt vectors: empty and 300-byte passwords (messages over several blocks)', async () => {
    const cases: [string, string][] = [
      ['', '$6$saltstring$kyGrqt6gmjAdtFLPrflEFifSYLCWWq1pyx95SvqinLDy2UHmj0sTF0MSLMwxPFZc3tu5kQckI8fks0zOPda3n1'],
      ['x'.repeat(300), '$6$saltstring$Ft0I09S7k3W0/lLoU7IVWx7lH2mmRFb/L3K401hnJSTdvAW2pupqvJfGzT7yzGr7gVL3oLKy.TcXRPx64Z.ZV1'],
      ['x'.repeat(300), '$5$saltstring$efBsD6lG36eGNlaol3.u9Y5ESDWuCWOkHOuiPnuaa/1'],
      ['p', '$5$$BL2i3WpLL1cUCWPdJBi8D9cwMSvfo1hUzP65LRwe9u3'],
      ['Hello world!', '$6$rounds=5000$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
    ];
    for (const [pw, hash] of cases) expect(await verifyPassword(hash, pw)).toBe(true);
  });

  it('property: the WebAssembly round loop equals the node:crypto one, for any password, salt and digest', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(5 as const, 6 as const),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 48 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.integer({ min: 0, max: 40 }),
        (variant, p, s, digest, rounds) => {
          const c = variant === 5 ? digest.subarray(0, 32) : digest;
          const js = Buffer.from(jsRounds(variant === 5 ? 'sha256' : 'sha512', c, p, s, rounds)).toString('hex');
          const wasm = wasmRounds(variant, c, p, s, rounds);
          expect(wasm).toBeDefined();
          expect(Buffer.from(wasm as Uint8Array).toString('hex')).toBe(js);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the WebAssembly loop hashes every message length across block boundaries (SHA-256 and SHA-512 padding)', () => {
    // One round hashes digest + [salt] + [password] + password: lengths cross 55/56, 111/112, 119/120, 239/240.
    for (const variant of [5, 6] as const) {
      const alg = variant === 5 ? 'sha256' : 'sha512';
      const c = createHash(alg).update('seed').digest();
      for (let len = 0; len <= 130; len++) {
        const p = new Uint8Array(len).fill(0x61 + (len % 26));
        const wasm = Buffer.from(wasmRounds(variant, c, p, new Uint8Array(0), 1) as Uint8Array).toString('hex');
        expect(wasm).toBe(Buffer.from(jsRounds(alg, c, p, new Uint8Array(0), 1)).toString('hex'));
      }
    }
  });

  it('without WebAssembly (node --jitless) the same hashes come from node:crypto alone', () => {
    const dist = fileURLToPath(new URL('../../dist/node/crypt.js', import.meta.url));
    const [, pw, hash] = SPEC_VECTORS[8] as [string, string, string]; // $6$rounds=10000$saltstringsaltstring
    const script = `import { shaCrypt } from ${JSON.stringify(dist)};
console.log(typeof WebAssembly, shaCrypt(6, ${JSON.stringify(pw)}, 'saltstringsaltstring', 10000));`;
    const r = spawnSync(process.execPath, ['--jitless', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`undefined ${hash}`);
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
