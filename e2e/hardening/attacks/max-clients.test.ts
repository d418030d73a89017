/**
 * Connection floods against MaxClients / MaxClientsPerHost / MaxConnectionsPerHost /
 * MaxInstances: the excess is refused with the documented reply (ftpkit serve: ProFTPD's
 * 530 after PASS, MaxConnectionsPerHost's 530 before the banner, and MaxInstances closing
 * at connect; createFtpServer: 421 at connect) and the server keeps serving everyone else.
 * 127.0.0.2+ are other hosts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFtpServer, simpleAuthenticator, type FtpServer } from '@ftpkit/session/node';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, retr, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

afterEach(() => closeAll());
afterAll(() => stopAll());

/** Connects `n` clients at once; each resolves with its first line (or '' when closed without one). */
function flood(port: number, n: number, localAddress?: string): Promise<{ first: string; client: FtpClient | undefined }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const c = await FtpClient.raw(port, localAddress === undefined ? {} : { localAddress });
        const r = await c.replyOrEnd(5000);
        return { first: r === undefined ? '' : `${r.code} ${r.text}`, client: c };
      } catch {
        return { first: 'connect failed', client: undefined };
      }
    }),
  );
}

const tally = (firsts: string[]): Record<string, number> => {
  const t: Record<string, number> = {};
  for (const f of firsts) t[f.replace(/\[.*\]/, '[…]')] = (t[f.replace(/\[.*\]/, '[…]')] ?? 0) + 1;
  return t;
};

describe('ftpkit serve', () => {
  let srv: Served;
  beforeAll(async () => {
    srv = await startServer({ directives: ['MaxClients 6', 'MaxClientsPerHost 4', 'MaxInstances 40', 'TimeoutLogin 5'] });
    writeFileSync(join(srv.root, 'f.txt'), 'served\n');
  });

  async function login(localAddress?: string): Promise<{ c: FtpClient; reply: string }> {
    const c = await FtpClient.connect(srv.port, localAddress === undefined ? {} : { localAddress });
    const r = await c.login(USER, PASSWORD);
    return { c, reply: `${r.code} ${r.text}` };
  }

  test('MaxClientsPerHost 4: the fifth login from one host gets ProFTPD\'s 530 and is closed; another host gets in', async () => {
    const ok = await Promise.all(Array.from({ length: 4 }, () => login()));
    expect(ok.map((x) => x.reply)).toEqual(Array(4).fill('230 User alice logged in'));
    const fifth = await login();
    expect(fifth.reply).toBe('530 Sorry, the maximum number of clients (4) from your host are already connected.');
    await Promise.race([fifth.c.closed, sleep(3000)]);
    expect(fifth.c.isClosed).toBe(true);
    await srv.waitFor(/^Connection refused \(MaxClientsPerHost 4\)$/);
    const other = await login('127.0.0.2');
    expect(other.reply).toBe('230 User alice logged in');
    expect((await retr(other.c, 'f.txt')).data.toString()).toMatch(/^served\r?\n$/);
    await Promise.all([...ok, other].map((x) => x.c.quit()));
  });

  test('MaxClients 6: the seventh login gets 530 and is closed; after one quits, a new one gets in', async () => {
    const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.1', '127.0.0.2', '127.0.0.3'];
    const ok = await Promise.all(hosts.map((h) => login(h)));
    expect(ok.every((x) => x.reply.startsWith('230'))).toBe(true);
    const seventh = await login('127.0.0.4');
    expect(seventh.reply).toBe('530 Sorry, the maximum number of allowed clients (6) are already connected.');
    await srv.waitFor(/^Connection refused \(MaxClients 6\)$/);
    await ok[0]?.c.quit();
    await sleep(100);
    const next = await login('127.0.0.4');
    expect(next.reply).toBe('230 User alice logged in');
    await Promise.all([...ok.slice(1), next].map((x) => x.c.quit()));
  });

  test('a flood of 300 connections: MaxInstances 40 closes the excess at connect, descriptors return, the server serves', async () => {
    const before = srv.fds();
    const results = await flood(srv.port, 300);
    const banners = results.filter((r) => r.first.startsWith('220')).length;
    expect(banners, JSON.stringify(tally(results.map((r) => r.first)))).toBeLessThanOrEqual(40);
    expect(results.filter((r) => r.first === '').length).toBeGreaterThanOrEqual(260);
    await srv.waitFor(/^MaxInstances \(40\) reached, new connection denied$/);
    for (const r of results) r.client?.destroy();
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
    const after = await login();
    expect(after.reply).toBe('230 User alice logged in');
    await after.c.quit();
  });
});

