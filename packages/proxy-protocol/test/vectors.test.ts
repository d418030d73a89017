import { describe, expect, it } from 'vitest';
import { ProxyHeaderDecoder, V2_SIGNATURE, crc32c, type ProxyHeader, type ProxyHeaderDecoderOptions } from '../src/index.js';
import { ascii, concat, feed, hexBytes, splittings } from './feed.js';

// Vectors are written byte by byte from proxy-protocol.txt §2.1/§2.2, not produced by the encoders.
const SIG = '0D0A0D0A000D0A515549540A';
const FTP = ascii('USER anonymous\r\n');

function sunPath(path: string): Uint8Array {
  const out = new Uint8Array(108);
  out.set(new TextEncoder().encode(path));
  return out;
}

/** A v2 header with a CRC32C TLV last, filled in as §2.2.3 says (computed with the field zeroed). */
function withCrc(before: Uint8Array): Uint8Array {
  const len = ((before[14]! << 8) | before[15]!) + 7;
  const out = concat(before, hexBytes('03 0004 00000000'));
  out[14] = len >> 8;
  out[15] = len & 0xff;
  const crc = crc32c(out);
  out.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], out.length - 4);
  return out;
}

interface Vector {
  name: string;
  input: Uint8Array;
  header: Omit<ProxyHeader, 'byteLength'>;
  options?: ProxyHeaderDecoderOptions;
}

const tcp4 = (src: string, sport: number, dst: string, dport: number) => ({ family: 'tcp4' as const, transport: 'stream' as const, source: { address: src, port: sport }, destination: { address: dst, port: dport } });

