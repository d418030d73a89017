/**
 * ABOR (RFC 959 §4.1.3) at every phase of a transfer: idle, after PASV/PORT/REST, while
 * the server waits for the data connection, mid-RETR, mid-STOR, mid-LIST, after the
 * transfer, pipelined, with the Telnet Synch. Each gets the right replies (426 for a cut
 * transfer, then 226), leaves no listener, socket or half-written upload behind, and the
 * next command works.
 */
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, activeTarget, closeAll, collect, connectSocket, retr, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
let baseline: number;
beforeAll(async () => {
  srv = await startServer({ directives: ['HiddenStores on'], passivePorts: 8 });
  writeFileSync(join(srv.root, 'big.bin'), '');
  truncateSync(join(srv.root, 'big.bin'), 1 << 30);
  writeFileSync(join(srv.root, 'small.txt'), '0123456789'.repeat(100));
  for (let i = 0; i < 2000; i++) writeFileSync(join(srv.root, `f${String(i).padStart(4, '0')}-${'x'.repeat(100)}`), '');
  baseline = srv.fds();
});
afterEach(() => closeAll());
afterAll(() => stopAll());

const listeners = (): number => srv.sockets().filter((t) => t.state === 'LISTEN' && t.localPort >= srv.range.min && t.localPort <= srv.range.max).length;

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  return c;
}

/** ABOR, and the replies up to and including the 226. */
async function abor(c: FtpClient, raw?: Buffer): Promise<string[]> {
  if (raw === undefined) c.send('ABOR');
  else c.write(raw);
  const got: string[] = [];
  for (;;) {
    const r = await c.reply(5000);
    got.push(`${r.code}`);
    if (r.code === 226 || r.code >= 500) return got;
  }
}

/** The session still works: NOOP, and a small download. */
async function stillWorks(c: FtpClient): Promise<void> {
  expect((await c.cmd('NOOP')).code).toBe(200);
  const got = await retr(c, 'small.txt');
  expect(got.data.toString()).toBe('0123456789'.repeat(100));
  expect(got.final?.code).toBe(226);
}

