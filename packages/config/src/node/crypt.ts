/**
 * crypt(3) password hashes of ProFTPD's AuthUserFile: MD5-crypt (`$1$`, Poul-Henning
 * Kamp's algorithm as in glibc/FreeBSD), SHA-crypt (`$5$` SHA-256 and `$6$` SHA-512,
 * Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification, with
 * `rounds=N`), and bcrypt (`$2a$`/`$2b$`/`$2y$`, via bcryptjs).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { wasmRounds } from './crypt-wasm.js';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

function encodeTriples(c: Uint8Array, triples: readonly (readonly [number, number, number])[]): string {
  return triples.map(([a, b, d]) => to64(((c[a] as number) << 16) | ((c[b] as number) << 8) | (c[d] as number), 4)).join('');
}

/** MD5-crypt: `$1$<salt up to 8>$<22 chars>`. */
export function md5Crypt(password: string, salt: string): string {
  const pw = new TextEncoder().encode(password);
  const s = new TextEncoder().encode(salt.slice(0, 8));
  const magic = new TextEncoder().encode('$1$');
  const alt = createHash('md5').update(pw).update(s).update(pw).digest();
  const ctx = createHash('md5').update(pw).update(magic).update(s);
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  for (let i = pw.length; i; i >>= 1) ctx.update(i & 1 ? new Uint8Array([0]) : pw.subarray(0, 1));
  let fin: Uint8Array = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(s);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  const f = fin;
  const body =
    encodeTriples(f, [
      [0, 6, 12],
      [1, 7, 13],
      [2, 8, 14],
      [3, 9, 15],
      [4, 10, 5],
    ]) + to64(f[11] as number, 2);
  return `$1$${salt.slice(0, 8)}$${body}`;
}

const SHA256_ORDER: readonly (readonly [number, number, number])[] = [
  [0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14],
  [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29],
];
const SHA512_ORDER: readonly (readonly [number, number, number])[] = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

function repeatTo(block: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = block[i % block.length] as number;
  return out;
}

/**
 * Step 21 of SHA-crypt with node:crypto, one hash object per round: where WebAssembly is
 * unavailable (./crypt-wasm.ts runs the same loop about 6x faster).
 */
export function jsRounds(alg: 'sha256' | 'sha512', digest: Uint8Array, pBytes: Uint8Array, sBytes: Uint8Array, rounds: number): Uint8Array {
  let c = digest;
  for (let i = 0; i < rounds; i++) {
    const h = createHash(alg);
    h.update(i & 1 ? pBytes : c);
    if (i % 3) h.update(sBytes);
    if (i % 7) h.update(pBytes);
    h.update(i & 1 ? c : pBytes);
    c = h.digest();
  }
  return c;
}

/** SHA-crypt: `$5$` (SHA-256) or `$6$` (SHA-512), `[rounds=N$]<salt up to 16>$<hash>`. */
export function shaCrypt(variant: 5 | 6, password: string, salt: string, rounds?: number): string {
  const alg = variant === 5 ? 'sha256' : 'sha512';
  const size = variant === 5 ? 32 : 64;
  const r = rounds === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, Math.floor(rounds)));
  const saltText = salt.slice(0, 16);
  const p = new TextEncoder().encode(password);
  const s = new TextEncoder().encode(saltText);
  const b = createHash(alg).update(p).update(s).update(p).digest();
  const a = createHash(alg).update(p).update(s);
  let n = p.length;
  for (; n > size; n -= size) a.update(b);
  a.update(b.subarray(0, n));
  for (let i = p.length; i > 0; i >>= 1) a.update(i & 1 ? b : p);
  const aDigest = a.digest();
  const dp = createHash(alg);
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pBytes = repeatTo(dp.digest(), p.length);
  // DS: the salt 16 + A[0] times (at most 271 x 16 characters), hashed in one update.
  const sBytes = repeatTo(createHash(alg).update(repeatTo(s, s.length * (16 + (aDigest[0] as number)))).digest(), s.length);
  const c = wasmRounds(variant, aDigest, pBytes, sBytes, r) ?? jsRounds(alg, aDigest, pBytes, sBytes, r);
  const body =
    variant === 5
      ? encodeTriples(c, SHA256_ORDER) + to64(((c[31] as number) << 8) | (c[30] as number), 3)
      : encodeTriples(c, SHA512_ORDER) + to64(c[63] as number, 2);
  const roundsPart = rounds === undefined ? '' : `rounds=${r}$`;
  return `$${variant}$${roundsPart}${saltText}$${body}`;
}

/** Which scheme a stored hash uses. */
export type HashScheme = 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'bcrypt' | 'unsupported';

export function identifyHash(hash: string): HashScheme {
  if (hash.startsWith('$1$')) return 'md5-crypt';
  if (hash.startsWith('$5$')) return 'sha256-crypt';
  if (hash.startsWith('$6$')) return 'sha512-crypt';
  if (/^\$2[abxy]\$\d\d\$/.test(hash)) return 'bcrypt';
  return 'unsupported';
}

function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Verifies a password against a crypt(3) hash from an AuthUserFile. Unsupported or
 * locked hashes (`*`, `!…`, traditional DES) never verify. Resolves, never rejects.
 */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  switch (identifyHash(hash)) {
    case 'md5-crypt': {
      const m = /^\$1\$([^$]{0,8})\$/.exec(hash);
      return m !== null && sameText(md5Crypt(password, m[1] as string), hash);
    }
    case 'sha256-crypt':
    case 'sha512-crypt': {
      const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})\$/.exec(hash);
      if (!m) return false;
      const rounds = m[2] !== undefined ? Number(m[2]) : undefined;
      return sameText(shaCrypt(Number(m[1]) as 5 | 6, password, m[3] as string, rounds), hash);
    }
    case 'bcrypt':
      try {
        return await bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
      } catch {
        return false;
      }
    default:
      return false;
  }
}

/** Hashes a password (for tools and tests): SHA-512-crypt by default, with a random salt. */
export function hashPassword(password: string, opts: { readonly scheme?: 'md5-crypt' | 'sha256-crypt' | 'sha512-crypt' | 'bcrypt'; readonly salt?: string; readonly rounds?: number } = {}): string {
  const scheme = opts.scheme ?? 'sha512-crypt';
  const salt = opts.salt ?? [...randomBytes(16)].map((x) => ITOA64[x & 0x3f]).join('');
  if (scheme === 'md5-crypt') return md5Crypt(password, salt);
  if (scheme === 'bcrypt') return bcrypt.hashSync(password, opts.rounds ?? 10).replace(/^\$2b\$/, '$2y$');
  return shaCrypt(scheme === 'sha256-crypt' ? 5 : 6, password, salt, opts.rounds);
}
