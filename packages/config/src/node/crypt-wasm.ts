/**
 * The round loop of SHA-crypt (`$5$`, `$6$`) in WebAssembly.
 *
 * Theory of operation. SHA-crypt spends nearly all its time in one loop: thousands of
 * rounds (5 000 by default), each hashing a short message made of the previous digest,
 * the password and the salt (Drepper's specification, step 21). Through node:crypto every
 * round is a createHash/update/digest round trip into C++ that costs several times the
 * hashing itself: a 5 000-round SHA-512-crypt took about 7x the CPU of libxcrypt's. Here
 * the whole loop runs inside one WebAssembly call: the message is assembled in linear
 * memory, padded, and compressed (FIPS 180-4 §6.2 for SHA-256, §6.4 for SHA-512, the 64
 * or 80 steps unrolled) by code that never leaves WebAssembly, and the JavaScript side
 * only copies the inputs in and the last digest out: within about 15% of libxcrypt.
 *
 * The module is not shipped as a binary: {@link shaModule} assembles it from the
 * definitions below (one generator for both hashes, which differ only in word size,
 * round count, constants and rotation amounts), so the code is all in this file.
 * Everything else of SHA-crypt (the setup digests, the final encoding) stays in
 * ./crypt.ts with node:crypto. Where WebAssembly is unavailable (`node --jitless`),
 * {@link wasmRounds} answers `undefined` and the caller runs the loop itself.
 *
 * Linear memory: round constants K at 0, the initial hash value at 1024, the working
 * hash H at 1088, the message schedule W at 1152, and from 2048 the digest C, the salt
 * S, the password P and the message being hashed. Password bytes are zeroed after use.
 */

/** The WebAssembly API this file uses (lib ES2023 does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

// ---------------------------------------------------------------- encoding helpers

type Code = number[];

function uleb(n: number): Code {
  const out: Code = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(v: bigint): Code {
  const out: Code = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];
const name = (s: string): Code => vec([...s].map((ch) => [ch.charCodeAt(0)]));

// Opcodes (WebAssembly core specification §5.4).
const I32 = 0x7f;
const I64 = 0x7e;
const BLOCK = 0x02;
const LOOP = 0x03;
const IF = 0x04;
const ELSE = 0x05;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const CALL = 0x10;
const VOID = 0x40;

const get = (i: number): Code => [0x20, i];
const set = (i: number, ...value: Code[]): Code => [...value.flat(), 0x21, i];
const tee = (i: number, ...value: Code[]): Code => [...value.flat(), 0x22, i];
const i32 = (v: number): Code => [0x41, ...sleb(BigInt(v | 0))];
const i32op = (op: number) => (a: Code, b: Code): Code => [...a, ...b, op];
const add32 = i32op(0x6a);
const sub32 = i32op(0x6b);
const and32 = i32op(0x71);
const shl32 = i32op(0x74);
const shr32 = i32op(0x76);
const remU32 = i32op(0x70);
const geU32 = i32op(0x4f);
const ltU32 = i32op(0x49);
const store8 = (addr: Code, value: Code, offset = 0): Code => [...addr, ...value, 0x3a, 0, ...uleb(offset)];
const memcopy = (dst: Code, src: Code, len: Code): Code => [...dst, ...src, ...len, 0xfc, 0x0a, 0, 0];
const memfill = (dst: Code, byte: Code, len: Code): Code => [...dst, ...byte, ...len, 0xfc, 0x0b, 0];
const loop = (...body: Code[]): Code => [LOOP, VOID, ...body.flat(), END];
const block = (...body: Code[]): Code => [BLOCK, VOID, ...body.flat(), END];
const ifElse = (cond: Code, then: Code[], otherwise: Code[] = []): Code => [
  ...cond,
  IF,
  VOID,
  ...then.flat(),
  ...(otherwise.length > 0 ? [ELSE, ...otherwise.flat()] : []),
  END,
];

// ---------------------------------------------------------------- the two hashes

/** What distinguishes SHA-256 from SHA-512 (FIPS 180-4 §4.1.2/§4.1.3, §4.2, §5.3). */
interface ShaSpec {
  /** Word size in bytes (4 or 8). */
  word: 4 | 8;
  rounds: number;
  k: readonly bigint[];
  iv: readonly bigint[];
  /** Σ0, Σ1 rotations; σ0, σ1 rotations and shift. */
  bigSigma0: readonly [number, number, number];
  bigSigma1: readonly [number, number, number];
  smallSigma0: readonly [number, number, number];
  smallSigma1: readonly [number, number, number];
}

