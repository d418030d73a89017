#!/usr/bin/env node
// Lease+release throughput of @ftpkit/port-allocator at range sizes 10, 1 000 and 64 512,
// side by side with a ProFTPD-style baseline that rebuilds and shuffles the range on every
// request (src/inet.c pr_inet_create_conn_portrange). Per-operation time of the
// allocator must stay flat with range size: 64 512 vs 10 within 1.5x (exit code 1 if not).
//
//   npm run build && node packages/port-allocator/bench/allocator.mjs [--rounds N] [--ms N]
// Plain ESM against dist/, no dependencies.
import { PortAllocator } from '../dist/index.js';
import { listenTcp } from '../dist/node/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROUNDS = opt('--rounds', 5);
const ROUND_MS = opt('--ms', 150);
const LIMIT = 1.5;
const SIZES = [10, 1000, 64512];

/** xorshift32: a fast seeded source in [0, 1), the same for every contender. */
function xorshift(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const rangeOf = (size) => ({ min: 65535 - size + 1, max: 65535 }); // 64 512 = 1024-65535

/** ftpkit: one lease + one release per operation, no cooldown (pure allocator cost). */
function ftpkit(size) {
  const a = new PortAllocator({ ranges: [rangeOf(size)], random: xorshift(7), cooldownMs: 0 });
  return (n) => {
    for (let i = 0; i < n; i++) {
      const r = a.lease('owner', 0);
      a.release(r.lease, 0);
    }
  };
}

/** ftpkit with a cooldown: the clock advances 1 ms per operation, ports cool for 4 ms. */
function ftpkitCooldown(size) {
  const a = new PortAllocator({ ranges: [rangeOf(size)], random: xorshift(7), cooldownMs: 4 });
  let now = 0;
  return (n) => {
    for (let i = 0; i < n; i++) {
      const r = a.lease('owner', ++now);
      a.release(r.lease, now);
    }
  };
}

/**
 * ProFTPD 1.3.8 port choice, rewritten in JS: build range[low..high], then for
 * i = N-1 down to 0 pick range[floor(i*rand)], shift the rest down and try that port
 * (here: "bind" = not in the in-use set) until one is free.
 */
function shufflePerRequest(size) {
  const { min: low, max: high } = rangeOf(size);
  const inUse = new Set();
  const random = xorshift(7);
  const lease = () => {
    const n = high - low + 1;
    const range = new Int32Array(n);
    const ports = new Int32Array(n);
    for (let i = 0; i < n; i++) range[i] = low + i;
    for (let i = n - 1; i >= 0; i--) {
      const idx = Math.floor(i * random());
      ports[i] = range[idx];
      range.copyWithin(idx, idx + 1, i + 1);
      if (!inUse.has(ports[i])) {
        inUse.add(ports[i]);
        return ports[i];
      }
    }
    return -1;
  };
  return (n) => {
    for (let i = 0; i < n; i++) inUse.delete(lease());
  };
}

const CONTENDERS = [
  ['ftpkit', ftpkit],
  ['ftpkit+cooldown', ftpkitCooldown],
  ['shuffle-per-request', shufflePerRequest],
];

/** Runs `op` in growing batches for about `ms`; returns ns per operation. */
function measure(op, ms) {
  let batch = 64;
  let done = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms * 1e6);
  let now = start;
  while (now < deadline) {
    op(batch);
    done += batch;
    now = process.hrtime.bigint();
    if (batch < 1 << 16 && now - start < BigInt(ms * 1e5)) batch *= 2;
  }
  return Number(now - start) / done;
}

const fns = new Map();
for (const [name, make] of CONTENDERS) for (const size of SIZES) fns.set(`${name}/${size}`, make(size));
const best = new Map();
for (let round = 0; round <= ROUNDS; round++) {
  // round 0 warms the JIT up and is not counted; rounds interleave contenders and sizes
  for (const [key, op] of fns) {
    const ns = measure(op, round === 0 ? 30 : ROUND_MS);
    if (round > 0) best.set(key, Math.min(best.get(key) ?? Infinity, ns));
  }
}

const fmtInt = (n) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
const fmtNs = (n) => (n < 100 ? n.toFixed(1) : fmtInt(n));
const header = ['range size', ...CONTENDERS.flatMap(([name]) => [`${name} ops/s`, 'ns/op']), 'ftpkit speed-up'];
const rows = SIZES.map((size) => {
  const cells = [fmtInt(size)];
  for (const [name] of CONTENDERS) {
    const ns = best.get(`${name}/${size}`);
    cells.push(fmtInt(1e9 / ns), fmtNs(ns));
  }
  cells.push(`${(best.get(`shuffle-per-request/${size}`) / best.get(`ftpkit/${size}`)).toFixed(1)}x`);
  return cells;
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');

console.log(`@ftpkit/port-allocator: lease + release, best of ${ROUNDS} rounds of ${ROUND_MS} ms (node ${process.version})`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log('');

const big = SIZES[SIZES.length - 1];
const small = SIZES[0];
let failed = false;
for (const [name] of CONTENDERS) {
  const ratio = best.get(`${name}/${big}`) / best.get(`${name}/${small}`);
  const checked = name.startsWith('ftpkit');
  const verdict = checked ? (ratio <= LIMIT ? `ok (limit ${LIMIT}x)` : `FAIL (limit ${LIMIT}x)`) : '(baseline, O(range))';
  if (checked && ratio > LIMIT) failed = true;
  console.log(`per-op time ${fmtInt(big)} vs ${small} ports, ${name.padEnd(19)} ${ratio.toFixed(2).padStart(8)}x  ${verdict}`);
}

// The IO side: a real listener on 127.0.0.1 per operation (bind + listen + close).
{
  const a = new PortAllocator({ ranges: '20000-29999', random: Math.random, cooldownMs: 0 });
  const n = 2000;
  for (let i = 0; i < 200; i++) {
    const r = await listenTcp(a, { host: '127.0.0.1', owner: 'bench' });
    if (r.ok) r.close();
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = await listenTcp(a, { host: '127.0.0.1', owner: 'bench' });
    if (!r.ok) throw new Error(r.message);
    r.close();
  }
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`listenTcp + close on 127.0.0.1 (real sockets, sequential): ${fmtInt(1e9 / ns)} per second, ${fmtInt(ns / 1000)} us each`);
}
if (failed) process.exitCode = 1;
