/**
 * Fuzzing @ftpkit/reply: the streaming ReplyDecoder (what an FTP client, proxy or probe
 * reads from a possibly hostile server), the encoder's no-injection promise, and the
 * 227/229/257 parsers.
 */
import { deepStrictEqual, ok } from 'node:assert/strict';
import fc from 'fast-check';
import { describe, test } from 'vitest';
import { ReplyDecoder, encodeReply, formatEpsv, formatPasv, parseEpsv, parsePasv, parsePathname, quotePathname, type DecodedReply } from '@ftpkit/reply';
import { announce, check, wellFormed } from '../lib/fuzz.js';
import { chunking, concat, rawBytes, split, utf8 } from '../lib/bytes.js';

announce('reply.fuzz');

const code = fc.integer({ min: 100, max: 699 });
/** Reply text with what matters to framing: CR, LF, NUL, digits and dashes at the start, UTF-8, Latin-1. */
const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('\r', '\n', '\0', '\r\n', '\r\0', '211 ', '211-', '-', ' ', '\xff', '🐱')), { maxLength: 8 }).map((a) => a.join(''));
const replyLines = fc.array(text, { minLength: 1, maxLength: 6 });

/** Server-side pieces: replies, reply-like lines, bare line ends, garbage. */
const replyToken: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(code, replyLines).map(([c, l]) => utf8(encodeReply(c, l))) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom(' ', '-', '', 'x'), text, fc.constantFrom('\r\n', '\n', '\r', '')).map(([c, s, t, e]) => utf8(`${String(c).padStart(3, '0')}${s}${t}${e}`)) },
  { weight: 1, arbitrary: fc.constantFrom('\r\n', '\n', '\r', '\0', ' ', '211-', '211 End\r\n', '1234\r\n').map(utf8) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 3000 }), fc.constantFrom(0x41, 0x0a, 0xe6)).map(([n, b]) => new Uint8Array(n).fill(b)) },
  { weight: 2, arbitrary: rawBytes(24) },
);
const replyStream = fc.array(replyToken, { maxLength: 24 }).map(concat);
const maxReplyBytes = fc.oneof(fc.integer({ min: 8, max: 300 }), fc.constant(1024 * 1024));

function decode(chunks: readonly Uint8Array[], max: number): DecodedReply[] {
  const d = new ReplyDecoder({ maxReplyBytes: max });
  const out: DecodedReply[] = [];
  for (const c of chunks) {
    out.push(...d.push(c));
    // The open reply plus the partial line: the memory the README promises to bound.
    ok(d.bufferedBytes <= max, `decoder holds ${d.bufferedBytes} bytes > maxReplyBytes ${max}`);
  }
  out.push(...d.end());
  return out;
}

const ERRORS = new Set(['ERR_REPLY_SYNTAX', 'ERR_REPLY_TOO_LARGE', 'ERR_REPLY_TRUNCATED']);

function assertWellFormed(replies: readonly DecodedReply[]): void {
  for (const r of replies) {
    const show = JSON.stringify(r).slice(0, 300);
    if (r.ok) {
      ok(Number.isInteger(r.code) && r.code >= 100 && r.code <= 699, `code: ${show}`);
      ok(r.lines.length >= 1 && r.lines.every((l) => typeof l === 'string' && !l.includes('\n')), `lines: ${show}`);
      ok(r.text === r.lines.join('\n'), `text: ${show}`);
      ok(r.lines.every(wellFormed), `lone surrogate: ${show}`);
    } else {
      ok(ERRORS.has(r.error.code) && r.error.replyCode === 421 && r.error.message.length > 0, `error: ${show}`);
    }
  }
}

