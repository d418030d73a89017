import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMlstFeat,
  formatMlstOptsReply,
  formatTimeVal,
  parseEprtArg,
  parseEpsvArg,
  parseHostArg,
  parseMfmtArg,
  parseMlstOptions,
  parseModeArg,
  parseOptsArg,
  parsePortArg,
  parseRestArg,
  parseStruArg,
  parseTimeVal,
  parseTypeArg,
  parseAlloArg,
  parseUtf8Option,
  selectMlstFacts,
  type Result,
} from '../src/index.js';

const refused = (code: string, replyCode: number, message: string | ReturnType<typeof expect.any> = expect.any(String)): Result<never> => ({
  ok: false,
  error: { code, replyCode, message },
});
const MISSING = refused('ERR_ARG_MISSING', 501, 'Invalid number of parameters');

describe('parsePortArg (RFC 959 §4.1.2; ProFTPD reference §3.3, §9.1)', () => {
  it.each([
    ['127,0,0,1,234,96', '127.0.0.1', 60000],
    ['10,1,2,3,234,96', '10.1.2.3', 60000],
    ['192,168,0,1,0,1', '192.168.0.1', 1],
    ['255,255,255,255,255,255', '255.255.255.255', 65535],
    ['001,002,003,004,000,021', '1.2.3.4', 21],
    ['0,0,0,1,4,1', '0.0.0.1', 1025],
  ])('%s → %s:%d', (arg, host, port) => {
    expect(parsePortArg(arg)).toEqual({ ok: true, value: { host, port } });
  });

  const ILLEGAL = 'Illegal PORT command';
  it.each([
    ['1,2,3', 'ERR_PORT_SYNTAX'],
    ['1,2,3,4,5', 'ERR_PORT_SYNTAX'],
    ['1,2,3,4,5,6,7', 'ERR_PORT_SYNTAX'],
    ['1, 2,3,4,5,6', 'ERR_PORT_SYNTAX'],
    ['1,2,3,4,5,6 ', 'ERR_PORT_SYNTAX'],
    ['1,2,3,4,5,6x', 'ERR_PORT_SYNTAX'],
    ['-1,2,3,4,5,6', 'ERR_PORT_SYNTAX'],
    ['1.2.3.4,5,6', 'ERR_PORT_SYNTAX'],
    ['1,2,3,4,5,1000', 'ERR_PORT_SYNTAX'],
    ['a,b,c,d,e,f', 'ERR_PORT_SYNTAX'],
    ['100,200,300,400,1,2', 'ERR_PORT_VALUE'],
    ['1,2,3,4,256,1', 'ERR_PORT_VALUE'],
    ['127,0,0,1,0,0', 'ERR_PORT_VALUE'],
    ['0,0,0,0,234,96', 'ERR_PORT_VALUE'],
  ])('%j → 501 %s', (arg, code) => {
    expect(parsePortArg(arg)).toEqual(refused(code, 501, ILLEGAL));
  });

  it.each([[undefined], ['']])('%j → 501 Invalid number of parameters', (arg) => {
    expect(parsePortArg(arg)).toEqual(MISSING);
  });

  it('reads back every address and port it can carry (property)', () => {
    fc.assert(
      fc.property(fc.ipV4().filter((ip) => ip !== '0.0.0.0'), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
        expect(parsePortArg(`${ip.replaceAll('.', ',')},${port >> 8},${port & 255}`)).toEqual({ ok: true, value: { host: ip, port } });
      }),
    );
  });
});

