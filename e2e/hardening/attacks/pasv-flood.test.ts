/**
 * PASV/EPSV floods: one session or one address asking for passive ports as fast as it
 * can. Each session holds at most one listener; no client exhausts the PassivePorts
 * range for the others (per-IP cap); every lease and listener comes back afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PortAllocator } from '@ftpkit/port-allocator';
import { createFtpServer, simpleAuthenticator, type FtpServer } from '@ftpkit/session/node';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, freeRange, settleFds, startServer, stopAll, type Range, type Served } from '../lib/server.js';

afterEach(() => closeAll());
afterAll(() => stopAll());

const inRange = (port: number, r: Range): boolean => port >= r.min && port <= r.max;
const FALLBACK = /^unable to find open port in PassivePorts range/;

/** Listening sockets the server holds inside its passive range. */
const passiveListeners = (s: Served): number => s.sockets().filter((t) => t.state === 'LISTEN' && inRange(t.localPort, s.range)).length;

/**
 * Sends `n` commands in bursts of 32 pipelined lines (the session queues at most 64
 * commands behind one that waits for IO) and counts the reply codes; `each` runs after
 * every reply.
 */
async function flood(c: FtpClient, n: number, line: (i: number) => string, each?: (code: number) => void): Promise<Record<number, number>> {
  const codes: Record<number, number> = {};
  for (let done = 0; done < n; ) {
    const burst = Math.min(32, n - done);
    c.write(Array.from({ length: burst }, (_, i) => `${line(done + i)}\r\n`).join(''));
    for (let i = 0; i < burst; i++) {
      const r = await c.reply(10_000);
      codes[r.code] = (codes[r.code] ?? 0) + 1;
      each?.(r.code);
    }
    done += burst;
  }
  return codes;
}

describe('the reference server (ftpkit serve)', () => {
  let srv: Served;
  beforeAll(async () => {
    srv = await startServer({ passivePorts: 16 });
  });

  async function loggedIn(localAddress?: string): Promise<FtpClient> {
    const c = await FtpClient.connect(srv.port, localAddress === undefined ? {} : { localAddress });
    expect((await c.login(USER, PASSWORD)).code).toBe(230);
    return c;
  }

  test('one session pipelining 400 PASV/EPSV holds one listener and does not exhaust the range', async () => {
    const baseline = srv.fds();
    const c = await loggedIn();
    const n = 400;
    const codes = await flood(c, n, (i) => (i % 2 === 0 ? 'PASV' : 'EPSV'));
    expect(codes).toEqual({ 227: n / 2, 229: n / 2 });
    expect(passiveListeners(srv), describeSockets(srv)).toBeLessThanOrEqual(1);
    // Another client right away: a port from the range, not a kernel fallback.
    const other = await loggedIn('127.0.0.2');
    const { port } = await other.pasv();
    expect(inRange(port, srv.range), `PASV port ${port} outside ${srv.range.min}-${srv.range.max}`).toBe(true);
    expect(srv.grep(FALLBACK)).toEqual([]);
    await other.quit();
    await c.quit();
    expect(await settleFds(srv, baseline), describeSockets(srv)).toBeLessThanOrEqual(baseline);
    expect(passiveListeners(srv)).toBe(0);
  });

  test('without --passive-per-client (ProFTPD\'s default) many sessions from one address do take the whole range', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => loggedIn()));
    const ports = await Promise.all(clients.map(async (c) => (await c.pasv()).port));
    expect(ports.filter((p) => !inRange(p, srv.range)).length).toBeGreaterThan(0);
    await srv.waitFor(FALLBACK);
    await Promise.all(clients.map((c) => c.quit()));
  });

  test('more than 64 commands pipelined behind a PASV end the session with 421; the server goes on', async () => {
    const c = await loggedIn();
    c.write('PASV\r\n'.repeat(200));
    const replies: number[] = [];
    for (;;) {
      const r = await c.replyOrEnd(5000);
      if (r === undefined) break;
      replies.push(r.code);
    }
    expect(replies.at(-1)).toBe(421);
    expect(replies.length).toBeLessThan(200);
    const next = await loggedIn();
    expect((await next.pasv()).reply.code).toBe(227);
    await next.quit();
  });

  test('after the flood every listener is closed and the whole range can be leased again', async () => {
    await sleep(2500); // the allocator's default cooldown (TIME_WAIT / conntrack) is 2 s
    expect(passiveListeners(srv), describeSockets(srv)).toBe(0);
    const clients = await Promise.all(Array.from({ length: 16 }, () => loggedIn()));
    const ports = await Promise.all(clients.map(async (c) => (await c.pasv()).port));
    expect(ports.every((p) => inRange(p, srv.range)), ports.join(',')).toBe(true);
    expect(new Set(ports).size).toBe(16);
    await Promise.all(clients.map((c) => c.quit()));
  });
});

