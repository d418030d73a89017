/**
 * Passive listeners taken over across PASV/EPSV: a listener that never saw a connection
 * serves the next request of the same tick (same owner, address and allocator) with the
 * new request's peer check; anything else is a new socket, and what nobody takes closes
 * at the next tick. Real sockets on 127.0.0.1 (127.0.0.2 is a stranger).
 */
import net from 'node:net';
import { PortAllocator } from '@ftpkit/port-allocator';
import { describe, expect, it } from 'vitest';
import type { PassiveListener, PassiveRequest } from '../../src/index.js';
import { nodeDataChannels } from '../../src/node/data.js';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import { HOST, connect, freeRange, hygiene, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();
const channels = nodeDataChannels({ lingerMs: 200 });
const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

async function allocator(count: number, cooldownMs = 2000): Promise<PortAllocator> {
  return new PortAllocator({ ranges: [await freeRange(count)], random: Math.random, cooldownMs });
}

/** Connects to `listener` and waits until the server holds the connection (the listener is now used). */
async function touch(listener: PassiveListener): Promise<void> {
  const client = await connect(listener.port);
  cleanups.push(() => client.destroy());
  const conn = await listener.accept();
  conn?.destroy();
}

async function open(request: Partial<PassiveRequest> & Pick<PassiveRequest, 'ports'>): Promise<PassiveListener> {
  const r = await channels.listen({ owner: 'client', localAddress: HOST, ...request });
  if (!r.ok) throw new Error(r.message);
  cleanups.push(() => r.listener.close());
  return r.listener;
}

/** Closes `old` and asks for a new listener in the same synchronous step, as PASV after PASV does. */
function reopen(old: PassiveListener, request: Partial<PassiveRequest> & Pick<PassiveRequest, 'ports'>): Promise<PassiveListener> {
  old.close();
  return open(request);
}

function refused(port: number, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

function from(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('passive listener reuse', () => {
  it('a listener no one connected to serves the next request of the same owner: same port, one lease, the new peer check', async () => {
    const ports = await allocator(8);
    const rejected: string[] = [];
    const first = await open({ ports, accept: () => false });
    const second = await reopen(first, { ports, accept: (a) => a === HOST, onRejected: (a) => rejected.push(a) });
    expect(second.port).toBe(first.port);
    expect(ports.stats(Date.now()).inUse).toBe(1);
    expect(await first.accept()).toBeUndefined();
    first.close(); // the old listener's close no longer touches the socket
    await tick();
    // The second request's check applies: a stranger is dropped, the client accepted.
    const stranger = await from('127.0.0.2', second.port);
    stranger.on('error', () => undefined);
    cleanups.push(() => stranger.destroy());
    const client = await connect(second.port);
    cleanups.push(() => client.destroy());
    const conn = await second.accept();
    expect(conn?.remoteAddress).toBe(HOST);
    conn?.destroy();
    expect(rejected).toEqual(['127.0.0.2']);
  });

  it('EPSV after PASV after PASV keeps the port; without a next request it closes at the next tick (a late connection is refused)', async () => {
    const ports = await allocator(8);
    const a = await open({ ports });
    const b = await reopen(a, { ports });
    const c = await reopen(b, { ports });
    expect([b.port, c.port]).toEqual([a.port, a.port]);
    c.close();
    expect(ports.stats(Date.now()).inUse).toBe(1);
    await tick();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    expect(await refused(a.port)).toBe(true);
  });

  it('a listener that saw a connection is never reused: a new socket (the old port cools down)', async () => {
    const ports = await allocator(8);
    const first = await open({ ports });
    const client = await connect(first.port);
    cleanups.push(() => client.destroy());
    await new Promise((r) => setTimeout(r, 20)); // the server accepts it (queued)
    const second = await reopen(first, { ports });
    expect(second.port).not.toBe(first.port);
    expect(await refused(first.port)).toBe(true);
  });

  it('a stranger that connected (and was dropped) also makes the socket unusable for reuse', async () => {
    const ports = await allocator(8);
    const first = await open({ ports, accept: (a) => a === HOST });
    const stranger = await from('127.0.0.2', first.port);
    stranger.on('error', () => undefined);
    cleanups.push(() => stranger.destroy());
    await new Promise((r) => setTimeout(r, 20));
    const second = await reopen(first, { ports, accept: (a) => a === HOST });
    expect(second.port).not.toBe(first.port);
  });

  it('another owner, another local address or another allocator gets its own socket', async () => {
    const ports = await allocator(8);
    const other = await allocator(8);
    const a = await open({ ports });
    const b = await reopen(a, { ports, owner: 'someone else' });
    expect(b.port).not.toBe(a.port);
    const c = await reopen(b, { ports: other, owner: 'someone else' });
    expect(c.port).not.toBe(b.port);
    const d = await reopen(c, { ports: other, owner: 'someone else', localAddress: '::ffff:127.0.0.1' });
    expect(d.port).toBe(c.port); // the same address once unmapped (RFC 4291 §2.5.5.2)
    await tick();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    expect(other.stats(Date.now()).inUse).toBe(1);
  });

  it('kernel ports (no PassivePorts) are reused too; a kernel fallback is not', async () => {
    const a = await open({ ports: undefined });
    const b = await reopen(a, { ports: undefined });
    expect(b.port).toBe(a.port);
    const full = new PortAllocator({ ranges: [await freeRange(1)], random: Math.random, exhaustion: 'kernel' });
    const held = await open({ ports: full, owner: 'holder' });
    const fb = await open({ ports: full });
    expect(fb.fallback).toBe(true);
    const next = await reopen(fb, { ports: full });
    expect(next.port).not.toBe(fb.port);
    held.close();
  });
});

describe('cooling ports go back to their own client', () => {
  it('with every port cooling, the same client gets its oldest cooling port back; another client is refused', async () => {
    const ports = new PortAllocator({ ranges: [await freeRange(2)], random: Math.random, cooldownMs: 60_000 });
    const a = await open({ ports });
    await touch(a);
    const b = await reopen(a, { ports });
    expect(b.port).not.toBe(a.port); // a saw a connection: not reused, it cools
    await touch(b);
    b.close();
    await tick();
    expect(ports.stats(Date.now())).toMatchObject({ cooling: 2, free: 0 });
    const stranger = await channels.listen({ owner: '192.0.2.7', localAddress: HOST, ports });
    expect(stranger).toMatchObject({ ok: false, reason: 'exhausted' });
    const c = await open({ ports });
    expect(c.port).toBe(a.port);
    expect(ports.stats(Date.now())).toMatchObject({ cooling: 1, inUse: 1, coolingReuses: 1 });
    // the reused port is a real listener with the usual peer check
    await touch(c);
    const d = await reopen(c, { ports });
    expect(d.port).toBe(b.port);
  });
});

describe('through a session', () => {
  it('PASV + connect in a loop over a 4-port range: every reply in the range, no kernel fallback, no listener after QUIT', async () => {
    const ports = new PortAllocator({ ranges: [await freeRange(4)], random: Math.random, exhaustion: 'kernel' });
    const inRange = (p: number): boolean => p >= ports.ranges[0]!.min && p <= ports.ranges[0]!.max;
    const f = await startServer(tmp(), { passivePorts: ports });
    cleanups.push(() => f.server.close());
    const c = await RawClient.open(f.port);
    cleanups.push(() => c.socket.destroy());
    await c.login(USER, PASSWORD);
    const seen: number[] = [];
    for (let i = 0; i < 16; i++) {
      const p = await c.pasv();
      seen.push(p.port);
      const s = await p.data();
      s.destroy();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen.filter((p) => !inRange(p))).toEqual([]);
    const st = ports.stats(Date.now());
    expect(st.fallbacks).toBe(0);
    expect(st.coolingReuses).toBeGreaterThanOrEqual(12);
    expect(await c.cmd('QUIT')).toMatch(/^221 /);
    await c.closed();
    await tick();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    for (const p of new Set(seen)) expect(await refused(p)).toBe(true);
  });


  it('PASV, PASV, EPSV advertise one port; a transfer still gets its own socket; QUIT leaves no listener', async () => {
    const ports = await allocator(16);
    const f = await startServer(tmp(), { passivePorts: ports });
    cleanups.push(() => f.server.close());
    const c = await RawClient.open(f.port);
    cleanups.push(() => c.socket.destroy());
    await c.login(USER, PASSWORD);
    const p1 = await c.pasv();
    const p2 = await c.pasv();
    const p3 = await c.epsv();
    expect([p2.port, p3.port]).toEqual([p1.port, p1.port]);
    expect(ports.stats(Date.now()).inUse).toBe(1);
    const data = await p3.data();
    expect(await c.cmd('NLST')).toMatch(/^150 /);
    await new Promise((resolve) => data.on('end', resolve).resume());
    expect((await c.reply()).code).toBe(226);
    // The listener was consumed by the transfer: the next PASV is a new socket.
    const p4 = await c.pasv();
    expect(p4.port).not.toBe(p1.port);
    expect(await c.cmd('QUIT')).toMatch(/^221 /);
    await c.closed();
    await tick();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    expect(await refused(p4.port)).toBe(true);
  });
});
