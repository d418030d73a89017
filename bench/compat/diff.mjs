#!/usr/bin/env node
// Differential replies: ProFTPD 1.3.8 (the Debian binaries the bench harness unpacks) and
// `ftpkit serve --config` run side by side on 127.0.0.1 with the same proftpd.conf (only
// paths and ports differ), each on an identical copy of one file tree. The same scripted
// command sequences go to both over raw sockets (data connections through PASV/EPSV), and
// every step whose reply code or text differs is printed. Normalised: the 220 banner,
// ProFTPD's version string, passive ports, and listing dates/owners/inode facts.
//
//   node bench/compat/diff.mjs [--all] [--only <script>] [--keep]
//
// Run as root (ProFTPD changes uid per session); everything started is stopped by pid.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ensureDebs, libraryPath } from '../lib/install.mjs';
import { proftpdConf, stopTree } from '../lib/servers.mjs';
import { SCRIPTS } from './scripts.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const showAll = args.includes('--all');
const keep = args.includes('--keep');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

const UID = 65534; // nobody: ftpkit drops to `User nobody` for the whole process, ProFTPD per session
const GID = 65534;
const PASS = 'secret';
// SHA-512 crypt of "secret"
const HASH = '$6$ftpkitdiff$1JFnqT/oxgLb6J4Y644TX.FTnhyi3HYb2crbe2I0z.wSdea2MmyE4yNmA6c6UHHyCH.tEknZTFI3X9DlxtMhb/';

function write(file, text, mode = 0o644) { fs.writeFileSync(file, text, { mode }); return file; }

/** One identical file tree per server. */
function makeTree(base) {
  const home = path.join(base, 'home');
  const anon = path.join(base, 'anon');
  fs.mkdirSync(path.join(home, 'sub dir'), { recursive: true });
  fs.mkdirSync(path.join(home, 'empty'));
  fs.mkdirSync(path.join(home, 'locked'));
  fs.mkdirSync(path.join(home, 'full'));
  fs.mkdirSync(path.join(anon, 'pub'), { recursive: true });
  write(path.join(home, 'hello.txt'), 'hello\n');
  write(path.join(home, 'crlf.txt'), 'a\nb\r\nc\n');
  write(path.join(home, 'sub dir', 'file one.txt'), 'one\n');
  write(path.join(home, 'héllo wörld ✓.txt'), 'unicode\n');
  write(path.join(home, 'full', 'x'), 'x');
  write(path.join(home, 'secret.txt'), 'nope\n', 0o600);
  write(path.join(home, 'readonly.txt'), 'ro\n', 0o444);
  write(path.join(anon, 'pub', 'readme.txt'), 'anon\n');
  write(path.join(anon, 'welcome.txt'), 'w\n');
  const when = new Date('2024-01-02T03:04:05Z');
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      fs.lchownSync(p, UID, GID);
      fs.utimesSync(p, when, when);
    }
  };
  walk(home);
  walk(anon);
  fs.chownSync(home, UID, GID);
  fs.chownSync(path.join(home, 'secret.txt'), 0, 0); // unreadable for the session user
  fs.chownSync(path.join(home, 'locked'), 0, 0);
  fs.chmodSync(path.join(home, 'locked'), 0o700);
  fs.chownSync(anon, 0, 0);
  fs.utimesSync(path.join(home, 'sub dir'), when, when);
  fs.utimesSync(home, when, when);
  return { home, anon };
}

function conf({ dir, port, pasv, modulePath, home, anon }) {
  write(path.join(dir, 'passwd'), `alice:${HASH}:${UID}:${GID}::${home}:/bin/sh\nftp:*:${UID}:${GID}::${anon}:/usr/sbin/nologin\n`, 0o600);
  write(path.join(dir, 'group'), `nogroup:x:${GID}:\n`, 0o600);
  return write(path.join(dir, 'proftpd.conf'), `${proftpdConf({ name: 'diff', dir, port, pasvMin: pasv, pasvMax: pasv + 9, modulePath })}<Directory ~/full>
  <Limit STOR STOU>
    DenyAll
  </Limit>
</Directory>
<Anonymous ${anon}>
  User ftp
  Group nogroup
  UserAlias anonymous ftp
  RequireValidShell off
  <Limit WRITE>
    DenyAll
  </Limit>
</Anonymous>
`);
}