const hex = (s: string): bigint[] => s.trim().split(/\s+/).map((x) => BigInt(`0x${x}`));

const SHA256: ShaSpec = {
  word: 4,
  rounds: 64,
  k: hex(`
    428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5 d807aa98 12835b01 243185be 550c7dc3
    72be5d74 80deb1fe 9bdc06a7 c19bf174 e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da
    983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967 27b70a85 2e1b2138 4d2c6dfc 53380d13
    650a7354 766a0abb 81c2c92e 92722c85 a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070
    19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3 748f82ee 78a5636f 84c87814 8cc70208
    90befffa a4506ceb bef9a3f7 c67178f2`),
  iv: hex('6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19'),
  bigSigma0: [2, 13, 22],
  bigSigma1: [6, 11, 25],
  smallSigma0: [7, 18, 3],
  smallSigma1: [17, 19, 10],
};

const SHA512: ShaSpec = {
  word: 8,
  rounds: 80,
  k: hex(`
    428a2f98d728ae22 7137449123ef65cd b5c0fbcfec4d3b2f e9b5dba58189dbbc 3956c25bf348b538 59f111f1b605d019
    923f82a4af194f9b ab1c5ed5da6d8118 d807aa98a3030242 12835b0145706fbe 243185be4ee4b28c 550c7dc3d5ffb4e2
    72be5d74f27b896f 80deb1fe3b1696b1 9bdc06a725c71235 c19bf174cf692694 e49b69c19ef14ad2 efbe4786384f25e3
    0fc19dc68b8cd5b5 240ca1cc77ac9c65 2de92c6f592b0275 4a7484aa6ea6e483 5cb0a9dcbd41fbd4 76f988da831153b5
    983e5152ee66dfab a831c66d2db43210 b00327c898fb213f bf597fc7beef0ee4 c6e00bf33da88fc2 d5a79147930aa725
    06ca6351e003826f 142929670a0e6e70 27b70a8546d22ffc 2e1b21385c26c926 4d2c6dfc5ac42aed 53380d139d95b3df
    650a73548baf63de 766a0abb3c77b2a8 81c2c92e47edaee6 92722c851482353b a2bfe8a14cf10364 a81a664bbc423001
    c24b8b70d0f89791 c76c51a30654be30 d192e819d6ef5218 d69906245565a910 f40e35855771202a 106aa07032bbd1b8
    19a4c116b8d2d0c8 1e376c085141ab53 2748774cdf8eeb99 34b0bcb5e19b48a8 391c0cb3c5c95a63 4ed8aa4ae3418acb
    5b9cca4f7763e373 682e6ff3d6b2b8a3 748f82ee5defb2fc 78a5636f43172f60 84c87814a1f0ab72 8cc702081a6439ec
    90befffa23631e28 a4506cebde82bde9 bef9a3f7b2c67915 c67178f2e372532b ca273eceea26619c d186b8c721c0c207
    eada7dd6cde0eb1e f57d4f7fee6ed178 06f067aa72176fba 0a637dc5a2c898a6 113f9804bef90dae 1b710b35131c471b
    28db77f523047d84 32caab7b40c72493 3c9ebe0a15c9bebc 431d67c49c100d4c 4cc5d4becb3e42b6 597f299cfc657e2a
    5fcb6fab3ad6faec 6c44198c4a475817`),
  iv: hex('6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1 510e527fade682d1 9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179'),
  bigSigma0: [28, 34, 39],
  bigSigma1: [14, 18, 41],
  smallSigma0: [1, 8, 7],
  smallSigma1: [19, 61, 6],
};

