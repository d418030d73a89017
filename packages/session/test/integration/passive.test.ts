/**
 * Passive listeners across PASV/EPSV: every request gets a new socket, the previous one
 * closes at once, and a connection that reached an old listener (even one this process
 * had not accepted yet) never becomes the next transfer's. Real sockets on 127.0.0.1
 * (127.0.0.2 is a stranger).
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { PortAllocator } from '@ftpkit/port-allocator';
import { describe, expect, it } from 'vitest';
import type { PassiveListener, PassiveRequest } from '../../src/index.js';
import { nodeDataChannels } from '../../src/node/data.js';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import { HOST, connect, freeRange, hygiene, missing, tempDirs } from './helpers.js';

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

/**
 * Connects to `port` from another process while this event loop is blocked, so that the
 * server cannot have accepted the connection when this returns. The other process keeps
 * the connection open for `holdMs`.
 */
function connectFromElsewhere(port: number, holdMs: number): void {
  const flag = join(tmp(), 'connected');
  const script = `import socket, sys, time\ns = socket.create_connection((${JSON.stringify(HOST)}, ${port}))\nopen(sys.argv[1], "w").close()\ntime.sleep(${holdMs / 1000})`;
  execFileSync('sh', ['-c', `python3 -c "$1" "$2" </dev/null >/dev/null 2>&1 & while [ ! -e "$2" ]; do sleep 0.01; done`, 'sh', script, flag], { timeout: 10_000 });
}

function from(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: HOST, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

describe('a new socket for every request', () => {
  it.skipIf(missing('python3'))('a connection that reached the previous listener never reaches the next one, even when the server had not accepted it yet', async () => {
    const ports = await allocator(4);
    let first = await open({ ports });
    for (let i = 0; i < 4; i++) {
      // Connected in the kernel, still open, and not yet accepted by this event loop.
      connectFromElsewhere(first.port, 3000);
      const next = await reopen(first, { ports });
      const fresh = await connect(next.port);
      cleanups.push(() => fresh.destroy());
      const conn = await next.accept();
      expect(conn?.remotePort).toBe(fresh.localPort);
      conn?.destroy();
      first = await reopen(next, { ports });
    }
  });

  it('PASV after PASV closes the old listener at once (a late connection is refused) and leases one port at a time', async () => {
    const ports = await allocator(8);
    const a = await open({ ports });
    const b = await reopen(a, { ports });
    expect(ports.stats(Date.now()).inUse).toBe(1);
    if (b.port !== a.port) expect(await refused(a.port)).toBe(true);
    b.close();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    expect(await refused(b.port)).toBe(true);
  });

  it('a port that carried a connection cools down; one that did not is free again at once', async () => {
    const ports = await allocator(8);
    const a = await open({ ports });
    await touch(a);
    a.close();
    const b = await open({ ports });
    b.close();
    expect(ports.stats(Date.now())).toMatchObject({ cooling: 1, inUse: 0 });
  });

  it('a stranger is dropped as it connects; the client is accepted', async () => {
    const ports = await allocator(8);
    const rejected: string[] = [];
    const l = await open({ ports, accept: (addr) => addr === HOST, onRejected: (addr) => rejected.push(addr) });
    const stranger = await from('127.0.0.2', l.port);
    stranger.on('error', () => undefined);
    cleanups.push(() => stranger.destroy());
    const client = await connect(l.port);
    cleanups.push(() => client.destroy());
    const conn = await l.accept();
    expect(conn?.remoteAddress).toBe(HOST);
    conn?.destroy();
    expect(rejected).toEqual(['127.0.0.2']);
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


  it('PASV, PASV, EPSV: each closes the listener before it, one lease at a time; the transfer uses the last; QUIT leaves no listener', async () => {
    const ports = await allocator(16);
    const f = await startServer(tmp(), { passivePorts: ports });
    cleanups.push(() => f.server.close());
    const c = await RawClient.open(f.port);
    cleanups.push(() => c.socket.destroy());
    await c.login(USER, PASSWORD);
    const p1 = await c.pasv();
    const p2 = await c.pasv();
    const p3 = await c.epsv();
    expect(ports.stats(Date.now()).inUse).toBe(1);
    for (const p of new Set([p1.port, p2.port].filter((port) => port !== p3.port))) expect(await refused(p)).toBe(true);
    const data = await p3.data();
    expect(await c.cmd('NLST')).toMatch(/^150 /);
    await new Promise((resolve) => data.on('end', resolve).resume());
    expect((await c.reply()).code).toBe(226);
    const p4 = await c.pasv();
    expect(p4.port).not.toBe(p3.port); // p3 carried a connection: it cools down
    expect(await c.cmd('QUIT')).toMatch(/^221 /);
    await c.closed();
    await tick();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    expect(await refused(p4.port)).toBe(true);
  });
});
