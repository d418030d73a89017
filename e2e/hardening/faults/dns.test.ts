/**
 * The DNS server behind `MasqueradeAddress <name>` goes away (mod_dynmasq refresh every
 * second). The server keeps advertising the last address it resolved, answers PASV and
 * new connections without waiting for DNS, leaks no socket while the lookups fail,
 * picks up a new address when DNS comes back, and starts (unmasqueraded) when DNS is
 * down from the start. The server runs in a private mount namespace whose
 * /etc/resolv.conf names a dnsmasq on 127.0.0.153.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, collect, connectSocket, sleep } from '../lib/ftp.js';
import { Dnsmasq, dnsmasqAvailable } from '../lib/dnsmasq.js';
import { PASSWORD, USER, isRoot, skipUnless, startServer, stopAll, type Served } from '../lib/server.js';

const NAME = 'ftp.hardening.test';
const available = isRoot && dnsmasqAvailable();
if (!available && process.env.CI === 'true') throw new Error('this suite needs root and dnsmasq (dnsmasq-base) in CI');

describe.skipIf(skipUnless(available))('MasqueradeAddress when its DNS server is gone', () => {
  let dns: Dnsmasq;
  beforeAll(() => {
    dns = new Dnsmasq('127.0.0.153');
  });
  afterEach(() => closeAll());
  afterAll(async () => {
    await stopAll();
    await dns.dispose();
  });

  const start = (): Promise<Served> =>
    startServer({ resolvConf: dns.resolvConf, directives: [`MasqueradeAddress ${NAME}`, 'DynMasqRefresh 1'] });

  /** PASV: the advertised address, the time it took, and a LIST through 127.0.0.1 (the real address). */
  async function pasvAndList(srv: Served): Promise<{ host: string; ms: number; listed: string }> {
    writeFileSync(join(srv.root, 'here.txt'), 'x');
    const t0 = Date.now();
    const c = await FtpClient.connect(srv.port);
    const banner = Date.now() - t0;
    expect((await c.login(USER, PASSWORD)).code).toBe(230);
    const t1 = Date.now();
    const { host, port } = await c.pasv();
    const ms = Math.max(banner, Date.now() - t1);
    const d = await connectSocket(port);
    const got = collect(d);
    expect((await c.cmd('NLST')).code).toBe(150);
    const listed = (await got).toString();
    expect((await c.reply()).code).toBe(226);
    await c.quit();
    return { host, ms, listed };
  }

  test('DNS up, then gone: the last address stays, PASV and new sessions do not wait, no socket leaks', async () => {
    await dns.start(`203.0.113.7 ${NAME}\n`);
    const srv = await start();
    await srv.waitFor(/masquerading as 203\.0\.113\.7|Masquerading as '203\.0\.113\.7'/);
    expect((await pasvAndList(srv)).host).toBe('203.0.113.7');

    await dns.stop();
    await sleep(2500); // a few failed refreshes
    const fds0 = srv.fds();
    for (let i = 0; i < 3; i++) {
      const r = await pasvAndList(srv);
      expect(r.host).toBe('203.0.113.7');
      expect(r.listed).toContain('here.txt');
      expect(r.ms, 'banner / PASV round trip in ms').toBeLessThan(500);
    }
    await sleep(3000);
    expect(srv.fds() - fds0, 'descriptors gained over 3 s of failing lookups').toBeLessThanOrEqual(2);
    expect(srv.grep(/keeping previous address|keeping the last|failed/i).length).toBeGreaterThan(0);

    // DNS is back with a new address: the next refresh picks it up, with mod_dynmasq's line.
    await dns.start(`203.0.113.8 ${NAME}\n`);
    await srv.waitFor(/MasqueradeAddress 'ftp\.hardening\.test' updated for new address 203\.0\.113\.8 \(was 203\.0\.113\.7\)/, 8000);
    expect((await pasvAndList(srv)).host).toBe('203.0.113.8');
    await srv.stop();
  });

  test('DNS down from the start: the server starts, advertises its own address, then masquerades once DNS answers', async () => {
    await dns.stop();
    const t0 = Date.now();
    const srv = await start();
    expect(Date.now() - t0, 'startup in ms').toBeLessThan(15_000);
    const first = await pasvAndList(srv);
    expect(first.host).toBe('127.0.0.1');
    expect(first.listed).toContain('here.txt');
    await dns.start(`203.0.113.9 ${NAME}\n`);
    const deadline = Date.now() + 8000;
    let host = first.host;
    while (host !== '203.0.113.9' && Date.now() < deadline) {
      await sleep(500);
      host = (await pasvAndList(srv)).host;
    }
    expect(host).toBe('203.0.113.9');
    await srv.stop();
  });
});
