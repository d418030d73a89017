#!/usr/bin/env node
// A 1 000-entry LIST on the server's side: event-loop time and process CPU per listing for
// localFileSystem().list() (readdir + lstat in a worker thread), for the same reads on the
// calling thread, and for one async lstat per entry (64 in flight, the earlier way); then
// the core's formatting of the 1 000 lines. Interleaved rounds, median. Runs against
// dist/ (npm run build first). Always exits 0.
//
//   node packages/session/bench/listing.mjs [--rounds 5] [--ms 150]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, realpathSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatListLine } from '../dist/listing.js';
import { readDirectorySync, warmDirectoryReaders } from '../dist/node/dir-reader.js';
import { localFileSystem } from '../dist/node/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 5);
const BUDGET_MS = arg('ms', 150);

const root = realpathSync(mkdtempSync(join(tmpdir(), 'ftpkit-bench-list-')));
const dir = join(root, 'list1000');
mkdirSync(dir);
for (let i = 0; i < 1000; i++) writeFileSync(join(dir, `file-${String(i).padStart(4, '0')}.txt`), `entry ${i}\n`);
const fs = localFileSystem({ root });
warmDirectoryReaders();
const infos = await fs.list('/list1000');
const now = Date.now();

const rows = [
  ['list(): worker thread', () => fs.list('/list1000')],
  ['readdir+lstat, this thread', async () => readDirectorySync(dir, root)],
  ['async lstat per entry (64)', async () => {
    const names = await readdir(dir);
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => { while (next < names.length) await lstat(join(dir, names[next++])); }));
  }],
  ['format 1 000 LIST lines', async () => infos.map((e) => formatListLine(e, now) + '\r\n')],
];

async function measure(fn) {
  const t0 = performance.now();
  const e0 = performance.eventLoopUtilization();
  const c0 = process.cpuUsage();
  let n = 0;
  do {
    await fn();
    n++;
  } while (performance.now() - t0 < BUDGET_MS);
  const e = performance.eventLoopUtilization(e0);
  const c = process.cpuUsage(c0);
  return { loop: e.active / n, cpu: (c.user + c.system) / 1000 / n };
}

for (const [, fn] of rows) for (let i = 0; i < 5; i++) await fn();
const samples = rows.map(() => []);
for (let r = 0; r < ROUNDS; r++) for (const [i, [, fn]] of rows.entries()) samples[i].push(await measure(fn));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`1 000-entry directory: ms per listing (median of ${ROUNDS})   event loop   process CPU`);
rows.forEach(([name], i) => console.log(`  ${name.padEnd(30)} ${median(samples[i].map((x) => x.loop)).toFixed(2).padStart(10)} ${median(samples[i].map((x) => x.cpu)).toFixed(2).padStart(13)}`));
rmSync(root, { recursive: true, force: true });
