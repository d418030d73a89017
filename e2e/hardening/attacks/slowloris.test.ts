/**
 * Slowloris: connections that hold the server's resources by going slowly. With short
 * ProFTPD timeouts (TimeoutLogin/Idle/NoTransfer/Stalled 2 s) idle, half-sent,
 * drip-fed and stalled sessions are closed with ProFTPD's 421 and log line, and every
 * descriptor comes back, even when the client never closes its side.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, connectSocket, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
let baseline: number;
beforeAll(async () => {
  srv = await startServer({ directives: ['TimeoutLogin 2', 'TimeoutIdle 2', 'TimeoutNoTransfer 3', 'TimeoutStalled 2', 'MaxInstances 1000', 'HiddenStores on'] });
  writeFileSync(join(srv.root, 'big.bin'), Buffer.alloc(64 << 20, 7));
  baseline = srv.fds();
});
// Tests of the first block run concurrently: sockets are closed after the file, not after each test.
afterAll(async () => {
  closeAll();
  await stopAll();
});

/** Resolves with the ms until the server closed `c`; fails after `limitMs`. */
async function closedWithin(c: FtpClient, limitMs: number): Promise<number> {
  const t0 = Date.now();
  await Promise.race([c.closed, sleep(limitMs).then(() => { throw new Error(`still open after ${limitMs} ms; received: ${JSON.stringify(c.received.slice(-300))}`); })]);
  return Date.now() - t0;
}

/** Writes one byte every `everyMs` until the connection closes. */
function drip(c: FtpClient, text: string, everyMs: number): void {
  let i = 0;
  const t = setInterval(() => {
    if (c.isClosed) clearInterval(t);
    else c.write(text[i++ % text.length] as string);
  }, everyMs);
  void c.closed.then(() => clearInterval(t));
}

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  return c;
}

describe.concurrent('timeouts close slow sessions', () => {
  test('silent before login: 421 Login timeout, closed, logged', async () => {
    const c = await FtpClient.connect(srv.port);
    await closedWithin(c, 5000);
    expect(c.received).toContain('421 Login timeout (2 seconds): closing control connection\r\n');
    await srv.waitFor(/^Login timeout exceeded, disconnected$/);
  });

  test('a half-sent USER line drip-fed one byte every 300 ms is closed by TimeoutLogin', async () => {
    const c = await FtpClient.connect(srv.port);
    drip(c, 'USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 300);
    await closedWithin(c, 5000);
    expect(c.received).toMatch(/421 Login timeout/);
  });

  test('complete commands forever before login (NOOP every 300 ms) do not extend TimeoutLogin', async () => {
    const c = await FtpClient.connect(srv.port);
    const t = setInterval(() => c.send('NOOP'), 300);
    await closedWithin(c, 5000).finally(() => clearInterval(t));
    expect(c.received).toMatch(/421 Login timeout/);
  });

  test('logged in and silent: 421 Idle timeout', async () => {
    const c = await loggedIn();
    await closedWithin(c, 5000);
    expect(c.received).toContain('421 Idle timeout (2 seconds): closing control connection\r\n');
    await srv.waitFor(/^Client session idle timeout, disconnected$/);
  });

  test('logged in, drip-feeding a command that never ends: still idle', async () => {
    const c = await loggedIn();
    drip(c, 'STAT xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 300);
    await closedWithin(c, 5000);
    expect(c.received).toMatch(/421 (Idle|No transfer) timeout/);
  });

  test('logged in, NOOP forever without a transfer: TimeoutNoTransfer closes it', async () => {
    const c = await loggedIn();
    const t = setInterval(() => c.send('NOOP'), 300);
    await closedWithin(c, 6000).finally(() => clearInterval(t));
    expect(c.received).toContain('421 No transfer timeout (3 seconds): closing control connection\r\n');
  });

  test('PASV + RETR, the data connection never opened: TimeoutStalled closes the session', async () => {
    const c = await loggedIn();
    await c.pasv();
    c.send('RETR big.bin');
    await closedWithin(c, 6000);
    expect(c.received).toMatch(/Data transfer stall timeout/);
    await srv.waitFor(/stall timeout/i);
  });

  test('RETR whose client never reads the data: TimeoutStalled closes both connections', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    d.pause();
    expect((await c.cmd('RETR big.bin')).code).toBe(150);
    await closedWithin(c, 8000);
    // The server side of the data connection is gone too (the paused client never reads the FIN).
    const held = async (): Promise<boolean> => srv.sockets().some((t) => t.remotePort === d.localPort);
    for (let i = 0; i < 40 && (await held()); i++) await sleep(100);
    expect(await held(), describeSockets(srv)).toBe(false);
  });

  // With HiddenStores on (ProFTPD's default is off: the partial file then stays, as in ProFTPD).
  test('STOR whose client never sends a byte: TimeoutStalled closes it and no file is left under the name', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    expect((await c.cmd('STOR never.bin')).code).toBe(150);
    await closedWithin(c, 6000);
    d.destroy();
    await sleep(200);
    expect(existsSync(join(srv.root, 'never.bin'))).toBe(false);
  });
});

describe('resources come back', () => {
  test('a client that ignores the 421 and never closes its side does not keep the descriptor', async () => {
    const before = srv.fds();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => connectSocket(srv.port)));
    for (const s of sockets) s.pause(); // never read, never close
    await sleep(2500); // TimeoutLogin
    const n = await settleFds(srv, before, 10_000);
    expect(n, describeSockets(srv)).toBeLessThanOrEqual(before);
    for (const s of sockets) s.destroy();
  });

  test('300 silent connections are all closed by TimeoutLogin and every descriptor returns', async () => {
    const before = srv.fds();
    const clients = await Promise.all(Array.from({ length: 300 }, () => FtpClient.raw(srv.port)));
    for (let i = 0; i < 30 && srv.fds() < before + 290; i++) await sleep(50);
    expect(srv.fds()).toBeGreaterThanOrEqual(before + 290);
    await Promise.all(clients.map((c) => closedWithin(c, 8000)));
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
    // And the server still serves.
    const ok = await loggedIn();
    expect((await ok.cmd('NOOP')).code).toBe(200);
    await ok.quit();
  });

  test('after all of it the server is back at its baseline', async () => {
    expect(await settleFds(srv, baseline, 12_000), describeSockets(srv)).toBeLessThanOrEqual(baseline);
  });
});
