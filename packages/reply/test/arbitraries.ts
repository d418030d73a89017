import fc from 'fast-check';

/**
 * Text with the characters that matter to FTP framing (CR, LF, NUL, quotes, digits,
 * dashes, multi-byte UTF-8, a BOM) mixed with any Unicode scalar value.
 * (`fc.string({ unit: 'binary' })` is far slower to generate.)
 */
export const text: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom('a', ' ', '\r', '\n', '\0', 'é', '日', '🐱', '"', '2', '-', '\uFEFF', '\xff'),
      fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff).map((c) => String.fromCodePoint(c)),
    ),
    { maxLength: 12 },
  )
  .map((a) => a.join(''));
