import fc from 'fast-check';
import { text } from './arbitraries.js';
import { describe, expect, it } from 'vitest';
import { ReplyDecoder, encodeReply, escapeReplyText, parsePathname, quotePathname } from '../src/index.js';

describe('encodeReply (RFC 959 §4.2)', () => {
  const cases: Array<[string, number, string | readonly string[], string]> = [
    ['single line', 200, 'Type set to I', '200 Type set to I\r\n'],
    ['empty text', 200, '', '200 \r\n'],
    ['one-element array is single line', 226, ['Transfer complete'], '226 Transfer complete\r\n'],
    ['two lines', 230, ['Welcome', 'User logged in'], '230-Welcome\r\n230 User logged in\r\n'],
    ['FEAT as ProFTPD sends it', 211, ['Features:', 'EPRT', 'EPSV', 'UTF8', 'End'], '211-Features:\r\n EPRT\r\n EPSV\r\n UTF8\r\n211 End\r\n'],
    ['middle line that looks like the end line is indented', 211, ['Status', '211 End', 'End'], '211-Status\r\n 211 End\r\n211 End\r\n'],
    ['middle line starting with digits is indented', 123, ['First line', '234 A line beginning with numbers', 'The last line'], '123-First line\r\n 234 A line beginning with numbers\r\n123 The last line\r\n'],
    ['empty middle line', 214, ['Help', '', 'End'], '214-Help\r\n \r\n214 End\r\n'],
    ['RFC 2228 protected reply code', 631, 'c2VjcmV0', '631 c2VjcmV0\r\n'],
    ['CR is sent as CR NUL (RFC 2640 §3.1)', 257, '"/a\rb" created', '257 "/a\r\0b" created\r\n'],
    ['LF is sent as NUL', 257, '"/a\nb" created', '257 "/a\0b" created\r\n'],
    ['CRLF in text cannot end the reply', 550, 'x\r\n200 fake', '550 x\r\0\x00200 fake\r\n'],
    ['CR and LF in middle lines', 211, ['a\r\nb', 'c\nd', 'e\rf'], '211-a\r\0\0b\r\n c\0d\r\n211 e\r\0f\r\n'],
  ];
  it.each(cases)('%s', (_name, code, text, wire) => {
    expect(encodeReply(code, text)).toBe(wire);
  });

  it.each([[99], [700], [0], [-200], [200.5], [Number.NaN]])('refuses reply code %s with ERR_REPLY_CODE_INVALID', (code) => {
    expect(() => encodeReply(code, 'x')).toThrow(expect.objectContaining({ code: 'ERR_REPLY_CODE_INVALID' }));
  });

  it('refuses an empty array with ERR_REPLY_LINES_EMPTY', () => {
    expect(() => encodeReply(211, [])).toThrow(expect.objectContaining({ code: 'ERR_REPLY_LINES_EMPTY' }));
  });

  it('never produces more CRLFs than lines, whatever the text (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 699 }), fc.array(text, { minLength: 1, maxLength: 6 }), (code, lines) => {
        const wire = encodeReply(code, lines);
        expect(wire.split('\r\n').length - 1).toBe(lines.length);
        expect(wire.endsWith('\r\n')).toBe(true);
        expect(wire.replaceAll('\r\n', '').includes('\n')).toBe(false);
        // every CR that is not a line end is followed by NUL
        expect(/\r(?![\n\0])/.test(wire)).toBe(false);
      }),
    );
  });

  it('round-trips through ReplyDecoder; LF comes back as NUL (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 699 }), fc.array(text, { minLength: 1, maxLength: 6 }), (code, lines) => {
        const out = new ReplyDecoder().push(encodeReply(code, lines));
        expect(out).toEqual([
          { ok: true, code, lines: lines.map((l) => l.replaceAll('\n', '\0')), text: lines.map((l) => l.replaceAll('\n', '\0')).join('\n') },
        ]);
      }),
    );
  });

  it('escapeReplyText returns text without CR or LF unchanged', () => {
    const s = 'plain text';
    expect(escapeReplyText(s)).toBe(s);
  });
});

describe('quotePathname / parsePathname (RFC 959 Appendix II)', () => {
  const cases: Array<[string, string]> = [
    ['/usr/dm', '"/usr/dm"'],
    ['/', '"/"'],
    ['', '""'],
    ['/a "b" c', '"/a ""b"" c"'],
    ['"', '""""'],
    ['/dir with spaces/', '"/dir with spaces/"'],
    ['/ünï cødé/日本', '"/ünï cødé/日本"'],
  ];
  it.each(cases)('%j ↔ %j', (path, quoted) => {
    expect(quotePathname(path)).toBe(quoted);
    expect(parsePathname(`${quoted} is the current directory`)).toEqual({ ok: true, value: path });
    expect(parsePathname(`257 ${quoted} created`)).toEqual({ ok: true, value: path });
  });

  it('reads the path after leading text', () => {
    expect(parsePathname('PWD: "/home/ftp" is current')).toEqual({ ok: true, value: '/home/ftp' });
  });

  it.each([['no quotes at all'], ['"not closed'], ['"/a""']])('refuses %j', (text) => {
    const r = parsePathname(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('ERR_PATHNAME_SYNTAX');
  });

  it('round-trips any path, through the wire (property)', () => {
    fc.assert(
      fc.property(text, (path) => {
        const wire = encodeReply(257, `${quotePathname(path)} created`);
        const [reply] = new ReplyDecoder().push(wire);
        expect(reply?.ok).toBe(true);
        if (reply?.ok) expect(parsePathname(reply.text)).toEqual({ ok: true, value: path.replaceAll('\n', '\0') });
      }),
    );
  });
});
