import { ProxyHeaderDecoder, type DecodeResult, type ProxyHeaderDecoderOptions } from '../src/index.js';

export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

export function hexBytes(...parts: (string | Uint8Array | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') {
      const clean = p.replace(/\s+/g, '');
      for (let i = 0; i < clean.length; i += 2) out.push(parseInt(clean.slice(i, i + 2), 16));
    } else out.push(...p);
  }
  return Uint8Array.from(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Every way a decoder test feeds its input: whole, byte by byte, and split in two at every point. */
export function* splittings(all: Uint8Array): Generator<[string, Uint8Array[]]> {
  yield ['whole', [all]];
  yield ['byte by byte', Array.from(all, (_, i) => all.subarray(i, i + 1))];
  for (let cut = 1; cut < all.length; cut++) yield [`split at ${cut}`, [all.subarray(0, cut), all.subarray(cut)]];
}

/** `all` cut at each point (taken modulo its length + 1), in order. */
export function cutAt(all: Uint8Array, points: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const p of [...new Set(points.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)) {
    chunks.push(all.subarray(from, p));
    from = p;
  }
  return [...chunks, all.subarray(from)];
}

export interface Fed {
  result: DecodeResult;
  /** Bytes the application gets: `rest` plus the chunks never pushed. */
  after: Uint8Array;
  /** Bytes pushed up to and including the chunk that concluded. */
  pushed: number;
}

/** Pushes chunks until the decoder concludes; `end()` if it never does. */
export function feed(chunks: readonly Uint8Array[], options?: ProxyHeaderDecoderOptions): Fed {
  const decoder = new ProxyHeaderDecoder(options);
  let pushed = 0;
  for (let i = 0; i < chunks.length; i++) {
    const result = decoder.push(chunks[i]!);
    pushed += chunks[i]!.length;
    if (result.state === 'done') return { result, after: concat(result.rest, ...chunks.slice(i + 1)), pushed };
    if (result.state === 'error') return { result, after: new Uint8Array(0), pushed };
  }
  return { result: decoder.end(), after: new Uint8Array(0), pushed };
}
