#!/usr/bin/env node
// Codec throughput: commands decoded (+ parsed) per second, replies encoded per second,
// and replies decoded (the client/proxy side, @ftpkit/reply's ReplyDecoder) per line,
// each decoder next to a bare `TextDecoder` + `split('\r\n')` loop over the same bytes in
// the same run. Runs against the built packages (npm run build first). Median of several
// interleaved rounds, so a busy machine slows every row alike. Always exits 0.
//
//   node packages/command/bench/codec.mjs [--rounds 9] [--ms 150]
import { CommandDecoder, lookupCommand, parseCommand } from '../dist/index.js';
import { ReplyDecoder, encodeReply, formatEpsv, formatPasv } from '@ftpkit/reply';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg('rounds', 7);
const BUDGET_MS = arg('ms', 100);

// A realistic mix: a session's commands, file names with spaces and UTF-8.
const MIX = [
  'USER anonymous', 'PASS guest@example.com', 'TYPE I', 'PASV', 'EPSV', 'PWD', 'CWD /pub/releases',
  'SIZE ftpkit-1.0.0.tar.gz', 'MDTM ftpkit-1.0.0.tar.gz', 'REST 1048576', 'RETR ftpkit-1.0.0.tar.gz',
  'STOR uploads/report 2026 final.pdf', 'MLSD', 'LIST -la', 'NOOP', 'RETR /données/日本語のファイル.txt',
];
const encoder = new TextEncoder();
const commandsPerChunk = 16; // pipelining depth
const depth16 = Array.from({ length: 64 }, (_, k) =>
  encoder.encode(Array.from({ length: commandsPerChunk }, (_, i) => `${MIX[(i + k) % MIX.length]}\r\n`).join('')),
);
const depth1 = MIX.map((c) => encoder.encode(`${c}\r\n`));
// The same stream cut into 1000-byte segments: commands split across chunks.
const stream = encoder.encode(Array.from({ length: 4096 }, (_, i) => `${MIX[i % MIX.length]}\r\n`).join(''));
const countLines = (chunks) => chunks.reduce((n, c) => n + c.filter((b) => b === 10).length, 0);
const cut = (bytes, size) => {
  const out = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
};
const segments = cut(stream, 1000);

// What a client or proxy reads: a session's replies, and a long multi-line STAT listing.
const SESSION = [
  encodeReply(331, 'Password required for ftptest'),
  encodeReply(230, 'User ftptest logged in'),
  encodeReply(227, formatPasv('203.0.113.7', 60007)),
  encodeReply(150, 'Opening BINARY mode data connection for hello.txt (6 bytes)'),
  encodeReply(226, 'Transfer complete'),
  encodeReply(229, formatEpsv(60000)),
  encodeReply(257, '"/données/日本" is the current directory'),
  encodeReply(211, ['Features:', 'EPRT', 'EPSV', 'MDTM', 'MLST type*;size*;modify*;perm*;', 'REST STREAM', 'SIZE', 'UTF8', 'End']),
];
const replies = encoder.encode(Array.from({ length: 2000 }, (_, i) => SESSION[i % SESSION.length]).join(''));
const listing = encoder.encode(
  encodeReply(213, ['Status of /pub:', ...Array.from({ length: 2000 }, (_, i) => `-rw-r--r--   1 ftp ftp  ${1000 + i} Nov 24 07:32 file-${i}.bin`), 'End']),
);
const replyChunks = cut(replies, 16384);
const replySegments = cut(replies, 100);
const listingChunks = cut(listing, 16384);

/** Runs `pass` (which processes `chunks` once and returns the number of items) for about BUDGET_MS; ns per item. */
function measure(pass, chunks) {
  let items = 0;
  let passes = 0;
  const start = performance.now();
  let now = start;
  while (now - start < BUDGET_MS) {
    items += pass(chunks);
    passes++;
    now = performance.now();
  }
  return ((now - start) * 1e6) / items;
}

const td = new TextDecoder();
const bareSplit = (chunks) => {
  let n = 0;
  let rest = '';
  for (const c of chunks) {
    const parts = (rest + td.decode(c, { stream: true })).split('\r\n');
    rest = parts.pop();
    n += parts.length;
  }
  return n;
};
const decodeOnly = (chunks) => {
  const d = new CommandDecoder();
  let n = 0;
  for (const c of chunks) n += d.push(c).length;
  return n;
};
const decodeParse = (chunks) => {
  const d = new CommandDecoder();
  let n = 0;
  for (const c of chunks) {
    for (const ev of d.push(c)) {
      if (ev.kind !== 'line') continue;
      const { verb } = parseCommand(ev.line);
      if (lookupCommand(verb) !== undefined) n++;
    }
  }
  return n;
};
const serverLoop = (chunks) => {
  const d = new CommandDecoder();
  let n = 0;
  let bytes = 0;
  for (const c of chunks) {
    for (const ev of d.push(c)) {
      if (ev.kind !== 'line') continue;
      const { verb, arg: a } = parseCommand(ev.line);
      const spec = lookupCommand(verb);
      bytes += encodeReply(spec === undefined ? 500 : 200, spec === undefined ? `${verb} not understood` : `${spec.verb} ${a ?? ''} ok`).length;
      n++;
    }
  }
  return bytes > 0 ? n : 0;
};

