import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandDecoder, TRANSITIONS, encodeCommand, type CommandDecoderOptions, type CommandEvent } from '../src/index.js';
import { cutAt, decode, everyFeeding, utf8, wire } from './feed.js';

const IAC = 255;
const line = (text: string, urgent = false): CommandEvent => ({ kind: 'line', line: text, urgent });
const latin = (text: string): CommandEvent => ({ kind: 'line', line: text, urgent: false, latin1: true });
const telnet = (...bytes: number[]): CommandEvent => ({ kind: 'telnet', response: Uint8Array.from(bytes) });
const tooLong: CommandEvent = { kind: 'error', error: { code: 'ERR_COMMAND_TOO_LONG', replyCode: 500, message: expect.stringContaining('too long') } };
const badUtf8: CommandEvent = { kind: 'error', error: { code: 'ERR_COMMAND_ENCODING', replyCode: 501, message: 'Command line is not valid UTF-8' } };

interface Case {
  name: string;
  input: Uint8Array;
  expected: CommandEvent[];
  opts?: CommandDecoderOptions;
}

const c = (name: string, input: Uint8Array | string, expected: CommandEvent[], opts?: CommandDecoderOptions): Case =>
  opts === undefined ? { name, input: typeof input === 'string' ? utf8(input) : input, expected } : { name, input: typeof input === 'string' ? utf8(input) : input, expected, opts };

const framing: Case[] = [
  c('one command', 'USER anonymous\r\n', [line('USER anonymous')]),
  c('pipelined commands', 'USER ftptest\r\nPASS secret\r\nTYPE I\r\nPASV\r\n', [line('USER ftptest'), line('PASS secret'), line('TYPE I'), line('PASV')]),
  c('bare LF', 'NOOP\nPWD\n', [line('NOOP'), line('PWD')]),
  c('CRLF and LF mixed', 'NOOP\r\nPWD\nSYST\r\n', [line('NOOP'), line('PWD'), line('SYST')]),
  c('empty lines are lines', '\r\n\nNOOP\r\n', [line(''), line(''), line('NOOP')]),
  c('no line end yet: nothing', 'RETR file', []),
  c('spaces and quotes in file names are kept', 'RETR  two  spaces "quoted" \r\nSTOR trailing   \r\n', [line('RETR  two  spaces "quoted" '), line('STOR trailing   ')]),
  c('tabs are kept', 'STOR a\tb\r\n', [line('STOR a\tb')]),
  c('UTF-8 file names (RFC 2640)', 'RETR /ünï/日本/🐱.txt\r\n', [line('RETR /ünï/日本/🐱.txt')]),
  c('a byte-order mark is kept', 'STOR \uFEFFbom\r\n\uFEFFNOOP\r\n', [line('STOR \uFEFFbom'), line('\uFEFFNOOP')]),
  c('CR inside a line is kept', 'STOR a\rb\r\n', [line('STOR a\rb')]),
  c('CR NUL is a CR (RFC 2640 §3.1)', wire('STOR a\r', [0], 'b\r\n'), [line('STOR a\rb')]),
  c('CR NUL at the end of a name', wire('STOR a\r', [0], '\r\n'), [line('STOR a\r')]),
  c('CR NUL NUL keeps the second NUL', wire('STOR a\r', [0, 0], 'b\r\n'), [line('STOR a\r\0b')]),
  c('a lone NUL is kept', wire('STOR a', [0], 'b\r\n'), [line('STOR a\0b')]),
  c('CR CR LF leaves one CR', 'STOR a\r\r\n', [line('STOR a\r')]),
];

