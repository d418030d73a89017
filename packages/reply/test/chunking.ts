/** The three ways every decoder test feeds its input: whole, byte by byte, split at every point. */
export interface Chunking {
  name: string;
  chunks: Uint8Array[];
}

export function bytes(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? new TextEncoder().encode(input) : input;
}

export function chunkings(input: string | Uint8Array): Chunking[] {
  const all = bytes(input);
  const ways: Chunking[] = [
    { name: 'whole', chunks: [all] },
    { name: 'byte by byte', chunks: Array.from(all, (_, i) => all.subarray(i, i + 1)) },
    { name: 'line by line', chunks: splitAt(all, [...all.keys()].filter((i) => all[i] === 10).map((i) => i + 1)) },
  ];
  for (let i = 1; i < all.length; i++) ways.push({ name: `split at ${i}`, chunks: [all.subarray(0, i), all.subarray(i)] });
  return ways;
}

/** Splits `all` at the given points (sorted, deduplicated, inside the array). */
export function splitAt(all: Uint8Array, points: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(points.map((p) => Math.min(Math.max(p, 0), all.length)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(all.subarray(from, c));
    from = c;
  }
  out.push(all.subarray(from));
  return out;
}