const vectors: Vector[] = [
  // §2.1 example line.
  { name: 'v1 spec example', input: ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'), header: { version: 1, command: 'PROXY', ...tcp4('192.168.0.1', 56324, '192.168.0.11', 443), tlvs: [] } },
  // §2.1 longest lines a receiver must support.
  { name: 'v1 TCP4 maximum (56 bytes)', input: ascii('PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n'), header: { version: 1, command: 'PROXY', ...tcp4('255.255.255.255', 65535, '255.255.255.255', 65535), tlvs: [] } },
  {
    name: 'v1 TCP6 maximum (104 bytes)',
    input: ascii(`PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`),
    header: { version: 1, command: 'PROXY', family: 'tcp6', transport: 'stream', source: { address: `${'ffff:'.repeat(7)}ffff`, port: 65535 }, destination: { address: `${'ffff:'.repeat(7)}ffff`, port: 65535 }, tlvs: [] },
  },
  { name: 'v1 UNKNOWN short form (15 bytes)', input: ascii('PROXY UNKNOWN\r\n'), header: { version: 1, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [] } },
  {
    name: 'v1 UNKNOWN worst case (107 bytes): the rest of the line is ignored',
    input: ascii(`PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`),
    header: { version: 1, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [] },
  },
  { name: 'v1 UNKNOWN with junk', input: ascii('PROXY UNKNOWN \x01\xff whatever\r\n'), header: { version: 1, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [] } },
  {
    name: 'v1 TCP6, upper case and uncompressed text comes out canonical',
    input: ascii('PROXY TCP6 2001:DB8:0:0:0:0:0:1 2001:db8::2 0 21\r\n'),
    header: { version: 1, command: 'PROXY', family: 'tcp6', transport: 'stream', source: { address: '2001:db8::1', port: 0 }, destination: { address: '2001:db8::2', port: 21 }, tlvs: [] },
  },
  {
    name: 'v1 TCP6 IPv4-mapped, as inet_ntop writes it',
    input: ascii('PROXY TCP6 ::ffff:198.51.100.7 ::ffff:203.0.113.10 50123 21\r\n'),
    header: { version: 1, command: 'PROXY', family: 'tcp6', transport: 'stream', source: { address: '::ffff:198.51.100.7', port: 50123 }, destination: { address: '::ffff:203.0.113.10', port: 21 }, tlvs: [] },
  },
  { name: 'v1 ports 0', input: ascii('PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n'), header: { version: 1, command: 'PROXY', ...tcp4('0.0.0.0', 0, '0.0.0.0', 0), tlvs: [] } },
  {
    name: 'v2 TCP over IPv4 (the spec example addresses)',
    input: hexBytes(SIG, '21 11 000C', 'C0A80001 C0A8000B DC04 01BB'),
    header: { version: 2, command: 'PROXY', ...tcp4('192.168.0.1', 56324, '192.168.0.11', 443), tlvs: [] },
  },
  {
    name: 'v2 UDP over IPv4',
    input: hexBytes(SIG, '21 12 000C', 'C6336407 CB00710A C3CB 0035'),
    header: { version: 2, command: 'PROXY', family: 'tcp4', transport: 'dgram', source: { address: '198.51.100.7', port: 50123 }, destination: { address: '203.0.113.10', port: 53 }, tlvs: [] },
  },
  {
    name: 'v2 TCP over IPv6',
    input: hexBytes(SIG, '21 21 0024', '20010DB8000000000000000000000001', '20010DB8000000000000000000000002', '0400 0015'),
    header: { version: 2, command: 'PROXY', family: 'tcp6', transport: 'stream', source: { address: '2001:db8::1', port: 1024 }, destination: { address: '2001:db8::2', port: 21 }, tlvs: [] },
  },
  {
    name: 'v2 TCP over IPv6, IPv4-mapped',
    input: hexBytes(SIG, '21 21 0024', '00000000000000000000FFFFC6336407', '00000000000000000000FFFFCB00710A', 'C3CB 0015'),
    header: { version: 2, command: 'PROXY', family: 'tcp6', transport: 'stream', source: { address: '::ffff:198.51.100.7', port: 50123 }, destination: { address: '::ffff:203.0.113.10', port: 21 }, tlvs: [] },
  },
  {
    name: 'v2 UNIX stream',
    input: concat(hexBytes(SIG, '21 31 00D8'), sunPath('/run/client.sock'), sunPath('/run/ftp.sock')),
    header: { version: 2, command: 'PROXY', family: 'unix', transport: 'stream', source: { address: '/run/client.sock', port: 0 }, destination: { address: '/run/ftp.sock', port: 0 }, tlvs: [] },
  },
  {
    name: 'v2 UNIX datagram, abstract names',
    input: concat(hexBytes(SIG, '21 32 00D8'), sunPath('\0client'), sunPath('')),
    header: { version: 2, command: 'PROXY', family: 'unix', transport: 'dgram', source: { address: '\0client', port: 0 }, destination: { address: '', port: 0 }, tlvs: [] },
  },
  { name: 'v2 LOCAL (health check)', input: hexBytes(SIG, '20 00 0000'), header: { version: 2, command: 'LOCAL', family: 'unknown', transport: 'unspec', tlvs: [] } },
  {
    name: 'v2 LOCAL with an address block: ignored (§2.2 "must not assume zero")',
    input: hexBytes(SIG, '20 11 000C', 'C0A80001 C0A8000B DC04 01BB'),
    header: { version: 2, command: 'LOCAL', family: 'unknown', transport: 'unspec', tlvs: [] },
  },
  { name: 'v2 LOCAL with an undefined family: ignored', input: hexBytes(SIG, '20 FF 0003 AABBCC'), header: { version: 2, command: 'LOCAL', family: 'unknown', transport: 'unspec', tlvs: [] } },
  {
    name: 'v2 LOCAL with a NOOP TLV',
    input: hexBytes(SIG, '20 00 0005', '04 0002 0000'),
    header: { version: 2, command: 'LOCAL', family: 'unknown', transport: 'unspec', tlvs: [{ type: 4, value: hexBytes('0000') }] },
  },
  { name: 'v2 PROXY UNSPEC', input: hexBytes(SIG, '21 00 0000'), header: { version: 2, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [] } },
  {
    name: 'v2 PROXY INET with UNSPEC transport: addresses skipped, TLVs after them',
    input: hexBytes(SIG, '21 10 0012', 'C0A80001 C0A8000B DC04 01BB', '01 0003 667470'),
    header: { version: 2, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [{ type: 1, value: ascii('ftp') }], alpn: 'ftp' },
  },
  {
    name: 'v2 TCP4 with ALPN, AUTHORITY, NOOP, UNIQUE_ID, NETNS and a custom TLV',
    input: hexBytes(
      SIG, '21 11 0046', 'C6336407 CB00710A C3CB 0015',
      '01 0003', ascii('ftp'),
      '02 000F', ascii('ftp.example.com'),
      '04 0000',
      '05 0008 0102030405060708',
      '30 0004', ascii('blue'),
      'E0 0002 BEEF',
      '02 0005', ascii('other'),
    ),
    header: {
      version: 2, command: 'PROXY', ...tcp4('198.51.100.7', 50123, '203.0.113.10', 21),
      tlvs: [
        { type: 0x01, value: ascii('ftp') },
        { type: 0x02, value: ascii('ftp.example.com') },
        { type: 0x04, value: new Uint8Array(0) },
        { type: 0x05, value: hexBytes('0102030405060708') },
        { type: 0x30, value: ascii('blue') },
        { type: 0xe0, value: hexBytes('BEEF') },
        { type: 0x02, value: ascii('other') },
      ],
      alpn: 'ftp', authority: 'ftp.example.com', uniqueId: hexBytes('0102030405060708'), netns: 'blue',
    },
  },
  {
    name: 'v2 TCP4 with an SSL TLV (client cert verified, version, CN, cipher, sig/key alg, unnamed sub-TLV)',
    input: hexBytes(
      SIG, '21 11 005B', 'C6336407 CB00710A C3CB 0015',
      '20 004C', '07 00000000',
      '21 0007', ascii('TLSv1.3'),
      '22 000B', ascii('client.test'),
      '23 0016', ascii('TLS_AES_128_GCM_SHA256'),
      '24 0006', ascii('RSA256'),
      '25 0007', ascii('RSA2048'),
      '26 0000',
    ),
    header: {
      version: 2, command: 'PROXY', ...tcp4('198.51.100.7', 50123, '203.0.113.10', 21),
      tlvs: [{ type: 0x20, value: expect.any(Uint8Array) as Uint8Array }],
      ssl: {
        client: 7, tls: true, certConnection: true, certSession: true, verify: 0, certificateVerified: true,
        version: 'TLSv1.3', cn: 'client.test', cipher: 'TLS_AES_128_GCM_SHA256', sigAlg: 'RSA256', keyAlg: 'RSA2048',
        tlvs: [
          { type: 0x21, value: ascii('TLSv1.3') }, { type: 0x22, value: ascii('client.test') }, { type: 0x23, value: ascii('TLS_AES_128_GCM_SHA256') },
          { type: 0x24, value: ascii('RSA256') }, { type: 0x25, value: ascii('RSA2048') }, { type: 0x26, value: new Uint8Array(0) },
        ],
      },
    },
  },
  {
    name: 'v2 SSL TLV without a certificate: verify 0 is not a verified certificate',
    input: hexBytes(SIG, '21 00 0008', '20 0005 01 00000000'),
    header: { version: 2, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [{ type: 0x20, value: hexBytes('01 00000000') }], ssl: { client: 1, tls: true, certConnection: false, certSession: false, verify: 0, certificateVerified: false, tlvs: [] } },
  },
  {
    name: 'v2 TCP4 with a CRC32C TLV that matches',
    input: withCrc(hexBytes(SIG, '21 11 0012', 'C6336407 CB00710A C3CB 0015', '01 0003', ascii('ftp'))),
    header: { version: 2, command: 'PROXY', ...tcp4('198.51.100.7', 50123, '203.0.113.10', 21), tlvs: [{ type: 1, value: ascii('ftp') }, { type: 3, value: expect.any(Uint8Array) as Uint8Array }], alpn: 'ftp', crc32c: expect.any(Number) as number },
  },
  {
    name: 'v2 LOCAL with a CRC32C TLV that matches',
    input: withCrc(hexBytes(SIG, '20 00 0000')),
    header: { version: 2, command: 'LOCAL', family: 'unknown', transport: 'unspec', tlvs: [{ type: 3, value: expect.any(Uint8Array) as Uint8Array }], crc32c: expect.any(Number) as number },
  },
  {
    name: 'v2 as HAProxy 2.6 sends it (send-proxy-v2, proxy-v2-options crc32c,unique-id), captured',
    input: hexBytes(
      '0d0a0d0a000d0a515549540a2111003f7f0000017f000001e2d6985903000490f8c91e05002937463030303030313a453244365f37463030303030313a393835395f36423035344135325f30303030',
    ),
    header: {
      version: 2, command: 'PROXY', ...tcp4('127.0.0.1', 58070, '127.0.0.1', 39001),
      tlvs: [{ type: 3, value: hexBytes('90f8c91e') }, { type: 5, value: ascii('7F000001:E2D6_7F000001:9859_6B054A52_0000') }],
      crc32c: 0x90f8c91e, uniqueId: ascii('7F000001:E2D6_7F000001:9859_6B054A52_0000'),
    },
  },
  {
    name: 'v2 accepted when only v2 is allowed',
    input: hexBytes(SIG, '21 00 0000'),
    header: { version: 2, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [] },
    options: { versions: [2] },
  },
  {
    name: 'v2 exactly at maxHeaderBytes',
    input: hexBytes(SIG, '21 11 000C', 'C0A80001 C0A8000B DC04 01BB'),
    header: { version: 2, command: 'PROXY', ...tcp4('192.168.0.1', 56324, '192.168.0.11', 443), tlvs: [] },
    options: { maxHeaderBytes: 28 },
  },
];

describe('header vectors, each whole, byte by byte and split at every point, followed by FTP bytes', () => {
  for (const v of vectors) {
    it(v.name, () => {
      expect(v.input.subarray(0, 12)).toEqual(v.input[0] === 0x0d ? V2_SIGNATURE : v.input.subarray(0, 12));
      const all = concat(v.input, FTP);
      for (const [how, chunks] of splittings(all)) {
        const { result, after } = feed(chunks, v.options);
        expect(result, how).toEqual({ state: 'done', header: { ...v.header, byteLength: v.input.length }, rest: expect.any(Uint8Array) });
        expect(after, how).toEqual(FTP);
      }
    });
  }

  it('every proper prefix of a header asks for more, and ends as truncated', () => {
    for (const v of vectors) {
      for (let n = 0; n < v.input.length; n++) {
        const decoder = new ProxyHeaderDecoder(v.options);
        expect(decoder.push(v.input.subarray(0, n)), `${v.name}: prefix ${n}`).toEqual({ state: 'need-more' });
        expect(decoder.end()).toMatchObject({ state: 'error', error: { code: 'ERR_PROXY_TRUNCATED' } });
      }
    }
  });

  it('a header ending exactly at the chunk end gives an empty rest', () => {
    const r = feed([vectors[0]!.input]);
    expect(r.result.state === 'done' && r.result.rest.length).toBe(0);
  });

  it('the CRC32C vector carries the checksum the header was sealed with', () => {
    const v = vectors.find((x) => x.name.includes('CRC32C TLV that matches'))!;
    const r = feed([v.input]).result;
    const sent = v.input.subarray(v.input.length - 4);
    expect(r.state === 'done' && r.header.crc32c).toBe(((sent[0]! << 24) | (sent[1]! << 16) | (sent[2]! << 8) | sent[3]!) >>> 0);
  });
});
