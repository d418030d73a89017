import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FromCrlf, ToCrlf } from '../src/ascii.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function runTo(chunks: Uint8Array[]): string {
  const c = new ToCrlf();
  return chunks.map((x) => dec.decode(c.convert(x))).join('');
}
function runFrom(chunks: Uint8Array[]): string {
  const c = new FromCrlf();
  return chunks.map((x) => dec.decode(c.convert(x))).join('') + dec.decode(c.flush());
}
/** Whole input, byte by byte, and split at every point. */
function splits(text: string): Uint8Array[][] {
  const bytes = enc.encode(text);
  const out: Uint8Array[][] = [[bytes], [...bytes].map((b) => Uint8Array.of(b))];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return out;
}

describe('TYPE A conversion', () => {
  it.each([
    ['a\nb\n', 'a\r\nb\r\n'],
    ['a\r\nb', 'a\r\nb'],
    ['\n\n', '\r\n\r\n'],
    ['a\rb', 'a\rb'],
    ['', ''],
  ])('LF → CRLF %j', (input, want) => {
    for (const chunks of splits(input)) expect(runTo(chunks)).toBe(want);
  });

  it.each([
    ['a\r\nb\r\n', 'a\nb\n'],
    ['a\nb', 'a\nb'],
    ['a\rb', 'a\rb'],
    ['a\r', 'a\r'],
    ['\r\r\n', '\r\n'],
    ['', ''],
  ])('CRLF → LF %j', (input, want) => {
    for (const chunks of splits(input)) expect(runFrom(chunks)).toBe(want);
  });

  it('returns the same chunk when nothing changes (no copy)', () => {
    const chunk = enc.encode('no newline');
    expect(new ToCrlf().convert(chunk)).toBe(chunk);
  });

  it('round-trips text without CR, however it is split (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '\n', ' ') }), fc.array(fc.nat(), { maxLength: 5 }), (text, cuts) => {
        const wire = runTo([enc.encode(text)]);
        const bytes = enc.encode(wire);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(bytes.subarray(prev, p));
          prev = p;
        }
        chunks.push(bytes.subarray(prev));
        expect(runFrom(chunks)).toBe(text);
      }),
    );
  });
});