function waitGreeting(port, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => { s.destroy(); resolve(false); }, ms);
    s.once('data', (d) => { clearTimeout(t); s.end(); resolve(/^220/.test(d.toString())); });
    s.on('error', () => { clearTimeout(t); resolve(false); });
  });
}

async function start(name, cmd, argv, env, dir, port) {
  const fd = fs.openSync(path.join(dir, 'server.log'), 'a');
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, cwd: dir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let exited;
  child.on('exit', (c, s) => { exited = `exited ${s ?? c}`; });
  const deadline = Date.now() + 15_000;
  while (!exited && Date.now() < deadline) {
    if (await waitGreeting(port, 1000)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopTree(child);
  const log = fs.readFileSync(path.join(dir, 'server.log'), 'utf8').trim().split('\n').slice(-15).join('\n');
  throw new Error(`${name}: ${exited ?? 'no greeting'}\n${log}`);
}

/** A control connection that reads whole (multi-line) replies. */
class Control {
  constructor(sock) {
    this.sock = sock;
    this.buf = '';
    this.waiters = [];
    this.closed = false;
    sock.on('data', (d) => { this.buf += d.toString('utf8'); this.pump(); });
    sock.on('close', () => { this.closed = true; this.pump(); });
    sock.on('error', () => {});
  }
  static open(port) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new Control(s)));
      s.once('error', reject);
    });
  }
  takeReply() {
    const lines = this.buf.split('\r\n');
    if (lines.length < 2) return undefined;
    const first = lines[0];
    const m = /^(\d{3})([ -])/.exec(first);
    if (!m || m[2] === ' ') { this.buf = lines.slice(1).join('\r\n'); return first; }
    for (let i = 1; i < lines.length - 1; i++) {
      if (lines[i].startsWith(`${m[1]} `)) {
        this.buf = lines.slice(i + 1).join('\r\n');
        return lines.slice(0, i + 1).join('\n');
      }
    }
    return undefined;
  }
  pump() {
    while (this.waiters.length > 0) {
      const r = this.takeReply();
      if (r === undefined) {
        if (this.closed) for (const w of this.waiters.splice(0)) w('<closed>');
        return;
      }
      this.waiters.shift()(r);
    }
  }
  reply(ms = 5000) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { const i = this.waiters.indexOf(done); if (i >= 0) this.waiters.splice(i, 1); resolve('<timeout>'); }, ms);
      const done = (r) => { clearTimeout(t); resolve(r); };
      this.waiters.push(done);
      this.pump();
    });
  }
  send(line) { if (!this.closed) this.sock.write(Buffer.from(`${line}\r\n`, 'utf8')); }
  close() { this.sock.destroy(); }
}

/** One data connection: its socket and everything read until it closes. */
function collect(s) {
  const chunks = [];
  const done = new Promise((r) => { s.on('close', () => r(Buffer.concat(chunks))); });
  s.on('data', (d) => chunks.push(d));
  s.on('error', () => {});
  return { sock: s, done };
}

/** A passive data connection, connected before the transfer command is sent. */
function openData(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      const conn = collect(s);
      resolve({ ready: Promise.resolve(conn), cancel: () => s.destroy() });
    });
    s.once('error', () => resolve(undefined));
  });
}

/** An active data connection: the server's connection to our listener (closed after one). */
function activeData(srv) {
  const ready = new Promise((resolve) => {
    const t = setTimeout(() => { srv.close(); resolve(undefined); }, 5000);
    srv.once('connection', (s) => { clearTimeout(t); srv.close(); resolve(collect(s)); });
  });
  return { ready, cancel: () => srv.close() };
}