const K_AT = 0;
const IV_AT = 1024;
const H_AT = 1088;
const W_AT = 1152;
const DATA_AT = 2048;
const PAGE = 65536;

/** Word operations of one word size. */
function wordOps(word: 4 | 8) {
  const w64 = word === 8;
  const op = (code32: number, code64: number) => (a: Code, b: Code): Code => [...a, ...b, w64 ? code64 : code32];
  const constant = (v: bigint): Code => (w64 ? [0x42, ...sleb(BigInt.asIntN(64, v))] : [0x41, ...sleb(BigInt.asIntN(32, v))]);
  const align = w64 ? 3 : 2;
  const add = op(0x6a, 0x7c);
  const and = op(0x71, 0x83);
  const or = op(0x72, 0x84);
  const xor = op(0x73, 0x85);
  const shl = op(0x74, 0x86);
  const shr = op(0x76, 0x88);
  const rotl = op(0x77, 0x89);
  const rotr = op(0x78, 0x8a);
  const n = (k: number): Code => constant(BigInt(k));
  /** Big-endian bytes <-> the word (WebAssembly memory is little-endian). */
  const bswap = (x: Code, tmp: number): Code => {
    if (!w64) return [...set(tmp, x), ...or(and(rotr(get(tmp), n(8)), constant(0xff00ff00n)), and(rotl(get(tmp), n(8)), constant(0x00ff00ffn)))];
    const m8 = constant(0x00ff00ff00ff00ffn);
    const m16 = constant(0x0000ffff0000ffffn);
    return [
      ...set(tmp, x),
      ...set(tmp, or(and(shr(get(tmp), n(8)), m8), shl(and(get(tmp), m8), n(8)))),
      ...set(tmp, or(and(shr(get(tmp), n(16)), m16), shl(and(get(tmp), m16), n(16)))),
      ...rotl(get(tmp), n(32)),
    ];
  };
  return {
    type: w64 ? I64 : I32,
    load: (addr: Code, offset: number): Code => [...addr, w64 ? 0x29 : 0x28, align, ...uleb(offset)],
    store: (addr: Code, value: Code, offset: number): Code => [...addr, ...value, w64 ? 0x37 : 0x36, align, ...uleb(offset)],
    add,
    and,
    or,
    xor,
    shr,
    rotr,
    n,
    k: constant,
    bswap,
  };
}

/**
 * The module: `rounds(count, p, pLen, s, sLen, c, msg)` runs SHA-crypt's step 21 on the
 * digest at `c` (in place), password at `p`, salt at `s`, using `msg` as scratch space.
 */
