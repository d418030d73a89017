#!/usr/bin/env node
// Top frames by self time of `node --cpu-prof` profiles:
//   node bench/profile-top.mjs bench/results/profiles/<run>/<test> [more dirs or files] [--top 15]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selfTimes, profilesIn, formatTop } from './lib/cpuprofile.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
const files = positionals.flatMap((p) => (fs.statSync(p).isDirectory() ? profilesIn(p) : [p]));
if (files.length === 0) {
  process.stderr.write('usage: node bench/profile-top.mjs <dir|file.cpuprofile>... [--top N]\n');
  process.exit(2);
}
const result = selfTimes(files, path.dirname(path.dirname(new URL(import.meta.url).pathname)));
process.stdout.write(`${files.length} profile(s), ${(result.totalMs / 1000).toFixed(1)} s sampled\n${formatTop(result, Number(values.top))}\n`);
