import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { PortAllocator } from '@ftpkit/port-allocator';
import { describe, expect, it } from 'vitest';
import type { ByteSink, ByteSource, DataConnection, PassiveListener } from '../../src/index.js';
import { SocketDataConnection, nodeDataChannels, unmapIpv4 } from '../../src/node/data.js';
import { localFileSystem } from '../../src/node/fs.js';
import type { FileSink } from '../../src/node/fs.js';
import { HOST, connect, eventually, freeRange, hygiene, pattern, readAll, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

async function allocator(count = 4): Promise<PortAllocator> {
  return new PortAllocator({ ranges: [await freeRange(count)], random: Math.random, cooldownMs: 0 });
}

function ok<T extends { ok: boolean }>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<T, { ok: true }>;
}

async function listen(ports: PortAllocator | undefined, localAddress = HOST): Promise<PassiveListener> {
  const r = ok(await nodeDataChannels({ lingerMs: 200 }).listen({ owner: 's1', localAddress, ports }));
  cleanups.push(() => r.listener.close());
  return r.listener;
}

/** A passive pair: the server's DataConnection and the client's socket. */
async function pair(): Promise<{ conn: DataConnection; client: net.Socket }> {
  const listener = await listen(undefined);
  const client = await connect(listener.port);
  client.on('error', () => undefined);
  cleanups.push(() => client.destroy());
  const conn = await listener.accept();
  listener.close();
  if (conn === undefined) throw new Error('no connection');
  cleanups.push(() => conn.destroy());
  return { conn, client };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
}

async function* chunks(...parts: Uint8Array[]): ByteSource {
  for (const p of parts) yield p;
}

