#!/usr/bin/env node
// The load generator: talks raw FTP over sockets, identical for every server. One mode per
// run; prints one JSON line with the figures on stdout (progress goes to stderr).
//
//   node bench/loadgen.mjs --mode retr --port 2121 --user u --pass p --clients 4 --file big.bin
//
// Modes: retr, stor, sessions, pipeline, idle, pasv, pasv-full, loopback (see README.md).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Control, session, connectSink, connectSource, pump, FtpError } from './lib/ftp.mjs';
import { treeMemory, listenersInRange } from './lib/procfs.mjs';

const { values: opt } = parseArgs({
  options: {
    mode: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    user: { type: 'string', default: 'benchftp' },
    pass: { type: 'string', default: '' },
    clients: { type: 'string', default: '1' },
    file: { type: 'string', default: 'retr.bin' },
    bytes: { type: 'string', default: String(256 << 20) },
    duration: { type: 'string', default: '3' },
    dir: { type: 'string', default: 'list1000' },
    depth: { type: 'string', default: '1' },
    steps: { type: 'string', default: '1000,5000' },
    concurrency: { type: 'string', default: '64' },
    settle: { type: 'string', default: '3' },
    'server-pid': { type: 'string' },
    'max-step-seconds': { type: 'string', default: 'Infinity' },
    'pasv-min': { type: 'string' },
    'pasv-max': { type: 'string' },
    connect: { type: 'boolean', default: false },
    variant: { type: 'string', default: 'foreign' },
  },
});

const host = opt.host;
const port = Number(opt.port);
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`  [loadgen ${opt.mode}] ${msg}\n`);
const login = () => session(host, port, opt.user, opt.pass);

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `fn(i)` for i in [0, n) with at most `limit` running at once. */
async function pool(n, limit, fn) {
  let next = 0;
  const worker = async () => { while (next < n) await fn(next++); };
  await Promise.all(Array.from({ length: Math.min(n, limit) }, worker));
}

// RETR: every client logs in, opens its data connection, then all send RETR together.
async function retr() {
  const n = Number(opt.clients);
  const clients = await Promise.all(Array.from({ length: n }, async () => {
    const c = await login();
    await c.expect('TYPE I', 200);
    const a = await c.pasv();
    const sink = await connectSink(a.host, a.port);
    return { c, sink };
  }));
  const t0 = now();
  const ends = await Promise.all(clients.map(async ({ c, sink }) => {
    await c.expect(`RETR ${opt.file}`, 150, 125);
    const [bytes, done] = await Promise.all([sink.done, c.read()]);
    if (done.code !== 226 && done.code !== 250) throw new FtpError(`RETR end -> ${done.code} ${done.text}`, done);
    return { bytes, t: now() };
  }));
  const t1 = Math.max(...ends.map((e) => e.t));
  const bytes = ends.reduce((s, e) => s + e.bytes, 0);
  await Promise.all(clients.map(({ c }) => c.quit()));
  return { clients: n, bytes, seconds: (t1 - t0) / 1000, MBps: bytes / 1e6 / ((t1 - t0) / 1000) };
}

// STOR: the same shape, each client uploads `bytes` from one preallocated buffer.
async function stor() {
  const n = Number(opt.clients);
  const total = Number(opt.bytes);
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const clients = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const c = await login();
    await c.expect('TYPE I', 200);
    const a = await c.pasv();
    const sock = await connectSource(a.host, a.port);
    return { c, sock, name: `stor-${process.pid}-${i}.bin` };
  }));
  const t0 = now();
  const ends = await Promise.all(clients.map(async ({ c, sock, name }) => {
    await c.expect(`STOR ${name}`, 150, 125);
    await pump(sock, chunk, total);
    const done = await c.read();
    if (done.code !== 226 && done.code !== 250) throw new FtpError(`STOR end -> ${done.code} ${done.text}`, done);
    return now();
  }));
  const t1 = Math.max(...ends);
  for (const { c, name } of clients) { await c.cmd(`DELE ${name}`); await c.quit(); }
  const bytes = total * n;
  return { clients: n, bytes, seconds: (t1 - t0) / 1000, MBps: bytes / 1e6 / ((t1 - t0) / 1000) };
}

// One whole session: connect, USER, PASS, PASV, LIST of the directory, QUIT.
async function oneSession() {
  const c = await Control.connect(host, port);
  try {
    await c.login(opt.user, opt.pass);
    const a = await c.pasv();
    const sink = await connectSink(a.host, a.port);
    await c.expect(`LIST ${opt.dir}`, 150, 125);
    const [bytes, done] = await Promise.all([sink.done, c.read()]);
    if (done.code !== 226 && done.code !== 250) throw new FtpError(`LIST end -> ${done.code} ${done.text}`, done);
    if (bytes === 0) throw new FtpError('LIST sent no data');
    await c.expect('QUIT', 221);
  } finally {
    c.destroy();
  }
}