describe('parseEprtArg (RFC 2428 §2; ProFTPD reference §3.4, §9.1)', () => {
  it.each([
    ['|1|127.0.0.1|60123|', 1, '127.0.0.1', 60123],
    [',1,127.0.0.1,60123,', 1, '127.0.0.1', 60123],
    ['!1!132.235.1.2!6275!', 1, '132.235.1.2', 6275],
    ['|2|::1|60123|', 2, '::1', 60123],
    ['|2|1080::8:800:200C:417A|5282|', 2, '1080::8:800:200c:417a', 5282],
    ['|2|::ffff:127.0.0.1|60123|', 2, '::ffff:127.0.0.1', 60123],
    ['|2|::FFFF:7f00:1|60123|', 2, '::ffff:127.0.0.1', 60123],
    ['|2|2001:db8:0:0:0:0:0:1|1|', 2, '2001:db8::1', 1],
    ['~1~10.0.0.1~65535~', 1, '10.0.0.1', 65535],
  ])('%s', (arg, family, host, port) => {
    expect(parseEprtArg(arg)).toEqual({ ok: true, value: { family, host, port } });
  });

  const ILLEGAL = 'Illegal EPRT command';
  const NOT_SUPPORTED = 'Network protocol not supported, use (1,2)';
  it.each([
    ['|3|127.0.0.1|60123|', 'ERR_FAMILY_UNSUPPORTED', 522, NOT_SUPPORTED],
    ['|x|127.0.0.1|60123|', 'ERR_FAMILY_UNSUPPORTED', 522, NOT_SUPPORTED],
    ['||127.0.0.1|60123|', 'ERR_FAMILY_UNSUPPORTED', 522, NOT_SUPPORTED],
    ['|01|127.0.0.1|60123|', 'ERR_FAMILY_UNSUPPORTED', 522, NOT_SUPPORTED],
    ['|', 'ERR_FAMILY_UNSUPPORTED', 522, NOT_SUPPORTED],
    ['|1|127.0.0.1|60123', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    ['|1|127.0.0.1|60123|x', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    ['|1|127.0.0.1|60123||', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    ['|1|127.0.0.1', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    [' 1 127.0.0.1 60123 ', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    ['\x7f1\x7f127.0.0.1\x7f60123\x7f', 'ERR_EPRT_SYNTAX', 501, ILLEGAL],
    ['|1|300.1.1.1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|1|127.0.0|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|1|0x7f.0.0.1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|1|127.000.0.1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|1|::1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|2|127.0.0.1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|2|fe80::1%eth0|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|2|[::1]|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|2| ::1|60123|', 'ERR_EPRT_ADDRESS', 501, ILLEGAL],
    ['|1|127.0.0.1|0|', 'ERR_EPRT_PORT', 501, ILLEGAL],
    ['|1|127.0.0.1|65536|', 'ERR_EPRT_PORT', 501, ILLEGAL],
    ['|1|127.0.0.1|-1|', 'ERR_EPRT_PORT', 501, ILLEGAL],
    ['|1|127.0.0.1|+80|', 'ERR_EPRT_PORT', 501, ILLEGAL],
    ['|1|127.0.0.1||', 'ERR_EPRT_PORT', 501, ILLEGAL],
    ['|1|127.0.0.1|000000080|', 'ERR_EPRT_PORT', 501, ILLEGAL],
  ])('%j → %s', (arg, code, replyCode, message) => {
    expect(parseEprtArg(arg)).toEqual(refused(code, replyCode, message));
  });

  it('names the accepted families in 522', () => {
    expect(parseEprtArg('|2|::1|60123|', { families: [1] })).toEqual(refused('ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1)'));
    expect(parseEprtArg('|1|127.0.0.1|60123|', { families: [1] }).ok).toBe(true);
  });

  it.each([[undefined], ['']])('%j → 501 Invalid number of parameters', (arg) => {
    expect(parseEprtArg(arg)).toEqual(MISSING);
  });

  const delimiter = fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c)).filter((d) => !/[\d.:a-fA-F]/.test(d));
  it('reads back any IPv4 address with any delimiter (property)', () => {
    fc.assert(
      fc.property(delimiter, fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (d, ip, port) => {
        expect(parseEprtArg(`${d}1${d}${ip}${d}${port}${d}`)).toEqual({ ok: true, value: { family: 1, host: ip, port } });
      }),
    );
  });

  it('reads back any IPv6 address, normalised (property)', () => {
    fc.assert(
      fc.property(delimiter, fc.ipV6(), fc.integer({ min: 1, max: 65535 }), (d, ip, port) => {
        const r = parseEprtArg(`${d}2${d}${ip}${d}${port}${d}`);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(r.value.port).toBe(port);
          // the normal form parses back to itself
          expect(parseEprtArg(`|2|${r.value.host}|${port}|`)).toEqual(r);
        }
      }),
    );
  });
});

describe('parseEpsvArg (RFC 2428 §3-§4; ProFTPD reference §3.2)', () => {
  it.each([
    [undefined, { kind: 'any' }],
    ['', { kind: 'any' }],
    ['1', { kind: 'family', family: 1 }],
    ['2', { kind: 'family', family: 2 }],
    ['ALL', { kind: 'all' }],
    ['all', { kind: 'all' }],
    ['All', { kind: 'all' }],
  ])('%j', (arg, value) => {
    expect(parseEpsvArg(arg)).toEqual({ ok: true, value });
  });

  it.each([
    ['3', 'ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1,2)'],
    ['0', 'ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1,2)'],
    ['01', 'ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1,2)'],
    ['99999999999999999999', 'ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1,2)'],
    ['foo', 'ERR_EPSV_SYNTAX', 501, 'EPSV: unknown network protocol'],
    ['1 ', 'ERR_EPSV_SYNTAX', 501, 'EPSV: unknown network protocol'],
    ['-1', 'ERR_EPSV_SYNTAX', 501, 'EPSV: unknown network protocol'],
    ['ALL x', 'ERR_EPSV_SYNTAX', 501, 'EPSV: unknown network protocol'],
  ])('%j → %s', (arg, code, replyCode, message) => {
    expect(parseEpsvArg(arg)).toEqual(refused(code, replyCode, message));
  });

  it('respects the accepted families', () => {
    expect(parseEpsvArg('2', { families: [1] })).toEqual(refused('ERR_FAMILY_UNSUPPORTED', 522, 'Network protocol not supported, use (1)'));
  });
});

describe('parseTypeArg (RFC 959 §4.1.2, ProFTPD 1.3.8 mod_xfer on the wire)', () => {
  it.each([
    ['A', 'A'],
    ['a', 'A'],
    ['A N', 'A'],
    ['a n', 'A'],
    ['A  N', 'A'],
    ['A T', 'A'],
    ['A C', 'A'],
    ['L 7', 'A'],
    ['I', 'I'],
    ['i', 'I'],
    ['I X', 'I'],
    ['L 8', 'I'],
    ['l 8', 'I'],
  ])('%j → %s', (arg, type) => {
    expect(parseTypeArg(arg)).toEqual({ ok: true, value: { type } });
  });

  // ProFTPD names the type word only: `TYPE L 16` → `TYPE not implemented for 'L' parameter`.
  it.each([
    ['E', 'E'],
    ['E N', 'E'],
    ['L', 'L'],
    ['L 16', 'L'],
    ['L x', 'L'],
    ['AB', 'AB'],
    ['binary', 'binary'],
    ['X', 'X'],
    ['Q', 'Q'],
  ])('%j → 504 naming %j', (arg, word) => {
    expect(parseTypeArg(arg)).toEqual(refused('ERR_TYPE_UNSUPPORTED', 504, `TYPE not implemented for '${word}' parameter`));
  });

  it('no argument or three words → 500 not understood', () => {
    expect(parseTypeArg(undefined)).toEqual(refused('ERR_TYPE_SYNTAX', 500, "'TYPE' not understood"));
    expect(parseTypeArg('')).toEqual(refused('ERR_TYPE_SYNTAX', 500, "'TYPE' not understood"));
    expect(parseTypeArg('A N X')).toEqual(refused('ERR_TYPE_SYNTAX', 500, "'TYPE A N X' not understood"));
  });
});

describe('parseModeArg / parseStruArg (RFC 959 §4.1.2)', () => {
  it.each([['S'], ['s']])('MODE %s', (arg) => expect(parseModeArg(arg)).toEqual({ ok: true, value: 'S' }));
  it.each([['B'], ['C']])('MODE %s → 504', (arg) => expect(parseModeArg(arg)).toEqual(refused('ERR_MODE_UNSUPPORTED', 504, `'MODE ${arg}' unsupported transfer mode`)));
  it.each([['X'], ['SS'], ['stream'], ['Z']])('MODE %s → 501', (arg) => expect(parseModeArg(arg)).toEqual(refused('ERR_MODE_SYNTAX', 501, `'MODE ${arg}' unrecognized transfer mode`)));
  it.each([['F'], ['f']])('STRU %s', (arg) => expect(parseStruArg(arg)).toEqual({ ok: true, value: 'F' }));
  it.each([['R'], ['p']])('STRU %s → 504', (arg) => expect(parseStruArg(arg)).toEqual(refused('ERR_STRU_UNSUPPORTED', 504, `'STRU ${arg}' unsupported structure type`)));
  it.each([['X'], ['FF']])('STRU %s → 501', (arg) => expect(parseStruArg(arg)).toEqual(refused('ERR_STRU_SYNTAX', 501, `'STRU ${arg}' unrecognized structure type`)));
  it('no argument or more than one word → 501 not understood (ProFTPD)', () => {
    expect(parseModeArg(undefined)).toEqual(refused('ERR_MODE_SYNTAX', 501, "'MODE' not understood"));
    expect(parseModeArg('S X')).toEqual(refused('ERR_MODE_SYNTAX', 501, "'MODE S X' not understood"));
    expect(parseStruArg('')).toEqual(refused('ERR_STRU_SYNTAX', 501, "'STRU' not understood"));
    expect(parseStruArg('F F')).toEqual(refused('ERR_STRU_SYNTAX', 501, "'STRU F F' not understood"));
  });
});

describe('parseAlloArg (ProFTPD 1.3.8 mod_xfer on the wire)', () => {
  it.each([['100', 100], ['-1', -1], ['100 R 10', 100]])('%j → %d', (arg, n) => expect(parseAlloArg(arg)).toEqual({ ok: true, value: n }));
  it('no argument or two words → 504 not understood', () => {
    expect(parseAlloArg(undefined)).toEqual(refused('ERR_ALLO_SYNTAX', 504, "'ALLO' not understood"));
    expect(parseAlloArg('5 R')).toEqual(refused('ERR_ALLO_SYNTAX', 504, "'ALLO 5 R' not understood"));
  });
  it('a size that is not a number → 504 <size>: Invalid ALLO argument', () => {
    expect(parseAlloArg('abc')).toEqual(refused('ERR_ALLO_INVALID', 504, 'abc: Invalid ALLO argument'));
  });
});

describe('parseRestArg (RFC 3659 §5)', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    ['0000123', 123],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('%j → %d', (arg, n) => expect(parseRestArg(arg)).toEqual({ ok: true, value: n }));

  it.each([['9007199254740992'], ['99999999999999999999'], ['-1'], ['+1'], ['1.5'], ['1e3'], [' 1'], ['1 '], ['0x10'], ['abc']])('%j → 501', (arg) => {
    expect(parseRestArg(arg)).toEqual(refused('ERR_REST_INVALID', 501, 'Invalid REST parameter'));
  });

  it('reads back every safe integer (property)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      expect(parseRestArg(String(n))).toEqual({ ok: true, value: n });
    }));
  });
});

