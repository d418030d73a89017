#!/usr/bin/env node
// CPU per password check: SHA-crypt's round loop in WebAssembly (what verifyPassword runs)
// next to the same loop through node:crypto (one hash object per round, the fallback
// without WebAssembly), for $6$ (SHA-512) and $5$ (SHA-256) at the default 5 000 rounds.
// Interleaved rounds, median; CPU time (process.cpuUsage), so a busy machine slows every
// row alike. Runs against dist/ (npm run build first). Always exits 0.
//
//   node packages/config/bench/crypt.mjs [--rounds 5] [--ms 150]
import { createHash } from 'node:crypto';
import { jsRounds } from '../dist/node/crypt.js';
import { wasmRounds } from '../dist/node/crypt-wasm.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 5);
const BUDGET_MS = arg('ms', 150);
const HASH_ROUNDS = 5000;

const p = new TextEncoder().encode('correct horse');
const s = new TextEncoder().encode('saltsaltsaltsalt');
const rows = [];
for (const [variant, alg] of [[6, 'sha512'], [5, 'sha256']]) {
  const c = createHash(alg).update('seed').digest();
  rows.push([`$${variant}$ WebAssembly loop`, () => wasmRounds(variant, c, p, s, HASH_ROUNDS)]);
  rows.push([`$${variant}$ node:crypto loop`, () => jsRounds(alg, c, p, s, HASH_ROUNDS)]);
}

/** CPU ms per call of `fn`, run for about BUDGET_MS. */
function cpuPerCall(fn) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  do {
    fn();
    n++;
  } while (performance.now() - t0 < BUDGET_MS);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

for (const [, fn] of rows) fn(); // compile and tier up
const samples = rows.map(() => []);
for (let r = 0; r < ROUNDS; r++) rows.forEach(([, fn], i) => samples[i].push(cpuPerCall(fn)));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`SHA-crypt, ${HASH_ROUNDS} rounds: CPU ms per check (median of ${ROUNDS})`);
rows.forEach(([name], i) => console.log(`  ${name.padEnd(26)} ${median(samples[i]).toFixed(2)} ms`));
