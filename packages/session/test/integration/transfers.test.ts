// Uploads (inline and thread-pool writes) and downloads through the server on 127.0.0.1,
// byte for byte: many small writes, large bodies that wrap the upload ring many times (a
// small ring makes the socket stop and resume), resume at an offset, append, TYPE A,
// active mode, bytes the client sends before its STOR, the switch from inline writes to
// the pool, and the byte counts the transfer events report.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { inlineTooSlow, inlineWrites } from '../../src/node/fs.js';
import { SocketDataConnection, localFileSystem, nodeDataChannels, simpleAuthenticator } from '../../src/node/index.js';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { HOST, connect, eventually, hygiene, readAll, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// Inline writes stay inline here however loaded the machine is (a slow write would move
// uploads to the pool for 30 s); the fallback has a test of its own.
const inlineDefaults = { ...inlineWrites, recent: [] };
function resetInlineWrites(): void {
  Object.assign(inlineWrites, inlineDefaults, { recent: [] });
}
beforeEach(() => {
  resetInlineWrites();
  inlineWrites.slowMs = 60_000;
  inlineWrites.stallMs = 60_000;
  inlineWrites.msPerMiB = 60_000;
});
afterAll(resetInlineWrites);

/** A logged-in session on a server whose uploads buffer `uploadBufferSize` bytes and write `uploadWrites`. */
async function sessionWith(uploadBufferSize?: number, uploadWrites: 'inline' | 'pool' = 'inline'): Promise<{ f: Fixture; c: RawClient }> {
  const base = tmp();
  const f = await startServer(base, {
    authenticator: simpleAuthenticator({
      users: [{ name: USER, password: PASSWORD, root: join(base, 'home') }],
      fileSystem: (root) => localFileSystem(uploadBufferSize === undefined ? { root, uploadWrites } : { root, uploadBufferSize, uploadWrites }),
    }),
  });
  cleanups.push(() => f.server.close());
  const c = await RawClient.open(f.port);
  cleanups.push(() => c.close());
  await c.login();
  expect(await c.cmd('TYPE I')).toMatch(/^200 /);
  return { f, c };
}

/** Writes `parts` one socket write each, waiting for the socket to flush every `every` parts. */
async function writeParts(sock: net.Socket, parts: Uint8Array[], every = 1): Promise<void> {
  for (let i = 0; i < parts.length; i++) {
    const flushed = sock.write(parts[i] as Uint8Array);
    if (!flushed || i % every === every - 1) await new Promise<void>((r) => (flushed ? setImmediate(r) : sock.once('drain', r)));
  }
  await new Promise<void>((r) => sock.end(r));
}

/** STOR/APPE `name` with the bytes `send` writes; returns the final reply line. */
async function store(c: RawClient, verb: string, name: string, send: (sock: net.Socket) => Promise<void>): Promise<string> {
  const { data } = await c.pasv();
  const sock = await data();
  sock.setNoDelay(true);
  c.send(`${verb} ${name}`);
  expect((await c.reply()).code).toBe(150);
  await send(sock);
  const r = await c.reply(20_000);
  return `${r.code} ${r.text}`;
}

function lastTransfer(f: Fixture): { bytes?: number; reason?: string } | undefined {
  return f.events.filter((e) => e.type === 'transfer-end').at(-1) as { bytes?: number; reason?: string } | undefined;
}

describe.each(['inline', 'pool'] as const)('uploads through the server, %s writes', { timeout: 60_000 }, (mode) => {
  const session = (uploadBufferSize?: number): ReturnType<typeof sessionWith> => sessionWith(uploadBufferSize, mode);

  it('many small writes and one large body arrive byte for byte, with exact byte counts', async () => {
    const { f, c } = await session();
    const small = Array.from({ length: 3000 }, (_, i) => randomBytes(1 + (i % 97)));
    const smallAll = Buffer.concat(small);
    expect(await store(c, 'STOR', 'small.bin', (s) => writeParts(s, small, 7))).toMatch(/^226 /);
    expect(sha(readFileSync(join(f.root, 'small.bin')))).toBe(sha(smallAll));
    await eventually(() => lastTransfer(f)?.bytes === smallAll.length);

    const large = randomBytes(24 * 1024 * 1024 + 13);
    expect(await store(c, 'STOR', 'large.bin', (s) => writeParts(s, [large]))).toMatch(/^226 /);
    expect(sha(readFileSync(join(f.root, 'large.bin')))).toBe(sha(large));
    await eventually(() => lastTransfer(f)?.bytes === large.length);
    expect(lastTransfer(f)?.reason).toBe('complete');
  });

  it('a ring far smaller than the upload: the socket stops and resumes, nothing lost or reordered', async () => {
    const { f, c } = await session(4096);
    const body = randomBytes(6 * 1024 * 1024 + 5);
    const parts: Buffer[] = [];
    for (let at = 0, i = 0; at < body.length; i++) {
      const n = [1, 4095, 4096, 4097, 65536, 300_000][i % 6] as number;
      parts.push(body.subarray(at, at + n));
      at += n;
    }
    expect(await store(c, 'STOR', 'ring.bin', (s) => writeParts(s, parts, 3))).toMatch(/^226 /);
    expect(sha(readFileSync(join(f.root, 'ring.bin')))).toBe(sha(body));
  });

  it('REST + STOR and APPE extend a file past several ring turns', async () => {
    const { f, c } = await session(256 * 1024);
    const head = randomBytes(100_000);
    const tail = randomBytes(3 * 1024 * 1024 + 1);
    writeFileSync(join(f.root, 'resume.bin'), Buffer.concat([head, Buffer.from('to be replaced')]));
    expect(await c.cmd(`REST ${head.length}`)).toMatch(/^350 /);
    expect(await store(c, 'STOR', 'resume.bin', (s) => writeParts(s, [tail]))).toMatch(/^226 /);
    expect(sha(readFileSync(join(f.root, 'resume.bin')))).toBe(sha(Buffer.concat([head, tail])));

    const more = randomBytes(2 * 1024 * 1024 + 3);
    expect(await store(c, 'APPE', 'resume.bin', (s) => writeParts(s, [more.subarray(0, 1000), more.subarray(1000)]))).toMatch(/^226 /);
    expect(sha(readFileSync(join(f.root, 'resume.bin')))).toBe(sha(Buffer.concat([head, tail, more])));
    await eventually(() => lastTransfer(f)?.bytes === more.length);
  });

  it('TYPE A: CRLF split across writes becomes LF, a lone CR stays', async () => {
    const { f, c } = await session(4096);
    expect(await c.cmd('TYPE A')).toMatch(/^200 /);
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}${i % 5 === 0 ? '\r' : ''}\r\n`).join('');
    const wire = Buffer.from(`${lines}end\r`);
    const parts: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 1 + (at % 7919)) parts.push(wire.subarray(at, at + 1 + (at % 7919)));
    expect(await store(c, 'STOR', 'text.txt', (s) => writeParts(s, parts, 5))).toMatch(/^226 /);
    expect(readFileSync(join(f.root, 'text.txt'), 'latin1')).toBe(`${lines.replaceAll('\r\n', '\n')}end\r`);
    await eventually(() => lastTransfer(f)?.bytes === wire.length);
  });

  it('bytes sent before the STOR, and the FIN with them, are all kept', async () => {
    const { f, c } = await session();
    const body = randomBytes(200_000);
    const { data } = await c.pasv();
    const sock = await data();
    await new Promise<void>((r) => sock.end(body, r));
    await new Promise((r) => setTimeout(r, 100)); // queued at the server before the command
    c.send('STOR early.bin');
    expect((await c.reply()).code).toBe(150);
    expect((await c.reply()).code).toBe(226);
    expect(sha(readFileSync(join(f.root, 'early.bin')))).toBe(sha(body));
  });

  it('active mode (PORT): uploads and downloads byte for byte', async () => {
    const { f, c } = await session(64 * 1024);
    const body = randomBytes(5 * 1024 * 1024 + 7);
    const listener = net.createServer();
    cleanups.push(() => listener.close());
    await new Promise<void>((r) => listener.listen(0, HOST, r));
    const port = (listener.address() as net.AddressInfo).port;
    const accepted = (): Promise<net.Socket> => new Promise((r) => listener.once('connection', r));
    const portArg = `127,0,0,1,${port >> 8},${port & 255}`;

    expect(await c.cmd(`PORT ${portArg}`)).toMatch(/^200 /);
    const up = accepted();
    c.send('STOR active.bin');
    const upSock = await up;
    expect((await c.reply()).code).toBe(150);
    await writeParts(upSock, [body]);
    expect((await c.reply(20_000)).code).toBe(226);
    expect(sha(readFileSync(join(f.root, 'active.bin')))).toBe(sha(body));

    expect(await c.cmd(`PORT ${portArg}`)).toMatch(/^200 /);
    const down = accepted();
    c.send('RETR active.bin');
    const downSock = await down;
    expect((await c.reply()).code).toBe(150);
    expect(sha(await readAll(downSock))).toBe(sha(body));
    expect((await c.reply(20_000)).code).toBe(226);
  });
});

describe('inline upload writes', { timeout: 60_000 }, () => {
  it('a chunk larger than the ring is written at once, piece by piece', async () => {
    const root = tmp();
    const fs = localFileSystem({ root, uploadBufferSize: 4096 });
    const sink = await fs.write('/big.bin', { mode: 'create', start: 0 });
    const body = randomBytes(100_003);
    expect(sink.write(body)).toBeUndefined();
    await sink.end();
    expect(sha(readFileSync(join(root, 'big.bin')))).toBe(sha(body));
  });

  it('slow inline writes move this upload and new ones to the thread pool, in order', async () => {
    const { f, c } = await sessionWith(64 * 1024, 'inline');
    const body = randomBytes(8 * 1024 * 1024 + 9);
    inlineWrites.slowMs = -1; // every inline write is a strike: the third one switches
    try {
      const small = randomBytes(1000);
      expect(await store(c, 'STOR', 'small.bin', (s) => writeParts(s, [small]))).toMatch(/^226 /);
      expect(inlineWrites.poolUntil).toBe(0); // one strike is not enough
      expect(inlineWrites.recent.length).toBe(1);
      expect(await store(c, 'STOR', 'switch.bin', (s) => writeParts(s, [body]))).toMatch(/^226 /);
      expect(inlineWrites.poolUntil).toBeGreaterThan(Date.now() + 20_000);
      expect(inlineWrites.recent).toEqual([]);
      expect(sha(readFileSync(join(f.root, 'switch.bin')))).toBe(sha(body));
      expect(await store(c, 'STOR', 'next.bin', (s) => writeParts(s, [body]))).toMatch(/^226 /);
      expect(sha(readFileSync(join(f.root, 'next.bin')))).toBe(sha(body));
    } finally {
      resetInlineWrites();
    }
  });

  it('the window rule counts bytes: a few slow writes among fast ones (preemption) stay inline; mostly slow writes (a slow disk) do not', () => {
    const MiB = 1024 * 1024;
    try {
      Object.assign(inlineWrites, { msPerMiB: 2, windowBytes: 8 * MiB, slowMs: 60_000, stallMs: 60_000 });
      // 7 MiB at 0.3 ms/MiB and one MiB at 50 ms: an average of 6.5 ms/MiB, but one slow MiB in 8.
      const preempted = [0.3, 0.3, 0.3, 50, 0.3, 0.3, 0.3, 0.3].map((ms) => inlineTooSlow(MiB, ms));
      expect(preempted).toEqual(Array(8).fill(false));
      expect(inlineWrites.windowWritten).toBe(0);
      // A disk at 200 MB/s: every MiB takes 5 ms.
      const slowDisk = Array.from({ length: 8 }, () => inlineTooSlow(MiB, 5));
      expect(slowDisk).toEqual([...Array(7).fill(false), true]);
      // Small writes count by their bytes: many tiny slow ones do not outweigh fast MiBs.
      for (let i = 0; i < 100; i++) expect(inlineTooSlow(100, 0.05)).toBe(false);
      const rest = Array.from({ length: 8 }, () => inlineTooSlow(MiB, 0.3));
      expect(rest.includes(true)).toBe(false);
    } finally {
      resetInlineWrites();
    }
  });

  it('inline writes slower than msPerMiB over a window move uploads to the pool', async () => {
    const { f, c } = await sessionWith(256 * 1024, 'inline');
    const body = randomBytes(6 * 1024 * 1024 + 1);
    inlineWrites.msPerMiB = -1; // any write time is too slow on average…
    inlineWrites.windowBytes = 4 * 1024 * 1024; // …once 4 MiB went through
    try {
      const small = randomBytes(100_000);
      expect(await store(c, 'STOR', 'below.bin', (s) => writeParts(s, [small]))).toMatch(/^226 /);
      expect(inlineWrites.poolUntil).toBe(0); // not a full window yet
      expect(await store(c, 'STOR', 'rate.bin', (s) => writeParts(s, [body]))).toMatch(/^226 /);
      expect(inlineWrites.poolUntil).toBeGreaterThan(Date.now() + 20_000);
      expect(inlineWrites.windowWritten).toBe(0);
      expect(sha(readFileSync(join(f.root, 'rate.bin')))).toBe(sha(body));
    } finally {
      resetInlineWrites();
    }
  });
});

describe('receive() on a data connection', () => {
  it("resolves at once when the client's end of stream was read before the transfer", async () => {
    const r = await nodeDataChannels({ lingerMs: 200 }).listen({ owner: 's', localAddress: HOST, ports: undefined });
    if (!r.ok) throw new Error(r.message);
    cleanups.push(() => r.listener.close());
    const client = await connect(r.listener.port);
    cleanups.push(() => client.destroy());
    const conn = (await r.listener.accept()) as SocketDataConnection;
    cleanups.push(() => conn.destroy());
    const root = tmp();
    const sink = await localFileSystem({ root }).write('/empty.bin', { mode: 'create', start: 0 });
    // Someone read the stream to its end; the transfer begins before the socket closes.
    const received = new Promise<number>((resolve, reject) => conn.socket.once('end', () => conn.receive(sink).then(resolve, reject)));
    conn.socket.resume();
    client.end();
    expect(await received).toBe(0);
    await sink.end();
    expect(readFileSync(join(root, 'empty.bin')).length).toBe(0);
  });
});

describe('downloads through the server', { timeout: 60_000 }, () => {
  it('RETR of a large file, whole and from an offset, byte for byte', async () => {
    const { f, c } = await sessionWith();
    const body = randomBytes(9 * 1024 * 1024 + 11);
    writeFileSync(join(f.root, 'big.bin'), body);
    for (const offset of [0, 1, 1024 * 1024 + 3]) {
      if (offset > 0) expect(await c.cmd(`REST ${offset}`)).toMatch(/^350 /);
      const { data } = await c.pasv();
      const sock = await data();
      c.send('RETR big.bin');
      expect((await c.reply()).code).toBe(150);
      expect(sha(await readAll(sock))).toBe(sha(body.subarray(offset)));
      expect((await c.reply(20_000)).code).toBe(226);
      await eventually(() => lastTransfer(f)?.bytes === body.length - offset);
    }
  });

  it('TYPE A: LF becomes CRLF, existing CRLF stays', async () => {
    const { f, c } = await sessionWith();
    const text = Array.from({ length: 50_000 }, (_, i) => `row ${i}${i % 3 === 0 ? '\r' : ''}\n`).join('');
    writeFileSync(join(f.root, 'rows.txt'), text);
    expect(await c.cmd('TYPE A')).toMatch(/^200 /);
    const { data } = await c.pasv();
    const sock = await data();
    c.send('RETR rows.txt');
    expect((await c.reply()).code).toBe(150);
    expect((await readAll(sock)).toString('latin1')).toBe(text.replace(/\r?\n/g, '\r\n'));
    expect((await c.reply(20_000)).code).toBe(226);
  });
});