async function sessions() {
  const workers = Number(opt.clients);
  const deadline = now() + Number(opt.duration) * 1000;
  const latencies = [];
  const errors = [];
  const t0 = now();
  let tEnd = t0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (now() < deadline) {
      const s = now();
      try {
        await oneSession();
        tEnd = now();
        latencies.push(tEnd - s);
      } catch (err) {
        errors.push(String(err.message ?? err));
        if (errors.length > 1000) return;
        await sleep(10);
      }
    }
  }));
  latencies.sort((a, b) => a - b);
  const seconds = (tEnd - t0) / 1000;
  return {
    workers, sessions: latencies.length, errors: errors.length, firstError: errors[0],
    seconds, perSecond: latencies.length / seconds,
    p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99),
  };
}

// Pipelined commands: keep `depth` commands in flight, NOOP/PWD/TYPE I in turn; replies
// that arrive in one chunk are answered with one write.
async function pipeline() {
  const depth = Number(opt.depth);
  const c = await login();
  const cycle = ['NOOP', 'PWD', 'TYPE I'];
  let sent = 0;
  let replies = 0;
  let errors = 0;
  let firstError;
  const deadline = now() + Number(opt.duration) * 1000;
  const t0 = now();
  const result = await new Promise((resolve, reject) => {
    let owed = 0;
    let stopping = false;
    const flush = () => {
      if (owed === 0) return;
      let out = '';
      for (; owed > 0; owed--) out += cycle[sent++ % 3] + '\r\n';
      c.socket.write(out);
    };
    c.onReply = (r) => {
      replies++;
      if (r.code >= 400) { errors++; firstError ??= `${r.code} ${r.text}`; }
      if (!stopping && now() >= deadline) stopping = true;
      if (!stopping) owed++;
      else if (replies === sent) resolve(now());
    };
    c.socket.on('data', () => flush());
    c.socket.once('close', () => reject(new FtpError(`closed after ${replies} replies`)));
    owed = depth;
    flush();
  });
  c.onReply = undefined;
  c.socket.removeAllListeners('close');
  c.destroy();
  const seconds = (result - t0) / 1000;
  return { depth, replies, errors, firstError, seconds, perSecond: replies / seconds };
}

// Idle sessions: log in N sessions, keep them open, read the server tree's PSS/RSS.
async function idle() {
  const pid = Number(opt['server-pid']);
  const steps = opt.steps.split(',').map(Number);
  const settleMs = Number(opt.settle) * 1000;
  const conns = [];
  await sleep(settleMs);
  const base = treeMemory(pid);
  log(`baseline ${JSON.stringify(base)}`);
  const out = [];
  let failures = 0;
  let firstError;
  let stoppedEarly;
  for (const target of steps) {
    const need = target - conns.length;
    const t0 = now();
    await pool(need, Number(opt.concurrency), async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        try { conns.push(await login()); return; } catch (err) { failures++; firstError ??= String(err.message ?? err); await sleep(50); }
      }
    });
    const loginSeconds = (now() - t0) / 1000;
    await sleep(settleMs);
    const alive = conns.filter((c) => !c.closed).length;
    const m = treeMemory(pid);
    log(`${alive} sessions ${JSON.stringify(m)} (${loginSeconds.toFixed(1)} s to log in)`);
    out.push({
      sessions: alive, ...m, loginSeconds,
      pssKiBPerSession: alive > 0 ? (m.pssKiB - base.pssKiB) / alive : undefined,
      rssKiBPerSession: alive > 0 ? (m.rssKiB - base.rssKiB) / alive : undefined,
    });
    if (alive < target * 0.95) break;
    // A process-per-session server (processes grow with sessions) whose next step would
    // take longer than allowed stops here: its memory per session is flat.
    const nextTarget = steps[steps.indexOf(target) + 1];
    const projected = nextTarget ? (loginSeconds / need) * (nextTarget - alive) : 0;
    if (nextTarget && m.processes >= alive && projected > Number(opt['max-step-seconds'])) {
      stoppedEarly = `process per session; ${nextTarget} sessions would take ~${Math.round(projected)} s more`;
      log(stoppedEarly);
      break;
    }
  }
  for (const c of conns) c.destroy();
  return { baseline: base, steps: out, failures, firstError, stoppedEarly };
}