describe('passive listeners', () => {
  it('binds a port of the range on the local address and returns the lease on close', async () => {
    const ports = await allocator(4);
    const listener = await listen(ports);
    const [range] = ports.ranges;
    expect(listener.port).toBeGreaterThanOrEqual(range!.min);
    expect(listener.port).toBeLessThanOrEqual(range!.max);
    expect(listener.exposedPort).toBe(listener.port);
    expect(listener.fallback).toBe(false);
    expect(ports.stats(Date.now()).inUse).toBe(1);
    listener.close();
    listener.close();
    expect(await listener.accept()).toBeUndefined();
    expect(ports.stats(Date.now()).inUse).toBe(0);
    await expect(connect(listener.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('queues connections that arrive before accept(), in order', async () => {
    const listener = await listen(await allocator(2));
    const a = await connect(listener.port);
    const b = await connect(listener.port);
    cleanups.push(() => a.destroy(), () => b.destroy());
    await eventually(async () => true);
    const first = await listener.accept();
    const second = await listener.accept();
    expect([first?.remotePort, second?.remotePort]).toEqual([a.localPort, b.localPort]);
    const third = listener.accept();
    listener.close();
    expect(await third).toBeUndefined();
    first?.destroy();
    second?.destroy();
  });

  it('drops peers the request refuses as they connect: a crowd larger than the queue cannot lock the client out', async () => {
    let seen = 0;
    const rejected: string[] = [];
    const r = ok(
      await nodeDataChannels({ lingerMs: 200 }).listen({
        owner: 's1',
        localAddress: HOST,
        ports: undefined,
        accept: () => ++seen > 20, // the first 20 peers are strangers
        onRejected: (address) => rejected.push(address),
      }),
    );
    cleanups.push(() => r.listener.close());
    const closed: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      const s = await connect(r.listener.port);
      s.on('error', () => undefined);
      s.resume();
      closed.push(new Promise((resolve) => s.once('close', resolve)));
    }
    await Promise.all(closed);
    expect(rejected).toEqual(Array.from({ length: 20 }, () => '127.0.0.1'));
    const client = await connect(r.listener.port);
    cleanups.push(() => client.destroy());
    const conn = await r.listener.accept();
    expect(conn?.remotePort).toBe(client.localPort);
    conn?.destroy();
  });

  it('drops queued connections on close', async () => {
    const listener = await listen(undefined);
    const a = await connect(listener.port);
    const closed = new Promise((resolve) => a.once('close', resolve));
    a.on('error', () => undefined);
    a.resume();
    await new Promise((r) => setTimeout(r, 20));
    listener.close();
    await closed;
  });

  it('binds an IPv4-mapped local address as IPv4, and a kernel port without a range', async () => {
    expect(unmapIpv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapIpv4('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(unmapIpv4('::1')).toBe('::1');
    expect(unmapIpv4('::ffff:1:2')).toBe('::ffff:1:2');
    const listener = await listen(undefined, '::ffff:127.0.0.1');
    expect(listener.port).toBeGreaterThan(0);
    const c = await connect(listener.port, HOST);
    cleanups.push(() => c.destroy());
    const conn = await listener.accept();
    expect(conn?.remoteAddress).toBe(HOST);
    conn?.destroy();
  });

  it('answers exhausted when the range is taken (refuse policy)', async () => {
    const ports = await allocator(1);
    await listen(ports);
    const r = await nodeDataChannels().listen({ owner: 's2', localAddress: HOST, ports });
    expect(r).toMatchObject({ ok: false, reason: 'exhausted' });
  });

  it('reports a bind error as a failed result', async () => {
    const r = await nodeDataChannels().listen({ owner: 's', localAddress: '192.0.2.1', ports: undefined });
    expect(r).toMatchObject({ ok: false, reason: 'error' });
  });
});

describe('active connections', () => {
  it('connects from the local address and reports refusals with strerror text', async () => {
    const server = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((r) => server.listen(0, HOST, r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as net.AddressInfo).port;
    const r = ok(await nodeDataChannels().connect({ host: HOST, port, localAddress: '::ffff:127.0.0.1' }));
    const peer = await accepted;
    expect(peer.remoteAddress).toBe(HOST);
    expect(r.connection.remotePort).toBe(port);
    r.connection.destroy();
    peer.destroy();
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, HOST, () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    expect(await nodeDataChannels().connect({ host: HOST, port: closed, localAddress: HOST })).toEqual({ ok: false, message: 'Connection refused' });
  });
});

describe('send', { timeout: 30_000 }, () => {
  it('streams a local file byte for byte, ends with FIN and lingers only until the peer closes', async () => {
    const root = tmp();
    const data = pattern(3 * 1024 * 1024 + 5);
    writeFileSync(join(root, 'f.bin'), data);
    const fs = localFileSystem({ root, readChunkSize: 256 * 1024 });
    const { conn, client } = await pair();
    const received = readAll(client);
    expect(await conn.send(await fs.read('/f.bin', { start: 0 }))).toBe(data.length);
    expect((await received).equals(data)).toBe(true);
    client.end();
  });

  it('sends any byte source through the generic path', async () => {
    const { conn, client } = await pair();
    const received = readAll(client);
    expect(await conn.send(chunks(Buffer.from('one '), new Uint8Array(0), Buffer.from('two')))).toBe(7);
    expect((await received).toString()).toBe('one two');
  });

  it('destroys a socket whose peer never closes after lingerMs', async () => {
    const listener = await listen(undefined);
    const client = net.connect({ port: listener.port, host: HOST, allowHalfOpen: true });
    cleanups.push(() => client.destroy());
    client.on('error', () => undefined);
    const conn = (await listener.accept()) as SocketDataConnection;
    client.resume();
    let ended = 0;
    client.once('end', () => (ended = Date.now()));
    const closed = new Promise((resolve) => conn.socket.once('close', resolve));
    const start = Date.now();
    await conn.send(chunks(Buffer.from('x')));
    await closed; // lingerMs is 200 in these tests
    expect(ended).toBeGreaterThan(0); // our FIN came first…
    expect(Date.now() - start).toBeGreaterThanOrEqual(190); // …the close only after lingerMs
  });

  it('rejects with EABORTED when destroyed mid-transfer, and with ECONNRESET when the peer resets', async () => {
    const { conn, client } = await pair();
    client.pause(); // let the buffers fill
    const endless = (async function* () {
      for (;;) yield Buffer.alloc(65536);
    })();
    const sending = conn.send(endless);
    await new Promise((r) => setTimeout(r, 50));
    conn.destroy();
    expect(await code(sending)).toBe('EABORTED');

    const second = await pair();
    const again = (async function* () {
      for (;;) yield Buffer.alloc(65536);
    })();
    const p = second.conn.send(again);
    await new Promise((r) => setTimeout(r, 50));
    second.client.resetAndDestroy();
    expect(await code(p)).toBe('ECONNRESET');
  });

  it('reports a failing source with its own code', async () => {
    const { conn } = await pair();
    const failing = (async function* () {
      yield Buffer.from('a');
      throw Object.assign(new Error('disk'), { code: 'EIO' });
    })();
    expect(await code(conn.send(failing))).toBe('EIO');
  });
});

describe('receive', { timeout: 30_000 }, () => {
  it('pipes the socket into a local file sink', async () => {
    const root = tmp();
    const fs = localFileSystem({ root });
    const data = pattern(2 * 1024 * 1024 + 3, 9);
    const { conn, client } = await pair();
    const sink = await fs.write('/up.bin', { mode: 'create', start: 0 });
    client.end(data);
    expect(await conn.receive(sink)).toBe(data.length);
    await sink.end();
    expect(readFileSync(join(root, 'up.bin')).equals(data)).toBe(true);
  });

  it('feeds a wrapped file sink and tells it whether the stream ended cleanly', async () => {
    const root = tmp();
    const fs = localFileSystem({ root });
    const { conn, client } = await pair();
    const sink = (await fs.write('/cut.bin', { mode: 'create', start: 0 })) as FileSink;
    const wrapped: ByteSink = { write: (c) => sink.write(c), end: () => sink.end(), abort: () => sink.abort() };
    client.write('half of it');
    const receiving = conn.receive(wrapped);
    await eventually(() => sink.bytes === 10);
    expect(sink.completion).toBe('receiving');
    client.resetAndDestroy();
    expect(await code(receiving)).toBe('ECONNRESET');
    expect(sink.completion).toBe('incomplete');
    await wrapped.end(); // the core keeps partial uploads by calling end()…
    expect(existsSync(join(root, 'cut.bin'))).toBe(false); // …but a hidden store cut short is discarded
    expect(existsSync(join(root, '.in.cut.bin.'))).toBe(false);

    const second = await pair();
    const ok2 = (await fs.write('/ok.bin', { mode: 'create', start: 0 })) as FileSink;
    second.client.end('complete');
    expect(await second.conn.receive({ write: (c) => ok2.write(c), end: () => ok2.end(), abort: () => ok2.abort() })).toBe(8);
    expect(ok2.completion).toBe('complete');
    await ok2.end();
    expect(readFileSync(join(root, 'ok.bin'), 'utf8')).toBe('complete');
  });

  it('copies into any sink, honouring its backpressure, and aborts with EABORTED', async () => {
    const { conn, client } = await pair();
    const got: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sink: ByteSink = {
      write: async (c) => {
        if (c.length === 0) return;
        got.push(Buffer.from(c).toString());
        await gate;
      },
      end: async () => undefined,
      abort: async () => undefined,
    };
    client.write('abc');
    const receiving = conn.receive(sink);
    await eventually(() => got.join('') === 'abc');
    conn.destroy();
    release();
    expect(await code(receiving)).toBe('EABORTED');
  });

  it('a second transfer on one connection is refused', async () => {
    const { conn } = await pair();
    const sink: ByteSink = { write: () => undefined, end: async () => undefined, abort: async () => undefined };
    const first = conn.receive(sink);
    expect(await code(conn.receive(sink))).toBe('EBUSY');
    conn.destroy();
    expect(await code(first)).toBe('EABORTED');
  });
});
