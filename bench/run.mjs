#!/usr/bin/env node
// `npm run bench`: the package micro-benchmarks (packages/*/bench/*.mjs, each as a child
// process), then ftpkit side by side with proftpd, vsftpd, pure-ftpd and ftp-srv on this
// machine. Each server is started fresh for each test, the servers run in alternation
// (the order rotates every round), each figure is the median over the rounds, and the
// table gives ftpkit's ratio to each peer measured in the same run (--quick: one start
// per server, one round, small sizes). See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BENCH_DIR, sh } from './lib/install.mjs';
import { SERVERS, startServer, stopTree } from './lib/servers.mjs';
import { listenersInRange, treeCpuMs } from './lib/procfs.mjs';
import { TESTS, buildTable, renderText, renderMarkdown, fmtNum } from './lib/report.mjs';
import { selfTimes, profilesIn, formatTop } from './lib/cpuprofile.mjs';

const ALL_SERVERS = ['ftpkit', 'proftpd', 'vsftpd', 'pure-ftpd', 'ftp-srv'];
const GROUPS = ['micro', 'loopback', 'retr', 'stor', 'sessions', 'pipeline', 'idle', 'pasv', 'pasv-full'];
const REPO_DIR = path.dirname(BENCH_DIR);
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const IDLE_ONCE_SECONDS = 60;
// Without --idle-full, a process-per-session server stops at 1 000 idle sessions when
// 5 000 would take it longer than this to log in.
const IDLE_STEP_SECONDS = 45;
const everStarted = new Set();
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const PROFILE_DIR = path.join(RESULTS_DIR, 'profiles', STAMP);

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    servers: { type: 'string' },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'idle-full': { type: 'boolean', default: false },
    report: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  process.stdout.write(`usage: node bench/run.mjs [--only ${GROUPS.join(',')}] [--servers ${ALL_SERVERS.join(',')}]
                         [--quick] [--rounds N] [--markdown] [--cpu-prof] [--idle-full]
       node bench/run.mjs --report bench/results/<run>.jsonl [--markdown]
`);
  process.exit(0);
}

const only = new Set(flags.only ? flags.only.split(',').map((s) => s.trim()) : GROUPS);
for (const g of only) if (!GROUPS.includes(g)) { process.stderr.write(`unknown --only ${g}; one of ${GROUPS.join(', ')}\n`); process.exit(2); }
const servers = flags.servers ? flags.servers.split(',').map((s) => s.trim()) : ALL_SERVERS;
for (const s of servers) if (!SERVERS[s]) { process.stderr.write(`unknown server ${s}; one of ${ALL_SERVERS.join(', ')}\n`); process.exit(2); }
const quick = flags.quick;
const rounds = Number(flags.rounds ?? (quick ? 1 : 3));

const MiB = 1 << 20;
const SIZES = quick
  ? { retrBytes: 64 * MiB, storBytes: 32 * MiB, duration: 0.5, shortDuration: 0.5, idleSteps: [50, 100], settle: 0.5, loopBytes: 256 * MiB }
  : { retrBytes: 1024 * MiB, storBytes: 256 * MiB, duration: 3, shortDuration: 2, idleSteps: [1000, 5000], settle: 3, loopBytes: 1024 * MiB };

