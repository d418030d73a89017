/**
 * Test helpers: run the built CLI (dist/cli.js) and wait for its log lines.
 * Every process and temp dir started here is stopped/removed by `cleanup()`.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { ReplyDecoder, parsePasv } from '@ftpkit/reply';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An `<Anonymous dir>` section for test configurations (anonymous read-only access to `dir`). */
export function anonymousSection(dir: string, indent = ''): string {
  return [`<Anonymous ${dir}>`, '  User ftp', '  UserAlias anonymous ftp', '</Anonymous>'].map((l) => indent + l).join('\n');
}

/** A loopback-only configuration with anonymous access to `dir`; returns its path. */
export function loopbackConf(dir: string, port: number, extra = ''): string {
  const conf = join(dir, 'proftpd.conf');
  writeFileSync(conf, `Port ${port}\nDefaultAddress 127.0.0.1\nSocketBindTight on\n${extra}\n${anonymousSection(dir)}\n`);
  return conf;
}

export const CLI: string = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const cleanups: (() => void | Promise<void>)[] = [];

/** A SHA-512 crypt hash of `password` (`openssl passwd -6`), as an AuthUserFile holds it. */
export function cryptHash(password: string): string {
  return execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();
}

/** A self-signed EC certificate for `name` written to `dir` (valid two days). */
export function selfSignedCertificate(dir: string, name = 'localhost'): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-days', '2', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** Stop everything started by these helpers. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()?.();
}

export function tempDir(prefix = 'ftpkit-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A block of `n` consecutive ports that were free a moment ago (for PassivePorts). */
export async function freeRange(n: number): Promise<{ min: number; max: number; spec: string }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below the ephemeral range (32768+), so no client socket of the tests lands in it.
    const min = 12000 + Math.floor(Math.random() * (32000 - 12000 - n));
    const ok = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        new Promise<boolean>((resolve) => {
          const s = createServer();
          s.once('error', () => resolve(false));
          s.listen(min + i, '127.0.0.1', () => s.close(() => resolve(true)));
        }),
      ),
    );
    if (ok.every(Boolean)) return { min, max: min + n - 1, spec: `${min}-${min + n - 1}` };
  }
  throw new Error('no free port range');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Synchronous variant for short commands. */
export function runCliSync(args: string[], opts: { cwd?: string; input?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    input: opts.input,
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Served {
  child: ChildProcess;
  logs: LogRecord[];
  /** Lines on stdout that are not JSON. */
  text: string[];
  stderr: string[];
  /** Resolve with the first log record (already seen or future) whose msg matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<LogRecord>;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Start `ftpkit serve …` with JSON logs and wait until it listens. */
export async function serve(args: string[], opts: { cwd?: string; ready?: RegExp } = {}): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--log-format', 'json', '--log-level', 'debug', ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogRecord[] = [];
  const text: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (r: LogRecord) => void }[] = [];
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
        text.push(line);
        continue;
      }
      logs.push(rec);
      for (const w of [...waiters]) {
        if (w.pattern.test(rec.msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const served: Served = {
    child,
    logs,
    text,
    stderr,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      const seen = logs.find((r) => pattern.test(r.msg));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; got:\n${logs.map((l) => l.msg).join('\n')}\n${stderr.join('')}`));
        }, timeoutMs);
        const w = {
          pattern,
          resolve: (r: LogRecord) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            reject(new Error(`the server exited before logging ${pattern}:\n${logs.map((l) => l.msg).join('\n')}\n${stderr.join('')}`));
          }
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  await served.waitFor(opts.ready ?? /^ftpkit listening/);
  return served;
}

/** A raw FTP control connection for dialogues in tests. */
export class RawFtp {
  private readonly replies: { code: number; text: string }[] = [];
  private waiter: ((r: { code: number; text: string } | Error) => void) | undefined;
  private readonly decoder = new ReplyDecoder();
  private failure: Error | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.decoder.push(new Uint8Array(chunk))) {
        if (!r.ok) continue;
        const reply = { code: r.code, text: r.text };
        const w = this.waiter;
        this.waiter = undefined;
        if (w) w(reply);
        else this.replies.push(reply);
      }
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(this.failure);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed')));
    cleanups.push(() => {
      socket.destroy();
    });
  }

  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawFtp> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawFtp(s));
      });
    });
  }

  /** The next reply (rejects with Error('closed') when the server closed the connection). */
  read(timeoutMs = 5000): Promise<{ code: number; text: string }> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiter = (r) => {
        clearTimeout(t);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  async cmd(line: string): Promise<{ code: number; text: string }> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  async login(user: string, password: string): Promise<{ code: number; text: string }> {
    const r = await this.cmd(`USER ${user}`);
    return r.code === 331 ? this.cmd(`PASS ${password}`) : r;
  }

  /** PASV and the decoded address. */
  async pasv(): Promise<{ code: number; text: string; host: string; port: number }> {
    const r = await this.cmd('PASV');
    const p = parsePasv(r.text);
    return { ...r, host: p.ok ? p.value.host : '', port: p.ok ? p.value.port : 0 };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Open a data connection and collect everything until the server closes it. */
export function dataConnection(port: number, host = '127.0.0.1', localAddress?: string): { socket: Socket; done: Promise<Buffer> } {
  const socket = connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => resolve(Buffer.concat(chunks)));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
  });
  cleanups.push(() => {
    socket.destroy();
  });
  return { socket, done };
}
