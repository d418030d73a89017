/**
 * Every port of the PassivePorts range is held by another process. With
 * `--exhaustion kernel` (ftpkit serve's default, ProFTPD's behaviour) PASV/EPSV fall back
 * to a kernel port and log ProFTPD's line; with `--exhaustion refuse` they answer 425.
 * Either way the session goes on and nothing leaks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { FtpClient, activeTarget, closeAll, retr } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Range, type Served } from '../lib/server.js';

const blockers: ChildProcess[] = [];
afterEach(() => closeAll());
afterAll(async () => {
  for (const b of blockers) b.kill('SIGKILL');
  await stopAll();
});

/** Another process listening on every port of `range` (all addresses); resolves once bound. */
async function takeAll(range: Range): Promise<void> {
  const script = `
    const net = require('node:net');
    let n = 0;
    for (let p = ${range.min}; p <= ${range.max}; p++) {
      net.createServer().listen({ port: p, host: '0.0.0.0', exclusive: true }, () => { if (++n === ${range.max - range.min + 1}) console.log('bound'); });
    }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  blockers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('bound') && resolve());
    child.once('exit', (code) => reject(new Error(`blocker exited with ${code}`)));
  });
}

const inRange = (port: number, r: Range): boolean => port >= r.min && port <= r.max;

async function loggedIn(srv: Served): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  return c;
}

describe('every passive port taken by another process', () => {
  test('--exhaustion kernel: PASV and EPSV fall back to a kernel port, log ProFTPD\'s line, and the transfer works', async () => {
    const srv = await startServer({ passivePorts: 8, args: ['--exhaustion', 'kernel'] });
    writeFileSync(join(srv.root, 'f.txt'), 'through a kernel port\n');
    await takeAll(srv.range);
    const before = srv.fds();
    const c = await loggedIn(srv);
    for (let i = 0; i < 10; i++) {
      const { port } = i % 2 === 0 ? await c.pasv() : await c.epsv();
      expect(inRange(port, srv.range)).toBe(false);
    }
    const got = await retr(c, 'f.txt');
    expect(got.final?.code).toBe(226);
    expect(got.data.toString()).toMatch(/^through a kernel port\r?\n$/);
    await srv.waitFor(new RegExp(`^unable to find open port in PassivePorts range ${srv.range.min}-${srv.range.max}: defaulting to INPORT_ANY \\(consider defining a larger PassivePorts range\\)$`));
    await c.quit();
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
  });

  test('--exhaustion refuse: 425, logged, the session goes on (active mode still works)', async () => {
    const srv = await startServer({ passivePorts: 8, args: ['--exhaustion', 'refuse'] });
    writeFileSync(join(srv.root, 'f.txt'), 'active\n');
    await takeAll(srv.range);
    const before = srv.fds();
    const c = await loggedIn(srv);
    for (const verb of ['PASV', 'EPSV', 'PASV']) {
      const r = await c.cmd(verb);
      expect(`${r.code} ${r.text}`, verb).toMatch(/^425 Unable to build data connection: /);
    }
    expect((await c.cmd('RETR f.txt')).code).toBe(425);
    const t = await activeTarget();
    expect((await c.cmd(`EPRT |1|127.0.0.1|${t.port}|`)).code).toBe(200);
    expect((await c.cmd('RETR f.txt')).code).toBe(150);
    expect((await t.got).toString()).toMatch(/^active\r?\n$/);
    expect((await c.reply()).code).toBe(226);
    t.close();
    await c.quit();
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
    expect(srv.alive()).toBe(true);
  });
});
