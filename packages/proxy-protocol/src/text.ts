/** Small text helpers for problem messages: peer bytes shown safely. */

/** A byte as two hex digits. */
export function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Peer text cut to `max` characters, control and non-ASCII characters as `\xHH`. */
export function printable(s: string, max = 48): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(/[^\x20-\x7e…]/g, (c) => `\\x${hex(c.charCodeAt(0))}`);
}
