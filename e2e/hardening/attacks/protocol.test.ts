/**
 * Hostile bytes on the control connection: over-long lines, endless lines, Telnet
 * negotiation and garbage, replies nobody reads. The server answers what it must, keeps
 * its memory bounded, and the next well-formed command (and the next client) works.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, rssMiB, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
beforeAll(async () => {
  srv = await startServer();
});
afterEach(() => closeAll());
afterAll(() => stopAll());

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  return c;
}

/** Writes `total` bytes of `fill` in 64 KiB pieces, waiting for the socket to drain. */
async function stream(c: FtpClient, total: number, fill: number | Buffer): Promise<void> {
  const piece = typeof fill === 'number' ? Buffer.alloc(64 * 1024, fill) : Buffer.concat(Array.from({ length: Math.ceil((64 * 1024) / fill.length) }, () => fill));
  for (let sent = 0; sent < total && !c.isClosed; sent += piece.length) {
    if (!c.socket.write(piece)) await new Promise((r) => c.socket.once('drain', r));
  }
}

describe('over-long command lines', () => {
  test('a 5000-byte line gets one 500 and the session goes on', async () => {
    const c = await loggedIn();
    const r = await c.cmd(`CWD ${'a'.repeat(5000)}`);
    expect(r.code).toBe(500);
    expect(r.text.length).toBeLessThan(200);
    expect((await c.cmd('NOOP')).code).toBe(200);
    expect((await c.cmd('PWD')).code).toBe(257);
    await c.quit();
  });

  test('a 4096-byte path (the longest line accepted) is answered with a bounded reply', async () => {
    const c = await loggedIn();
    const name = 'n'.repeat(4096 - 'MKD '.length);
    const r = await c.cmd(`MKD ${name}`);
    expect([553, 550, 257]).toContain(r.code);
    expect(c.received.length).toBeLessThan(16 * 1024);
    expect((await c.cmd('NOOP')).code).toBe(200);
    await c.quit();
  });

  test('64 MiB without a line end: memory stays bounded and the line is refused once', async () => {
    const rss0 = rssMiB(srv.pid);
    const c = await loggedIn();
    await stream(c, 64 << 20, 0x41);
    c.write('\r\nNOOP\r\n');
    const first = await c.reply(15_000);
    expect(first.code).toBe(500);
    const next = await c.reply(15_000);
    expect(`${next.code} ${next.text}`).toMatch(/^200 /);
    expect(rssMiB(srv.pid) - rss0, 'RSS growth in MiB').toBeLessThan(48);
    await c.quit();
  });

  test('a stream of over-long lines keeps memory bounded and the server serves another client', async () => {
    const rss0 = rssMiB(srv.pid);
    const c = await loggedIn();
    await stream(c, 16 << 20, Buffer.from(`${'X'.repeat(6000)}\r\n`));
    const other = await loggedIn();
    expect((await other.cmd('NOOP')).code).toBe(200);
    await other.quit();
    expect(rssMiB(srv.pid) - rss0, 'RSS growth in MiB').toBeLessThan(48);
    // Either every line got its 500 or the session was ended; both are fine, a crash is not.
    await Promise.race([c.closed, sleep(1000)]);
    expect(srv.alive()).toBe(true);
  });
});

describe('Telnet negotiation and garbage', () => {
  test('WILL/DO are refused with DONT/WONT, commands around them work', async () => {
    const c = await FtpClient.connect(srv.port);
    c.write(Buffer.from([255, 251, 1, 255, 253, 3, 255, 252, 5, 255, 254, 6])); // WILL ECHO, DO SGA, WONT, DONT
    c.write(`USER ${USER}\r\n`);
    expect((await c.reply()).code).toBe(331);
    const raw = Buffer.from(c.received, 'latin1');
    expect(raw.includes(Buffer.from([255, 254, 1]))).toBe(true); // DONT ECHO
    expect(raw.includes(Buffer.from([255, 252, 3]))).toBe(true); // WONT SGA
    expect((await c.cmd(`PASS ${PASSWORD}`)).code).toBe(230);
    await c.quit();
  });

  test('Telnet commands inside a command line are dropped; IAC IAC is a 255 byte', async () => {
    const c = await loggedIn();
    c.write(Buffer.concat([Buffer.from('NO'), Buffer.from([255, 241, 255, 246]), Buffer.from('OP\r\n')])); // NOP, AYT
    expect((await c.reply()).code).toBe(200);
    c.write(Buffer.concat([Buffer.from('SIZE x'), Buffer.from([255, 255]), Buffer.from('y\r\n')]));
    expect((await c.reply()).code).toBe(501); // the name holds byte 255: not UTF-8
    expect((await c.cmd('NOOP')).code).toBe(200);
    await c.quit();
  });

  test('an endless subnegotiation (IAC SB without SE) is bounded and idle', async () => {
    const rss0 = rssMiB(srv.pid);
    const c = await loggedIn();
    c.write(Buffer.from([255, 250, 24]));
    await stream(c, 32 << 20, 0x42);
    c.write(Buffer.from([255, 240]));
    expect((await c.cmd('NOOP', 15_000)).code).toBe(200);
    expect(rssMiB(srv.pid) - rss0, 'RSS growth in MiB').toBeLessThan(48);
    await c.quit();
  });

  test('random binary garbage (16 MiB) never kills the server', async () => {
    const c = await FtpClient.connect(srv.port);
    const garbage = Buffer.alloc(1 << 20);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    for (let i = 0; i < 16 && !c.isClosed; i++) await stream(c, garbage.length, garbage);
    await sleep(200);
    expect(srv.alive()).toBe(true);
    const next = await loggedIn();
    expect((await next.cmd('NOOP')).code).toBe(200);
    await next.quit();
  });
});

describe('replies nobody reads', () => {
  test('a client that pipelines 20 MiB of HELP and never reads: memory stays bounded, others are served', async () => {
    const rss0 = rssMiB(srv.pid);
    const c = await loggedIn();
    c.socket.pause(); // never read a reply
    const line = Buffer.from('HELP\r\n');
    let written = 0;
    const deadline = Date.now() + 8000;
    // Write until the server stops reading (our socket buffer stays full) or 20 MiB.
    while (written < 20 << 20 && Date.now() < deadline) {
      const ok = c.socket.write(Buffer.concat(Array.from({ length: 1000 }, () => line)));
      written += line.length * 1000;
      if (!ok) {
        const drained = await Promise.race([new Promise((r) => c.socket.once('drain', () => r(true))), sleep(1000).then(() => false)]);
        if (!drained) break;
      }
    }
    const other = await loggedIn();
    expect((await other.cmd('NOOP')).code).toBe(200);
    await other.quit();
    expect(rssMiB(srv.pid) - rss0, `RSS growth in MiB after ${(written / 1048576).toFixed(1)} MiB of HELP`).toBeLessThan(64);
    c.destroy();
    expect(srv.alive()).toBe(true);
  });
});
