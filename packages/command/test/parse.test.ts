import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiUpper, encodeCommand, parseCommand } from '../src/index.js';

describe('parseCommand (RFC 959 §5.3; blanks as ProFTPD 1.3.8 reads them)', () => {
  it.each([
    ['USER anonymous', 'USER', 'anonymous'],
    ['user anonymous', 'USER', 'anonymous'],
    ['Retr file.txt', 'RETR', 'file.txt'],
    ['PWD', 'PWD', undefined],
    ['pwd', 'PWD', undefined],
    ['PWD ', 'PWD', ''],
    ['PWD   ', 'PWD', ''],
    ['NOOP  ', 'NOOP', ''],
    ['CWD\t/', 'CWD', '/'],
    ['  NOOP', 'NOOP', undefined],
    ['RETR  leading space.txt', 'RETR', ' leading space.txt'],
    ['STOR trailing space.txt  ', 'STOR', 'trailing space.txt  '],
    ['RETR "quoted name"', 'RETR', '"quoted name"'],
    ['SITE CHMOD 755 a b', 'SITE', 'CHMOD 755 a b'],
    ['RETR a\tb', 'RETR', 'a\tb'],
    ['RETR /日本/ünï', 'RETR', '/日本/ünï'],
    ['', '', undefined],
    [' USER x', 'USER', 'x'],
    ['\tUSER x', 'USER', 'x'],
    ['ſtor x', 'ſTOR', 'x'],
    ['ﬀ x', 'ﬀ', 'x'],
  ])('%j → %j %j', (line, verb, arg) => {
    expect(parseCommand(line)).toEqual({ verb, arg });
  });

  it('keeps the argument verbatim and upper-cases only ASCII letters (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (verbText, arg) => {
        const v = verbText.replace(/[ \t]/g, '');
        fc.pre(v !== ''); // blanks before a verb are skipped: an empty verb has no argument
        const parsed = parseCommand(arg === undefined ? v : `${v} ${arg}`);
        // An argument of spaces only is no argument (ProFTPD splits the line at spaces).
        expect(parsed.arg).toBe(arg !== undefined && /^ *$/.test(arg) ? '' : arg);
        expect(parsed.verb).toHaveLength(v.length);
        expect(parsed.verb.toLowerCase()).toBe(v.toLowerCase());
      }),
    );
  });
});

describe('asciiUpper', () => {
  it.each([
    ['retr', 'RETR'],
    ['RETR', 'RETR'],
    ['MkD', 'MKD'],
    ['ſtor', 'ſTOR'],
    ['straße', 'STRAßE'],
    ['ı', 'ı'],
  ])('%j → %j', (s, up) => {
    expect(asciiUpper(s)).toBe(up);
  });
});

describe('encodeCommand', () => {
  it.each([
    ['NOOP', undefined, 'NOOP\r\n'],
    ['RETR', 'a b.txt', 'RETR a b.txt\r\n'],
    ['STOR', '', 'STOR \r\n'],
    ['STOR', 'a\rb', 'STOR a\r\0b\r\n'],
    ['STOR', 'a\r\nQUIT', 'STOR a\r\0\0QUIT\r\n'],
  ])('%s %j', (verb, arg, wire) => {
    expect(encodeCommand(verb, arg)).toBe(wire);
  });

  it.each([[''], ['RE TR'], ['RETR\r\n'], ['R3TR'], ['X'.repeat(17)]])('refuses verb %j with ERR_COMMAND_VERB_INVALID', (verb) => {
    expect(() => encodeCommand(verb)).toThrow(expect.objectContaining({ code: 'ERR_COMMAND_VERB_INVALID' }));
  });

  it('never produces a second line (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '\r', '\n', ' ', 'é', '\0') }), (arg) => {
        const wire = encodeCommand('STOR', arg);
        expect(wire.indexOf('\n')).toBe(wire.length - 1);
      }),
    );
  });
});
