/**
 * Passive-port stealing (RFC 2577 §5, "port theft"): a stranger who guesses the PASV port
 * connects to it before the client. The server must reject the stranger with ProFTPD's
 * SECURITY VIOLATION line, give the stranger no data, take none from it, and still
 * serve the real client. 127.0.0.2 is the stranger (the client socket is bound to it).
 */
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, collect, connectSocket, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
const secret = randomBytes(256 * 1024);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const VIOLATION = /^SECURITY VIOLATION: Passive connection from foreign IP address 127\.0\.0\.2 rejected \(does not match client IP address 127\.0\.0\.1\)\.$/;

beforeAll(async () => {
  srv = await startServer();
  writeFileSync(join(srv.root, 'secret.bin'), secret);
});
afterEach(() => closeAll());
afterAll(() => stopAll());

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  return c;
}

/** A stranger's connection to the data port: what it received, and whether it was closed. */
async function stranger(port: number, send?: Uint8Array): Promise<{ socket: net.Socket; got: Promise<Buffer> }> {
  const socket = await connectSocket(port, { localAddress: '127.0.0.2' });
  const got = collect(socket);
  if (send !== undefined) socket.write(send);
  return { socket, got };
}

describe('passive port stealing from another address', () => {
  for (const when of ['before the transfer command', 'after the transfer command'] as const) {
    test(`RETR: a stranger connecting first (${when}) gets nothing; the client gets its file`, async () => {
      const before = srv.fds();
      const c = await loggedIn();
      const { port } = await c.pasv();
      let thief: Awaited<ReturnType<typeof stranger>> | undefined;
      if (when === 'before the transfer command') thief = await stranger(port);
      c.send('RETR secret.bin');
      if (when === 'after the transfer command') {
        await sleep(50);
        thief = await stranger(port);
      }
      await srv.waitFor(VIOLATION, 5000);
      const data = await connectSocket(port);
      const got = collect(data);
      expect((await c.reply()).code).toBe(150);
      expect(sha(await got)).toBe(sha(secret));
      expect((await c.reply()).code).toBe(226);
      expect((await thief?.got)?.length).toBe(0);
      await c.quit();
      expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
    });
  }

  test('STOR: bytes a stranger sends never reach the file; the client\'s upload is intact', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const thief = await stranger(port, Buffer.from('EVIL'.repeat(1000)));
    c.send('STOR upload.bin');
    await srv.waitFor(VIOLATION, 5000);
    const data = await connectSocket(port);
    expect((await c.reply()).code).toBe(150);
    const mine = randomBytes(100_000);
    data.end(mine);
    expect((await c.reply()).code).toBe(226);
    expect(sha(readFileSync(join(srv.root, 'upload.bin')))).toBe(sha(mine));
    expect((await thief.got).length).toBe(0);
    await c.quit();
  });

  test('LIST: a stranger gets no directory listing', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const thief = await stranger(port);
    c.send('LIST');
    const data = await connectSocket(port);
    const got = collect(data);
    expect((await c.reply()).code).toBe(150);
    expect((await got).toString()).toContain('secret.bin');
    expect((await c.reply()).code).toBe(226);
    expect((await thief.got).length).toBe(0);
    await c.quit();
  });

  test('a crowd of strangers on the data port (more than the accept queue) cannot lock the client out', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const thieves = [];
    for (let i = 0; i < 20; i++) thieves.push(await stranger(port));
    await sleep(100);
    const data = await connectSocket(port);
    const got = collect(data);
    const first = await c.cmd('RETR secret.bin', 5000);
    expect(`${first.code} ${first.text}`).toMatch(/^150 /);
    expect(sha(await got)).toBe(sha(secret));
    expect((await c.reply()).code).toBe(226);
    for (const t of thieves) expect((await t.got).length).toBe(0);
    await c.quit();
  });
});
