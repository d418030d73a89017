import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyDecoder, encodeReply, type DecodedReply, type ReplyDecoderOptions } from '../src/index.js';
import { text } from './arbitraries.js';
import { bytes, chunkings, splitAt } from './chunking.js';

function decodeAll(chunks: readonly Uint8Array[], opts?: ReplyDecoderOptions, end = false): DecodedReply[] {
  const d = new ReplyDecoder(opts);
  const out = chunks.flatMap((c) => d.push(c));
  return end ? [...out, ...d.end()] : out;
}

const reply = (code: number, ...lines: string[]): DecodedReply => ({ ok: true, code, lines, text: lines.join('\n') });
const problem = (code: string): DecodedReply => ({ ok: false, error: { code, replyCode: 421, message: expect.any(String) } });

interface Case {
  name: string;
  input: string | Uint8Array;
  expected: DecodedReply[];
  opts?: ReplyDecoderOptions;
  end?: boolean;
}

const cases: Case[] = [
  { name: 'single line', input: '220 ProFTPD Server (NAT probe) [203.0.113.7]\r\n', expected: [reply(220, 'ProFTPD Server (NAT probe) [203.0.113.7]')] },
  { name: 'two replies in one chunk', input: '331 Password required for ftptest\r\n230 User ftptest logged in\r\n', expected: [reply(331, 'Password required for ftptest'), reply(230, 'User ftptest logged in')] },
  {
    name: 'FEAT (ProFTPD 1.3.8)',
    input: '211-Features:\r\n EPRT\r\n EPSV\r\n MLST modify*;perm*;size*;type*;\r\n UTF8\r\n211 End\r\n',
    expected: [reply(211, 'Features:', 'EPRT', 'EPSV', 'MLST modify*;perm*;size*;type*;', 'UTF8', 'End')],
  },
  {
    name: 'RFC 959 §4.2 example: unpadded and digit-led middle lines',
    input: '123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n',
    expected: [reply(123, 'First line', 'Second line', ' 234 A line beginning with numbers', 'The last line')],
  },
  {
    name: 'middle lines that repeat the code with a dash',
    input: '230-Welcome\r\n230-Be nice\r\n230 Logged in\r\n',
    expected: [reply(230, 'Welcome', 'Be nice', 'Logged in')],
  },
  {
    name: 'a middle line with another code is text',
    input: '211-Status\r\n200 not the end\r\n212 nor this\r\n211 End\r\n',
    expected: [reply(211, 'Status', '200 not the end', '212 nor this', 'End')],
  },
  { name: 'bare LF line ends', input: '200 a\n211-b\n c\n211 d\n', expected: [reply(200, 'a'), reply(211, 'b', 'c', 'd')] },
  { name: 'code alone', input: '200\r\n211-\r\n211\r\n', expected: [reply(200, ''), reply(211, '', '')] },
  { name: 'empty lines between replies are tolerated', input: '\r\n200 a\r\n\r\n\n200 b\r\n', expected: [reply(200, 'a'), reply(200, 'b')] },
  { name: 'empty line inside a multi-line reply is kept', input: '214-a\r\n\r\n214 b\r\n', expected: [reply(214, 'a', '', 'b')] },
  { name: 'RFC 2228 protected reply', input: '631 c2VjcmV0\r\n', expected: [reply(631, 'c2VjcmV0')] },
  { name: 'UTF-8 path name (RFC 2640)', input: '257 "/ünï/日本/🐱" created\r\n', expected: [reply(257, '"/ünï/日本/🐱" created')] },
  { name: 'CR NUL is a CR (RFC 2640 §3.1)', input: '257 "/a\r\0b" created\r\n', expected: [reply(257, '"/a\rb" created')] },
  { name: 'a lone NUL is kept', input: '257 "/a\0b"\r\n', expected: [reply(257, '"/a\0b"')] },
  { name: 'a CR before CRLF stays in the text', input: '200 a\r\r\n', expected: [reply(200, 'a\r')] },
  { name: 'byte-order mark is kept', input: '257 "\uFEFFx"\r\n', expected: [reply(257, '"\uFEFFx"')] },
  {
    name: 'invalid UTF-8 is read as Latin-1 and flagged',
    input: new Uint8Array([...bytes('257 "/caf'), 0xe9, ...bytes('"\r\n200 ok\r\n')]),
    expected: [{ ok: true, code: 257, lines: ['"/café"'], text: '"/café"', latin1: true }, reply(200, 'ok')],
  },
  {
    name: 'garbage lines are reported and skipped',
    input: 'hello\r\n2000 x\r\n20 x\r\n200-\r\n200 ok\r\n099 no\r\n700 no\r\n250 yes\r\n',
    expected: [problem('ERR_REPLY_SYNTAX'), problem('ERR_REPLY_SYNTAX'), problem('ERR_REPLY_SYNTAX'), reply(200, '', 'ok'), problem('ERR_REPLY_SYNTAX'), problem('ERR_REPLY_SYNTAX'), reply(250, 'yes')],
  },
  {
    name: 'a single line over the limit is reported once, then decoding resumes',
    opts: { maxReplyBytes: 16 },
    input: `200 ${'x'.repeat(40)}\r\n200 after\r\n`,
    expected: [problem('ERR_REPLY_TOO_LARGE'), reply(200, 'after')],
  },
  {
    name: 'a line of exactly the limit is accepted',
    opts: { maxReplyBytes: 16 },
    input: '200 0123456789\r\n200 0123456789x\r\n200 ok\r\n',
    expected: [reply(200, '0123456789'), problem('ERR_REPLY_TOO_LARGE'), reply(200, 'ok')],
  },
  {
    name: 'a multi-line reply over the limit is skipped to its end line',
    opts: { maxReplyBytes: 32 },
    input: `211-Status\r\n ${'a'.repeat(20)}\r\n 211 not yet\r\n ${'b'.repeat(50)}\r\n211\r\n200 after\r\n`,
    expected: [problem('ERR_REPLY_TOO_LARGE'), reply(200, 'after')],
  },
  {
    name: 'a reply that crosses the limit on a later line',
    opts: { maxReplyBytes: 40 },
    input: `211-a\r\n bbbbbbbbbb\r\n cccccccccc\r\n dd\r\n211 End\r\n200 after\r\n`,
    expected: [problem('ERR_REPLY_TOO_LARGE'), reply(200, 'after')],
  },
  {
    name: 'a reply of exactly the limit',
    opts: { maxReplyBytes: 40 },
    input: `211-a\r\n bbbbbbbbbb\r\n cccccccccc\r\n211 E\r\n200 after\r\n`,
    expected: [reply(211, 'a', 'bbbbbbbbbb', 'cccccccccc', 'E'), reply(200, 'after')],
  },
  {
    name: 'the end line itself crossing the limit ends the skipped reply',
    opts: { maxReplyBytes: 24 },
    input: `211-Status\r\n 0123456\r\n211 End of it\r\n200 after\r\n`,
    expected: [problem('ERR_REPLY_TOO_LARGE'), reply(200, 'after')],
  },
  {
    name: 'a first line over the limit that opens a multi-line reply skips the whole reply',
    opts: { maxReplyBytes: 16 },
    input: `150-${'x'.repeat(40)}\r\n more\r\n150 done\r\n226 ok\r\n`,
    expected: [problem('ERR_REPLY_TOO_LARGE'), reply(226, 'ok')],
  },
  {
    name: 'end(): a truncated single line',
    input: '200 no line end',
    end: true,
    expected: [problem('ERR_REPLY_TRUNCATED')],
  },
  {
    name: 'end(): a truncated multi-line reply',
    input: '211-a\r\n b\r\n',
    end: true,
    expected: [problem('ERR_REPLY_TRUNCATED')],
  },
  { name: 'end(): nothing pending', input: '200 a\r\n', end: true, expected: [reply(200, 'a')] },
];

