import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PortAllocator, fallbackMessage } from '../../src/index.js';
import type { AllocatorEvent, AllocatorOptions } from '../../src/index.js';
import { bindUdp, listenTcp } from '../../src/node/index.js';
import type { TcpLeaseResult, UdpLeaseResult } from '../../src/node/index.js';
import { connect, eventually, hasIpv6Loopback, holdPorts, randomBase, range, socketHandles, socketHygiene, tryConnect } from './helpers.js';

const HOST = '127.0.0.1';
const { cleanups, baseline } = socketHygiene();

function allocator(min: number, count: number, opts: Partial<AllocatorOptions> = {}): PortAllocator {
  return new PortAllocator({ ranges: [{ min, max: min + count - 1 }], random: Math.random, cooldownMs: 0, ...opts });
}

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

function track<T extends TcpLeaseResult | UdpLeaseResult>(r: T): T {
  if (r.ok) cleanups.push(() => r.close());
  return r;
}

describe('listenTcp', () => {
  it('listens on a port of the range, serves a connection, and returns the lease on close', async () => {
    const base = randomBase(10);
    const a = allocator(base, 10);
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 's1' })));
    expect(r.port).toBeGreaterThanOrEqual(base);
    expect(r.port).toBeLessThanOrEqual(base + 9);
    expect(r.fallback).toBe(false);
    expect((r.server.address() as net.AddressInfo).address).toBe(HOST);
    r.server.on('connection', (s) => s.end('hello'));
    const c = await connect(r.port);
    const text = await new Promise<string>((resolve) => {
      let buf = '';
      c.on('data', (d) => (buf += d.toString()));
      c.on('end', () => resolve(buf));
    });
    expect(text).toBe('hello');
    expect(a.stats(Date.now())).toMatchObject({ inUse: 1, leases: 1 });
    r.close();
    r.close();
    expect(a.stats(Date.now())).toMatchObject({ inUse: 0, leases: 0, free: 10 });
    expect(await tryConnect(r.port)).toBe('ECONNREFUSED');
  });

  it('returns the lease when the server is closed directly', async () => {
    const a = allocator(randomBase(4), 4);
    const r = ok(await listenTcp(a, { host: HOST, owner: 's' }));
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
    expect(a.stats(Date.now()).leases).toBe(0);
  });

  it('a listener that never accepted a connection returns its port without cooldown; one that did cools down', async () => {
    const a = allocator(randomBase(1), 1, { cooldownMs: 60_000 });
    const idle = ok(await listenTcp(a, { host: HOST, owner: 's' }));
    idle.close();
    expect(a.portState(idle.port, Date.now())).toBe('free');
    const used = ok(track(await listenTcp(a, { host: HOST, owner: 's' })));
    expect(used.port).toBe(idle.port);
    const arrived = new Promise<net.Socket>((resolve) => used.server.once('connection', resolve));
    const c = await connect(used.port);
    cleanups.push(() => c.destroy());
    (await arrived).destroy();
    used.close();
    expect(a.portState(used.port, Date.now())).toBe('cooling');
  });

  it('advertises the mapped port while binding the listened one', async () => {
    const base = randomBase(5);
    const a = allocator(base, 5, { expose: { from: { min: base, max: base + 4 }, to: { min: 30000, max: 30004 } } });
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 's' })));
    expect(r.exposedPort).toBe(r.port - base + 30000);
    expect((r.server.address() as net.AddressInfo).port).toBe(r.port);
  });

  it('concurrent requests never get the same port; the next one is refused', async () => {
    const base = randomBase(10);
    const a = allocator(base, 10);
    const results = await Promise.all(range(0, 11).map((i) => listenTcp(a, { host: HOST, owner: `s${i}` }).then(track)));
    const ports = results.filter((r) => r.ok).map((r) => (r.ok ? r.port : 0));
    expect(new Set(ports).size).toBe(10);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ ok: false, reason: 'exhausted' });
  });

  it('skips ports another process holds, then refuses when the rest is taken (refuse policy)', async () => {
    const base = randomBase(8);
    const held = [base, base + 2, base + 4, base + 6];
    const holder = await holdPorts('tcp', held);
    cleanups.push(() => holder.stop());
    const a = allocator(base, 8, { busyRetryMs: 60_000 });
    const events: AllocatorEvent[] = [];
    a.on('busy', (e) => events.push(e));
    a.on('exhausted', (e) => events.push(e));
    const got: number[] = [];
    for (let i = 0; i < 4; i++) got.push(ok(track(await listenTcp(a, { host: HOST, owner: `s${i}` }))).port);
    expect(got.sort((x, y) => x - y)).toEqual([base + 1, base + 3, base + 5, base + 7]);
    const fifth = await listenTcp(a, { host: HOST, owner: 's5' });
    expect(fifth).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(a.stats(Date.now())).toMatchObject({ busy: 4, inUse: 4, exhaustions: 1, fallbacks: 0 });
    expect(events.filter((e) => e.type === 'busy').map((e) => (e.type === 'busy' ? e.lease.port : 0)).sort((x, y) => x - y)).toEqual(held);
    expect(events.at(-1)).toMatchObject({ type: 'exhausted', policy: 'refuse' });
  });

  it('falls back to a kernel port outside the range and reports ProFTPD\'s line (kernel policy)', async () => {
    const base = randomBase(3);
    const holder = await holdPorts('tcp', [base + 1]);
    cleanups.push(() => holder.stop());
    const a = allocator(base, 3, { exhaustion: 'kernel' });
    const lines: string[] = [];
    a.on('fallback', (e) => lines.push(e.message));
    ok(track(await listenTcp(a, { host: HOST, owner: 'a' })));
    ok(track(await listenTcp(a, { host: HOST, owner: 'b' })));
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 'c' })));
    expect(r.fallback).toBe(true);
    expect(r.port < base || r.port > base + 2).toBe(true);
    expect(r.exposedPort).toBe(r.port);
    expect(lines).toEqual([
      `unable to find open port in PassivePorts range ${base}-${base + 2}: defaulting to INPORT_ANY (consider defining a larger PassivePorts range)`,
    ]);
    expect(lines[0]).toBe(fallbackMessage(a.ranges));
    expect(await tryConnect(r.port)).toBe('connected');
    expect(a.stats(Date.now())).toMatchObject({ fallbacks: 1, fallbackLeases: 1, busy: 1 });
    r.close();
    expect(a.stats(Date.now()).fallbackLeases).toBe(0);
  });

  it('acceptTimeoutMs closes an unused listener and returns the lease', async () => {
    const a = allocator(randomBase(2), 2);
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 's', acceptTimeoutMs: 40 })));
    let timedOut = false;
    r.server.on('timeout', () => (timedOut = true));
    await eventually(() => a.stats(Date.now()).leases === 0, 2000);
    expect(timedOut).toBe(true);
    expect(r.server.listening).toBe(false);
    expect(await tryConnect(r.port)).toBe('ECONNREFUSED');
  });

  it('acceptTimeoutMs does not fire once a connection arrived', async () => {
    const a = allocator(randomBase(2), 2);
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 's', acceptTimeoutMs: 40 })));
    const c = await connect(r.port);
    cleanups.push(() => c.destroy());
    await new Promise((res) => setTimeout(res, 80));
    expect(r.server.listening).toBe(true);
    expect(a.stats(Date.now()).leases).toBe(1);
  });

  it('once: closes the listener after the first connection, the connection lives on', async () => {
    const a = allocator(randomBase(2), 2);
    const r = ok(track(await listenTcp(a, { host: HOST, owner: 's', once: true })));
    const accepted = new Promise<net.Socket>((resolve) => r.server.on('connection', resolve));
    const c = await connect(r.port);
    cleanups.push(() => c.destroy());
    const s = await accepted;
    expect(r.server.listening).toBe(false);
    expect(a.stats(Date.now()).leases).toBe(0);
    const echoed = new Promise<string>((resolve) => c.once('data', (d) => resolve(d.toString())));
    s.end('still here');
    expect(await echoed).toBe('still here');
  });

  it('quota: an owner over maxPerOwner is refused without binding', async () => {
    const a = allocator(randomBase(4), 4, { maxPerOwner: 1 });
    ok(track(await listenTcp(a, { host: HOST, owner: 's' })));
    expect(await listenTcp(a, { host: HOST, owner: 's' })).toMatchObject({ ok: false, reason: 'quota' });
  });

  it('binds IPv6 loopback', async (ctx) => {
    if (!(await hasIpv6Loopback())) {
      if (process.env.CI === 'true') throw new Error('::1 is not available');
      ctx.skip();
    }
    const base = randomBase(3);
    const a = allocator(base, 3);
    const r = ok(track(await listenTcp(a, { host: '::1', owner: 's' })));
    expect((r.server.address() as net.AddressInfo).address).toBe('::1');
    expect(await tryConnect(r.port, '::1')).toBe('connected');
    const u = ok(track(await bindUdp(a, { host: '::1', owner: 'u' })));
    expect(u.socket.address()).toMatchObject({ address: '::1', family: 'IPv6' });
  });
});

