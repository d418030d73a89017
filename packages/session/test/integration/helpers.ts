import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

export const HOST = '127.0.0.1';

/** A fresh temporary directory (real path), removed after the file's tests. */
export function tempDirs(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = realpathSync(mkdtempSync(join(tmpdir(), 'ftpkit-session-')));
    made.push(d);
    return d;
  };
}

/** Waits until `check()` is true; throws after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Counts of socket/file handles of this process (process.getActiveResourcesInfo()). */
export function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const WATCHED = ['TCPServerWrap', 'TCPSocketWrap', 'FSReqPromise', 'FSReqCallback'];

/** Open file descriptors of this process (Linux), -1 elsewhere. */
export function openFds(): number {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : -1;
}

/** The watched handle counts of this process, and its open descriptors. */
export function watchedHandles(): Record<string, number> {
  const all = handles();
  return { ...Object.fromEntries(WATCHED.map((k) => [k, all[k] ?? 0])), fds: openFds() };
}

/** Registers cleanups run after each test and checks that no socket or file handle outlives the file. */
export function hygiene(): { cleanups: Array<() => unknown> } {
  const cleanups: Array<() => unknown> = [];
  let baseline: Record<string, number> = {};
  beforeAll(() => {
    baseline = watchedHandles();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await eventually(() => JSON.stringify(watchedHandles()) === JSON.stringify(baseline), 5000, 'handles back to baseline').catch(() => undefined);
    expect(watchedHandles()).toEqual(baseline);
  });
  return { cleanups };
}

export function connect(port: number, host = HOST): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads a socket to its end. */
export function readAll(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

/** Whether a command-line tool exists. */
export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Skip tests needing a missing tool outside CI; in CI (CI=true) they run and fail.
 * Use as `it.skipIf(missing('curl'))`.
 */
export function missing(tool: string): boolean {
  return process.env.CI !== 'true' && !hasTool(tool);
}

/** Deterministic pseudo-random bytes (a block of a prime length, repeated: no chunk size lines up with it). */
export function pattern(size: number, seed = 1): Buffer {
  const period = Math.min(size, 65521);
  const b = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < period; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  for (let filled = period; filled < size; filled *= 2) b.copy(b, filled, 0, Math.min(filled, size - filled));
  return b;
}

/** A range of `count` consecutive ports free on 127.0.0.1 right now (for PassivePorts). */
export async function freeRange(count: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 20000 + Math.floor(Math.random() * 10000);
    const servers: net.Server[] = [];
    let ok = true;
    for (let p = min; p < min + count && ok; p++) {
      const s = net.createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(p, HOST, () => resolve(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (ok) return { min, max: min + count - 1 };
  }
  throw new Error('no free port range');
}