const replyDecode = (chunks) => {
  const d = new ReplyDecoder();
  let n = 0;
  for (const c of chunks) for (const r of d.push(c)) n += r.ok ? r.lines.length : 0;
  return n;
};

const FEAT = ['Features:', 'CLNT', 'EPRT', 'EPSV', 'HOST', 'MDTM', 'MFMT', 'MLST type*;size*;modify*;perm*;', 'REST STREAM', 'SIZE', 'UTF8', 'End'];
const encodeSingle = () => {
  let n = 0;
  for (let i = 0; i < 1000; i++) n += encodeReply(226, 'Transfer complete').length > 0 ? 1 : 0;
  return n;
};
const encodePasv = () => {
  let n = 0;
  for (let i = 0; i < 1000; i++) n += encodeReply(227, formatPasv('203.0.113.7', 60000 + (i & 1023))).length > 0 ? 1 : 0;
  return n;
};
const encodeName = () => {
  let n = 0;
  for (let i = 0; i < 1000; i++) n += encodeReply(257, `"/uploads/a\r\nb ${i}" created`).length > 0 ? 1 : 0;
  return n;
};
const encodeFeat = () => {
  let n = 0;
  for (let i = 0; i < 1000; i++) n += encodeReply(211, FEAT).length > 0 ? 1 : 0;
  return n;
};

const rows = [
  // [label, unit, pass, chunks, baseline label]
  ['bare split, depth 16', 'cmd', bareSplit, depth16, null],
  ['CommandDecoder, depth 16', 'cmd', decodeOnly, depth16, 'bare split, depth 16'],
  ['decode + parse + lookup, depth 16', 'cmd', decodeParse, depth16, 'bare split, depth 16'],
  ['decode..encodeReply, depth 16', 'cmd', serverLoop, depth16, 'bare split, depth 16'],
  ['bare split, depth 1', 'cmd', bareSplit, depth1, null],
  ['CommandDecoder, depth 1', 'cmd', decodeOnly, depth1, 'bare split, depth 1'],
  ['bare split, 1000-byte segments', 'cmd', bareSplit, segments, null],
  ['CommandDecoder, 1000-byte segments', 'cmd', decodeOnly, segments, 'bare split, 1000-byte segments'],
  ['bare split, replies 16 KiB', 'line', bareSplit, replyChunks, null],
  ['ReplyDecoder, replies 16 KiB', 'line', replyDecode, replyChunks, 'bare split, replies 16 KiB'],
  ['bare split, replies 100 B', 'line', bareSplit, replySegments, null],
  ['ReplyDecoder, replies 100 B', 'line', replyDecode, replySegments, 'bare split, replies 100 B'],
  ['bare split, STAT listing', 'line', bareSplit, listingChunks, null],
  ['ReplyDecoder, STAT listing', 'line', replyDecode, listingChunks, 'bare split, STAT listing'],
  ['encodeReply 226 single line', 'reply', encodeSingle, null, null],
  ['encodeReply 227 formatPasv', 'reply', encodePasv, null, null],
  ['encodeReply 257 with CR LF', 'reply', encodeName, null, null],
  ['encodeReply 211 FEAT (12 lines)', 'reply', encodeFeat, null, null],
];

// Sanity: every pass sees every command and reply line.
for (const [label, unit, pass, chunks] of rows) {
  if (unit === 'reply') continue;
  const got = pass(chunks);
  if (got !== countLines(chunks)) console.error(`warning: ${label} counted ${got} of ${countLines(chunks)} lines`);
}

const samples = new Map(rows.map(([label]) => [label, []]));
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const [label, , pass, chunks] of rows) {
    const ns = measure(pass, chunks);
    if (r > 0) samples.get(label).push(ns); // round 0 warms up
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ns = new Map([...samples].map(([label, xs]) => [label, median(xs)]));

const table = [['', 'per second', 'ns each', 'vs bare split']];
for (const [label, unit, , , base] of rows) {
  const v = ns.get(label);
  const perSec = Math.round(1e9 / v).toLocaleString('en-US');
  table.push([label, `${perSec} ${unit}/s`, v.toFixed(0), base === null ? '' : `${(v / ns.get(base)).toFixed(2)}×`]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
const fmt = (row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(`@ftpkit/command + @ftpkit/reply codec, node ${process.version}, median of ${ROUNDS} rounds`);
console.log(fmt(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table.slice(1)) console.log(fmt(row));
const worst = (prefix) =>
  Math.max(...rows.filter(([label, , , , base]) => base !== null && label.startsWith(prefix)).map(([label, , , , base]) => ns.get(label) / ns.get(base)));
console.log(`vs bare split, at worst: CommandDecoder ${worst('CommandDecoder').toFixed(2)}× (target ≤ 2×), ReplyDecoder ${worst('ReplyDecoder').toFixed(2)}×`);
