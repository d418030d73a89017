import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { describe, expect, it } from 'vitest';
import { createFtpServer, simpleAuthenticator } from '../../src/node/index.js';
import type { ConnectionContext, RefusedConnection, SessionInfo } from '../../src/node/index.js';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { HOST, eventually, hygiene, pattern, readAll, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

async function server(options: Parameters<typeof startServer>[1] = {}): Promise<Fixture> {
  const f = await startServer(tmp(), options);
  cleanups.push(() => f.server.close());
  return f;
}

async function client(f: Fixture, user = USER, password = PASSWORD): Promise<Client> {
  const c = new Client(5000);
  cleanups.push(() => c.close());
  await c.access({ host: HOST, port: f.port, user, password });
  return c;
}

function sink(): { stream: Writable; data: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
    data: () => Buffer.concat(parts),
  };
}

describe('createFtpServer with basic-ftp', { timeout: 30_000 }, () => {
  it('logs in, lists, uploads, downloads, renames, deletes, makes directories', async () => {
    const f = await server();
    writeFileSync(join(f.root, 'hello.txt'), 'hello\n');
    const c = await client(f);
    expect((await c.list()).map((e) => e.name)).toEqual(['hello.txt']);
    const data = pattern(1024 * 1024 + 7);
    await c.uploadFrom(Readable.from([data]), 'up.bin');
    expect(readFileSync(join(f.root, 'up.bin')).equals(data)).toBe(true);
    const down = sink();
    await c.downloadTo(down.stream, 'up.bin');
    expect(down.data().equals(data)).toBe(true);
    await c.ensureDir('/a/b');
    await c.cd('/');
    await c.rename('up.bin', 'a/b/moved.bin');
    expect(existsSync(join(f.root, 'a', 'b', 'moved.bin'))).toBe(true);
    await c.remove('a/b/moved.bin');
    await c.removeDir('a');
    expect(existsSync(join(f.root, 'a'))).toBe(false);
    expect(await c.size('hello.txt')).toBe(6);
    c.close();
    const types = new Set(f.events.map((e) => e.type));
    expect(types).toContain('login');
    expect(types).toContain('transfer-end');
  });

  it('anonymous is read-only; a bad password gets 530', async () => {
    const f = await server();
    const anon = await client(f, 'anonymous', 'guest@example.com');
    const down = sink();
    await anon.downloadTo(down.stream, 'readme.txt');
    expect(down.data().toString()).toBe('public\n');
    await expect(anon.uploadFrom(Readable.from([Buffer.from('x')]), 'new.txt')).rejects.toMatchObject({ code: 550 });
    const bad = new Client(5000);
    cleanups.push(() => bad.close());
    await expect(bad.access({ host: HOST, port: f.port, user: USER, password: 'wrong' })).rejects.toMatchObject({ code: 530 });
  });

  it('resumes a download and an upload with REST', async () => {
    const f = await server();
    const data = pattern(300_000, 3);
    writeFileSync(join(f.root, 'big.bin'), data);
    const c = await client(f);
    const part = sink();
    await c.downloadTo(part.stream, 'big.bin', 100_000);
    expect(part.data().equals(data.subarray(100_000))).toBe(true);
    writeFileSync(join(f.root, 'partial.bin'), data.subarray(0, 123_456));
    await c.appendFrom(Readable.from([data.subarray(123_456)]), 'partial.bin');
    expect(readFileSync(join(f.root, 'partial.bin')).equals(data)).toBe(true);
  });

  it('emits session, login, transfer and denial events with the session they belong to', async () => {
    const f = await server();
    const opened: SessionInfo[] = [];
    const closed: SessionInfo[] = [];
    const logins: string[] = [];
    const transfers: string[] = [];
    f.server.on('session-open', (s) => opened.push(s));
    f.server.on('session-close', (s) => closed.push(s));
    f.server.on('login', (e) => logins.push(`${e.session.id}:${e.user}`));
    f.server.on('transfer', (e) => transfers.push(`${e.verb} ${e.path} ${e.bytes} ${e.completion}`));
    const denied: string[] = [];
    f.server.on('denied', (e) => denied.push(e.type));
    const raw = await RawClient.open(f.port);
    await raw.login();
    expect(await raw.cmd('PORT 10,0,0,1,4,1')).toMatch(/^5\d\d /);
    const { data } = await raw.pasv();
    const sock = await data();
    raw.send('STOR x.txt');
    expect((await raw.reply()).code).toBe(150);
    sock.end('12345');
    expect((await raw.reply()).code).toBe(226);
    expect(await raw.cmd('QUIT')).toMatch(/^221 /);
    await eventually(() => closed.length === 1);
    expect(opened.map((s) => s.id)).toEqual(closed.map((s) => s.id));
    expect(opened[0]).toMatchObject({ remoteAddress: HOST, localAddress: HOST, localPort: f.port });
    expect(logins).toEqual([`${opened[0]!.id}:${USER}`]);
    expect(transfers).toEqual(['STOR /x.txt 5 c']);
    expect(denied).toEqual(['port-refused']);
  });

  it('chooses the configuration per connection', async () => {
    const seen: ConnectionContext[] = [];
    const f = await server({
      config: (ctx) => {
        seen.push(ctx);
        return { serverIdent: `welcome ${ctx.remoteAddress}` };
      },
    });
    const raw = new RawClientBanner();
    expect(await raw.banner(f.port)).toBe(`220 welcome ${HOST}`);
    expect(seen[0]).toMatchObject({ localAddress: HOST, localPort: f.port, remoteAddress: HOST });
  });
});

