/**
 * Input generators for the fuzzers: raw bytes weighted towards the bytes that matter to FTP
 * framing, token streams built from real protocol pieces, mutations of real sessions, and
 * random chunkings of a byte string.
 */
import fc from 'fast-check';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes with special meaning on an FTP control connection (RFC 854 Telnet, RFC 959 framing). */
export const SPECIAL_BYTES: readonly number[] = [0, 10, 13, 255, 254, 253, 252, 251, 250, 240, 244, 242, 241, 246, 32, 0x22, 0x2d, 0x30, 0x32];

export const anyByte: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_BYTES) },
  { weight: 4, arbitrary: fc.integer({ min: 0x41, max: 0x5a }) },
);

export const rawBytes = (maxLength: number): fc.Arbitrary<Uint8Array> => fc.array(anyByte, { maxLength }).map((a) => Uint8Array.from(a));

/** Commands a real client sends, some valid, some hostile (from the reference transcripts). */
export const COMMAND_LINES: readonly string[] = [
  'USER anonymous', 'PASS guest@', 'USER alice', 'PASS secret', 'SYST', 'FEAT', 'PWD', 'XPWD', 'CWD /pub', 'CDUP', 'TYPE I', 'TYPE A', 'TYPE L 8',
  'TYPE E', 'MODE S', 'MODE Z', 'STRU F', 'PASV', 'EPSV', 'EPSV 1', 'EPSV 2', 'EPSV 3', 'EPSV ALL', 'EPSV foo', 'PORT 127,0,0,1,234,96',
  'PORT 1,2,3,4,234,96', 'PORT 127,0,0,1,0,21', 'PORT 1,2,3', 'PORT 100,200,300,400,1,2', 'EPRT |1|127.0.0.1|60123|', 'EPRT |2|::1|60123|',
  'EPRT |3|127.0.0.1|60123|', 'EPRT ,1,127.0.0.1,60123,', 'EPRT |1|300.1.1.1|60123|', 'REST 100', 'REST -1', 'REST 99999999999999999999',
  'RETR hello.txt', 'STOR up.bin', 'APPE log', 'STOU', 'LIST', 'LIST -la', 'NLST', 'MLSD', 'MLST hello.txt', 'SIZE hello.txt', 'MDTM x',
  'MFMT 20260101000000 x', 'DELE x', 'RNFR a', 'RNTO b', 'MKD d', 'RMD d', 'SITE CHMOD 777 x', 'OPTS UTF8 ON', 'OPTS MLST type;size;',
  'HOST 127.0.0.1', 'HOST [::1]', 'STAT', 'NOOP', 'HELP', 'HELP RETR', 'ALLO 100', 'ABOR', 'QUIT', 'REIN', 'ACCT x', 'CLNT x', '',
  'RETR ../../../etc/passwd', 'CWD ..\\..\\', 'STOR /tmp/x', 'RNTO ../../escape', 'LIST *', 'xyzzy', 'retr a"b', 'STOR é日🐱',
];

const telnet: fc.Arbitrary<readonly number[]> = fc.oneof<fc.Arbitrary<readonly number[]>[]>(
  fc.constant([255, 244]), // IAC IP
  fc.constant([255, 242]), // IAC DM
  fc.constant([255, 244, 242]), // IAC IP DM (urgent IAC lost)
  fc.constant([255, 255]), // IAC IAC
  fc.tuple(fc.constantFrom(251, 252, 253, 254), fc.integer({ min: 0, max: 255 })).map(([v, o]) => [255, v, o]),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }).map((b) => [255, 250, ...b, 255, 240]), // SB … SE
  fc.constant([255, 250, 1, 2, 3]), // SB never closed
  fc.integer({ min: 240, max: 255 }).map((c) => [255, c]),
);

/** Pieces of a control stream: commands, line ends, Telnet, invalid UTF-8, long runs. */
export const token: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...COMMAND_LINES).map((l) => utf8(`${l}\r\n`)) },
  { weight: 2, arbitrary: fc.constantFrom(...COMMAND_LINES).map((l) => utf8(l)) },
  { weight: 3, arbitrary: fc.constantFrom('\r\n', '\n', '\r', '\0', '\r\0', ' ', 'ABOR\r', 'ABOR\r\n', 'abor\r').map(utf8) },
  { weight: 2, arbitrary: telnet.map((a) => Uint8Array.from(a)) },
  { weight: 1, arbitrary: fc.constantFrom([0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe6, 0x97], [0xc0, 0xaf], [0xfe, 0xff], [0xef, 0xbb, 0xbf]).map((a) => Uint8Array.from(a)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom(0x41, 0xe6)).map(([n, b]) => new Uint8Array(n).fill(b)) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map(utf8) },
  { weight: 2, arbitrary: rawBytes(16) },
);

export const tokenStream = (maxTokens: number): fc.Arbitrary<Uint8Array> => fc.array(token, { maxLength: maxTokens }).map(concat);

type Mutation = (b: Uint8Array) => Uint8Array;

const mutation: fc.Arbitrary<[number, number, Uint8Array]> = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.nat(), fc.oneof(token, rawBytes(4)));

function applyMutation(input: Uint8Array, [op, at, extra]: [number, number, Uint8Array]): Uint8Array {
  const n = input.length;
  const i = n === 0 ? 0 : at % (n + 1);
  const j = Math.min(n, i + 1 + (at % 17));
  const ops: Mutation[] = [
    (b) => { const c = b.slice(); if (i < n) c[i] = (c[i] as number) ^ (1 << (at % 8)); return c; }, // flip a bit
    (b) => concat([b.subarray(0, i), extra, b.subarray(i)]), // insert
    (b) => concat([b.subarray(0, i), b.subarray(j)]), // delete a range
    (b) => concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]), // duplicate a range
    (b) => b.subarray(0, i), // truncate
    (b) => { const c = b.slice(); if (i < n) c[i] = extra[0] ?? 255; return c; }, // overwrite a byte
    (b) => concat([b.subarray(0, i), extra, b.subarray(j)]), // replace a range
  ];
  return (ops[op] as Mutation)(input);
}

/** A real session (several commands) with up to `maxMutations` byte-level mutations. */
export const mutatedSession = (maxMutations: number): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.array(fc.constantFrom(...COMMAND_LINES), { minLength: 1, maxLength: 12 }), fc.constantFrom('\r\n', '\n'), fc.array(mutation, { maxLength: maxMutations }))
    .map(([lines, eol, muts]) => muts.reduce(applyMutation, utf8(lines.map((l) => l + eol).join(''))));

/** Any mix of the generators above. */
export const hostileStream = (size: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(rawBytes(size * 8), tokenStream(size), mutatedSession(Math.max(1, size >> 2)));

/** Cut points for `input`: a list of chunk sizes that covers it. */
export const chunking: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 64 });

/** Splits `input` into chunks of the given sizes (cycled), always covering every byte. */
export function split(input: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  if (sizes.length === 0) return [input];
  const out: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; at < input.length; k++) {
    const n = sizes[k % sizes.length] as number;
    out.push(input.subarray(at, at + n));
    at += n;
  }
  return out;
}
