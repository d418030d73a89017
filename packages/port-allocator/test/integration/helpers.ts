import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, beforeAll } from 'vitest';

/**
 * A base port for a test file's ranges: random, below Linux's default ephemeral range
 * (32768-60999), so ports the kernel hands out elsewhere do not land in our ranges.
 */
export function randomBase(span: number): number {
  return 20000 + Math.floor(Math.random() * (12000 - span));
}

export function range(min: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => min + i);
}

const HOLDER = `
const net = require('node:net');
const dgram = require('node:dgram');
const [kind, ...ports] = process.argv.slice(1);
let left = ports.length;
const ready = () => { if (--left === 0) process.stdout.write('ready\\n'); };
for (const p of ports.map(Number)) {
  if (kind === 'udp') dgram.createSocket('udp4').bind(p, '127.0.0.1', ready);
  else net.createServer().listen(p, '127.0.0.1', ready);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** Another process that holds `ports` on 127.0.0.1 until `stop()`. */
export async function holdPorts(kind: 'tcp' | 'udp', ports: readonly number[]): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', HOLDER, kind, ...ports.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`port holder exited with ${String(code)}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return {
    child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin?.end();
    }),
  };
}

/** Counts of socket handles of this process, from process.getActiveResourcesInfo(). */
export function socketHandles(): Record<string, number> {
  const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, UDPWrap: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r]! += 1;
  return counts;
}

/** Waits until `check()` is true (handles close asynchronously); throws after `ms`. */
export async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the error code of a connection attempt that fails, or 'connected'. */
export function tryConnect(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

/** Whether this machine can bind ::1 (IPv6 loopback). */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/**
 * Registers hooks for a test file: `cleanups` run after each test (last first), then the
 * test must leave the process with the socket handles the file started with.
 */
export function socketHygiene(): { cleanups: (() => unknown)[]; baseline: () => Record<string, number> } {
  const cleanups: (() => unknown)[] = [];
  let baseline: Record<string, number> = {};
  beforeAll(() => {
    baseline = socketHandles();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await eventually(() => JSON.stringify(socketHandles()) === JSON.stringify(baseline));
  });
  return { cleanups, baseline: () => baseline };
}