function shaModule(spec: ShaSpec): Uint8Array {
  const w = wordOps(spec.word);
  const size = 8 * spec.word;
  const blockSize = 16 * spec.word;
  const R = spec.rounds;
  const [S0a, S0b, S0c] = spec.bigSigma0;
  const [S1a, S1b, S1c] = spec.bigSigma1;
  const x = (...parts: Code[]): Code => parts.reduce((acc, p) => w.xor(acc, p));
  const rot = (v: Code, k: number): Code => w.rotr(v, w.n(k));

  // compress(block): locals 0 block, 1 i (i32); 2..9 a..h, 10 t1, 11 tmp (word).
  const [blk, i] = [0, 1];
  const [a, b, c, d, e, f, g, h, t1, tmp] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const sigma = (at: number, [r1, r2, sh]: readonly [number, number, number]): Code =>
    x(rot(tee(tmp, w.load(get(i), W_AT - at * spec.word)), r1), rot(get(tmp), r2), w.shr(get(tmp), w.n(sh)));
  const compress: Code = [
    ...set(i, i32(0)),
    ...loop(w.store(get(i), w.bswap(w.load(add32(get(blk), get(i)), 0), tmp), W_AT), set(i, add32(get(i), i32(spec.word))), ltU32(get(i), i32(16 * spec.word)), [BR_IF, 0]),
    ...loop(
      w.store(get(i), w.add(w.add(sigma(2, spec.smallSigma1), w.load(get(i), W_AT - 7 * spec.word)), w.add(sigma(15, spec.smallSigma0), w.load(get(i), W_AT - 16 * spec.word))), W_AT),
      set(i, add32(get(i), i32(spec.word))),
      ltU32(get(i), i32(R * spec.word)),
      [BR_IF, 0],
    ),
    ...[a, b, c, d, e, f, g, h].flatMap((v, k) => set(v, w.load(i32(0), H_AT + k * spec.word))),
    // The rounds, unrolled, with the roles of a..h rotating instead of the values moving:
    // T1 = h + Σ1(e) + Ch(e,f,g) + K[t] + W[t] (Ch = g ^ (e & (f ^ g))); d += T1;
    // h = T1 + Σ0(a) + Maj(a,b,c) (Maj = (a & b) | (c & (a | b))); then h is the new a.
    ...spec.k.flatMap((k, t) => {
      const v = (role: number): number => [a, b, c, d, e, f, g, h][(role - t + 8 * R) % 8] as number;
      const [A, B, C, D, E, F, G, H] = [0, 1, 2, 3, 4, 5, 6, 7].map(v) as [number, number, number, number, number, number, number, number];
      return [
        ...set(t1, w.add(w.add(w.add(get(H), x(rot(get(E), S1a), rot(get(E), S1b), rot(get(E), S1c))), w.xor(get(G), w.and(get(E), w.xor(get(F), get(G))))), w.add(w.k(k), w.load(i32(0), W_AT + t * spec.word)))),
        ...set(D, w.add(get(D), get(t1))),
        ...set(H, w.add(w.add(get(t1), x(rot(get(A), S0a), rot(get(A), S0b), rot(get(A), S0c))), w.or(w.and(get(A), get(B)), w.and(get(C), w.or(get(A), get(B)))))),
      ];
    }),
    ...[a, b, c, d, e, f, g, h].flatMap((v, k) => w.store(i32(0), w.add(w.load(i32(0), H_AT + k * spec.word), get(v)), H_AT + k * spec.word)),
  ];

  // digest(msg, len, out): locals 0 msg, 1 len, 2 out, 3 total, 4 at (i32), 5 tmp (word).
  const [msg, len, out, total, at, dtmp] = [0, 1, 2, 3, 4, 5];
  const lengthField = 2 * spec.word; // 64-bit (SHA-256) or 128-bit (SHA-512) big-endian bit count
  const digest: Code = [
    ...set(total, and32(add32(get(len), i32(1 + lengthField + blockSize - 1)), i32(-blockSize))),
    ...store8(add32(get(msg), get(len)), i32(0x80)),
    ...memfill(add32(add32(get(msg), get(len)), i32(1)), i32(0), sub32(sub32(get(total), get(len)), i32(1))),
    // The bit count (len * 8 < 2^32 here) in the last four bytes, big-endian: msg[total - 1 - k] = (len << 3) >>> 8k.
    ...[0, 1, 2, 3].flatMap((k) => store8(sub32(add32(get(msg), get(total)), i32(1 + k)), shr32(shl32(get(len), i32(3)), i32(8 * k)))),
    ...memcopy(i32(H_AT), i32(IV_AT), i32(size)),
    ...set(at, get(msg)),
    ...loop(
      [...get(at), CALL, 0],
      set(at, add32(get(at), i32(blockSize))),
      ltU32(get(at), add32(get(msg), get(total))),
      [BR_IF, 0],
    ),
    ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((k) => w.store(get(out), w.bswap(w.load(i32(0), H_AT + k * spec.word), dtmp), k * spec.word)),
  ];

  // rounds(count, p, pLen, s, sLen, c, msg): locals 7 r, 8 n (i32).
  const [count, p, pLen, s, sLen, cAt, msgAt, r, nAt] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const append = (src: Code, n: Code): Code => [...memcopy(get(nAt), src, n), ...set(nAt, add32(get(nAt), n))];
  const odd = and32(get(r), i32(1));
  const rounds: Code = [
    ...set(r, i32(0)),
    ...block(
      loop(
        geU32(get(r), get(count)),
        [BR_IF, 1],
        set(nAt, get(msgAt)),
        ifElse(odd, [append(get(p), get(pLen))], [append(get(cAt), i32(size))]),
        ifElse(remU32(get(r), i32(3)), [append(get(s), get(sLen))]),
        ifElse(remU32(get(r), i32(7)), [append(get(p), get(pLen))]),
        ifElse(odd, [append(get(cAt), i32(size))], [append(get(p), get(pLen))]),
        [...get(msgAt), ...sub32(get(nAt), get(msgAt)), ...get(cAt), CALL, 1],
        set(r, add32(get(r), i32(1))),
        [BR, 0],
      ),
    ),
  ];

  const types = section(1, vec([
    [0x60, ...vec([[I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), ...vec([])],
  ]));
  const functions = section(3, vec([[0], [1], [2]]));
  const memory = section(5, vec([[0x00, 1]]));
  const exports = section(7, vec([
    [...name('memory'), 0x02, 0],
    [...name('rounds'), 0x00, 2],
  ]));
  const body = (locals: Code[], code: Code): Code => {
    const f = [...vec(locals), ...code, END];
    return [...uleb(f.length), ...f];
  };
  const codes = section(10, vec([
    body([[1, I32], [10, w.type]], compress),
    body([[2, I32], [1, w.type]], digest),
    body([[2, I32]], rounds),
  ]));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...functions, ...memory, ...exports, ...codes]);
}