const log = (msg) => process.stderr.write(`${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup on every exit path ------------------------------------------------------
const live = new Set();
const cleanups = [];
let cleaned = false;
function cleanupSync() {
  if (cleaned) return;
  cleaned = true;
  for (const child of live) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const fn of cleanups.reverse()) { try { fn(); } catch { /* best effort */ } }
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    log(`\n${sig}: stopping servers`);
    await Promise.all([...live].map((c) => stopTree(c)));
    cleanupSync();
    process.exit(130);
  });
}

// ---- machine setup -------------------------------------------------------------------
// Children inherit the limit: servers and load generator alike get it.
function raiseFdLimit() {
  const want = 65536;
  let r = sh('prlimit', ['--pid', String(process.pid), `--nofile=${want}:${want}`]);
  if (r.ok) return;
  // Without CAP_SYS_RESOURCE the hard limit cannot grow: take all of it.
  const hard = Number(sh('sh', ['-c', 'ulimit -Hn']).stdout.trim());
  r = sh('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`]);
  const now = Number(sh('sh', ['-c', 'ulimit -n']).stdout.trim());
  if (now < 12_000) log(`warning: open-file limit ${now} (prlimit: ${r.out.trim() || 'refused'}); 5 000 sessions may fail`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Passive ranges: blocks below the kernel's ephemeral range (32768+), a different block
// for each start so TIME_WAIT of one run never meets the next.
// pure-ftpd admits at most half as many sessions as its range has ports, so the idle test
// gets all of 20000-31999.
let nextBlock = 0;
function passiveRange(size) {
  if (size > 1000) return { pasvMin: 20000, pasvMax: 20000 + Math.min(size, 12000) - 1 };
  for (let i = 0; i < 12; i++) {
    const base = 20000 + ((nextBlock++ % 12) * 1000);
    const min = base + 1000 - size;
    const max = min + size - 1;
    if (listenersInRange(min, max).length === 0) return { pasvMin: min, pasvMax: max };
  }
  throw new Error('no free passive range in 20000-31999');
}

/** The FTP user every server authenticates: one password, one SHA-512 crypt hash. */
function setupUser(rootBase) {
  const ctx = { user: 'benchftp', pass: crypto.randomBytes(12).toString('hex') };
  const h = sh('openssl', ['passwd', '-6', '-stdin'], { input: ctx.pass });
  if (!h.ok) throw new Error(`openssl passwd -6: ${h.out.trim()}`);
  ctx.hash = h.stdout.trim();
  if (!sh('id', ['-u', ctx.user]).ok) {
    const r = sh('useradd', ['-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', ctx.user]);
    if (!r.ok) throw new Error(`useradd ${ctx.user}: ${r.out.trim()}`);
  }
  ctx.uid = Number(sh('id', ['-u', ctx.user]).stdout.trim());
  ctx.gid = Number(sh('id', ['-g', ctx.user]).stdout.trim());
  ctx.root = path.join(rootBase, 'root');
  // vsftpd authenticates through PAM against /etc/shadow (the same hash) and changes into
  // the home directory first: both set for the run, locked and reset after it.
  if (sh('usermod', ['-p', ctx.hash, '-d', ctx.root, ctx.user]).ok) {
    cleanups.push(() => sh('usermod', ['-p', '!', '-d', '/nonexistent', ctx.user]));
    const pam = '/etc/pam.d/ftpkit-bench';
    const mod = ['/lib/x86_64-linux-gnu/security/pam_unix.so', '/usr/lib/x86_64-linux-gnu/security/pam_unix.so'].some((f) => fs.existsSync(f));
    if (mod || fs.existsSync(pam)) {
      fs.writeFileSync(pam, '# written by ftpkit bench/run.mjs for vsftpd; removed after the run\nauth required pam_unix.so\naccount required pam_unix.so\nsession required pam_permit.so\n');
      cleanups.push(() => fs.rmSync(pam, { force: true }));
      ctx.pamService = 'ftpkit-bench';
    } else ctx.pamError = 'pam_unix.so not found';
  } else ctx.pamError = 'usermod failed';
  return ctx;
}

/**
 * Where the served tree lives: tmpfs (/dev/shm) when it has room, so that STOR measures
 * the server and not the disk's writeback; the temp dir otherwise.
 */
function servedTreeBase(work) {
  const need = SIZES.retrBytes + 4 * SIZES.storBytes + 256 * MiB;
  try {
    const st = fs.statfsSync('/dev/shm');
    if (st.bavail * st.bsize > 2 * need) {
      const base = fs.mkdtempSync('/dev/shm/ftpkit-bench-');
      cleanups.push(() => fs.rmSync(base, { recursive: true, force: true }));
      fs.chmodSync(base, 0o755);
      return base;
    }
  } catch { /* no tmpfs here */ }
  return work;
}

/** The served tree: retr.bin (read from page cache), list1000/ (1 000 entries). */
function setupRoot(ctx) {
  fs.mkdirSync(path.join(ctx.root, 'list1000'), { recursive: true });
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) chunk.writeUInt32LE(i * 2654435761 >>> 0, i);
  const fd = fs.openSync(path.join(ctx.root, 'retr.bin'), 'w');
  for (let left = only.has('retr') ? SIZES.retrBytes : 0; left > 0; left -= MiB) fs.writeSync(fd, chunk, 0, Math.min(MiB, left));
  fs.closeSync(fd);
  for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(ctx.root, 'list1000', `file-${String(i).padStart(4, '0')}.txt`), `entry ${i}\n`);
  sh('chown', ['-R', `${ctx.uid}:${ctx.gid}`, ctx.root]);
  // Into the page cache before anything is measured.
  const rd = fs.openSync(path.join(ctx.root, 'retr.bin'), 'r');
  while (fs.readSync(rd, chunk, 0, MiB, null) > 0) { /* warm */ }
  fs.closeSync(rd);
}

