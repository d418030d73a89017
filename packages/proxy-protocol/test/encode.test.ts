import { describe, expect, it } from 'vitest';
import {
  PP2_TYPE,
  alpnTlv,
  authorityTlv,
  crc32c,
  crc32cTlv,
  decodeProxyHeader,
  encodeV1,
  encodeV2,
  netnsTlv,
  noopTlv,
  sslTlv,
  uniqueIdTlv,
  type ProxyHeaderInit,
} from '../src/index.js';
import { ascii, hexBytes } from './feed.js';

const text = (b: Uint8Array): string => String.fromCharCode(...b);
const SIG = '0D0A0D0A000D0A515549540A';
const src4 = { address: '198.51.100.7', port: 50123 };
const dst4 = { address: '203.0.113.10', port: 21 };

describe('crc32c (RFC 4960 Appendix B / RFC 3720 B.4 check values)', () => {
  it.each([
    ['"123456789"', ascii('123456789'), 0xe3069283],
    ['32 zero bytes', new Uint8Array(32), 0x8a9136aa],
    ['32 0xFF bytes', new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ['0..31', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ['31..0', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    ['nothing', new Uint8Array(0), 0],
  ])('%s', (_, bytes, expected) => expect(crc32c(bytes)).toBe(expected));
});

describe('encodeV1', () => {
  it('writes the spec example line', () => {
    expect(text(encodeV1({ family: 'tcp4', source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 } }))).toBe(
      'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n',
    );
  });
  it('writes IPv6 canonically (RFC 5952) and UNKNOWN', () => {
    expect(text(encodeV1({ family: 'tcp6', source: { address: '2001:DB8:0:0:0:0:0:1', port: 1 }, destination: { address: '::ffff:203.0.113.10', port: 21 } }))).toBe(
      'PROXY TCP6 2001:db8::1 ::ffff:203.0.113.10 1 21\r\n',
    );
    expect(text(encodeV1({ family: 'unknown' }))).toBe('PROXY UNKNOWN\r\n');
  });
  it.each<[string, ProxyHeaderInit]>([
    ['LOCAL', { command: 'LOCAL', family: 'unknown' }],
    ['unix', { family: 'unix', source: { address: '/a', port: 0 }, destination: { address: '/b', port: 0 } }],
    ['UDP', { family: 'tcp4', transport: 'dgram', source: src4, destination: dst4 }],
    ['TLVs', { family: 'tcp4', source: src4, destination: dst4, tlvs: [alpnTlv('ftp')] }],
    ['no source', { family: 'tcp4', destination: dst4 }],
    ['IPv6 address in tcp4', { family: 'tcp4', source: { address: '::1', port: 1 }, destination: dst4 }],
    ['IPv4 address in tcp6', { family: 'tcp6', source: src4, destination: { address: '::1', port: 1 } }],
    ['a host name', { family: 'tcp4', source: { address: 'example.com', port: 1 }, destination: dst4 }],
    ['port 65536', { family: 'tcp4', source: { ...src4, port: 65536 }, destination: dst4 }],
    ['port 1.5', { family: 'tcp4', source: { ...src4, port: 1.5 }, destination: dst4 }],
  ])('refuses %s with ERR_PROXY_ENCODE_INVALID', (_, header) => {
    expect(() => encodeV1(header)).toThrow(expect.objectContaining({ code: 'ERR_PROXY_ENCODE_INVALID' }));
  });
});

describe('encodeV2', () => {
  it('writes TCP over IPv4 exactly as §2.2 lays it out', () => {
    expect(encodeV2({ family: 'tcp4', source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 } })).toEqual(
      hexBytes(SIG, '21 11 000C', 'C0A80001 C0A8000B DC04 01BB'),
    );
  });
  it('writes LOCAL with no address, and UDP over IPv6', () => {
    expect(encodeV2({ command: 'LOCAL', family: 'unknown' })).toEqual(hexBytes(SIG, '20 00 0000'));
    expect(encodeV2({ family: 'tcp6', transport: 'dgram', source: { address: '2001:db8::1', port: 1024 }, destination: { address: '2001:db8::2', port: 53 } })).toEqual(
      hexBytes(SIG, '21 22 0024', '20010DB8000000000000000000000001', '20010DB8000000000000000000000002', '0400 0035'),
    );
  });
  it('writes UNIX paths NUL-padded to 108 bytes', () => {
    const b = encodeV2({ family: 'unix', source: { address: '/run/a', port: 0 }, destination: { address: '\0abstract', port: 0 } });
    expect(b.length).toBe(16 + 216);
    expect(b.subarray(12, 16)).toEqual(hexBytes('21 31 00D8'));
    expect(text(b.subarray(16, 22))).toBe('/run/a');
    expect(b.subarray(22, 124).every((x) => x === 0)).toBe(true);
    expect(b[124]).toBe(0);
    expect(text(b.subarray(125, 133))).toBe('abstract');
  });
  it('writes TLVs in order and seals a CRC32C that the decoder verifies', () => {
    const b = encodeV2({ family: 'tcp4', source: src4, destination: dst4, tlvs: [alpnTlv('ftp'), authorityTlv('ftp.example.com')] }, { crc32c: true });
    expect(b.subarray(28, 34)).toEqual(hexBytes('01 0003', ascii('ftp')));
    expect(b.subarray(b.length - 7, b.length - 4)).toEqual(hexBytes('03 0004'));
    const zeroed = b.slice();
    zeroed.fill(0, b.length - 4);
    const crc = crc32c(zeroed);
    expect(b.subarray(b.length - 4)).toEqual(Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff));
    const r = decodeProxyHeader(b);
    expect(r).toMatchObject({ state: 'done', header: { alpn: 'ftp', authority: 'ftp.example.com', crc32c: crc } });
  });
  it('fills in a CRC32C TLV placed anywhere, once', () => {
    const b = encodeV2({ family: 'unknown', tlvs: [crc32cTlv(), noopTlv(5)] }, { crc32c: true });
    expect(b.length).toBe(16 + 7 + 8);
    expect(decodeProxyHeader(b)).toMatchObject({ state: 'done', header: { crc32c: expect.any(Number) } });
  });
  it('builds the SSL TLV of §2.2.6', () => {
    const t = sslTlv({ client: 0x05, verify: 0x01020304, version: 'TLSv1.2', cn: 'c' });
    expect(t).toEqual({ type: PP2_TYPE.SSL, value: hexBytes('05 01020304', '21 0007', ascii('TLSv1.2'), '22 0001', ascii('c')) });
    const r = decodeProxyHeader(encodeV2({ family: 'unknown', tlvs: [t, uniqueIdTlv('id-1'), netnsTlv('ns')] }));
    expect(r).toMatchObject({
      state: 'done',
      header: { ssl: { client: 5, tls: true, certConnection: false, certSession: true, verify: 0x01020304, certificateVerified: false, version: 'TLSv1.2', cn: 'c' }, uniqueId: ascii('id-1'), netns: 'ns' },
    });
  });
  it.each<[string, () => unknown]>([
    ['a missing destination', () => encodeV2({ family: 'tcp6', source: { address: '::1', port: 1 } })],
    ['a unix path over 108 bytes', () => encodeV2({ family: 'unix', source: { address: `/${'a'.repeat(108)}`, port: 0 }, destination: { address: '/b', port: 0 } })],
    ['a header over 65535 bytes', () => encodeV2({ family: 'unknown', tlvs: [noopTlv(65533)] })],
    ['a TLV value over 65535 bytes', () => encodeV2({ family: 'unknown', tlvs: [noopTlv(65536)] })],
    ['a TLV type over 255', () => encodeV2({ family: 'unknown', tlvs: [{ type: 256, value: new Uint8Array(0) }] })],
    ['a CRC32C TLV of 3 bytes', () => encodeV2({ family: 'unknown', tlvs: [{ type: PP2_TYPE.CRC32C, value: new Uint8Array(3) }] })],
    ['a unique ID over 128 bytes', () => uniqueIdTlv(new Uint8Array(129))],
    ['SSL client bits over 255', () => sslTlv({ client: 256 })],
    ['an unknown family', () => encodeV2({ family: 'ipx' as never })],
  ])('refuses %s with ERR_PROXY_ENCODE_INVALID', (_, f) => {
    expect(f).toThrow(expect.objectContaining({ code: 'ERR_PROXY_ENCODE_INVALID' }));
  });
  it('the largest header the format allows decodes', () => {
    const b = encodeV2({ family: 'unknown', tlvs: [noopTlv(65532)] });
    expect(b.length).toBe(65551);
    expect(decodeProxyHeader(b)).toMatchObject({ state: 'done', header: { byteLength: 65551 } });
  });
});

describe('decoder options', () => {
  it.each([{ versions: [] }, { versions: [3] }, { maxHeaderBytes: 15 }, { maxHeaderBytes: 65552 }, { maxHeaderBytes: 1.5 }])('refuses %o', (opts) => {
    expect(() => decodeProxyHeader(new Uint8Array(0), opts as never)).toThrow(expect.objectContaining({ code: 'ERR_PROXY_OPTION_INVALID' }));
  });
  it('push after done is caller misuse', async () => {
    const { ProxyHeaderDecoder } = await import('../src/index.js');
    const d = new ProxyHeaderDecoder();
    expect(d.push(ascii('PROXY UNKNOWN\r\nUSER'))).toMatchObject({ state: 'done', rest: ascii('USER') });
    expect(() => d.push(ascii('x'))).toThrow(expect.objectContaining({ code: 'ERR_PROXY_DECODER_DONE' }));
    expect(d.end()).toMatchObject({ state: 'done', rest: new Uint8Array(0) });
  });
});
