/**
 * The server under test: `ftpkit serve --config <file>` in a child process (optionally
 * through `sh -c 'ulimit -n N; exec node …'`), JSON logs collected, and the process's
 * open file descriptors and TCP sockets read from /proc for leak checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '@ftpkit/config/node';
import { FtpClient, activeTarget, list, stor } from './ftp.js';

export const REPO: string = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI: string = join(REPO, 'apps/server/dist/cli.js');
export const USER = 'alice';
export const PASSWORD = 'h4rd-Secret';

export const isRoot: boolean = process.getuid?.() === 0;
export const inCI: boolean = process.env.CI === 'true';
/** Tests that need root or a tool skip only outside CI. */
export const skipUnless = (ok: boolean): boolean => !ok && !inCI;

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export interface Range {
  min: number;
  max: number;
}

/**
 * `n` consecutive ports that were free a moment ago, below the kernel's ephemeral range
 * (32768+), so the suite's own client sockets never land in the passive range.
 */
export async function freeRange(n: number): Promise<Range> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const min = 12000 + Math.floor(Math.random() * (32000 - 12000 - n));
    const free = await Promise.all(Array.from({ length: n }, (_, i) => portFree(min + i)));
    if (free.every(Boolean)) return { min, max: min + n - 1 };
  }
  throw new Error(`no ${n} free consecutive ports`);
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ServerOptions {
  /** Extra proftpd.conf lines (directives), appended after the defaults; `{root}` is the FTP root. */
  directives?: string[];
  /** Size of the PassivePorts range (default 16). */
  passivePorts?: number;
  /** `ulimit -n` for the server process. */
  ulimit?: number;
  /** Serve this folder instead of a fresh one. */
  root?: string;
  /** Extra CLI arguments (`--exhaustion refuse`). */
  args?: string[];
  /** Log level (default debug). */
  logLevel?: string;
  /** Extra users (home = the root); `md5` hashes with MD5-crypt, cheap for load tests. */
  users?: { name: string; password: string; md5?: boolean }[];
  /**
   * Run the server in a private mount namespace (unshare -m) where this file is
   * /etc/resolv.conf, so its DNS goes to a test server (needs root).
   */
  resolvConf?: string;
  /**
   * For a server that drops privileges (`User nobody`): the server's folder becomes
   * world-searchable (0755) and the AuthUserFile gets this mode.
   */
  authFileMode?: number;
  /**
   * Run one complete session first (login, passive LIST, active RETR, STOR, DELE, QUIT) so
   * one-time allocations (worker threads, buffers) are in the baseline of the leak checks.
   * Default true.
   */
  warmUp?: boolean;
}