const telnetCases: Case[] = [
  c('IAC IP IAC DM before ABOR (RFC 959 §4.1.3)', wire([IAC, 244, IAC, 242], 'ABOR\r\nNOOP\r\n'), [line('ABOR', true), line('NOOP')]),
  c('IAC IP alone marks urgent', wire([IAC, 244], 'ABOR\r\n'), [line('ABOR', true)]),
  c('Synch in the middle of a line', wire('AB', [IAC, 242], 'OR\r\n'), [line('ABOR', true)]),
  c('urgent after a pipelined command applies to the next line only', wire('NOOP\r\n', [IAC, 244, IAC, 242], 'ABOR\r\nNOOP\r\n'), [line('NOOP'), line('ABOR', true), line('NOOP')]),
  c('IAC IAC is data byte 255: not UTF-8, refused', wire('STOR a', [IAC, IAC], 'b\r\nNOOP\r\n'), [badUtf8, line('NOOP')]),
  c('IAC IAC is data byte 255: kept as Latin-1', wire('STOR a', [IAC, IAC], 'b\r\n'), [latin('STOR aÿb')], { invalidUtf8: 'latin1' }),
  c('WILL is refused with DONT', wire([IAC, 251, 24], 'NOOP\r\n'), [telnet(IAC, 254, 24), line('NOOP')]),
  c('DO is refused with WONT', wire([IAC, 253, 1], 'NOOP\r\n'), [telnet(IAC, 252, 1), line('NOOP')]),
  c('WONT and DONT are not answered', wire([IAC, 252, 1, IAC, 254, 3], 'NOOP\r\n'), [line('NOOP')]),
  c('option bytes that look like line ends', wire([IAC, 251, 10, IAC, 253, 13], 'NOOP\r\n'), [telnet(IAC, 254, 10), telnet(IAC, 252, 13), line('NOOP')]),
  c('negotiation in the middle of a line', wire('NO', [IAC, 253, 31], 'OP\r\n'), [telnet(IAC, 252, 31), line('NOOP')]),
  c('NOP, AYT, AO, EC, EL, GA, BRK are dropped', wire('NO', [IAC, 241, IAC, 246, IAC, 245, IAC, 247, IAC, 248, IAC, 249, IAC, 243], 'OP\r\n'), [line('NOOP')]),
  c('subnegotiation is dropped up to IAC SE', wire('NO', [IAC, 250, 24, 0, 10, 13, IAC, IAC, 65, IAC, 240], 'OP\r\n'), [line('NOOP')]),
  c('IAC SE outside a subnegotiation is dropped', wire('NO', [IAC, 240], 'OP\r\n'), [line('NOOP')]),
  c('IAC followed by a plain byte keeps the byte', wire('NO', [IAC], 'OP\r\n'), [line('NOOP')]),
  c('IAC followed by LF still ends the line', wire('NOOP', [IAC], '\nPWD\r\n'), [line('NOOP'), line('PWD')]),
  c('IAC CR NUL', wire('STOR a', [IAC], '\r', [0], 'b\r\n'), [line('STOR a\rb')]),
  // The Synch's IAC sent as TCP urgent data never arrives in Node (no SO_OOBINLINE).
  c('BSD ftp / Net::FTP abort: IAC IP, (urgent IAC lost), DM ABOR', wire([IAC, 244, 242], 'ABOR\r\nNOOP\r\n'), [line('ABOR', true), line('NOOP')]),
  c('a bare DM not right after IAC IP is data', wire([242], 'ABOR\r\n'), [badUtf8]),
  c('a bare IP after IAC IP is dropped too', wire([IAC, 244, 244, 242], 'ABOR\r\n'), [line('ABOR', true)]),
  // Python's ftplib sends "ABOR\r\n" as urgent data: its LF never arrives.
  c('ftplib abort: ABOR ends at its CR', 'ABOR\r', [line('ABOR')]),
  c('ftplib abort, then the next command', 'ABOR\rNOOP\r\n', [line('ABOR'), line('NOOP')]),
  c('ABOR with its LF still ends once', 'abor\r\nNOOP\r\n', [line('abor'), line('NOOP')]),
  c('ABOR CR NUL ends once', wire('ABOR\r', [0], 'NOOP\r\n'), [line('ABOR'), line('NOOP')]),
  c('ABOR CR CR LF', 'ABOR\r\r\n', [line('ABOR'), line('')]),
  c('ABOR CR twice', 'ABOR\rAbOr\r\n', [line('ABOR'), line('AbOr')]),
  c('urgent ABOR without its LF', wire([IAC, 244, IAC, 242], 'ABOR\r'), [line('ABOR', true)]),
  c('only the verb alone ends at CR', 'ABORT\r\nSTOR ABOR\rx\r\nXABOR\r\n', [line('ABORT'), line('STOR ABOR\rx'), line('XABOR')]),
];