describe('ReplyDecoder', () => {
  for (const c of cases) {
    it(`${c.name}: whole, byte by byte and split at every point`, () => {
      const ways = chunkings(c.input);
      const [whole] = ways;
      expect(decodeAll(whole!.chunks, c.opts, c.end)).toEqual(c.expected);
      for (const way of ways) expect(decodeAll(way.chunks, c.opts, c.end), way.name).toEqual(c.expected);
    });
  }

  it('accepts strings as UTF-8', () => {
    const d = new ReplyDecoder();
    expect(d.push('211-Features:\r\n EPSV\r\n')).toEqual([]);
    expect(d.push('211 End\r\n')).toEqual([reply(211, 'Features:', 'EPSV', 'End')]);
  });

  it('holds at most maxReplyBytes, however long the stream', () => {
    const d = new ReplyDecoder({ maxReplyBytes: 64 });
    const junk = bytes(`211-${'x'.repeat(1000)}`);
    for (let i = 0; i < 100; i++) {
      d.push(junk);
      expect(d.bufferedBytes).toBeLessThanOrEqual(64);
    }
    expect(d.push('\r\n211 End\r\n250 ok\r\n')).toEqual([reply(250, 'ok')]);
    expect(d.bufferedBytes).toBe(0);
  });

  it('reset() forgets a partial reply', () => {
    const d = new ReplyDecoder();
    d.push('211-a\r\n b');
    d.reset();
    expect(d.push('200 x\r\n')).toEqual([reply(200, 'x')]);
  });

  it.each([[0], [7], [1.5], [Number.POSITIVE_INFINITY]])('refuses maxReplyBytes %s with ERR_REPLY_OPTION_INVALID', (max) => {
    expect(() => new ReplyDecoder({ maxReplyBytes: max })).toThrow(expect.objectContaining({ code: 'ERR_REPLY_OPTION_INVALID' }));
  });

  describe('properties', () => {
    const wire = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .array(fc.constantFrom('200 ok', '211-', ' x', '211 End', '123', '\r', '\n', '\r\n', '\0', 'é', '2', '-', ' ', 'garbage', '\xff'), { maxLength: 40 })
        .map((parts) => bytes(parts.join(''))),
    );
    const max = fc.integer({ min: 8, max: 64 });

    it('never throws on arbitrary bytes and never holds more than the limit', () => {
      fc.assert(
        fc.property(wire, max, (input, limit) => {
          const d = new ReplyDecoder({ maxReplyBytes: limit });
          for (let i = 0; i < input.length; i += 7) {
            d.push(input.subarray(i, i + 7));
            expect(d.bufferedBytes).toBeLessThanOrEqual(limit);
          }
          d.end();
        }),
      );
    });

    it('gives the same replies however the bytes are chunked', () => {
      // small limits exercise skipping; larger ones the one-decode path for whole regions
      const anyMax = fc.oneof(max, fc.integer({ min: 65, max: 400 }), fc.constant(1024 * 1024));
      fc.assert(
        fc.property(wire, anyMax, fc.array(fc.nat({ max: 200 }), { maxLength: 8 }), (input, limit, cuts) => {
          const expected = decodeAll([input], { maxReplyBytes: limit }, true);
          expect(decodeAll(splitAt(input, cuts), { maxReplyBytes: limit }, true)).toEqual(expected);
          expect(decodeAll(Array.from(input, (_, i) => input.subarray(i, i + 1)), { maxReplyBytes: limit }, true)).toEqual(expected);
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 300) },
      );
    });

    it('decodes any sequence of encoded replies, whatever the chunking', () => {
      const replyArb = fc.record({
        code: fc.integer({ min: 100, max: 699 }),
        lines: fc.array(text.map((s) => s.replaceAll('\n', '')), { minLength: 1, maxLength: 4 }),
      });
      fc.assert(
        fc.property(fc.array(replyArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat({ max: 400 }), { maxLength: 6 }), (replies, cuts) => {
          const all = bytes(replies.map((r) => encodeReply(r.code, r.lines)).join(''));
          expect(decodeAll(splitAt(all, cuts))).toEqual(replies.map((r) => reply(r.code, ...r.lines)));
        }),
      );
    });
  });
});