describe('OPTS (RFC 2389 §4) and MLST facts (RFC 3659 §7.8-§7.9)', () => {
  it.each([
    ['UTF8 ON', 'UTF8', 'ON'],
    ['utf8 on', 'UTF8', 'on'],
    ['MLST type;size;', 'MLST', 'type;size;'],
    ['MLST', 'MLST', undefined],
    ['MLST ', 'MLST', ''],
  ])('OPTS %j', (arg, command, options) => {
    expect(parseOptsArg(arg)).toEqual({ ok: true, value: { command, options } });
  });

  it.each([[undefined], [''], ['  ']])('OPTS %j → 501', (arg) => expect(parseOptsArg(arg)).toEqual(MISSING));

  it.each([
    ['ON', true],
    ['on', true],
    [' ON ', true],
    ['yes', true],
    ['OFF', false],
    ['off', false],
    ['NO', false],
  ])('OPTS UTF8 %j', (o, on) => expect(parseUtf8Option(o)).toEqual({ ok: true, value: on }));

  it.each([[undefined], [''], ['ON X']])('OPTS UTF8 %j → 501 not understood (ProFTPD)', (o) =>
    expect(parseUtf8Option(o)).toEqual(refused('ERR_OPTS_UTF8_SYNTAX', 501, "'OPTS UTF8' not understood")),
  );

  it('OPTS UTF8 MAYBE → 501', () => expect(parseUtf8Option('MAYBE')).toEqual(refused('ERR_OPTS_UTF8_INVALID', 501, 'Invalid UTF8 option')));

  it('selects the supported facts a client asks for', () => {
    const supported = ['type', 'size', 'modify', 'perm', 'UNIX.mode'];
    expect(parseMlstOptions('Type;SIZE;unknown;unix.MODE;')).toEqual(['Type', 'SIZE', 'unknown', 'unix.MODE']);
    expect(selectMlstFacts(parseMlstOptions('Type;SIZE;unknown;unix.MODE;'), supported)).toEqual(['type', 'size', 'UNIX.mode']);
    expect(selectMlstFacts(parseMlstOptions(''), supported)).toEqual([]);
    expect(selectMlstFacts(parseMlstOptions(undefined), supported)).toEqual([]);
  });

  it('formats the FEAT line and the OPTS reply', () => {
    expect(formatMlstFeat(['type', 'size', 'modify', 'perm'], ['type', 'SIZE'])).toBe('MLST type*;size*;modify;perm;');
    expect(formatMlstOptsReply(['type', 'size'])).toBe('MLST OPTS type;size;');
    expect(formatMlstOptsReply([])).toBe('MLST OPTS ');
  });
});

