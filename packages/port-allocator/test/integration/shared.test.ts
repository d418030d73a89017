import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AllocatorError, PortAllocator } from '../../src/index.js';
import type { AllocatorOptions } from '../../src/index.js';
import { SharedTcpPool, peerKey } from '../../src/node/index.js';
import type { ExpectResult, RejectedConnection } from '../../src/node/index.js';
import { eventually, holdPorts, randomBase, socketHandles, socketHygiene, tryConnect } from './helpers.js';

const HOST = '127.0.0.1';
// Peer keys other than 127.0.0.1 are only keys here: nothing is ever sent to them.
const OTHER = '192.0.2.10';

const { cleanups, baseline } = socketHygiene();

function pool(min: number, count: number, opts: Partial<AllocatorOptions> = {}): { a: PortAllocator; p: SharedTcpPool } {
  const a = new PortAllocator({ ranges: [{ min, max: min + count - 1 }], random: Math.random, cooldownMs: 0, share: true, ...opts });
  const p = new SharedTcpPool(a, { host: HOST });
  cleanups.push(() => p.close());
  return { a, p };
}

function ok(r: ExpectResult): Extract<ExpectResult, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.message}`);
  return r;
}

const never = (): void => {
  throw new Error('this waiter must not receive a connection');
};

describe('SharedTcpPool', () => {
  it('needs a share-mode allocator', () => {
    const a = new PortAllocator({ ranges: '20000', random: Math.random });
    expect(() => new SharedTcpPool(a, { host: HOST })).toThrow(AllocatorError);
  });

  it('normalises peer keys (IPv4-mapped IPv6, case)', () => {
    expect(peerKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(peerKey('2001:DB8::1')).toBe('2001:db8::1');
    expect(peerKey('::ffff:1')).toBe('::ffff:1');
  });

  it('serves several peers on one port and dispatches by source address; strangers are rejected', async () => {
    const { a, p } = pool(randomBase(1), 1);
    const rejected: RejectedConnection[] = [];
    p.on('rejected', (e: RejectedConnection) => rejected.push(e));

    const w1 = ok(await p.expect({ owner: 'session-A', peer: OTHER, onConnection: never }));
    // 127.0.0.1 has no waiter yet: the connection is rejected
    expect(await closedByServer(w1.port)).toBe(true);
    expect(rejected).toEqual([expect.objectContaining({ port: w1.port, remoteAddress: HOST })]);

    let resolveAccepted: (s: net.Socket) => void = () => {};
    const accepted = new Promise<net.Socket>((resolve) => (resolveAccepted = resolve));
    const w2 = ok(await p.expect({ owner: 'session-B', peer: HOST, onConnection: (s) => resolveAccepted(s) }));
    expect(w2.port).toBe(w1.port); // one port, two peers
    expect(p.stats()).toEqual({ ports: 1, waiters: 2, rejected: 1 });
    expect(a.stats(Date.now())).toMatchObject({ inUse: 1, leases: 2 });

    // the same peer cannot get the (only) port twice
    expect(await p.expect({ owner: 'session-C', peer: HOST, onConnection: never })).toMatchObject({ ok: false, reason: 'exhausted' });

    expect(await tryConnect(w2.port)).toBe('connected');
    const s = await accepted;
    s.destroy();
    expect(p.stats()).toEqual({ ports: 1, waiters: 1, rejected: 1 });
    expect(a.stats(Date.now()).leases).toBe(1);

    w1.close();
    w1.close();
    expect(p.stats()).toEqual({ ports: 0, waiters: 0, rejected: 1 });
    expect(a.stats(Date.now())).toMatchObject({ inUse: 0, leases: 0, free: 1 });
    expect(await tryConnect(w1.port)).toBe('ECONNREFUSED');
  });

  it('waiters that join a port while it is still binding all get it', async () => {
    const { a, p } = pool(randomBase(1), 1);
    const results = await Promise.all(['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((peer, i) =>
      p.expect({ owner: `s${i}`, peer, onConnection: never })));
    const ports = results.map((r) => ok(r).port);
    expect(new Set(ports).size).toBe(1);
    expect(p.stats()).toMatchObject({ ports: 1, waiters: 3 });
    expect(a.stats(Date.now())).toMatchObject({ leases: 3 });
  });

  it('a waiter times out, its lease returns and its listener closes', async () => {
    const { a, p } = pool(randomBase(2), 2);
    let timedOut = false;
    const w = ok(await p.expect({ owner: 's', peer: HOST, acceptTimeoutMs: 30, onConnection: never, onTimeout: () => (timedOut = true) }));
    await eventually(() => timedOut);
    expect(a.stats(Date.now()).leases).toBe(0);
    expect(p.stats().ports).toBe(0);
    expect(await tryConnect(w.port)).toBe('ECONNREFUSED');
  });

  it('skips a port another process holds, for every waiter that was joining it', async () => {
    const base = randomBase(2);
    const holder = await holdPorts('tcp', [base]);
    cleanups.push(() => holder.stop());
    const { a, p } = pool(base, 2, { busyRetryMs: 60_000 });
    const results = await Promise.all(['192.0.2.1', '192.0.2.2'].map((peer, i) => p.expect({ owner: `s${i}`, peer, onConnection: never })));
    expect(results.map((r) => ok(r).port)).toEqual([base + 1, base + 1]);
    expect(a.stats(Date.now())).toMatchObject({ busy: 1, inUse: 1, leases: 2 });
  });

  it('kernel fallback gives the waiter its own listener outside the range', async () => {
    const { a, p } = pool(randomBase(1), 1, { exhaustion: 'kernel' });
    const first = ok(await p.expect({ owner: 's1', peer: HOST, onConnection: never }));
    let got: net.Socket | undefined;
    const fb = ok(await p.expect({ owner: 's2', peer: HOST, onConnection: (s) => (got = s) }));
    expect(fb.fallback).toBe(true);
    expect(fb.port).not.toBe(first.port);
    expect(await tryConnect(fb.port)).toBe('connected');
    await eventually(() => got !== undefined);
    got?.destroy();
    expect(a.stats(Date.now())).toMatchObject({ fallbacks: 1, fallbackLeases: 0, leases: 1 });
  });

  it('close() drops every waiter and listener; no handle or lease remains', async () => {
    const { a, p } = pool(randomBase(3), 3);
    for (let i = 0; i < 12; i++) ok(await p.expect({ owner: `s${i}`, peer: `192.0.2.${i % 4}`, onConnection: never }));
    expect(p.stats()).toMatchObject({ ports: 3, waiters: 12 });
    p.close();
    expect(await p.expect({ owner: 'late', peer: HOST, onConnection: never })).toMatchObject({ ok: false, reason: 'error' });
    expect(a.stats(Date.now())).toMatchObject({ leases: 0, inUse: 0 });
    await eventually(() => socketHandles().TCPServerWrap === baseline().TCPServerWrap);
  });
});

/** Connects and resolves true when the server closes the connection without data. */
function closedByServer(port: number): Promise<boolean> {
  return import('node:net').then(({ default: net }) => new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: HOST });
    let data = false;
    s.on('data', () => (data = true));
    s.on('error', () => undefined);
    s.on('close', () => resolve(!data));
  }));
}
