import { CommandDecoder, type CommandDecoderOptions, type CommandEvent } from '../src/index.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bytes from a mix of strings (sent as UTF-8) and raw byte values. */
export function wire(...parts: Array<string | readonly number[]>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? utf8(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Runs one decoder over `chunks` and collects every event. */
export function decode(chunks: Iterable<Uint8Array>, opts?: CommandDecoderOptions): CommandEvent[] {
  const d = new CommandDecoder(opts);
  const events: CommandEvent[] = [];
  for (const c of chunks) events.push(...d.push(c));
  return events;
}

/**
 * The events for `input` fed whole, byte by byte, line by line, and in two pieces split at
 * every point, each labelled; every decoder test compares them all.
 */
export function* everyFeeding(input: Uint8Array, opts?: CommandDecoderOptions): Generator<[string, CommandEvent[]]> {
  yield ['whole', decode([input], opts)];
  yield ['byte by byte', decode(Array.from(input, (_, i) => input.subarray(i, i + 1)), opts)];
  yield ['line by line', decode(cutAt(input, [...input.keys()].filter((i) => input[i] === 10).map((i) => i + 1)), opts)];
  for (let cut = 1; cut < input.length; cut++) yield [`split at ${cut}`, decode([input.subarray(0, cut), input.subarray(cut)], opts)];
}

/** Cuts `input` at the given offsets (any order, clamped). */
export function cutAt(input: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [0, ...offsets.map((o) => Math.min(o, input.length)).sort((a, b) => a - b), input.length];
  return points.slice(1).map((end, i) => input.subarray(points[i], end));
}