const limits: Case[] = [
  c('exactly the limit', `STOR ${'x'.repeat(11)}\r\n`, [line(`STOR ${'x'.repeat(11)}`)], { maxLineLength: 16 }),
  c('exactly the limit, bare LF', `STOR ${'x'.repeat(11)}\n`, [line(`STOR ${'x'.repeat(11)}`)], { maxLineLength: 16 }),
  c('one byte over the limit', `STOR ${'x'.repeat(12)}\r\nNOOP\r\n`, [tooLong, line('NOOP')], { maxLineLength: 16 }),
  c('one byte over the limit, bare LF', `STOR ${'x'.repeat(12)}\nNOOP\n`, [tooLong, line('NOOP')], { maxLineLength: 16 }),
  c('far over the limit: one 500, then resync', `STOR ${'x'.repeat(100)}\r\nNOOP\r\n`, [tooLong, line('NOOP')], { maxLineLength: 16 }),
  c('multi-byte characters count as bytes', `STOR ${'é'.repeat(6)}\r\nSTOR ${'é'.repeat(5)}x\r\n`, [tooLong, line(`STOR ${'é'.repeat(5)}x`)], { maxLineLength: 16 }),
  c('over-long lines in a row', `${'a'.repeat(20)}\r\n${'b'.repeat(20)}\r\nNOOP\r\n`, [tooLong, tooLong, line('NOOP')], { maxLineLength: 16 }),
  c('negotiation inside an over-long line is still answered', wire('x'.repeat(30), [IAC, 253, 1], 'y\r\nNOOP\r\n'), [tooLong, telnet(IAC, 252, 1), line('NOOP')], { maxLineLength: 16 }),
  c('urgent inside an over-long line is dropped with it', wire([IAC, 244], 'x'.repeat(30), '\r\nNOOP\r\n'), [tooLong, line('NOOP')], { maxLineLength: 16 }),
  c('Telnet commands do not count toward the limit', wire('STOR xxxxxxx', [IAC, 241, IAC, 241, IAC, 241], 'xxxx\r\n'), [line('STOR xxxxxxxxxxx')], { maxLineLength: 16 }),
];

const encoding: Case[] = [
  c('a Latin-1 file name is refused with 501', wire('RETR caf', [0xe9], '\r\nNOOP\r\n'), [badUtf8, line('NOOP')]),
  c('a Latin-1 file name kept losslessly', wire('RETR caf', [0xe9], '\r\nNOOP\r\n'), [latin('RETR café'), line('NOOP')], { invalidUtf8: 'latin1' }),
  c('overlong encoding', wire('RETR ', [0xc0, 0xaf], '\r\n'), [badUtf8]),
  c('UTF-16 surrogate encoded in UTF-8', wire('RETR ', [0xed, 0xa0, 0x80], '\r\n'), [badUtf8]),
  c('lone continuation byte', wire('RETR ', [0x80], '\r\n'), [badUtf8]),
  c('sequence cut by the line end', wire('RETR ', [0xe6, 0x97], '\r\nNOOP\r\n'), [badUtf8, line('NOOP')]),
  c('code point above U+10FFFF', wire('RETR ', [0xf4, 0x90, 0x80, 0x80], '\r\n'), [badUtf8]),
  c('valid and invalid lines in one chunk', wire('NOOP\r\nRETR ', [0xfe], '\r\nPWD\r\n'), [line('NOOP'), badUtf8, line('PWD')]),
  c('Latin-1 keeps every byte 0x80-0xFF', wire('STOR ', [0x80, 0x9f, 0xa0, 0xfe], '\r\n'), [latin('STOR \x80\x9f\xa0\xfe')], { invalidUtf8: 'latin1' }),
];

