/**
 * Fuzzing @ftpkit/command: the streaming decoder and every argument parser, with random
 * bytes, protocol token streams and mutated real sessions, under random chunkings.
 */
import fc from 'fast-check';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { describe, expect, test } from 'vitest';
import {
  CommandDecoder, asciiUpper, encodeCommand, lookupCommand, parseCommand, parseEprtArg, parseEpsvArg, parseHostArg, parseMfmtArg,
  parseModeArg, parseOptsArg, parsePortArg, parseRestArg, parseStruArg, parseTimeVal, parseTypeArg, parseUtf8Option,
  type CommandEvent, type CommandDecoderOptions,
} from '@ftpkit/command';
import { announce, check, wellFormed } from '../lib/fuzz.js';
import { chunking, concat, hostileStream, split, utf8 } from '../lib/bytes.js';

announce('command.fuzz');

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const decoderOptions: fc.Arbitrary<CommandDecoderOptions> = fc.record({
  maxLineLength: fc.oneof(fc.integer({ min: 16, max: 96 }), fc.constant(4096)),
  invalidUtf8: fc.constantFrom<'reject' | 'latin1'>('reject', 'latin1'),
});

/** Feeds `chunks` to one decoder; checks the memory bound after every push. */
function run(chunks: readonly Uint8Array[], opts: CommandDecoderOptions): CommandEvent[] {
  const d = new CommandDecoder(opts);
  const max = opts.maxLineLength ?? 4096;
  const events: CommandEvent[] = [];
  for (const c of chunks) {
    events.push(...d.push(c));
    if (d.bufferedBytes > max + 1) throw new Error(`decoder holds ${d.bufferedBytes} bytes > maxLineLength + 1 (${max + 1})`);
  }
  return events;
}

/** Every event is one the README documents, within the documented limits. */
function assertWellFormed(events: readonly CommandEvent[], opts: CommandDecoderOptions): void {
  const max = opts.maxLineLength ?? 4096;
  for (const e of events) {
    const show = JSON.stringify(e);
    if (e.kind === 'line') {
      ok(!e.line.includes('\n'), `a line holds a LF: ${show}`);
      ok(typeof e.urgent === 'boolean', show);
      if (e.latin1) {
        ok(opts.invalidUtf8 === 'latin1', `latin1 line in reject mode: ${show}`);
        ok(e.line.length <= max, `latin1 line longer than ${max}: ${show}`);
        ok(/^[\u0000-\u00ff]*$/.test(e.line), `latin1 line with a code point above U+00FF: ${show}`);
      } else {
        ok(wellFormed(e.line), `line with a lone surrogate: ${show}`);
        ok(utf8(e.line).length <= max, `line longer than ${max} bytes: ${show}`);
      }
    } else if (e.kind === 'error') {
      const pair = `${e.error.code} ${e.error.replyCode}`;
      ok(pair === 'ERR_COMMAND_TOO_LONG 500' || (pair === 'ERR_COMMAND_ENCODING 501' && opts.invalidUtf8 !== 'latin1'), `unexpected error: ${show}`);
      ok(e.error.message.length > 0, show);
    } else {
      ok(e.kind === 'telnet', `unknown event: ${show}`);
      // Only WONT / DONT: every option is refused.
      ok(e.response.length === 3 && e.response[0] === 255 && (e.response[1] === 252 || e.response[1] === 254), `bad Telnet answer: ${show}`);
    }
  }
}