describe('ABOR at every phase', () => {
  test('with nothing going on: 226', async () => {
    const c = await loggedIn();
    expect(await abor(c)).toEqual(['226']);
    await stillWorks(c);
    await c.quit();
  });

  test('after PASV: 226, the listener is closed and its port returned', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    expect(listeners()).toBe(1);
    expect(await abor(c)).toEqual(['226']);
    await sleep(50);
    expect(listeners(), describeSockets(srv)).toBe(0);
    await expect(connectSocket(port)).rejects.toThrow(/ECONNREFUSED/);
    expect((await c.cmd('RETR small.txt')).code).toBe(425);
    await stillWorks(c);
    await c.quit();
  });

  test('after PORT and after REST: 226, and the next RETR starts at 0', async () => {
    const c = await loggedIn();
    const t = await activeTarget();
    expect((await c.cmd(`PORT 127,0,0,1,${t.port >> 8},${t.port & 255}`)).code).toBe(200);
    expect((await c.cmd('REST 500')).code).toBe(350);
    expect(await abor(c)).toEqual(['226']);
    t.close();
    const got = await retr(c, 'small.txt');
    expect(got.data.length).toBe(1000);
    await c.quit();
  });

  test('RETR waiting for its data connection: 426 then 226; a late data connection gets nothing', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    c.send('RETR big.bin');
    await sleep(100);
    expect(await abor(c)).toEqual(['426', '226']);
    const late = await connectSocket(port).then(collect, () => Buffer.alloc(0));
    expect(late.length).toBe(0);
    expect(listeners()).toBe(0);
    await stillWorks(c);
    await c.quit();
  });

  test('mid-RETR (the client reads slowly): 426 then 226, the data connection is closed', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    expect((await c.cmd('RETR big.bin')).code).toBe(150);
    let got = 0;
    d.on('data', (b: Buffer) => (got += b.length));
    await sleep(100);
    d.pause();
    expect(await abor(c)).toEqual(['426', '226']);
    d.resume();
    await new Promise((r) => d.once('close', r));
    expect(got).toBeLessThan(1 << 30);
    await stillWorks(c);
    await c.quit();
  });

  test('mid-RETR with the Telnet Synch (IAC IP, IAC DM, ABOR) as BSD ftp sends it', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    expect((await c.cmd('RETR big.bin')).code).toBe(150);
    d.resume();
    await sleep(50);
    expect(await abor(c, Buffer.from([255, 244, 255, 242, ...Buffer.from('ABOR\r\n')]))).toEqual(['426', '226']);
    d.destroy();
    await stillWorks(c);
    await c.quit();
  });

  test('mid-STOR: 426 then 226, nothing under the name, no temporary file left', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    expect((await c.cmd('STOR aborted.bin')).code).toBe(150);
    d.write(Buffer.alloc(2 << 20, 1));
    await sleep(100);
    expect(await abor(c)).toEqual(['426', '226']);
    d.destroy();
    await sleep(100);
    expect(existsSync(join(srv.root, 'aborted.bin'))).toBe(false);
    expect(readdirSync(srv.root).filter((n) => n.startsWith('.in.'))).toEqual([]);
    await stillWorks(c);
    await c.quit();
  });

  test('mid-APPE: 426 then 226, the bytes that were there before are intact', async () => {
    const c = await loggedIn();
    const before = Buffer.from('original content\n');
    writeFileSync(join(srv.root, 'log.txt'), before);
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    expect((await c.cmd('APPE log.txt')).code).toBe(150);
    d.write(Buffer.alloc(1 << 20, 0x42));
    await sleep(100);
    expect(await abor(c)).toEqual(['426', '226']);
    d.destroy();
    await sleep(100);
    expect(readFileSync(join(srv.root, 'log.txt')).subarray(0, before.length).equals(before)).toBe(true);
    await stillWorks(c);
    await c.quit();
  });

  test('mid-LIST of a 2000-entry directory: 426 then 226', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    d.pause();
    expect((await c.cmd('LIST -la')).code).toBe(150);
    c.send('ABOR');
    await sleep(300);
    const r = c.pending().map((x) => String(x.code));
    // A listing that fitted in the socket buffers already ended with its 226 before the ABOR's own.
    expect([['426', '226'], ['226', '226']]).toContainEqual(r);
    d.destroy();
    await stillWorks(c);
    await c.quit();
  });

  test('after the transfer completed: 226', async () => {
    const c = await loggedIn();
    await stillWorks(c);
    expect(await abor(c)).toEqual(['226']);
    await stillWorks(c);
    await c.quit();
  });

  test('pipelined with RETR, then ABOR QUIT in one packet', async () => {
    const c = await loggedIn();
    const { port } = await c.pasv();
    const d = await connectSocket(port);
    d.resume();
    c.write('RETR big.bin\r\nABOR\r\n');
    const codes: number[] = [];
    for (;;) {
      const r = await c.reply(5000);
      codes.push(r.code);
      if (r.code === 226 && codes.length >= 2) break;
    }
    // ABOR may arrive before the data connection was accepted (no 150) or after it.
    expect([[426, 226], [150, 426, 226], [150, 226, 226]]).toContainEqual(codes);
    d.destroy();
    await stillWorks(c);
    const other = await loggedIn();
    const { port: p2 } = await other.pasv();
    const d2 = await connectSocket(p2);
    d2.resume();
    expect((await other.cmd('RETR big.bin')).code).toBe(150);
    other.write('ABOR\r\nQUIT\r\n');
    await Promise.race([other.closed, sleep(5000)]);
    expect(other.received).toMatch(/426 [^\n]*\r\n226 [^\n]*\r\n221 /);
    d2.destroy();
    await c.quit();
  });

  test('afterwards: no listener, socket or descriptor left', async () => {
    expect(await settleFds(srv, baseline, 15_000), describeSockets(srv)).toBeLessThanOrEqual(baseline);
    expect(listeners()).toBe(0);
  });
});