describe('parseHostArg (RFC 7151 §3; ProFTPD reference §9.5)', () => {
  it.each([
    ['127.0.0.1', 'ipv4', '127.0.0.1'],
    ['[::1]', 'ipv6', '::1'],
    ['[2001:DB8::1]', 'ipv6', '2001:db8::1'],
    ['ftp.Example.COM', 'name', 'ftp.example.com'],
    ['ftp.example.com.', 'name', 'ftp.example.com'],
    ['localhost', 'name', 'localhost'],
    ['a-b.c1', 'name', 'a-b.c1'],
  ])('%j', (arg, kind, host) => expect(parseHostArg(arg)).toEqual({ ok: true, value: { kind, host } }));

  it.each([['127.0.0.1:2130'], ['::1'], ['[::1]:21'], ['[fe80::1%eth0]'], ['[127.0.0.1]'], ['-bad.example'], ['bad-.example'], ['a..b'], ['1.2.3'], ['127.000.0.1'], ['ex ample'], ['.'], ['x'.repeat(64)]])(
    '%j → 501',
    (arg) => expect(parseHostArg(arg)).toEqual(refused('ERR_HOST_INVALID', 501, `${arg}: Invalid hostname provided`)),
  );
});

describe('time-val (RFC 3659 §2.3)', () => {
  it.each([
    ['19700101000000', 0],
    ['20260822123456', Date.UTC(2026, 7, 22, 12, 34, 56)],
    ['20240229000000', Date.UTC(2024, 1, 29)],
    ['20260822123456.789', Date.UTC(2026, 7, 22, 12, 34, 56, 789)],
    ['20260822123456.7', Date.UTC(2026, 7, 22, 12, 34, 56, 700)],
    ['20260822123456.123456789', Date.UTC(2026, 7, 22, 12, 34, 56, 123)],
  ])('%s', (s, ms) => expect(parseTimeVal(s)).toEqual({ ok: true, value: ms }));

  it.each([['2026082212345'], ['202608221234567'], ['20261301000000'], ['20230229000000'], ['20260822246000'], ['20260822125960'], ['20260822123456.'], ['2026-08-22'], ['']])('%j → 501', (s) => {
    expect(parseTimeVal(s)).toEqual(refused('ERR_TIME_INVALID', 501, 'Invalid time value'));
  });

  it('formats and reads back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        expect(parseTimeVal(formatTimeVal(ms, { millis: true }))).toEqual({ ok: true, value: ms });
        expect(parseTimeVal(formatTimeVal(ms))).toEqual({ ok: true, value: ms - (ms % 1000) });
      }),
    );
  });

  it('formatTimeVal refuses times outside the years 0-9999', () => {
    expect(() => formatTimeVal(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_COMMAND_TIME_INVALID' }));
    expect(() => formatTimeVal(Date.UTC(10000, 0, 1))).toThrow(expect.objectContaining({ code: 'ERR_COMMAND_TIME_INVALID' }));
  });

  it('MFMT arguments', () => {
    expect(parseMfmtArg('20260822123456 my file.txt')).toEqual({ ok: true, value: { time: Date.UTC(2026, 7, 22, 12, 34, 56), path: 'my file.txt' } });
    expect(parseMfmtArg('20260822123456')).toEqual(MISSING);
    expect(parseMfmtArg('20260822123456 ')).toEqual(MISSING);
    expect(parseMfmtArg('2026 x')).toEqual(refused('ERR_TIME_INVALID', 501, 'Invalid time value'));
  });
});

it('no argument parser throws, whatever the client sends (property)', () => {
  const parsers = [parsePortArg, parseEprtArg, parseEpsvArg, parseTypeArg, parseModeArg, parseStruArg, parseRestArg, parseOptsArg, parseUtf8Option, parseHostArg, parseMfmtArg];
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('|', '1', '2', ':', '.', ',', ' ', 'a', '[', ']', '%', '\0', '9') })), (s) => {
      for (const p of parsers) {
        const r = p(s);
        if (!r.ok) expect([500, 501, 504, 522]).toContain(r.error.replyCode);
      }
      parseTimeVal(s);
      parseMlstOptions(s);
    }),
  );
});