describe('CommandDecoder under hostile input', () => {
  test('never throws, holds at most maxLineLength + 1 bytes, emits only documented events', () => {
    check('command: robust', 3, [hostileStream(48), chunking, decoderOptions], (input, sizes, opts) => {
      assertWellFormed(run(split(input, sizes), opts), opts);
    });
  });

  test('gives the same events whole, byte by byte and split anywhere', () => {
    check('command: chunking', 1.5, [hostileStream(24), chunking, decoderOptions], (input, sizes, opts) => {
      const whole = run([input], opts);
      deepStrictEqual(run(split(input, sizes), opts), whole);
      deepStrictEqual(run(split(input, [1]), opts), whole);
    });
  });

  test('every split point of a short stream gives the same events', () => {
    const short = hostileStream(8).map((b) => b.subarray(0, 160));
    check('command: every split point', 0.3, [short, decoderOptions], (input, opts) => {
      const whole = run([input], opts);
      for (let cut = 1; cut < input.length; cut++) deepStrictEqual(run([input.subarray(0, cut), input.subarray(cut)], opts), whole, `split at ${cut}`);
    });
  });

  test('matches a plain line-splitting model when there is no Telnet, CR or NUL', () => {
    // Bytes other than NUL, CR and IAC, with LF or CRLF line ends: a line is what lies between them.
    const plainByte = fc.oneof(fc.integer({ min: 1, max: 254 }).filter((b) => b !== 13), fc.constantFrom(0x41, 0x20, 0xc3, 0xa9, 0xe6, 0x97, 0xa5));
    const plain = fc.array(fc.oneof({ weight: 12, arbitrary: plainByte.map((b) => [b]) }, { weight: 1, arbitrary: fc.constant([13, 10]) }), { maxLength: 400 })
      .map((a) => Uint8Array.from(a.flat()));
    check('command: line model', 1, [plain, chunking, decoderOptions], (input, sizes, opts) => {
      const max = opts.maxLineLength ?? 4096;
      const expected: unknown[] = [];
      let start = 0;
      for (let i = 0; i <= input.length; i++) {
        if (i < input.length && input[i] !== 10) continue;
        const segment = input.subarray(start, i);
        if (i === input.length) {
          if (segment.length > max + 1) expected.push({ kind: 'error', error: expect.objectContaining({ code: 'ERR_COMMAND_TOO_LONG' }) });
          break;
        }
        const body = segment.at(-1) === 13 ? segment.subarray(0, -1) : segment;
        if (body.length > max) expected.push({ kind: 'error', error: expect.objectContaining({ code: 'ERR_COMMAND_TOO_LONG', replyCode: 500 }) });
        else {
          let line: string | undefined;
          try { line = STRICT_UTF8.decode(body); } catch { line = undefined; }
          if (line !== undefined) expected.push({ kind: 'line', line, urgent: false });
          else if (opts.invalidUtf8 === 'latin1') expected.push({ kind: 'line', line: String.fromCharCode(...body), urgent: false, latin1: true });
          else expected.push({ kind: 'error', error: expect.objectContaining({ code: 'ERR_COMMAND_ENCODING', replyCode: 501 }) });
        }
        start = i + 1;
      }
      expect(run(split(input, sizes), opts)).toEqual(expected);
    });
  });

  test('encodeCommand output decodes to exactly one command, whatever the argument holds', () => {
    const verb = fc.stringMatching(/^[A-Za-z]{1,16}$/);
    const arg = fc.option(fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('\r', '\n', '\0', '\r\n', ' ', '\xff', 'ABOR')), { maxLength: 8 }).map((a) => a.join('')), { nil: undefined });
    check('command: encode round trip', 1, [verb, arg, fc.boolean(), chunking], (v, a, urgent, sizes) => {
      const prefix = urgent ? Uint8Array.of(255, 244, 255, 242) : new Uint8Array(0);
      const events = run(split(concat([prefix, utf8(encodeCommand(v, a))]), sizes), {});
      expect(events).toHaveLength(1);
      const [e] = events;
      if (e?.kind !== 'line') throw new Error(`expected a line, got ${JSON.stringify(e)}`);
      expect(e.urgent).toBe(urgent);
      const parsed = parseCommand(e.line);
      expect(parsed.verb).toBe(asciiUpper(v));
      // A CR travels as CR NUL and comes back; a LF travels as NUL (it can never end the line).
      // An argument of spaces only is no argument (ProFTPD: `PWD   ` is `PWD`).
      expect(parsed.arg).toBe(a === undefined ? undefined : /^ *$/.test(a) ? '' : a.replace(/\n/g, '\0'));
    });
  });
});

describe('parseCommand and the catalogue', () => {
  test('split the line at its first blank after leading blanks, upper-casing ASCII letters of the verb only', () => {
    const blanky = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom(' ', '\t', '  ', ' \t ')), { maxLength: 8 }).map((a) => a.join(''));
    check('command: parseCommand', 1, [fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), blanky)], (line) => {
      const { verb, arg } = parseCommand(line);
      // The model ProFTPD's command reader follows: leading blanks are skipped, a space or a
      // tab ends the verb, and an argument of spaces only is no argument ('').
      const rest = line.replace(/^[ \t]+/, '');
      const sp = rest.search(/[ \t]/);
      if (sp === -1) {
        expect(arg).toBeUndefined();
        expect(verb).toBe(asciiUpper(rest));
      } else {
        expect(verb).toBe(asciiUpper(rest.slice(0, sp)));
        const after = rest.slice(sp + 1);
        expect(arg).toBe(/^ *$/.test(after) ? '' : after);
      }
      expect(verb.toLowerCase()).toBe(asciiUpper(verb).toLowerCase());
      const spec = lookupCommand(verb);
      if (spec !== undefined) expect(spec.verb).toMatch(/^[A-Z]+$/);
    });
  });
});

