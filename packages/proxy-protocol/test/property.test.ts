import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  V1_MAX_LINE,
  alpnTlv,
  authorityTlv,
  crc32cTlv,
  decodeProxyHeader,
  encodeV1,
  encodeV2,
  netnsTlv,
  noopTlv,
  parseIPv4,
  parseIPv6,
  sslTlv,
  trusted,
  uniqueIdTlv,
  type DecodeResult,
  type ProxyHeaderInit,
  type Tlv,
} from '../src/index.js';
import { concat, cutAt, feed, hexBytes } from './feed.js';

const V2SIG = hexBytes('0D0A0D0A000D0A515549540A');
const V1SIG = Uint8Array.from('PROXY ', (c) => c.charCodeAt(0));

/** Feeds `input` cut at `cuts`; on `done`, `rest` is joined to the chunks never fed. */
function run(input: Uint8Array, cuts: number[]): DecodeResult {
  const { result, after } = feed(cutAt(input, cuts), { maxHeaderBytes: 4096 });
  return result.state === 'done' ? { ...result, rest: after } : result;
}

const normalize = (r: DecodeResult): unknown => (r.state === 'error' ? { state: 'error', code: r.error.code } : r);

// Inputs that reach deep into the parsers: random bytes, bytes after either signature, and
// valid headers with a few bytes overwritten.
const port = fc.integer({ min: 0, max: 65535 });
const ep4 = fc.record({ address: fc.ipV4(), port });
const ep6 = fc.record({ address: fc.ipV6(), port });
const epUnix = fc.record({ address: fc.oneof(fc.stringMatching(/^\/[a-z0-9/._-]{0,100}$/), fc.stringMatching(/^\x00[a-z0-9]{1,50}$/)), port: fc.constant(0) });
const tlv: fc.Arbitrary<Tlv> = fc.oneof(
  fc.string({ maxLength: 20 }).map(alpnTlv),
  fc.domain().map(authorityTlv),
  fc.uint8Array({ maxLength: 128 }).map(uniqueIdTlv),
  fc.stringMatching(/^[a-z0-9-]{0,16}$/).map(netnsTlv),
  fc.nat(8).map(noopTlv),
  fc.record({ client: fc.nat(7), verify: fc.nat(), version: fc.constantFrom('TLSv1.2', 'TLSv1.3'), cn: fc.domain(), cipher: fc.constantFrom('TLS_AES_128_GCM_SHA256') }, { requiredKeys: ['client', 'verify'] }).map((s) => sslTlv(s)),
  fc.record({ type: fc.integer({ min: 0xe0, max: 0xf7 }), value: fc.uint8Array({ maxLength: 16 }) }),
);
const transport = fc.constantFrom('stream' as const, 'dgram' as const);
const v2Header: fc.Arbitrary<ProxyHeaderInit> = fc.oneof(
  fc.record({ family: fc.constant('tcp4' as const), transport, source: ep4, destination: ep4, tlvs: fc.array(tlv, { maxLength: 5 }) }),
  fc.record({ family: fc.constant('tcp6' as const), transport, source: ep6, destination: ep6, tlvs: fc.array(tlv, { maxLength: 5 }) }),
  fc.record({ family: fc.constant('unix' as const), transport, source: epUnix, destination: epUnix, tlvs: fc.array(tlv, { maxLength: 3 }) }),
  fc.record({ family: fc.constant('unknown' as const), command: fc.constantFrom('PROXY' as const, 'LOCAL' as const), tlvs: fc.array(tlv, { maxLength: 3 }) }),
);
const v1Header: fc.Arbitrary<ProxyHeaderInit> = fc.oneof(
  fc.record({ family: fc.constant('tcp4' as const), source: ep4, destination: ep4 }),
  fc.record({ family: fc.constant('tcp6' as const), source: ep6, destination: ep6 }),
  fc.constant({ family: 'unknown' as const }),
);
const validHeader = fc.oneof(v1Header.map(encodeV1), fc.tuple(v2Header, fc.boolean()).map(([h, crc]) => encodeV2(h, { crc32c: crc })));
const mutated = fc
  .tuple(validHeader, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }))
  .map(([bytes, edits]) => {
    const b = bytes.slice();
    for (const [at, v] of edits) b[at % b.length] = v;
    return b;
  });
