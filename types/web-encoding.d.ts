// The one piece of the web platform the sans-IO packages may use: UTF-8 text
// encoding. It exists in every runtime (Node, Deno, Bun, browsers) and does no IO.
// Timers, Buffer, process and node:* stay undeclared here, so using them in a
// package's root export fails the build (see scripts/lint-sans-io.mjs for the rest).
declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  readonly fatal: boolean;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: { stream?: boolean }): string;
}