describe('ftpkit serve --passive-per-client 4', () => {
  let capped: Served;
  beforeAll(async () => {
    capped = await startServer({ passivePorts: 16, args: ['--passive-per-client', '4'] });
  });

  test('32 sessions from one address: 4 passive ports, the rest 425; another address still gets a port from the range', async () => {
    const login = async (localAddress?: string): Promise<FtpClient> => {
      const c = await FtpClient.connect(capped.port, localAddress === undefined ? {} : { localAddress });
      expect((await c.login(USER, PASSWORD)).code).toBe(230);
      return c;
    };
    const clients = await Promise.all(Array.from({ length: 32 }, () => login()));
    const replies = await Promise.all(clients.map((c) => c.cmd('PASV')));
    expect(replies.filter((r) => r.code === 227)).toHaveLength(4);
    for (const r of replies.filter((x) => x.code !== 227)) expect(`${r.code} ${r.text}`).toMatch(/^425 Unable to build data connection/);
    const other = await login('127.0.0.2');
    const { port } = await other.pasv();
    expect(inRange(port, capped.range), `PASV port ${port} outside ${capped.range.min}-${capped.range.max}`).toBe(true);
    await Promise.all([...clients, other].map((c) => c.quit()));
  });
});

describe('createFtpServer with a per-IP cap (PortAllocator maxPerOwner)', () => {
  let server: FtpServer;
  let allocator: PortAllocator;
  let port: number;
  let range: Range;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ftpkit-hardening-pasv-'));
    range = await freeRange(16);
    allocator = new PortAllocator({ ranges: [range], random: Math.random, maxPerOwner: 4, exhaustion: 'refuse' });
    server = createFtpServer({
      listen: { host: '127.0.0.1', port: 0 },
      authenticator: simpleAuthenticator({ users: [{ name: USER, password: PASSWORD, root }] }),
      passivePorts: allocator,
    });
    port = (await server.listen())[0]?.port ?? 0;
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function loggedIn(localAddress?: string): Promise<FtpClient> {
    const c = await FtpClient.connect(port, localAddress === undefined ? {} : { localAddress });
    expect((await c.login(USER, PASSWORD)).code).toBe(230);
    return c;
  }

  test('the fifth session from one address gets 425, another address still gets a port from the range', async () => {
    const clients = await Promise.all(Array.from({ length: 12 }, () => loggedIn()));
    const replies = await Promise.all(clients.map((c) => c.cmd('PASV')));
    expect(replies.filter((r) => r.code === 227)).toHaveLength(4);
    for (const r of replies.filter((r) => r.code !== 227)) expect(`${r.code} ${r.text}`).toMatch(/^425 Unable to build data connection/);
    const other = await loggedIn('127.0.0.2');
    const { port: p } = await other.pasv();
    expect(inRange(p, range)).toBe(true);
    expect(allocator.stats(Date.now()).inUse).toBe(5);
    await Promise.all([...clients, other].map((c) => c.quit()));
    await sleep(200);
    expect(allocator.stats(Date.now()).inUse).toBe(0);
  });

  test('one session pipelining 400 PASV never holds more than one lease', async () => {
    const c = await loggedIn();
    let max = 0;
    const codes = await flood(c, 400, () => 'PASV', () => {
      max = Math.max(max, allocator.stats(Date.now()).inUse);
    });
    expect(Object.keys(codes).every((k) => k === '227' || k === '425'), JSON.stringify(codes)).toBe(true);
    expect(max).toBeLessThanOrEqual(1);
    const other = await loggedIn('127.0.0.2');
    expect(inRange((await other.pasv()).port, range)).toBe(true);
    await Promise.all([c.quit(), other.quit()]);
  });
});