const input = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((b) => concat(V2SIG, b)),
  fc.uint8Array({ maxLength: 300 }).map((b) => concat(V1SIG, b)),
  fc.string({ maxLength: 120 }).map((s) => concat(V1SIG, Uint8Array.from(`${s}\r\n`, (c) => c.charCodeAt(0) & 0xff))),
  mutated,
);

describe('properties', () => {
  it('never throws on peer input, and every chunking gives the same outcome', () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const whole = run(bytes, []);
        expect(normalize(run(bytes, cuts))).toEqual(normalize(whole));
        if (whole.state === 'done') expect(whole.header.byteLength + whole.rest.length).toBe(bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('v2: decode(encode(h)) gives h back, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(v2Header, fc.boolean(), fc.uint8Array({ maxLength: 8 }), (h, crc, after) => {
        const bytes = encodeV2(h, { crc32c: crc });
        const r = decodeProxyHeader(concat(bytes, after));
        if (r.state !== 'done') throw new Error(`${r.state}: ${r.state === 'error' ? r.error.message : ''}`);
        expect(r.rest).toEqual(after);
        const d = r.header;
        expect(d.byteLength).toBe(bytes.length);
        expect(d.command).toBe(h.command ?? 'PROXY');
        expect(d.family).toBe(h.family);
        if (h.family === 'tcp4' || h.family === 'tcp6') {
          const parse = h.family === 'tcp4' ? parseIPv4 : parseIPv6;
          expect(parse(d.source!.address)).toEqual(parse(h.source!.address));
          expect(parse(d.destination!.address)).toEqual(parse(h.destination!.address));
          expect([d.source!.port, d.destination!.port]).toEqual([h.source!.port, h.destination!.port]);
          expect(d.transport).toBe(h.transport);
        }
        if (h.family === 'unix') expect([d.source, d.destination]).toEqual([h.source, h.destination]);
        expect(d.tlvs.filter((t) => t.type !== 3)).toEqual(h.tlvs);
        expect(d.crc32c !== undefined).toBe(crc);
        const first = (type: number) => h.tlvs!.find((t) => t.type === type);
        if (first(0x02)) expect(d.authority).toBe(new TextDecoder().decode(first(0x02)!.value));
        if (first(0x05)) expect(d.uniqueId).toEqual(first(0x05)!.value);
        if (first(0x20)) expect(d.ssl?.client).toBe(first(0x20)!.value[0]);
        expect(encodeV2(d)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('v1: decode(encode(h)) gives h back within 107 bytes', () => {
    fc.assert(
      fc.property(v1Header, (h) => {
        const bytes = encodeV1(h);
        expect(bytes.length).toBeLessThanOrEqual(V1_MAX_LINE);
        const r = decodeProxyHeader(bytes);
        if (r.state !== 'done') throw new Error(`${r.state}: ${r.state === 'error' ? r.error.message : ''}`);
        expect(r.header.family).toBe(h.family);
        if (h.family !== 'unknown') {
          const parse = h.family === 'tcp4' ? parseIPv4 : parseIPv6;
          expect(parse(r.header.source!.address)).toEqual(parse(h.source!.address));
          expect(parse(r.header.destination!.address)).toEqual(parse(h.destination!.address));
          expect(r.header.source!.port).toBe(h.source!.port);
        }
        expect(encodeV1(r.header)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('a CRC32C-sealed header with any one byte changed never passes as verified', () => {
    // CRC32C catches every error burst up to 32 bits; the one way through is a change that
    // hides the checksum TLV itself (a length byte swallowing it), and then nothing claims it was verified.
    fc.assert(
      fc.property(v2Header, fc.nat(), fc.integer({ min: 1, max: 255 }), (h, at, flip) => {
        const b = encodeV2(h, { crc32c: true });
        b[at % b.length]! ^= flip;
        const r = run(b, []);
        expect(r.state === 'done' && r.header.crc32c !== undefined).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('trusted: an IPv4 address is in a.b.c.d/n exactly when the first n bits agree, mapped or not', () => {
    const toInt = (a: string) => a.split('.').reduce((n, x) => n * 256 + Number(x), 0);
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, bits) => {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = ((toInt(addr) & mask) >>> 0) === ((toInt(net) & mask) >>> 0);
        expect(trusted(addr, [`${net}/${bits}`])).toBe(expected);
        expect(trusted(`::ffff:${addr}`, [`${net}/${bits}`])).toBe(expected);
        expect(trusted(addr, [`::ffff:${net}/${bits + 96}`])).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