describe('ftpkit serve: MaxConnectionsPerHost (every connection from a host, at connect)', () => {
  let srv: Served;
  beforeAll(async () => {
    srv = await startServer({ directives: ['MaxInstances 40', 'MaxConnectionsPerHost 10', 'TimeoutLogin 5'] });
  });

  // MaxClientsPerHost counts only logged-in sessions (ProFTPD semantics), so without
  // MaxConnectionsPerHost one host holding MaxInstances unauthenticated connections would
  // lock every other host out until TimeoutLogin. MaxConnectionsPerHost 10 refuses the
  // host's 11th connection before the banner.
  test('a flood from one host does not lock out another host (per-host limit at connect)', async () => {
    const results = await flood(srv.port, 60);
    const t = tally(results.map((r) => r.first));
    expect(results.filter((r) => r.first.startsWith('220')).length, JSON.stringify(t)).toBe(10);
    expect(t['530 Sorry, the maximum number of connections (10) for your host are already connected.'], JSON.stringify(t)).toBe(50);
    await srv.waitFor(/^Connection refused \(MaxConnectionsPerHost 10\)$/);
    const other = await FtpClient.connect(srv.port, { localAddress: '127.0.0.2', timeoutMs: 2000 }).catch(() => undefined);
    const banner = other?.banner.code;
    expect(banner).toBe(220);
    expect((await other?.login(USER, PASSWORD))?.code).toBe(230);
    await other?.quit();
    for (const r of results) r.client?.destroy();
    // Once the flood is gone, the host is served again.
    let again: FtpClient | undefined;
    for (let i = 0; i < 30 && again === undefined; i++) {
      await sleep(100);
      const c = await FtpClient.raw(srv.port);
      const r = await c.replyOrEnd(2000);
      if (r?.code === 220) again = c;
      else c.destroy();
    }
    expect(again).toBeDefined();
    again?.destroy();
  });
});

describe('createFtpServer (limits at connect: 421)', () => {
  let server: FtpServer;
  let port: number;
  let root: string;
  const refused: string[] = [];
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ftpkit-hardening-max-'));
    writeFileSync(join(root, 'f.txt'), 'served\n');
    server = createFtpServer({
      listen: { host: '127.0.0.1', port: 0 },
      authenticator: simpleAuthenticator({ users: [{ name: USER, password: PASSWORD, root }] }),
      maxClients: 50,
      maxClientsPerHost: 20,
    });
    server.on('refused', (r) => refused.push(r.message));
    port = (await server.listen())[0]?.port ?? 0;
  });
  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('300 connections from one host: 20 served, 280 get 421; another host is served meanwhile', async () => {
    const results = await flood(port, 300);
    const t = tally(results.map((r) => r.first));
    expect(results.filter((r) => r.first.startsWith('220')).length, JSON.stringify(t)).toBe(20);
    expect(t['421 Sorry, the maximum number of clients (20) from your host are already connected.']).toBe(280);
    expect(refused.filter((m) => m === 'Connection refused (MaxClientsPerHost 20)').length).toBe(280);
    const other = await FtpClient.connect(port, { localAddress: '127.0.0.2' });
    expect((await other.login(USER, PASSWORD)).code).toBe(230);
    expect((await retr(other, 'f.txt')).data.toString()).toMatch(/^served\r?\n$/);
    await other.quit();
    for (const r of results) r.client?.destroy();
  });

  test('a flood from eight hosts: never more than 50 sessions, the excess gets 421, all sessions end afterwards', async () => {
    await sleep(200);
    expect(server.sessions).toBe(0);
    const hosts = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
    const results = (await Promise.all(hosts.map((h) => flood(port, 15, h)))).flat();
    const t = tally(results.map((r) => r.first));
    expect(results.filter((r) => r.first.startsWith('220')).length, JSON.stringify(t)).toBe(50);
    expect(t['421 Sorry, the maximum number of allowed clients (50) are already connected.']).toBe(70);
    for (const r of results) r.client?.destroy();
    for (let i = 0; i < 30 && server.sessions > 0; i++) await sleep(100);
    expect(server.sessions).toBe(0);
  });
});
