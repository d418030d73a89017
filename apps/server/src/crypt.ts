/**
 * Password hashes of AuthUserFile (crypt(3) strings, as ProFTPD's ftpasswd writes them)
 * and of `--user name:password` (scrypt, in memory only).
 *
 * Supported crypt(3) forms: `$6$` SHA-512 and `$5$` SHA-256 ("Unix crypt using SHA-256
 * and SHA-512", U. Drepper, incl. `rounds=N$`), `$1$` MD5 (FreeBSD/PHK). Others (DES,
 * bcrypt `$2y$`, yescrypt `$y$`) are reported as unsupported, never silently accepted.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function b64From24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[w & 0x3f];
    w >>= 6;
  }
  return out;
}

type Algo = 'sha256' | 'sha512';

function digest(algo: Algo | 'md5', ...parts: Buffer[]): Buffer {
  const h = createHash(algo);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `len` bytes of `block` repeated. */
function repeatTo(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

/** SHA-crypt (`$5$`/`$6$`), following the specification step by step. */
function shaCrypt(algo: Algo, password: Buffer, setting: string): string | undefined {
  const prefix = algo === 'sha512' ? '$6$' : '$5$';
  let rest = setting.slice(3);
  let rounds = 5000;
  let customRounds = false;
  const m = /^rounds=(\d+)\$/.exec(rest);
  if (m) {
    rounds = Math.min(999_999_999, Math.max(1000, Number(m[1])));
    customRounds = true;
    rest = rest.slice(m[0].length);
  }
  const salt = Buffer.from(rest.split('$')[0] ?? '', 'utf8').subarray(0, 16);
  const P = password;
  const B = digest(algo, P, salt, P);
  const aParts: Buffer[] = [P, salt, repeatTo(B, P.length)];
  for (let i = P.length; i > 0; i >>= 1) aParts.push(i & 1 ? B : P);
  let A = digest(algo, ...aParts);
  const DP = digest(algo, ...Array<Buffer>(P.length).fill(P));
  const Pp = repeatTo(DP, P.length);
  const DS = digest(algo, ...Array<Buffer>(16 + (A[0] ?? 0)).fill(salt));
  const Sp = repeatTo(DS, salt.length);
  for (let i = 0; i < rounds; i++) {
    const h = createHash(algo);
    h.update(i & 1 ? Pp : A);
    if (i % 3) h.update(Sp);
    if (i % 7) h.update(Pp);
    h.update(i & 1 ? A : Pp);
    A = h.digest();
  }
  let enc = '';
  const groups = algo === 'sha512' ? 21 : 10;
  for (let k = 0; k < groups; k++) {
    const a = A[k] ?? 0;
    const b = A[k + groups] ?? 0;
    const c = A[k + 2 * groups] ?? 0;
    const r = k % 3;
    if (algo === 'sha512') enc += r === 0 ? b64From24(a, b, c, 4) : r === 1 ? b64From24(b, c, a, 4) : b64From24(c, a, b, 4);
    else enc += r === 0 ? b64From24(a, b, c, 4) : r === 1 ? b64From24(c, a, b, 4) : b64From24(b, c, a, 4);
  }
  enc += algo === 'sha512' ? b64From24(0, 0, A[63] ?? 0, 2) : b64From24(0, A[31] ?? 0, A[30] ?? 0, 3);
  return `${prefix}${customRounds ? `rounds=${rounds}$` : ''}${salt.toString('utf8')}$${enc}`;
}

/** MD5-crypt (`$1$`). */
function md5Crypt(password: Buffer, setting: string): string {
  const salt = Buffer.from((setting.slice(3).split('$')[0] ?? '').slice(0, 8), 'utf8');
  const magic = Buffer.from('$1$');
  let final = digest('md5', password, salt, password);
  const parts: Buffer[] = [password, magic, salt];
  for (let pl = password.length; pl > 0; pl -= 16) parts.push(final.subarray(0, Math.min(pl, 16)));
  for (let i = password.length; i > 0; i >>= 1) parts.push(i & 1 ? Buffer.from([0]) : password.subarray(0, 1));
  final = digest('md5', ...parts);
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? password : final);
    if (i % 3) h.update(salt);
    if (i % 7) h.update(password);
    h.update(i & 1 ? final : password);
    final = h.digest();
  }
  const f = (i: number): number => final[i] ?? 0;
  const enc =
    b64From24(f(0), f(6), f(12), 4) +
    b64From24(f(1), f(7), f(13), 4) +
    b64From24(f(2), f(8), f(14), 4) +
    b64From24(f(3), f(9), f(15), 4) +
    b64From24(f(4), f(10), f(5), 4) +
    b64From24(0, 0, f(11), 2);
  return `$1$${salt.toString('utf8')}$${enc}`;
}

/** crypt(3) for the supported forms; `undefined` when the form is not supported. */
export function crypt(password: string, setting: string): string | undefined {
  const pw = Buffer.from(password, 'utf8');
  if (setting.startsWith('$6$')) return shaCrypt('sha512', pw, setting);
  if (setting.startsWith('$5$')) return shaCrypt('sha256', pw, setting);
  if (setting.startsWith('$1$')) return md5Crypt(pw, setting);
  return undefined;
}

/** Which hash a stored string is, for messages. */
export function hashScheme(stored: string): 'sha512-crypt' | 'sha256-crypt' | 'md5-crypt' | 'scrypt' | 'unsupported' {
  if (stored.startsWith('$6$')) return 'sha512-crypt';
  if (stored.startsWith('$5$')) return 'sha256-crypt';
  if (stored.startsWith('$1$')) return 'md5-crypt';
  if (stored.startsWith('$scrypt$')) return 'scrypt';
  return 'unsupported';
}

function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Hash a password for memory (`--user name:password`): `$scrypt$<salt>$<key>`. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32);
  return `$scrypt$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * Check a password against a stored hash (crypt(3) or {@link hashPassword}). `false` for
 * a wrong password, an empty or locked (`*`, `!…`) hash, and unsupported forms.
 */
export function verifyPassword(password: string, stored: string): boolean {
  if (stored.startsWith('$scrypt$')) {
    const [, , saltB64, keyB64] = stored.split('$');
    if (saltB64 === undefined || keyB64 === undefined) return false;
    const key = Buffer.from(keyB64, 'base64');
    const got = scryptSync(password, Buffer.from(saltB64, 'base64'), key.length);
    return timingSafeEqual(got, key);
  }
  const computed = crypt(password, stored);
  return computed !== undefined && constantTimeEqual(computed, stored);
}