describe('ReplyDecoder under hostile input', () => {
  test('never throws, stays within maxReplyBytes, emits only documented results', () => {
    check('reply: robust', 2, [fc.oneof(replyStream, rawBytes(400)), chunking, maxReplyBytes], (input, sizes, max) => {
      assertWellFormed(decode(split(input, sizes), max));
    });
  });

  test('gives the same results whole, byte by byte and split anywhere', () => {
    check('reply: chunking', 0.6, [replyStream, chunking, maxReplyBytes], (input, sizes, max) => {
      deepStrictEqual(decode(split(input, sizes), max), decode([input], max));
      const head = input.subarray(0, 2048);
      deepStrictEqual(decode(split(head, [1]), max), decode([head], max));
    });
  });

  test('every split point of a short stream gives the same results', () => {
    const short = fc.array(replyToken, { maxLength: 4 }).map((t) => concat(t).subarray(0, 160));
    check('reply: every split point', 0.2, [short, maxReplyBytes], (input, max) => {
      const whole = decode([input], max);
      for (let cut = 1; cut < input.length; cut++) deepStrictEqual(decode([input.subarray(0, cut), input.subarray(cut)], max), whole, `split at ${cut}`);
    });
  });

  test('decodes any sequence of encoded replies back to the same codes and lines', () => {
    check('reply: encode round trip', 1, [fc.array(fc.tuple(code, replyLines), { minLength: 1, maxLength: 8 }), chunking], (replies, sizes) => {
      const wire = utf8(replies.map(([c, l]) => encodeReply(c, l)).join(''));
      // CR comes back as CR (sent as CR NUL); LF cannot be sent and comes back as NUL.
      const expected = replies.map(([c, l]) => {
        const lines = l.map((s) => s.replace(/\n/g, '\0'));
        return { ok: true, code: c, lines, text: lines.join('\n') };
      });
      deepStrictEqual(decode(split(wire, sizes), 1024 * 1024), expected);
    });
  });

  test('reply text can never inject a line or a reply', () => {
    check('reply: no injection', 1, [code, text], (c, t) => {
      const wire = encodeReply(c, t);
      ok(wire.endsWith('\r\n') && wire.indexOf('\n') === wire.length - 1, `more than one line: ${JSON.stringify(wire)}`);
      const out = decode([utf8(wire)], 1024 * 1024);
      ok(out.length === 1 && out[0]?.ok === true && out[0].code === c, JSON.stringify(out));
    });
  });

  test('recovers after garbage lines and after a reply that is too large', () => {
    // Garbage lines that do not open a multi-line reply (that would rightly swallow what follows).
    const garbageLine = fc.oneof(text, fc.string({ unit: 'binary', maxLength: 30 })).map((s) => s.replace(/[\r\n]/g, '')).filter((s) => !/^[1-6]\d\d-/.test(s) && utf8(s).length <= 30);
    check('reply: recovery', 1, [fc.array(garbageLine, { maxLength: 5 }), fc.integer({ min: 32, max: 300 }), code, chunking], (garbage, max, c, sizes) => {
      const huge = encodeReply(c, ['start', 'x'.repeat(max), 'end']);
      const wire = utf8(garbage.map((g) => `${g}\r\n`).join('') + huge + encodeReply(226, 'Transfer complete'));
      const out = decode(split(wire, sizes), max);
      assertWellFormed(out);
      ok(out.filter((r) => !r.ok && r.error.code === 'ERR_REPLY_TOO_LARGE').length === 1, `one too-large error: ${JSON.stringify(out)}`);
      deepStrictEqual(out.at(-1), { ok: true, code: 226, lines: ['Transfer complete'], text: 'Transfer complete' });
    });
  });
});

describe('227 / 229 / 257 parsers under hostile input', () => {
  const octet = fc.nat(255);
  const pasvText = fc.oneof(
    fc.tuple(octet, octet, octet, octet, fc.integer({ min: 1, max: 65535 })).map(([a, b, c, d, p]) => encodeReply(227, formatPasv(`${a}.${b}.${c}.${d}`, p)).trimEnd()),
    fc.array(fc.oneof(fc.nat(999).map(String), fc.constantFrom(',', ', ', '(', ')', '.', '=', ' ', '-1', '256', '65536', '227 ', '229 ', '|||', '|', 'Entering Passive Mode')), { maxLength: 16 }).map((a) => a.join('')),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );

  test('parsePasv / parseEpsv / parsePathname never throw and accept only usable values', () => {
    check('reply: passive parsers', 2, [pasvText], (t) => {
      const p = parsePasv(t);
      if (p.ok) {
        ok(/^\d{1,3}(\.\d{1,3}){3}$/.test(p.value.host) && p.value.host.split('.').every((o) => Number(o) <= 255), `host: ${JSON.stringify([t, p])}`);
        ok(p.value.port >= 1 && p.value.port <= 65535, `port: ${JSON.stringify([t, p])}`);
      } else ok(p.error.replyCode === 425, JSON.stringify(p));
      const e = parseEpsv(t);
      if (e.ok) ok(Number.isInteger(e.value.port) && e.value.port >= 1 && e.value.port <= 65535, `port: ${JSON.stringify([t, e])}`);
      else ok(e.error.replyCode === 425, JSON.stringify(e));
      const q = parsePathname(t);
      if (q.ok) ok(typeof q.value === 'string', JSON.stringify(q));
      else ok(q.error.replyCode === 550, JSON.stringify(q));
    });
  });

  test('format → parse round trips for every address, port and path', () => {
    check('reply: passive round trip', 1, [octet, octet, octet, octet, fc.integer({ min: 1, max: 65535 }), fc.string({ unit: 'grapheme', maxLength: 20 })], (a, b, c, d, port, path) => {
      const host = `${a}.${b}.${c}.${d}`;
      deepStrictEqual(parsePasv(`227 ${formatPasv(host, port)}`), { ok: true, value: { host, port } });
      deepStrictEqual(parseEpsv(`229 ${formatEpsv(port)}`), { ok: true, value: { port } });
      deepStrictEqual(parsePathname(`${quotePathname(path)} is the current directory`), { ok: true, value: path });
    });
  });
});