// ---------------------------------------------------------------- running it

interface Runner {
  memory: WasmMemory;
  rounds: (count: number, p: number, pLen: number, s: number, sLen: number, c: number, msg: number) => void;
}

const runners = new Map<5 | 6, Runner | null>();

function instantiate(spec: ShaSpec): Runner | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  try {
    const instance = new api.Instance(new api.Module(shaModule(spec)), {});
    const memory = instance.exports['memory'] as WasmMemory;
    const view = new DataView(memory.buffer);
    const put = (at: number, words: readonly bigint[]): void => {
      words.forEach((v, k) => {
        if (spec.word === 8) view.setBigUint64(at + 8 * k, v, true);
        else view.setUint32(at + 4 * k, Number(v), true);
      });
    };
    put(K_AT, spec.k);
    put(IV_AT, spec.iv);
    return { memory, rounds: instance.exports['rounds'] as Runner['rounds'] };
  } catch {
    return null; // WebAssembly present but refused (e.g. disabled by policy): the caller loops itself
  }
}

/**
 * SHA-crypt step 21 (`rounds` rounds over digest `c`, P-sequence `p`, S-sequence `s`) in
 * WebAssembly, for `$5$` (SHA-256) or `$6$` (SHA-512). Returns the final digest, or
 * `undefined` when WebAssembly is not available.
 */
export function wasmRounds(variant: 5 | 6, c: Uint8Array, p: Uint8Array, s: Uint8Array, rounds: number): Uint8Array | undefined {
  let runner = runners.get(variant);
  if (runner === undefined) {
    runner = instantiate(variant === 5 ? SHA256 : SHA512);
    runners.set(variant, runner);
  }
  if (runner === null) return undefined;
  const spec = variant === 5 ? SHA256 : SHA512;
  const size = 8 * spec.word;
  const cAt = DATA_AT;
  const sAt = cAt + size;
  const pAt = sAt + s.length;
  const msgAt = (pAt + p.length + 7) & ~7;
  const end = msgAt + 2 * size + 2 * p.length + s.length + 2 * 16 * spec.word;
  const have = runner.memory.buffer.byteLength;
  if (end > have) runner.memory.grow(Math.ceil((end - have) / PAGE));
  const bytes = new Uint8Array(runner.memory.buffer);
  bytes.set(c.subarray(0, size), cAt);
  bytes.set(s, sAt);
  bytes.set(p, pAt);
  try {
    runner.rounds(rounds, pAt, p.length, sAt, s.length, cAt, msgAt);
    return bytes.slice(cAt, cAt + size);
  } finally {
    // What was derived from the password does not stay in memory.
    bytes.fill(0, DATA_AT, end);
  }
}