export interface Served {
  child: ChildProcess;
  pid: number;
  port: number;
  range: Range;
  /** Temp folder of this server (config, passwd); removed by stop(). */
  dir: string;
  /** The FTP root (alice's home). */
  root: string;
  logs: LogRecord[];
  stderr: string[];
  /** Resolves with the first log record whose msg matches (already logged or future). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<LogRecord>;
  /** Log messages matching a pattern. */
  grep(pattern: RegExp): string[];
  /** Open file descriptors of the server process. */
  fds(): number;
  /** TCP sockets the server process holds. */
  sockets(): TcpSocket[];
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

const running = new Set<Served>();

/** Stops every server still running (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ftpkit-hardening-${prefix}-`));
}

export async function startServer(opts: ServerOptions = {}): Promise<Served> {
  const dir = makeTempDir('srv');
  const root = opts.root ?? join(dir, 'root');
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const range = await freeRange(opts.passivePorts ?? 16);
  const users: { name: string; password: string; md5?: boolean }[] = [{ name: USER, password: PASSWORD }, ...(opts.users ?? [])];
  const passwd = join(dir, 'ftpd.passwd');
  writeFileSync(passwd, users.map((u) => `${u.name}:${hashPassword(u.password, u.md5 === true ? { scheme: 'md5-crypt' } : {})}:65534:65534:hardening:${root}:/bin/sh\n`).join(''));
  if (opts.authFileMode !== undefined) {
    chmodSync(dir, 0o755);
    chmodSync(passwd, opts.authFileMode);
  }
  const conf = join(dir, 'proftpd.conf');
  writeFileSync(
    conf,
    [
      'ServerName "hardening"',
      'DefaultAddress 127.0.0.1',
      'SocketBindTight on',
      `Port ${port}`,
      `PassivePorts ${range.min} ${range.max}`,
      'UseReverseDNS off',
      'RequireValidShell off',
      `AuthUserFile ${passwd}`,
      'DefaultRoot ~',
      'AllowOverwrite on',
      'AllowStoreRestart on',
      ...(opts.directives ?? []).map((d) => d.replaceAll('{root}', root)),
      '',
    ].join('\n'),
  );
  const node = [process.execPath, CLI, 'serve', '--config', conf, '--log-format', 'json', '--log-level', opts.logLevel ?? 'debug', ...(opts.args ?? [])];
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  // `exec` all the way down: the pid we hold is the server's own.
  const steps = [
    // The hard limit when the wanted one is not permitted (a container without CAP_SYS_RESOURCE).
    ...(opts.ulimit === undefined ? [] : [`{ ulimit -n ${opts.ulimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }`]),
    ...(opts.resolvConf === undefined ? [] : [`mount --bind ${quote(opts.resolvConf)} /etc/resolv.conf`]),
    `exec ${node.map(quote).join(' ')}`,
  ];
  const env = { ...process.env, NO_COLOR: '1' };
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  const child =
    steps.length === 1
      ? spawn(node[0] as string, node.slice(1), { stdio, env })
      : opts.resolvConf === undefined
        ? spawn('sh', ['-c', steps.join(' && ')], { stdio, env })
        : spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', steps.join(' && ')], { stdio, env });
  const logs: LogRecord[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (r: LogRecord) => void }>();
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    let i: number;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch {
        rec = { level: 0, msg: line };
      }
      logs.push(rec);
      for (const w of waiters) {
        if (w.pattern.test(rec.msg)) {
          waiters.delete(w);
          w.resolve(rec);
        }
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dump = (): string => `${logs.map((l) => l.msg).join('\n')}\n${stderr.join('')}`.slice(-4000);
  const served: Served = {
    child,
    pid: child.pid ?? 0,
    port,
    range,
    dir,
    root,
    logs,
    stderr,
    waitFor(pattern, timeoutMs = 10_000) {
      const seen = logs.find((r) => pattern.test(r.msg));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pattern,
          resolve: (r: LogRecord) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; log:\n${dump()}`));
        }, timeoutMs);
        waiters.add(w);
        void exited.then(() => {
          if (waiters.delete(w)) {
            clearTimeout(timer);
            reject(new Error(`the server exited before logging ${pattern}; log:\n${dump()}`));
          }
        });
      });
    },
    grep: (pattern) => logs.filter((r) => pattern.test(r.msg)).map((r) => r.msg),
    fds: () => readdirSync(`/proc/${child.pid}/fd`).length,
    sockets: () => tcpSocketsOf(child.pid ?? 0),
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      running.delete(served);
      if (served.alive()) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(served);
  try {
    await served.waitFor(/^ftpkit listening/, 15_000);
    if (opts.warmUp !== false) await warmUp(port);
  } catch (err) {
    await served.stop();
    throw err;
  }
  return served;
}

/** One complete session; a login that fails (a test of failing logins) ends it early. */
async function warmUp(port: number): Promise<void> {
  const c = await FtpClient.connect(port);
  try {
    if ((await c.login(USER, PASSWORD)).code !== 230) return;
    await c.cmd('TYPE I');
    await list(c, 'LIST -la');
    const warm = `.warm-up-${process.pid}`;
    if ((await stor(c, warm, Buffer.alloc(70_000, 1))).final?.code === 226) {
      const t = await activeTarget();
      if ((await c.cmd(`EPRT |1|127.0.0.1|${t.port}|`)).code === 200 && (await c.cmd(`RETR ${warm}`)).code === 150) {
        await t.got;
        await c.reply();
      }
      t.close();
      await c.cmd(`DELE ${warm}`);
    }
    await c.cmd('ABOR');
  } finally {
    await c.quit();
  }
}

export interface TcpSocket {
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  state: string;
}

const STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

function hexAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  // IPv6: four little-endian 32-bit words.
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)?.reverse().join('') ?? '');
  const v4mapped = words[0] === '00000000' && words[1] === '00000000' && words[2] === '0000FFFF';
  if (v4mapped) return `::ffff:${hexAddress(hex.slice(24))}`;
  return words.join('').match(/..../g)?.join(':').toLowerCase() ?? hex;
}

/** Local ports of every TCP socket on this host (any process, any state), from /proc/net/tcp{,6}. */
export function localPortsInUse(): Set<number> {
  const out = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const local = row.trim().split(/\s+/)[1];
      if (local !== undefined) out.add(parseInt(local.split(':')[1] ?? '0', 16));
    }
  }
  return out;
}

/** The TCP sockets (IPv4 and IPv6) whose inodes are open in process `pid`. */
export function tcpSocketsOf(pid: number): TcpSocket[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: TcpSocket[] = [];
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9] as string)) continue;
      const [la, lp] = (f[1] as string).split(':');
      const [ra, rp] = (f[2] as string).split(':');
      out.push({ local: hexAddress(la ?? ''), localPort: parseInt(lp ?? '0', 16), remote: hexAddress(ra ?? ''), remotePort: parseInt(rp ?? '0', 16), state: STATES[f[3] as string] ?? (f[3] as string) });
    }
  }
  return out;
}

/**
 * Waits until the server holds at most `baseline` descriptors (sockets and files of
 * finished sessions are closed asynchronously); returns the last count.
 */
export async function settleFds(s: Served, baseline: number, timeoutMs = 8000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = s.fds();
  while (n > baseline && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    n = s.fds();
  }
  return n;
}

/** What each descriptor of `pid` points at (`socket:[…]`, a path, `anon_inode:[eventpoll]`…). */
export function fdTargets(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
    } catch {
      return [];
    }
  });
}

/** A readable description of the server's TCP sockets and other descriptors, for failure messages. */
export function describeSockets(s: Served): string {
  const tcp = s.sockets().map((t) => `${t.state} ${t.local}:${t.localPort} <- ${t.remote}:${t.remotePort}`);
  const other = fdTargets(s.pid).filter((t) => !t.startsWith('socket:'));
  const counts = new Map<string, number>();
  for (const t of other) counts.set(t.replace(/\[\d+\]$/, '[]'), (counts.get(t.replace(/\[\d+\]$/, '[]')) ?? 0) + 1);
  return [...tcp, ...[...counts].map(([t, n]) => `${n} × ${t}`)].join('\n');
}

/** Resident memory of a process in MiB (/proc/<pid>/status VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}