describe('bindUdp', () => {
  it('binds a UDP socket in the range, skipping ports another process holds', async () => {
    const base = randomBase(4);
    const holder = await holdPorts('udp', [base, base + 1, base + 2]);
    cleanups.push(() => holder.stop());
    const a = allocator(base, 4, { exhaustion: 'kernel' });
    const r = ok(track(await bindUdp(a, { host: HOST, owner: 'media' })));
    expect(r.port).toBe(base + 3);
    expect(r.socket.address()).toMatchObject({ address: HOST, port: base + 3 });
    // a datagram reaches it
    const got = new Promise<string>((resolve) => r.socket.once('message', (m) => resolve(m.toString())));
    const sender = ok(track(await bindUdp(a, { host: HOST, owner: 'media2' })));
    expect(sender.fallback).toBe(true);
    sender.socket.send('rtp', r.port, HOST);
    expect(await got).toBe('rtp');
    r.close();
    sender.close();
    expect(a.stats(Date.now())).toMatchObject({ leases: 0, busy: 3 });
  });
});

describe('no leaks', () => {
  it('after 150 sessions open and close (some connected, some idle, some timed out) no listener or lease remains', async () => {
    const base = randomBase(200);
    const a = allocator(base, 200, { cooldownMs: 5 });
    const listeners = await Promise.all(range(0, 150).map((i) =>
      listenTcp(a, { host: HOST, owner: `session-${i}`, ...(i % 5 === 0 ? { acceptTimeoutMs: 20 } : {}), once: i % 3 === 0 })));
    const clients: net.Socket[] = [];
    for (const [i, r] of listeners.entries()) {
      const l = ok(r);
      l.server.on('connection', (s) => s.end());
      if (i % 2 === 1 && i % 5 !== 0) clients.push(await connect(l.port)); // the timed ones stay idle
    }
    const listening = listeners.filter((r) => r.ok && r.server.listening).length;
    expect(listening).toBeGreaterThan(50);
    expect(a.stats(Date.now()).leases).toBe(listening);
    await new Promise((res) => setTimeout(res, 40)); // let the acceptTimeoutMs ones expire
    for (const r of listeners) if (r.ok) r.close();
    for (const c of clients) c.destroy();
    await eventually(() => {
      const now = socketHandles();
      return now.TCPServerWrap === baseline().TCPServerWrap && now.TCPSocketWrap === baseline().TCPSocketWrap;
    });
    const st = a.stats(Date.now() + 10);
    expect(st).toMatchObject({ leases: 0, inUse: 0, owners: 0, free: 200 });
  });
});