/** Replies that arrive after the expected one (a server answering one command twice). */
async function extra(c) {
  await new Promise((r) => setTimeout(r, 40));
  let more = '';
  for (let r = c.takeReply(); r !== undefined; r = c.takeReply()) more += `\n+ ${r}`;
  return more;
}

/**
 * Runs one script against a server; returns [{step, reply, data}]. Steps:
 *  'CMD arg'                         a control command
 *  {cmd, data: 'PASV'|'EPSV'|'PORT'|'EPRT', upload?: string}   a data command through a fresh
 *                                    passive connection, or an active one to our own listener
 *  {raw: string}                     bytes sent as they are (no CRLF added)
 */
async function runScript(port, steps) {
  const out = [];
  const c = await Control.open(port);
  out.push({ step: '(connect)', reply: await c.reply() });
  for (const st of steps) {
    if (typeof st === 'string') {
      c.send(st);
      out.push({ step: st, reply: await c.reply() + await extra(c) });
      continue;
    }
    if (st.raw !== undefined) {
      c.sock.write(st.raw);
      out.push({ step: JSON.stringify(st.raw), reply: await c.reply() + await extra(c) });
      continue;
    }
    if (st.wait) { await new Promise((r) => setTimeout(r, st.wait)); continue; }
    const mode = st.data ?? 'PASV';
    let d;
    if (mode === 'PORT' || mode === 'EPRT') {
      // Active mode: listen on loopback, tell the server where, take its connection.
      const srv = net.createServer();
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const lport = srv.address().port;
      const line = mode === 'PORT' ? `PORT 127,0,0,1,${lport >> 8},${lport & 255}` : `EPRT |1|127.0.0.1|${lport}|`;
      c.send(line);
      out.push({ step: mode, reply: await c.reply() });
      d = activeData(srv);
    } else {
      c.send(mode);
      const pr = await c.reply();
      out.push({ step: mode, reply: pr });
      const m = /\((?:\d+,){4}(\d+),(\d+)\)|\(\|\|\|(\d+)\|\)/.exec(pr);
      const dport = m ? (m[3] ? Number(m[3]) : Number(m[1]) * 256 + Number(m[2])) : 0;
      d = dport ? await openData(dport) : undefined;
    }
    c.send(st.cmd);
    const first = await c.reply();
    let data = '';
    let final;
    if (/^1\d\d/.test(first)) {
      const conn = d && (await d.ready);
      if (conn && st.upload !== undefined) conn.sock.end(st.upload);
      if (conn) data = (await conn.done).toString('utf8');
      final = await c.reply();
    } else if (d) d.cancel();
    out.push({ step: st.cmd, reply: final ? `${first}\n${final}` : first, data });
  }
  c.send('QUIT');
  await c.reply(2000);
  c.close();
  return out;
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
function normReply(r) {
  return r
    .replace(/^220 .*/m, '220 <banner>')
    .replace(/ProFTPD(?: [\d.]+\w*)? Server/g, '<server>')
    .replace(/\((\d+,\d+,\d+,\d+),\d+,\d+\)/g, '($1,<p1>,<p2>)')
    .replace(/\(\|\|\|\d+\|\)/g, '(|||<port>|)')
    .replace(/modify=\d+/g, 'modify=<t>')
    .replace(/unique=[\w.]+/gi, 'unique=<u>')
    .replace(/^213 \d{14}$/m, '213 <mdtm>')
    // STAT <path> lines and MLST facts name owners: ProFTPD maps ids through its AuthUserFile,
    // ftpkit through the system's user database.
    .replace(/^( [-dl][-rwxsStT]{9}\s+\d+ )(\S+\s+)(\S+\s+)/gm, (_, head, o, g) => `${head}${'<owner>'.padEnd(o.length)}${'<group>'.padEnd(g.length)}`)
    .replace(/UNIX\.(owner|group)name=[^;]*;/g, '');
}
function normData(d) {
  return d
    .replace(new RegExp(`(${MONTHS}) [ \\d]\\d (?:\\d\\d:\\d\\d| \\d{4})`, 'g'), '<date>')
    .replace(/modify=\d+/g, 'modify=<t>')
    .replace(/unique=[\w.]+/gi, 'unique=<u>')
    .replace(/^([-dl][-rwxsStT]{9})\s+\d+\s+\S+\s+\S+\s+/gm, '$1 <n> <owner> <group> ')
    .replace(/UNIX\.(owner|group)name=[^;]*;/g, '')
    .replace(/[ \t]+$/gm, '');
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root');
  const cli = path.join(REPO, 'apps/server/dist/cli.js');
  if (!fs.existsSync(cli)) throw new Error('build first: npm run build');
  const pftpRoot = ensureDebs('proftpd', ['proftpd-core', 'proftpd-basic']);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ftpdiff-'));
  fs.chmodSync(base, 0o755);
  const servers = [];
  const children = [];
  try {
    const portBase = 22000 + (process.pid % 100) * 40;
    const specs = [
      { name: 'proftpd', port: portBase, pasv: portBase + 10 },
      { name: 'ftpkit', port: portBase + 1, pasv: portBase + 20 },
    ];
    for (const s of specs) {
      const dir = path.join(base, s.name);
      fs.mkdirSync(dir);
      const tree = makeTree(path.join(dir, 'tree'));
      fs.chmodSync(dir, 0o755);
      fs.chmodSync(path.join(dir, 'tree'), 0o755);
      const file = conf({ dir, port: s.port, pasv: s.pasv, modulePath: path.join(pftpRoot, 'usr/lib/proftpd'), ...tree });
      const child = s.name === 'proftpd'
        ? await start(s.name, path.join(pftpRoot, 'usr/sbin/proftpd'), ['-n', '-q', '-c', file], { LD_LIBRARY_PATH: libraryPath(pftpRoot) }, dir, s.port)
        : await start(s.name, process.execPath, [cli, 'serve', '--config', file, '--log-format', 'json', '--lenient'], {}, dir, s.port);
      children.push(child);
      servers.push({ ...s, dir });
    }
    let diffs = 0;
    let steps = 0;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (only && name !== only) continue;
      const [a, b] = await Promise.all(servers.map((s) => runScript(s.port, script)));
      console.log(`## ${name}`);
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const x = a[i] ?? { step: '?', reply: '<missing>', data: '' };
        const y = b[i] ?? { step: '?', reply: '<missing>', data: '' };
        steps++;
        const rx = normReply(x.reply);
        const ry = normReply(y.reply);
        const dx = normData(x.data ?? '');
        const dy = normData(y.data ?? '');
        const same = rx === ry && dx === dy;
        if (!same) diffs++;
        if (same && !showAll) continue;
        console.log(`${same ? '  ' : '!='} C: ${x.step}`);
        if (rx === ry) console.log(`     both:    ${rx.replace(/\n/g, '\n              ')}`);
        else {
          console.log(`     proftpd: ${rx.replace(/\n/g, '\n              ')}`);
          console.log(`     ftpkit:  ${ry.replace(/\n/g, '\n              ')}`);
        }
        if (dx !== dy) {
          console.log(`     proftpd data: ${JSON.stringify(dx)}`);
          console.log(`     ftpkit data:  ${JSON.stringify(dy)}`);
        }
      }
    }
    console.log(`\n${diffs} of ${steps} steps differ`);
    if (keep) console.log(`kept ${base}`);
  } finally {
    for (const c of children) await stopTree(c);
    if (!keep) fs.rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err.message ?? err); process.exitCode = 1; });
