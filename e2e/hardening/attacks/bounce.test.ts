/**
 * FTP bounce (RFC 2577 §2, CERT CA-1997-27): PORT/EPRT naming another host, or a port
 * below 1024, must be refused with ProFTPD's reply and log line, and the server must
 * never connect there. 127.0.0.2 stands for a foreign host on loopback.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, activeTarget, closeAll, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, freePort, startServer, stopAll, type Served } from '../lib/server.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

let srv: Served;
/** A "victim" listening on the foreign address: the server must never connect to it. */
let victim: net.Server;
let victimPort: number;
const victimHits: string[] = [];

beforeAll(async () => {
  srv = await startServer();
  writeFileSync(join(srv.root, 'payload.txt'), 'HELO victim\r\nMAIL FROM:<x>\r\n');
  victimPort = await freePort();
  victim = net.createServer((s) => {
    victimHits.push(`${s.remoteAddress}:${s.remotePort}`);
    s.destroy();
  });
  await new Promise<void>((r) => victim.listen(victimPort, '127.0.0.2', r));
});
afterEach(() => closeAll());
afterAll(async () => {
  victim.close();
  await stopAll();
});

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  return c;
}

const p1 = (port: number): number => port >> 8;
const p2 = (port: number): number => port & 255;

describe('FTP bounce: PORT/EPRT to foreign hosts and privileged ports', () => {
  const cases = (vp: () => number): [string, string, RegExp][] => [
    [`PORT 127,0,0,2,${p1(vp())},${p2(vp())}`, '500 Illegal PORT command', /^Refused PORT 127,0,0,2,\d+,\d+ \(address mismatch\)$/],
    ['PORT 1,2,3,4,234,96', '500 Illegal PORT command', /^Refused PORT 1,2,3,4,234,96 \(address mismatch\)$/],
    ['PORT 192,0,2,1,0,25', '500 Illegal PORT command', /^Refused PORT 192,0,2,1,0,25 \(address mismatch\)$/],
    ['PORT 127,0,0,1,0,21', '500 Illegal PORT command', /^Refused PORT 127,0,0,1,0,21 \(port 21 below 1024, possible bounce attack\)$/],
    ['PORT 127,0,0,1,0,25', '500 Illegal PORT command', /^Refused PORT 127,0,0,1,0,25 \(port 25 below 1024, possible bounce attack\)$/],
    ['PORT 127,0,0,1,1,2', '500 Illegal PORT command', /^Refused PORT 127,0,0,1,1,2 \(port 258 below 1024, possible bounce attack\)$/],
    ['PORT 127,0,0,1,3,255', '500 Illegal PORT command', /^Refused PORT 127,0,0,1,3,255 \(port 1023 below 1024, possible bounce attack\)$/],
    [`EPRT |1|127.0.0.2|${vp()}|`, '500 Illegal EPRT command', /^Refused EPRT \|1\|127\.0\.0\.2\|\d+\| \(address mismatch\)$/],
    ['EPRT |1|1.2.3.4|60123|', '500 Illegal EPRT command', /^Refused EPRT \|1\|1\.2\.3\.4\|60123\| \(address mismatch\)$/],
    ['EPRT |1|127.0.0.1|123|', '500 Illegal EPRT command', /^Refused EPRT \|1\|127\.0\.0\.1\|123\| \(port 123 below 1024, possible bounce attack\)$/],
    ['EPRT |1|127.0.0.1|0|', '500 Illegal EPRT command', /^Refused EPRT \|1\|127\.0\.0\.1\|0\| \(address mismatch\)$/],
    ['EPRT |2|::1|60123|', '500 Illegal EPRT command', /^Refused EPRT \|2\|::1\|60123\| \(address mismatch\)$/],
    [`EPRT !1!127.0.0.2!${vp()}!`, '500 Illegal EPRT command', /^Refused EPRT !1!127\.0\.0\.2!\d+! \(address mismatch\)$/],
    ['EPRT |2|::ffff:127.0.0.2|60123|', '500 Illegal EPRT command', /^Refused EPRT \|2\|::ffff:127\.0\.0\.2\|60123\| \(address mismatch\)$/],
  ];

  test('every refusal gets ProFTPD\'s reply and log line, and no transfer goes anywhere', async () => {
    const c = await loggedIn();
    for (const [line, reply, log] of cases(() => victimPort)) {
      const r = await c.cmd(line);
      expect(`${r.code} ${r.text}`, line).toBe(reply);
      // The refused address must not be used by the next transfer command.
      const t = await c.cmd('RETR payload.txt');
      expect(t.code, `RETR after ${line}: ${t.code} ${t.text}`).toBe(425);
      expect(t.text).toMatch(/Unable to build data connection/);
      await srv.waitFor(log, 3000);
    }
    await sleep(300);
    expect(victimHits).toEqual([]);
    expect(srv.grep(/^Refused (PORT|EPRT)/)).toHaveLength(cases(() => victimPort).length);
    await c.quit();
  });

  test('a refused PORT after a valid one does not leave the old target in place for a bounce', async () => {
    const c = await loggedIn();
    const own = await activeTarget();
    const ownPort = own.port;
    const got = own.got;
    expect((await c.cmd(`PORT 127,0,0,1,${p1(ownPort)},${p2(ownPort)}`)).code).toBe(200);
    expect((await c.cmd(`PORT 127,0,0,2,${p1(victimPort)},${p2(victimPort)}`)).code).toBe(500);
    // ProFTPD keeps the earlier PORT after a refusal; what matters: nothing reaches the victim.
    const r = await c.cmd('RETR payload.txt');
    if (r.code === 150) {
      expect((await got).toString()).toBe('HELO victim\r\nMAIL FROM:<x>\r\n');
      expect((await c.reply()).code).toBe(226);
    } else expect(r.code).toBe(425);
    own.close();
    expect(victimHits).toEqual([]);
    await c.quit();
  });

  test('bounce attempts before login get 530 and are not even parsed', async () => {
    const c = await FtpClient.connect(srv.port);
    for (const line of [`PORT 127,0,0,2,${p1(victimPort)},${p2(victimPort)}`, `EPRT |1|127.0.0.2|${victimPort}|`]) {
      expect((await c.cmd(line)).code).toBe(530);
    }
    expect((await c.cmd('RETR payload.txt')).code).toBe(530);
    await c.quit();
    expect(victimHits).toEqual([]);
  });

  test('an active transfer to the client itself still works afterwards', async () => {
    const c = await loggedIn();
    const own = await activeTarget();
    const ownPort = own.port;
    const got = own.got;
    expect((await c.cmd(`EPRT |1|127.0.0.1|${ownPort}|`)).code).toBe(200);
    expect((await c.cmd('RETR payload.txt')).code).toBe(150);
    expect((await got).toString()).toBe('HELO victim\r\nMAIL FROM:<x>\r\n');
    expect((await c.reply()).code).toBe(226);
    own.close();
    await c.quit();
    // A client on the "foreign" address itself cannot make the server connect to a third one.
    const foreign = await FtpClient.connect(srv.port, { localAddress: '127.0.0.2' });
    expect((await foreign.login(USER, PASSWORD)).code).toBe(230);
    expect((await foreign.cmd('PORT 127,0,0,1,234,96')).code).toBe(500);
    await srv.waitFor(/^Refused PORT 127,0,0,1,234,96 \(address mismatch\)$/);
    await foreign.quit();
  });
});
