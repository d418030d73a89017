import { describe, expect, it } from 'vitest';
import { ProxyHeaderDecoder, crc32c, type ProxyHeaderDecoderOptions, type ProxyProblemCode } from '../src/index.js';
import { ascii, concat, feed, hexBytes, splittings } from './feed.js';

const SIG = '0D0A0D0A000D0A515549540A';
const TCP4 = 'C6336407 CB00710A C3CB 0015';

interface Bad {
  name: string;
  input: Uint8Array;
  code: ProxyProblemCode;
  /** Fed byte by byte, the decoder gives up after this many bytes (fail fast, no timeout needed). */
  failsAt?: number;
  options?: ProxyHeaderDecoderOptions;
}

function sealed(bytes: Uint8Array, crcAt: number, corrupt = 0): Uint8Array {
  const out = bytes.slice();
  out.fill(0, crcAt, crcAt + 4);
  const crc = (crc32c(out) ^ corrupt) >>> 0;
  out.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], crcAt);
  return out;
}

const bad: Bad[] = [
  // Not the protocol at all (§2.2: "the connection must be dropped").
  { name: 'an FTP command', input: ascii('USER anonymous\r\n'), code: 'ERR_PROXY_SIGNATURE', failsAt: 1 },
  { name: 'an HTTP request', input: ascii('GET / HTTP/1.1\r\n'), code: 'ERR_PROXY_SIGNATURE', failsAt: 1 },
  { name: 'a TLS ClientHello', input: hexBytes('16 03 01 00 c4 01'), code: 'ERR_PROXY_SIGNATURE', failsAt: 1 },
  { name: 'lower-case proxy', input: ascii('proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_SIGNATURE', failsAt: 1 },
  { name: 'PROXX', input: ascii('PROXX TCP4\r\n'), code: 'ERR_PROXY_SIGNATURE', failsAt: 5 },
  { name: 'v2 signature wrong in byte 8 (QUIT → RUIT)', input: hexBytes('0D0A0D0A000D0A525549540A 21 00 0000'), code: 'ERR_PROXY_SIGNATURE', failsAt: 8 },
  { name: 'v2 signature without its NUL', input: hexBytes('0D0A0D0A0D0A515549540A 21 00 0000'), code: 'ERR_PROXY_SIGNATURE', failsAt: 5 },
  { name: 'a bare CRLF', input: ascii('\r\n'), code: 'ERR_PROXY_SIGNATURE', failsAt: 2 },

  // v1 (§2.1).
  { name: 'v1 no space after PROXY', input: ascii('PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX', failsAt: 6 },
  { name: 'v1 LF without CR', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nUSER x\r\n'), code: 'ERR_PROXY_V1_SYNTAX', failsAt: 31 },
  { name: 'v1 CR without LF', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rUSER x\r\n'), code: 'ERR_PROXY_V1_SYNTAX', failsAt: 32 },
  { name: 'v1 no CRLF within 107 bytes', input: ascii(`PROXY UNKNOWN ${'f'.repeat(200)}\r\n`), code: 'ERR_PROXY_V1_TOO_LONG', failsAt: 107 },
  { name: 'v1 108 bytes with the CRLF at the end', input: ascii(`PROXY UNKNOWN ${'f'.repeat(92)}\r\n`), code: 'ERR_PROXY_V1_TOO_LONG', failsAt: 107 },
  { name: 'v1 endless junk', input: ascii(`PROXY ${'x'.repeat(4000)}`), code: 'ERR_PROXY_V1_TOO_LONG', failsAt: 107 },
  { name: 'v1 two spaces', input: ascii('PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 two spaces between addresses', input: ascii('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 trailing space', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 tab separator', input: ascii('PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 unknown protocol', input: ascii('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 UDP4 is not v1', input: ascii('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 lower-case tcp4', input: ascii('PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 UNKNOWN glued to text', input: ascii('PROXY UNKNOWNX\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 nothing after PROXY', input: ascii('PROXY \r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 missing port', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 extra field', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 heading zero in an address', input: ascii('PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 octet over 255', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 short IPv4 form', input: ascii('PROXY TCP4 127.1 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 hex IPv4 form', input: ascii('PROXY TCP4 0x7f.0.0.1 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 heading zero in a port', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 port 65536', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 negative port', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP4 with IPv6 addresses', input: ascii('PROXY TCP4 ::1 ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with IPv4 addresses', input: ascii('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with two ::', input: ascii('PROXY TCP6 1::2::3 ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with a zone', input: ascii('PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 in brackets', input: ascii('PROXY TCP6 [::1] [::1] 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with 9 groups', input: ascii('PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with a 5-digit group', input: ascii('PROXY TCP6 00001:: ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 TCP6 with a bad embedded IPv4', input: ascii('PROXY TCP6 ::ffff:01.2.3.4 ::1 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 NUL in the line', input: ascii('PROXY TCP4 1.2.3.4\x00 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_V1_SYNTAX' },
  { name: 'v1 not allowed', input: ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'), code: 'ERR_PROXY_VERSION_NOT_ALLOWED', failsAt: 5, options: { versions: [2] } },

  // v2 (§2.2).
  { name: 'v2 not allowed', input: hexBytes(SIG, '21 00 0000'), code: 'ERR_PROXY_VERSION_NOT_ALLOWED', failsAt: 12, options: { versions: [1] } },
  { name: 'v2 version 1', input: hexBytes(SIG, '11 11 000C', TCP4), code: 'ERR_PROXY_V2_VERSION', failsAt: 13 },
  { name: 'v2 version 3', input: hexBytes(SIG, '31 11 000C', TCP4), code: 'ERR_PROXY_V2_VERSION', failsAt: 13 },
  { name: 'v2 command 2', input: hexBytes(SIG, '22 11 000C', TCP4), code: 'ERR_PROXY_V2_COMMAND', failsAt: 13 },
  { name: 'v2 command F', input: hexBytes(SIG, '2F 00 0000'), code: 'ERR_PROXY_V2_COMMAND', failsAt: 13 },
  { name: 'v2 family 4', input: hexBytes(SIG, '21 41 000C', TCP4), code: 'ERR_PROXY_V2_FAMILY', failsAt: 14 },
  { name: 'v2 transport 3', input: hexBytes(SIG, '21 13 000C', TCP4), code: 'ERR_PROXY_V2_FAMILY', failsAt: 14 },
  { name: 'v2 INET with 11 address bytes', input: hexBytes(SIG, '21 11 000B', TCP4.slice(0, -2)), code: 'ERR_PROXY_V2_LENGTH', failsAt: 16 },
  { name: 'v2 INET with no address', input: hexBytes(SIG, '21 11 0000'), code: 'ERR_PROXY_V2_LENGTH', failsAt: 16 },
  { name: 'v2 INET6 with 35 address bytes', input: hexBytes(SIG, '21 21 0023', '00'.repeat(35)), code: 'ERR_PROXY_V2_LENGTH', failsAt: 16 },
  { name: 'v2 UNIX with 215 address bytes', input: hexBytes(SIG, '21 31 00D7', '00'.repeat(215)), code: 'ERR_PROXY_V2_LENGTH', failsAt: 16 },
  { name: 'v2 over maxHeaderBytes (checked before the body)', input: hexBytes(SIG, '21 11 0013', TCP4, '04 0004 00000000'), code: 'ERR_PROXY_V2_TOO_LARGE', failsAt: 16, options: { maxHeaderBytes: 34 } },
  { name: 'v2 a TLV running past the end', input: hexBytes(SIG, '21 11 0011', TCP4, '01 0003 6674'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 two bytes after the address block', input: hexBytes(SIG, '21 11 000E', TCP4, '0100'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 one byte after the address block', input: hexBytes(SIG, '21 11 000D', TCP4, '01'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 UNSPEC with bytes that are not TLVs', input: hexBytes(SIG, '21 00 0004', 'DEADBEEF'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 UNIQUE_ID of 129 bytes', input: hexBytes(SIG, '21 11 0090', TCP4, '05 0081', '00'.repeat(129)), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 SSL TLV of 4 bytes', input: hexBytes(SIG, '21 11 0013', TCP4, '20 0004 01000000'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 SSL sub-TLV running past the SSL TLV', input: hexBytes(SIG, '21 11 0018', TCP4, '20 0009 01 00000000 21 0007 54'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 SSL version not UTF-8', input: hexBytes(SIG, '21 11 0018', TCP4, '20 0009 01 00000000 21 0001 FF'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 AUTHORITY not UTF-8', input: hexBytes(SIG, '21 11 0011', TCP4, '02 0002 C328'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 NETNS not UTF-8', input: hexBytes(SIG, '21 11 0010', TCP4, '30 0001 80'), code: 'ERR_PROXY_V2_TLV' },
  { name: 'v2 CRC32C of 3 bytes', input: hexBytes(SIG, '21 11 0012', TCP4, '03 0003 000000'), code: 'ERR_PROXY_V2_CRC32C' },
  { name: 'v2 CRC32C wrong by one bit', input: sealed(hexBytes(SIG, '21 11 0013', TCP4, '03 0004 00000000'), 31, 1), code: 'ERR_PROXY_V2_CRC32C' },
  { name: 'v2 CRC32C right but an address byte changed', input: (() => { const b = sealed(hexBytes(SIG, '21 11 0013', TCP4, '03 0004 00000000'), 31); b[16]! ^= 0x80; return b; })(), code: 'ERR_PROXY_V2_CRC32C' },
  { name: 'v2 CRC32C twice', input: (() => { const b = sealed(hexBytes(SIG, '21 11 001A', TCP4, '03 0004 00000000 03 0004 00000000'), 31); return b; })(), code: 'ERR_PROXY_V2_CRC32C' },
  { name: 'v2 LOCAL with a wrong CRC32C is still rejected (§2.2.3 MUST)', input: sealed(hexBytes(SIG, '20 00 0007', '03 0004 00000000'), 19, 0x10000), code: 'ERR_PROXY_V2_CRC32C' },
];

describe('malformed headers are data, never exceptions; the same error for every way of feeding them', () => {
  for (const b of bad) {
    it(`${b.name} → ${b.code}`, () => {
      for (const [how, chunks] of splittings(concat(b.input, ascii('USER x\r\n')))) {
        const { result } = feed(chunks, b.options);
        expect(result, how).toEqual({ state: 'error', error: { code: b.code, message: expect.any(String) } });
      }
      if (b.failsAt !== undefined) {
        const { pushed } = feed(Array.from(b.input, (_, i) => b.input.subarray(i, i + 1)), b.options);
        expect(pushed).toBe(b.failsAt);
      }
    });
  }

  it('an error is final: later pushes return it again, without reading', () => {
    const d = new ProxyHeaderDecoder();
    const first = d.push(ascii('GET /'));
    expect(first).toMatchObject({ state: 'error', error: { code: 'ERR_PROXY_SIGNATURE' } });
    expect(d.push(ascii('PROXY UNKNOWN\r\n'))).toBe(first);
    expect(d.end()).toBe(first);
  });

  it('messages show peer bytes escaped', () => {
    const r = feed([ascii('PROXY TCP4 1.2.3.4\x1b[31m 5.6.7.8 1 2\r\n')]).result;
    expect(r.state === 'error' && r.error.message).toMatch(/\\x1b\[31m/);
    expect(r.state === 'error' && r.error.message).not.toMatch(/\x1b/);
  });

  it('an empty stream is truncated', () => {
    expect(feed([]).result).toMatchObject({ state: 'error', error: { code: 'ERR_PROXY_TRUNCATED' } });
  });

  it('memory stays bounded: a v1 flood is refused at 107 bytes, a v2 length over the limit before its body', () => {
    const d = new ProxyHeaderDecoder({ maxHeaderBytes: 1024 });
    const r = d.push(hexBytes(SIG, '21 00 FFFF'));
    expect(r).toMatchObject({ state: 'error', error: { code: 'ERR_PROXY_V2_TOO_LARGE' } });
  });
});