// PASV allocations in one session, optionally connecting to each advertised port; then
// QUIT and count the listeners the server left open in its passive range. `outOfRange`
// counts 227 replies whose port lies outside the passive range (a kernel fallback: a port
// the firewall or NAT in front of a real server would not let through).
async function pasv() {
  const min = Number(opt['pasv-min']);
  const max = Number(opt['pasv-max']);
  const before = new Set(listenersInRange(min, max));
  const c = await login();
  const deadline = now() + Number(opt.duration) * 1000;
  let ok = 0;
  let errors = 0;
  let outOfRange = 0;
  let consecutive = 0;
  let firstError;
  const t0 = now();
  while (now() < deadline && consecutive < 50) {
    try {
      const a = await c.pasv();
      if (a.port < min || a.port > max) outOfRange++;
      if (opt.connect) {
        const s = await connectSource(a.host, a.port);
        s.on('error', () => {});
        s.destroy();
      }
      ok++;
      consecutive = 0;
    } catch (err) {
      if (c.closed) throw err;
      errors++;
      consecutive++;
      firstError ??= String(err.message ?? err);
    }
  }
  const seconds = (now() - t0) / 1000;
  await c.quit();
  // Give the server up to 1 s to close what it still holds.
  let after = [];
  for (const t0q = now(); now() - t0q < 1000; await sleep(100)) {
    after = listenersInRange(min, max).filter((p) => !before.has(p));
    if (after.length === 0) break;
  }
  return { connect: opt.connect, allocations: ok, errors, firstError, seconds, perSecond: ok / seconds, outOfRange, listenersAfterQuit: after.length };
}

function listenOn(p) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host: '127.0.0.1', port: p, exclusive: true }, () => resolve(srv));
  });
}

function refusedAtLogin(err, holders) {
  if (!err.reply) throw err;
  return { variant: opt.variant, at: 'login', holders, code: err.reply.code, text: err.reply.text.slice(0, 120), ms: 0 };
}

// PASV when every port of the range is taken: by foreign listeners, or by other sessions
// of the same server that each hold a passive listener.
async function pasvFull() {
  const min = Number(opt['pasv-min']);
  const max = Number(opt['pasv-max']);
  const held = [];
  const sessionsHeld = [];
  let holders227 = 0;
  try {
    if (opt.variant === 'foreign') {
      for (let p = min; p <= max; p++) { const s = await listenOn(p); if (s) held.push(s); }
    } else {
      for (let p = min; p <= max; p++) {
        let c;
        // A server may cap its sessions by the size of the range (pure-ftpd: half of it).
        try { c = await login(); } catch (err) { return refusedAtLogin(err, sessionsHeld.length); }
        sessionsHeld.push(c);
        const r = await c.cmd('PASV');
        if (r.code === 227) holders227++;
      }
    }
    let c;
    try { c = await login(); } catch (err) { return refusedAtLogin(err, sessionsHeld.length); }
    const t0 = now();
    const r = await c.cmd('PASV');
    const ms = now() - t0;
    const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(r.text);
    const advertised = m ? Number(m[5]) * 256 + Number(m[6]) : undefined;
    await c.quit();
    return {
      variant: opt.variant, rangeSize: max - min + 1, foreignHeld: held.length, holders: sessionsHeld.length, holders227,
      code: r.code, text: r.text.slice(0, 120), ms,
      advertisedPort: advertised, inRange: advertised === undefined ? undefined : advertised >= min && advertised <= max,
    };
  } finally {
    for (const s of held) s.close();
    for (const c of sessionsHeld) c.destroy();
  }
}

// Raw loopback TCP: the same sink as RETR, fed by bench/loopback-sender.mjs.
async function loopback() {
  const n = Number(opt.clients);
  const sinks = await Promise.all(Array.from({ length: n }, () => connectSink(host, port)));
  const t0 = now();
  for (const s of sinks) s.socket.write('g');
  const ends = await Promise.all(sinks.map(async (s) => ({ bytes: await s.done, t: now() })));
  const t1 = Math.max(...ends.map((e) => e.t));
  const bytes = ends.reduce((s, e) => s + e.bytes, 0);
  return { clients: n, bytes, seconds: (t1 - t0) / 1000, MBps: bytes / 1e6 / ((t1 - t0) / 1000) };
}

const modes = { retr, stor, sessions, pipeline, idle, pasv, 'pasv-full': pasvFull, loopback };
const run = modes[opt.mode];
if (!run) {
  process.stderr.write(`unknown --mode ${opt.mode}; one of ${Object.keys(modes).join(', ')}\n`);
  process.exit(2);
}
try {
  const result = await run();
  process.stdout.write(JSON.stringify({ ok: true, mode: opt.mode, ...result }) + '\n');
  process.exit(0);
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, mode: opt.mode, error: String(err.message ?? err) }) + '\n');
  process.exit(1);
}