/** Reads only the banner. */
class RawClientBanner {
  async banner(port: number): Promise<string> {
    const s = net.connect(port, HOST);
    const text = await new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
    s.destroy();
    return text.trimEnd();
  }
}

describe('limits', { timeout: 30_000 }, () => {
  it('answers 421 to connections beyond maxClients and maxClientsPerHost', async () => {
    const f = await server({ maxClients: 2 });
    const refused: RefusedConnection[] = [];
    f.server.on('refused', (r) => refused.push(r));
    const a = await RawClient.open(f.port);
    const b = await RawClient.open(f.port);
    cleanups.push(() => a.close(), () => b.close());
    expect(f.server.sessions).toBe(2);
    const third = net.connect(f.port, HOST);
    const text = (await readAll(third)).toString();
    expect(text).toBe('421 Sorry, the maximum number of allowed clients (2) are already connected.\r\n');
    expect(refused[0]).toMatchObject({ reason: 'maxClients', message: 'Connection refused (MaxClients 2)' });
    a.close();
    await eventually(() => f.server.sessions === 1);
    const again = await RawClient.open(f.port);
    cleanups.push(() => again.close());

    const g = await server({ maxClientsPerHost: 1 });
    const one = await RawClient.open(g.port);
    cleanups.push(() => one.close());
    const two = net.connect(g.port, HOST);
    expect((await readAll(two)).toString()).toBe('421 Sorry, the maximum number of clients (1) from your host are already connected.\r\n');
  });
});

describe('listen and close', { timeout: 30_000 }, () => {
  it('listens on several addresses and reports them', async () => {
    const s = createFtpServer({ authenticator: simpleAuthenticator({}) });
    cleanups.push(() => s.close());
    const bound = await s.listen([
      { host: HOST, port: 0 },
      { host: HOST, port: 0 },
    ]);
    expect(bound.map((b) => b.address)).toEqual([HOST, HOST]);
    expect(bound.every((b) => b.family === 'IPv4' && b.port > 0)).toBe(true);
    expect(bound[0]!.port).not.toBe(bound[1]!.port);
    for (const b of bound) expect(await new RawClientBanner().banner(b.port)).toMatch(/^220 /);
    await expect(s.listen()).rejects.toMatchObject({ code: 'ERR_SERVER_STATE' });
  });

  it('fails listen() cleanly when an address is taken, leaving nothing bound', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, HOST, r));
    cleanups.push(() => new Promise((r) => blocker.close(r)));
    const taken = (blocker.address() as net.AddressInfo).port;
    const s = createFtpServer({ authenticator: simpleAuthenticator({}) });
    await expect(
      s.listen([
        { host: HOST, port: 0 },
        { host: HOST, port: taken },
      ]),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(s.addresses()).toEqual([]);
  });

  it('close() lets a transfer finish within drainMs, then says 421 to the rest', async () => {
    const f = await server();
    const busy = await RawClient.open(f.port);
    await busy.login();
    const idle = await RawClient.open(f.port);
    await idle.login();
    const { data } = await busy.pasv();
    const sock = await data();
    busy.send('STOR slow.bin');
    expect((await busy.reply()).code).toBe(150);
    sock.write('first half ');
    const closing = f.server.close({ drainMs: 3000 });
    // The idle session is told at once.
    expect(await idle.reply()).toMatchObject({ code: 421 });
    expect(await idle.closed()).toBe(true);
    // New connections are refused.
    await expect(RawClient.open(f.port)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    sock.end('second half');
    expect((await busy.reply()).code).toBe(226);
    expect((await busy.reply()).code).toBe(421);
    await closing;
    expect(readFileSync(join(f.root, 'slow.bin'), 'utf8')).toBe('first half second half');
    expect(f.server.sessions).toBe(0);
  });

  it('close() cuts a transfer that outlives drainMs', async () => {
    const f = await server();
    const busy = await RawClient.open(f.port);
    await busy.login();
    const { data } = await busy.pasv();
    const sock = await data();
    sock.on('error', () => undefined);
    busy.send('STOR never.bin');
    expect((await busy.reply()).code).toBe(150);
    sock.write('partial');
    const started = Date.now();
    await f.server.close({ drainMs: 200 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await busy.closed()).toBe(true);
    expect(existsSync(join(f.root, 'never.bin'))).toBe(false);
    sock.destroy();
  });
});