// ---- package micro-benchmarks --------------------------------------------------------
/**
 * Under --quick, shorter runs for the flags a micro-benchmark says it reads: `--quick`, or
 * the `--rounds N` / `--ms N` pair the package benchmarks share. Nothing otherwise.
 */
function quickArgs(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes('--quick')) return ['--quick'];
  return [...(text.includes('--rounds') ? ['--rounds', '2'] : []), ...(text.includes('--ms') ? ['--ms', '80'] : [])];
}

function microBenchmarks() {
  const files = [];
  for (const top of ['packages', 'apps']) {
    const dir = path.join(REPO_DIR, top);
    if (!fs.existsSync(dir)) continue;
    for (const pkg of fs.readdirSync(dir).sort()) {
      const b = path.join(dir, pkg, 'bench');
      if (!fs.existsSync(b)) continue;
      for (const f of fs.readdirSync(b).sort()) if (f.endsWith('.mjs')) files.push(path.join(b, f));
    }
  }
  log(`\n== package micro-benchmarks (${files.length}) ==`);
  const out = [];
  for (const f of files) {
    const rel = path.relative(REPO_DIR, f);
    log(`\n-- ${rel}`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [f, ...(quick ? quickArgs(f) : [])], {
      cwd: path.dirname(path.dirname(f)), stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000,
      env: { ...process.env, BENCH_QUICK: quick ? '1' : '' },
    });
    const status = r.error ? r.error.message : r.status === 0 ? 'ok' : `exit ${r.status ?? r.signal}`;
    log(`-- ${rel}: ${status} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    out.push({ file: rel, status });
  }
  return out;
}

// ---- running one test against one server ----------------------------------------------
function runLoadgen(args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(BENCH_DIR, 'loadgen.mjs'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    live.add(child);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      live.delete(child);
      const line = out.trim().split('\n').pop();
      try { resolve(JSON.parse(line)); } catch { resolve({ ok: false, error: sig ? `load generator killed (${sig}) after ${timeoutMs / 1000} s` : `load generator exit ${code}` }); }
    });
  });
}

/** The load generator arguments of each test (null: not a server test). */
function testPlan(ctx) {
  const d = String(SIZES.duration);
  const common = ['--user', ctx.user, '--pass', ctx.pass];
  const plan = [];
  const add = (test, args, extra = {}) => { if (only.has(TESTS[test].group)) plan.push({ test, args: [...common, ...args], ...extra }); };
  add('loopback1', ['--clients', '1'], { loopback: true });
  add('loopback4', ['--clients', '4'], { loopback: true });
  add('retr1', ['--mode', 'retr', '--clients', '1', '--file', 'retr.bin']);
  add('retr4', ['--mode', 'retr', '--clients', '4', '--file', 'retr.bin']);
  add('stor1', ['--mode', 'stor', '--clients', '1', '--bytes', String(SIZES.storBytes)]);
  add('stor4', ['--mode', 'stor', '--clients', '4', '--bytes', String(SIZES.storBytes)]);
  add('sessions1', ['--mode', 'sessions', '--clients', '1', '--duration', d, '--dir', 'list1000']);
  add('sessions8', ['--mode', 'sessions', '--clients', '8', '--duration', d, '--dir', 'list1000']);
  add('pipeline1', ['--mode', 'pipeline', '--depth', '1', '--duration', String(SIZES.shortDuration)]);
  add('pipeline16', ['--mode', 'pipeline', '--depth', '16', '--duration', String(SIZES.shortDuration)]);
  add('idle', ['--mode', 'idle', '--steps', SIZES.idleSteps.join(','), '--settle', String(SIZES.settle),
    '--max-step-seconds', flags['idle-full'] ? 'Infinity' : String(IDLE_STEP_SECONDS)], { serverPid: true, timeoutMs: 1_800_000, rangeSize: 12000 });
  add('pasv', ['--mode', 'pasv', '--duration', String(SIZES.shortDuration)], { pasvArgs: true });
  add('pasv-connect', ['--mode', 'pasv', '--connect', '--duration', String(SIZES.shortDuration)], { pasvArgs: true });
  add('pasv-full-foreign', ['--mode', 'pasv-full', '--variant', 'foreign'], { pasvArgs: true, rangeSize: 16 });
  add('pasv-full-sessions', ['--mode', 'pasv-full', '--variant', 'sessions'], { pasvArgs: true, rangeSize: 16 });
  return plan;
}

async function runLoopback(step) {
  const n = step.test === 'loopback4' ? 4 : 1;
  const bytes = Math.floor(SIZES.loopBytes / n);
  const sender = spawn(process.execPath, [path.join(BENCH_DIR, 'loopback-sender.mjs'), '--bytes', String(bytes), '--connections', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  live.add(sender);
  const port = await new Promise((resolve) => {
    let buf = '';
    sender.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(Number(buf.trim())); });
    sender.on('exit', () => resolve(undefined));
  });
  const r = port ? await runLoadgen(['--mode', 'loopback', '--port', String(port), '--clients', String(n)], 120_000) : { ok: false, error: 'loopback sender failed' };
  try { sender.kill('SIGKILL'); } catch { /* gone */ }
  live.delete(sender);
  return r;
}

/** Starts `server` for `step` (one retry on a new port). Returns an instance or { error }. */
async function startFor(step, server, prep, ctx, work, na) {
  const { pasvMin, pasvMax } = passiveRange(step.rangeSize ?? 1000);
  const dir = fs.mkdtempSync(path.join(work, `${server}-${step.test}-`));
  fs.chmodSync(dir, 0o755);
  const profDir = path.join(PROFILE_DIR, step.test);
  const nodeFlags = flags['cpu-prof'] && server === 'ftpkit' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const inst = { port: await freePort(), pasvMin, pasvMax, dir, nodeFlags };
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await startServer(server, prep, ctx, inst);
      live.add(handle.child);
      everStarted.add(server);
      return { server, handle, inst, startMs: Date.now() - t0 };
    } catch (err) {
      if (attempt < 2) { inst.port = await freePort(); continue; }
      // A server that never started is n/a for the run; one that did gets this cell's error.
      if (!everStarted.has(server)) na.set(server, `does not start: ${err.message}`);
      fs.rmSync(dir, { recursive: true, force: true });
      return { error: `does not start: ${err.message}` };
    }
  }
}

async function stopInstance(instance) {
  const t = Date.now();
  const profiling = instance.inst.nodeFlags.length > 0;
  // Under --cpu-prof, SIGINT lets Node write the profile (ftpkit drains, then exits).
  await stopTree(instance.handle.child, profiling ? 'SIGINT' : 'SIGTERM', profiling ? 15_000 : 3000);
  live.delete(instance.handle.child);
  fs.rmSync(instance.inst.dir, { recursive: true, force: true });
  if (Date.now() - t > 2000) log(`  (${instance.server} took ${((Date.now() - t) / 1000).toFixed(1)} s to stop)`);
}

/**
 * One test against one server. `shared` (under --quick) keeps one instance per server for
 * the tests that use the default passive range; otherwise every test gets a fresh start.
 */
/**
 * Waits until a server that just greeted has finished starting up: until its process
 * tree used at most 5 ms of CPU in each of two 100 ms intervals, 3 s at most. A server
 * that still warms up (ftpkit starts worker threads after it listens) would otherwise
 * share the two cores with the load generator during the first measurement.
 */
async function settle(pid) {
  const t0 = Date.now();
  let last = treeCpuMs(pid);
  let quiet = 0;
  while (quiet < 2 && Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 100));
    const now = treeCpuMs(pid);
    quiet = now - last <= 5 ? quiet + 1 : 0;
    last = now;
  }
  return Date.now() - t0;
}

async function runCell(step, server, prep, ctx, work, na, shared) {
  const shareable = shared && step.rangeSize === undefined;
  let instance = shareable ? shared.get(server) : undefined;
  let startMs = 0;
  let settleMs = 0;
  if (!instance) {
    instance = await startFor(step, server, prep, ctx, work, na);
    if (instance.error) return { ok: false, error: instance.error };
    startMs = instance.startMs;
    settleMs = await settle(instance.handle.pid);
    if (shareable) shared.set(server, instance);
  }
  try {
    const { inst, handle } = instance;
    const args = [...step.args, '--port', String(inst.port)];
    if (step.serverPid) args.push('--server-pid', String(handle.pid));
    if (step.pasvArgs) args.push('--pasv-min', String(inst.pasvMin), '--pasv-max', String(inst.pasvMax));
    const t1 = Date.now();
    const cpu0 = treeCpuMs(handle.pid);
    const r = await runLoadgen(args, step.timeoutMs ?? 300_000);
    return { ...r, startMs, settleMs, runMs: Date.now() - t1, serverCpuMs: treeCpuMs(handle.pid) - cpu0 };
  } finally {
    if (!shareable) await stopInstance(instance);
  }
}

function summary(test, r) {
  if (!r.ok) return `error: ${r.error}`;
  if (r.MBps !== undefined) return `${fmtNum(r.MBps)} MB/s`;
  if (test.startsWith('sessions')) return `${fmtNum(r.perSecond)}/s p50 ${fmtNum(r.p50ms, 1)} ms p99 ${fmtNum(r.p99ms, 1)} ms${r.errors ? ` (${r.errors} errors: ${r.firstError})` : ''}`;
  if (test.startsWith('pipeline')) return `${fmtNum(r.perSecond)} cmds/s${r.errors ? ` (${r.errors} errors: ${r.firstError})` : ''}`;
  if (test === 'idle') return r.steps.map((s) => `${s.sessions}: ${fmtNum(s.pssKiBPerSession, 1)} KiB PSS/session`).join(', ') + (r.failures ? ` (${r.failures} failed logins: ${r.firstError})` : '') + (r.stoppedEarly ? ` (stopped: ${r.stoppedEarly})` : '');
  if (test.startsWith('pasv-full') && r.at === 'login') return `${r.code} at login after ${r.holders} sessions: ${r.text}`;
  if (test.startsWith('pasv-full')) return `${r.code} in ${fmtNum(r.ms, 2)} ms${r.code === 227 ? ` (port ${r.advertisedPort}${r.inRange ? '' : ', outside the range'})` : ''}: ${r.text}`;
  if (test.startsWith('pasv')) return `${fmtNum(r.perSecond)}/s, ${r.listenersAfterQuit} listeners left${r.outOfRange ? `, ${r.outOfRange} ports outside the range` : ''}${r.errors ? ` (${r.errors} errors: ${r.firstError})` : ''}`;
  return JSON.stringify(r);
}

// ---- main ----------------------------------------------------------------------------
async function main() {
  const started = Date.now();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonl = path.join(RESULTS_DIR, `${STAMP}.jsonl`);
  const record = (obj) => fs.appendFileSync(jsonl, JSON.stringify({ ts: new Date().toISOString(), ...obj }) + '\n');
  const commit = sh('git', ['-C', REPO_DIR, 'rev-parse', '--short', 'HEAD']).stdout.trim() || undefined;
  record({ kind: 'meta', commit, node: process.version, kernel: os.release(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), flags, rounds, sizes: SIZES, servers });

  if (only.has('micro')) record({ kind: 'micro', results: microBenchmarks() });

  const plan = [];
  const na = new Map();
  const results = new Map();
  const serverTests = [...only].some((g) => g !== 'micro');
  if (serverTests) {
    raiseFdLimit();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpkit-bench-'));
    fs.chmodSync(work, 0o755);
    cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
    let ctx;
    try {
      if (process.getuid?.() !== 0) throw new Error('the harness needs root (it creates a user and runs vsftpd/proftpd as root)');
      const rootBase = servedTreeBase(work);
      ctx = setupUser(rootBase);
      setupRoot(ctx);
    } catch (err) {
      for (const s of servers) na.set(s, err.message);
      ctx = { user: 'benchftp', pass: '' };
    }
    const preps = new Map();
    log('\n== servers ==');
    for (const s of servers) {
      if (na.has(s)) continue;
      try {
        preps.set(s, SERVERS[s].prepare(ctx));
        log(`${s}: ${SERVERS[s].describe}`);
      } catch (err) {
        na.set(s, err.message);
        log(`${s}: n/a (${err.message})`);
      }
    }
    plan.push(...testPlan(ctx));
    // Idle memory of a process-per-session server is flat (±1% between 1 000 and 5 000
    // sessions) while logging in 5 000 sessions takes it minutes and 5 000-10 000
    // processes on a shared machine: such a server is measured in the first round only.
    const idleOnce = new Set();
    for (const step of plan) results.set(step.test, new Map());
    for (let round = 0; round < rounds; round++) {
      log(`\n== round ${round + 1}/${rounds} ==`);
      const order = servers.map((_, i) => servers[(i + round) % servers.length]);
      const cell = async (step, s, shared) => {
        if (na.has(s)) return;
        if (step.test === 'idle' && idleOnce.has(s)) return;
        const r = await runCell(step, s, preps.get(s), ctx, work, na, shared);
        if (step.test === 'idle' && r.ok && r.steps.reduce((t, x) => t + x.loginSeconds, 0) > IDLE_ONCE_SECONDS) idleOnce.add(s);
        record({ kind: 'result', round, test: step.test, server: s, ...r });
        push(results, step.test, s, { ...r, round });
        const perGB = r.ok && r.bytes > 0 && /^(retr|stor)/.test(step.test) ? `, server CPU ${Math.round(r.serverCpuMs / (r.bytes / 1e9))} ms/GB` : '';
        log(`${step.test.padEnd(20)} ${s.padEnd(14)} ${summary(step.test, r)}${perGB}`);
      };
      for (const step of plan.filter((p) => p.loopback)) {
        const r = await runLoopback(step);
        record({ kind: 'result', round, test: step.test, server: 'node', ...r });
        push(results, step.test, 'node', { ...r, round });
        log(`${step.test.padEnd(20)} node loopback  ${summary(step.test, r)}`);
      }
      const serverSteps = plan.filter((p) => !p.loopback);
      if (quick) {
        // One start per server: its tests run back to back on it.
        for (const s of order) {
          const shared = new Map();
          for (const step of serverSteps) await cell(step, s, shared);
          for (const instance of shared.values()) await stopInstance(instance);
        }
      } else {
        // Alternation: each test visits every server, each on a fresh start.
        for (const step of serverSteps) for (const s of order) await cell(step, s);
      }
    }
    for (const [s, reason] of na) record({ kind: 'na', server: s, reason });
  }

  if (plan.length > 0) {
    const meta = { date: new Date().toISOString(), commit, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, kernel: os.release(), node: process.version, rounds, quick, sizes: SIZES };
    const { table, md, text } = report(results, servers, na, meta);
    fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), md);
    record({ kind: 'table', rows: table.rows, missed: table.missed, loopback: table.loopback });
    process.stdout.write('\n');
    process.stdout.write(flags.markdown ? md : text);
    if (flags['cpu-prof']) printProfiles(plan);
    log(`\nraw results: ${path.relative(process.cwd(), jsonl)}; markdown: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'latest.md'))}; ${((Date.now() - started) / 60000).toFixed(1)} min`);
  }
}

/** The table with its header and notes, as markdown and as plain text. */
function report(results, servers, na, meta) {
  const table = buildTable(results, servers, na, { idleSteps: meta.sizes.idleSteps });
  const loopLine = `Node loopback TCP (the physical limit here): ${fmtNum(table.loopback.loopback1)} MB/s with 1 stream, ${fmtNum(table.loopback.loopback4)} MB/s with 4.`;
  const header = `Measured ${meta.date.slice(0, 10)}${meta.commit ? ` at ${meta.commit}` : ''} on ${meta.cpus} × ${meta.cpu ?? 'cpu'}, Linux ${meta.kernel}, Node ${meta.node}; median of ${meta.rounds} round${meta.rounds > 1 ? 's' : ''}${meta.quick ? ' (--quick: small sizes)' : ''}; ratios are ftpkit ÷ peer in the same run (↑ higher is better, ↓ lower is better).`;
  const judged = table.rows.filter((r) => r.status.startsWith('met') || r.status.startsWith('MISSED')).length;
  const missedText = table.missed.length > 0 ? `Missed targets: ${table.missed.map((m) => `${m.label} (${m.target}: ${m.status})`).join('; ')}.`
    : judged > 0 ? 'All judged targets met.' : 'No target judged (ftpkit or its references not measured).';
  const tail = table.loopback.loopback1 === undefined && table.loopback.loopback4 === undefined ? [] : [loopLine, ''];
  if (table.notes.length > 0) tail.push(...table.notes.map((n) => `- ${n}`), '');
  const md = [header, '', renderMarkdown(table), '', ...tail, missedText, ''].join('\n');
  const text = [header, '', renderText(table), '', ...tail, missedText, ''].join('\n');
  return { table, md, text };
}

/** --report FILE: the table of an earlier run, from its raw results. */
function reportFrom(file) {
  const records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const meta = records.find((r) => r.kind === 'meta');
  if (!meta) throw new Error(`${file}: no meta record`);
  const results = new Map();
  const na = new Map();
  for (const r of records) {
    if (r.kind === 'na') na.set(r.server, r.reason);
    if (r.kind !== 'result') continue;
    if (!results.has(r.test)) results.set(r.test, new Map());
    push(results, r.test, r.server, r);
  }
  const { md, text } = report(results, meta.servers, na, { ...meta, date: meta.ts, quick: meta.flags?.quick });
  process.stdout.write(flags.markdown ? md : text);
}

/** Under --cpu-prof: ftpkit's top frames by self time in each test. */
function printProfiles(plan) {
  for (const step of plan) {
    const files = profilesIn(path.join(PROFILE_DIR, step.test));
    if (files.length === 0) continue;
    const top = selfTimes(files, REPO_DIR);
    const idle = top.rows.find((r) => r.frame === '(idle)');
    top.rows = top.rows.filter((r) => r !== idle);
    log(`\n-- ftpkit ${step.test}: ${files.length} profile(s), ${(top.totalMs / 1000).toFixed(1)} s sampled, ${((idle?.share ?? 0) * 100).toFixed(0)}% idle; top frames by self time (${path.relative(process.cwd(), path.join(PROFILE_DIR, step.test))})\n${formatTop(top, 12)}`);
  }
}

function push(results, test, server, r) {
  const m = results.get(test);
  if (!m.has(server)) m.set(server, []);
  m.get(server).push(r);
}

if (flags.report) {
  reportFrom(flags.report);
  process.exit(0);
}

main().then(() => { cleanupSync(); process.exit(0); }, (err) => { log(err.stack ?? String(err)); cleanupSync(); process.exit(1); });