describe('CommandDecoder', () => {
  for (const [group, cases] of [['framing', framing], ['Telnet (RFC 854)', telnetCases], ['maximum line length', limits], ['UTF-8 (RFC 2640)', encoding]] as const) {
    describe(group, () => {
      for (const k of cases) {
        it(`${k.name}: whole, byte by byte and split at every point`, () => {
          for (const [how, events] of everyFeeding(k.input, k.opts)) expect(events, how).toEqual(k.expected);
        });
      }
    });
  }

  it('holds at most maxLineLength + 1 bytes of an endless line', () => {
    const d = new CommandDecoder({ maxLineLength: 64 });
    const junk = utf8('x'.repeat(1000));
    const events = [];
    for (let i = 0; i < 50; i++) {
      events.push(...d.push(junk));
      expect(d.bufferedBytes).toBeLessThanOrEqual(65);
    }
    expect(events).toEqual([tooLong]);
    expect(d.push(utf8('\r\nNOOP\r\n'))).toEqual([line('NOOP')]);
  });

  it('the default limit is 4096 bytes', () => {
    expect(decode([utf8(`STOR ${'x'.repeat(4091)}\r\n`)])).toEqual([line(`STOR ${'x'.repeat(4091)}`)]);
    expect(decode([utf8(`STOR ${'x'.repeat(4092)}\r\n`)])).toEqual([tooLong]);
  });

  it('a long line followed by many short ones in one large chunk', () => {
    const input = utf8(`${'y'.repeat(5000)}\r\n${'NOOP\r\n'.repeat(1000)}STOR ${'é'.repeat(2100)}\r\nPWD\r\n`);
    expect(decode([input])).toEqual([tooLong, ...Array.from({ length: 1000 }, () => line('NOOP')), tooLong, line('PWD')]);
  });

  it('reset() forgets a partial line and Telnet state', () => {
    const d = new CommandDecoder();
    d.push(wire('RETR x', [IAC, 250]));
    d.reset();
    expect(d.push(utf8('NOOP\r\n'))).toEqual([line('NOOP')]);
  });

  it.each([
    [{ maxLineLength: 15 }],
    [{ maxLineLength: 1.5 }],
    [{ maxLineLength: Number.NaN }],
    [{ invalidUtf8: 'replace' as 'reject' }],
  ])('refuses option %j with ERR_COMMAND_OPTION_INVALID', (opts) => {
    expect(() => new CommandDecoder(opts)).toThrow(expect.objectContaining({ code: 'ERR_COMMAND_OPTION_INVALID' }));
  });

  it('TRANSITIONS covers every state and byte class', () => {
    expect(Object.keys(TRANSITIONS)).toEqual(['DATA', 'CR', 'IAC', 'OPT', 'SB', 'SB_IAC', 'SYNCH', 'ABOR_CR']);
    for (const row of Object.values(TRANSITIONS)) {
      expect(row).toHaveLength(11);
      for (const [next] of row) expect(Object.keys(TRANSITIONS)).toContain(next);
    }
  });

  describe('properties', () => {
    const interesting = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom('NOOP', 'RETR a b', 'ABOR', 'abor', '\r', '\n', '\r\n', ' ', 'é', '🐱', 'x'.repeat(20)),
            fc.constantFrom([IAC], [IAC, IAC], [IAC, 244], [IAC, 242], [242], [244], [IAC, 251], [IAC, 253], [IAC, 250], [IAC, 240], [0], [0xe9], [0xf0, 0x9f]),
          ),
          { maxLength: 30 },
        )
        .map((parts) => wire(...parts)),
    );
    const opts = fc.record({ maxLineLength: fc.integer({ min: 16, max: 40 }), invalidUtf8: fc.constantFrom('reject' as const, 'latin1' as const) });

    it('never throws on arbitrary bytes, and stays within the limit', () => {
      fc.assert(
        fc.property(interesting, opts, (input, o) => {
          const d = new CommandDecoder(o);
          for (let i = 0; i < input.length; i += 5) {
            d.push(input.subarray(i, i + 5));
            expect(d.bufferedBytes).toBeLessThanOrEqual(o.maxLineLength + 1);
          }
        }),
      );
    });

    it('gives the same events however the bytes are chunked', () => {
      fc.assert(
        fc.property(interesting, opts, fc.array(fc.nat({ max: 130 }), { maxLength: 8 }), (input, o, cuts) => {
          expect(decode(cutAt(input, cuts), o)).toEqual(decode([input], o));
        }),
        { numRuns: Number(process.env.FC_RUNS ?? 300) },
      );
    });

    it('decodes what encodeCommand encodes, whatever the chunking', () => {
      const argText = fc
        .array(fc.constantFrom('a', ' ', '"', '\r', '\n', '\0', 'é', '日', '🐱', '\uFEFF', '-'), { maxLength: 10 })
        .map((a) => a.join(''));
      const command = fc.record({ verb: fc.constantFrom('RETR', 'STOR', 'CWD', 'noop', 'Mkd'), arg: fc.option(argText, { nil: undefined }) });
      fc.assert(
        fc.property(fc.array(command, { minLength: 1, maxLength: 6 }), fc.array(fc.nat({ max: 200 }), { maxLength: 6 }), (cmds, cuts) => {
          const input = utf8(cmds.map((x) => encodeCommand(x.verb, x.arg)).join(''));
          const expected = cmds.map((x) => line(x.arg === undefined ? x.verb : `${x.verb} ${x.arg.replaceAll('\n', '\0')}`));
          expect(decode(cutAt(input, cuts))).toEqual(expected);
        }),
      );
    });
  });
});