describe('argument parsers under hostile input', () => {
  const hostileArg: fc.Arbitrary<string | undefined> = fc.oneof(
    fc.constant(undefined),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.stringMatching(/^[|,.:0-9a-fA-F ]{0,40}$/),
    fc.array(fc.oneof(fc.nat({ max: 70000 }).map(String), fc.constantFrom('-1', '+1', '0x10', '1e3', '00001', '4294967297', '', ' 1', '1 ', 'NaN')), { maxLength: 8 })
      .chain((parts) => fc.constantFrom(',', '|', '.', ' ').map((d) => parts.join(d))),
    fc.tuple(fc.constantFrom('|', '!', ',', '~', '1', ' ', ''), fc.constantFrom('1', '2', '3', 'x', ''), fc.constantFrom('127.0.0.1', '::1', '::ffff:127.0.0.1', 'fe80::1%eth0', '300.1.1.1', '1.2.3', '', '0.0.0.0'), fc.constantFrom('60123', '0', '65536', '-1', '', '99999999999'))
      .map(([d, af, a, p]) => `${d}${af}${d}${a}${d}${p}${d}`),
  );
  type AnyResult = { ok: true; value: unknown } | { ok: false; error: { code: string; replyCode: number; message: string } };
  const parsers: Record<string, [(arg: string | undefined) => AnyResult, number[]]> = {
    PORT: [parsePortArg, [501]],
    EPRT: [parseEprtArg, [501, 522]],
    EPSV: [parseEpsvArg, [501, 522]],
    TYPE: [parseTypeArg, [500, 501, 504]],
    MODE: [parseModeArg, [501, 504]],
    STRU: [parseStruArg, [501, 504]],
    REST: [parseRestArg, [501]],
    OPTS: [parseOptsArg, [501]],
    HOST: [parseHostArg, [501]],
    MFMT: [parseMfmtArg, [501]],
    'OPTS UTF8': [parseUtf8Option as (a: string | undefined) => AnyResult, [501]],
  };

  test('never throw and refuse with a documented reply code', () => {
    check('command: parsers never throw', 2, [hostileArg], (arg) => {
      for (const [name, [parse, codes]] of Object.entries(parsers)) {
        const r = parse(arg);
        if (!r.ok) {
          ok(codes.includes(r.error.replyCode) && /^ERR_[A-Z0-9_]+$/.test(r.error.code) && r.error.message.length > 0, `${name} ${JSON.stringify(arg)} → ${JSON.stringify(r.error)}`);
        }
      }
      if (arg !== undefined) {
        const t = parseTimeVal(arg);
        if (t.ok) ok(Number.isFinite(t.value), `parseTimeVal(${JSON.stringify(arg)}) → ${t.value}`);
      }
    });
  });

  test('PORT: what is accepted is an address and port a socket can use; every valid one is accepted', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    check('command: PORT', 1, [fc.tuple(octet, octet, octet, octet, octet, octet), hostileArg], (fields, noise) => {
      const [a, b, c, d, p1, p2] = fields;
      const r = parsePortArg(fields.join(','));
      const valid = (a | b | c | d) !== 0 && (p1 | p2) !== 0;
      expect(r.ok).toBe(valid);
      if (r.ok) expect(r.value).toEqual({ host: `${a}.${b}.${c}.${d}`, port: p1 * 256 + p2 });
      const n = parsePortArg(noise);
      if (n.ok) {
        expect(n.value.host).toMatch(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
        expect(n.value.host.split('.').every((o) => Number(o) <= 255)).toBe(true);
        expect(n.value.port).toBeGreaterThanOrEqual(1);
        expect(n.value.port).toBeLessThanOrEqual(65535);
        const [h1, h2, h3, h4] = n.value.host.split('.');
        expect(parsePortArg(`${h1},${h2},${h3},${h4},${n.value.port >> 8},${n.value.port & 255}`)).toEqual(n);
      }
    });
  });

  test('EPRT: any delimiter, both families, the port range; no accepted value is out of range', () => {
    const delim = fc.integer({ min: 33, max: 126 }).map((c) => String.fromCharCode(c)).filter((c) => !/[0-9a-fA-F.:]/.test(c));
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    check('command: EPRT', 1, [delim, fc.oneof(v4.map((h) => [1, h] as const), fc.ipV6().map((h) => [2, h] as const)), fc.integer({ min: 0, max: 70000 }), hostileArg], (d, [af, host], port, noise) => {
      const r = parseEprtArg(`${d}${af}${d}${host}${d}${port}${d}`);
      if (port >= 1 && port <= 65535) {
        if (!r.ok) throw new Error(`refused ${d}${af}${d}${host}${d}${port}${d}: ${r.error.message}`);
        expect(r.value.family).toBe(af);
        expect(r.value.port).toBe(port);
        if (af === 1) expect(r.value.host).toBe(host);
      } else expect(r.ok).toBe(false);
      const n = parseEprtArg(noise);
      if (n.ok) {
        expect([1, 2]).toContain(n.value.family);
        expect(n.value.port).toBeGreaterThanOrEqual(1);
        expect(n.value.port).toBeLessThanOrEqual(65535);
        expect(n.value.host).not.toMatch(/[%\s]/);
      }
    });
  });

  test('REST accepts exactly the decimal numbers 0 … 2^53−1', () => {
    const rest = fc.oneof(fc.stringMatching(/^[0-9]{1,20}$/), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), fc.string({ maxLength: 20 }));
    check('command: REST', 1, [rest], (arg) => {
      const r = parseRestArg(arg);
      const valid = /^[0-9]+$/.test(arg) && BigInt(arg) <= BigInt(Number.MAX_SAFE_INTEGER);
      expect(r.ok).toBe(valid);
      if (r.ok) expect(BigInt(r.value)).toBe(BigInt(arg));
    });
  });
});
