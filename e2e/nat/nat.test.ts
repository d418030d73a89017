/**
 * Real NAT, real clients: an ftpkit server on a private LAN behind a Linux NAT router
 * (kernel DNAT + MASQUERADE, no FTP conntrack helper), reached from outside.
 * Needs root, iproute2 and iptables; in CI (CI=true) a missing piece is a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_CLIENTS, CLI, dialog, login, makeFixtures, PASSWORD, runClient, sha256File, startServer, USER, type Fixtures, type RunningServer } from './harness.js';
import { buildTopology, canBuildTopology, LAN, WAN, type Topology } from './topology.js';

const can = canBuildTopology();
const inCi = process.env.CI === 'true';
if (!can.ok && !inCi) console.warn(`NAT suite skipped: ${can.why}`);
const suite = can.ok || inCi ? describe : describe.skip;

const RANGE = { min: 60000, max: 60099 };
const base = (fx: Fixtures, extra = ''): string => `
ServerName "ftpkit behind NAT"
Port 2121
<Global>
  AuthUserFile ${fx.passwd}
  DefaultRoot ~
  AllowOverwrite on
  PassivePorts ${RANGE.min} ${RANGE.max}
</Global>
${extra}
`;

suite('ftpkit behind a kernel NAT router', () => {
  let t: Topology;
  let fx: Fixtures;
  beforeAll(() => {
    if (!can.ok) throw new Error(`the NAT suite cannot run: ${can.why}`);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    t = buildTopology();
    fx = makeFixtures();
  });
  afterAll(() => {
    t?.destroy();
    fx?.cleanup();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (t) expect(left).not.toContain(t.tag);
  });

  const withServer = async (conf: string, fn: (s: RunningServer) => Promise<void> | void, args: string[] = []): Promise<void> => {
    const s = await startServer(t, conf, fx, args);
    try { await fn(s); } finally { await s.stop(); }
  };
  const clearForwards = (): void => { t.exec(t.ns.rtr, 'iptables', ['-t', 'nat', '-F', 'PREROUTING']); };
  const forwardStandard = (to: string = LAN.server): void => {
    clearForwards();
    t.forward('2121', to);
    t.forward(`${RANGE.min}:${RANGE.max}`, to);
  };
  const inRange = (p: number | undefined): boolean => p !== undefined && p >= RANGE.min && p <= RANGE.max;

  test('1+2. external clients: PASV carries the public address and a port in the range; EPSV works; RETR/STOR byte-identical; LIST', async () => {
    forwardStandard();
    await withServer(base(fx, `MasqueradeAddress ${WAN.router}`), async (s) => {
      for (const client of ALL_CLIENTS) {
        for (const mode of ['pasv', 'epsv'] as const) {
          const name = `up-${client}-${mode}.bin`;
          const r = runClient(t, t.ns.ext, client, WAN.router, fx, mode, name);
          if (mode === 'pasv') {
            expect(r.advertised?.[0], `${client} PASV address`).toBe(WAN.router);
            expect(inRange(r.advertised?.[1]), `${client} PASV port ${r.advertised?.[1]}`).toBe(true);
          } else {
            expect(inRange(r.epsvPort), `${client} EPSV port ${r.epsvPort}`).toBe(true);
          }
          expect(r.retrSha256, `${client} ${mode} RETR`).toBe(fx.big.sha256);
          expect(sha256File(join(fx.home, name)), `${client} ${mode} STOR`).toBe(fx.upload.sha256);
          expect(r.listed, `${client} ${mode} LIST`).toBe(true);
        }
      }
      expect(await s.waitForLog(/masquerading as '?203\.0\.113\.1/i)).toMatch(/masquerading as '?203\.0\.113\.1/i);
    });
  });

  test('3a. class recipe: LAN clients get the LAN address, everyone else the public one', async () => {
    forwardStandard();
    const conf = base(fx, `
<Class lan>
  From ${LAN.cidr}
</Class>
<IfClass !lan>
  MasqueradeAddress ${WAN.router}
</IfClass>`);
    await withServer(conf, () => {
      const lan = dialog(t, t.ns.lan, LAN.server, [...login, 'PASV', 'QUIT']);
      expect(lan.find((e) => e.cmd === 'PASV')?.pasv?.[0]).toBe(LAN.server);
      const ext = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', 'QUIT']);
      expect(ext.find((e) => e.cmd === 'PASV')?.pasv?.[0]).toBe(WAN.router);
      for (const client of ['curl', 'ftplib'] as const) {
        const r = runClient(t, t.ns.lan, client, LAN.server, fx, 'pasv', `lan-${client}.bin`);
        expect(r.advertised?.[0]).toBe(LAN.server);
        expect(r.retrSha256).toBe(fx.big.sha256);
      }
    });
  });

  test('3b. vhost recipe: the router forwards to a second server address; the LAN vhost has no MasqueradeAddress', async () => {
    const conf = base(fx, `
MasqueradeAddress ${WAN.router}
<VirtualHost ${LAN.server}>
  ServerName "LAN"
  AuthUserFile ${fx.passwd}
  DefaultRoot ~
  AllowOverwrite on
  PassivePorts ${RANGE.min} ${RANGE.max}
</VirtualHost>`);
    forwardStandard(LAN.server2);
    await withServer(conf, () => {
      const ext = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', '!data', 'QUIT']);
      expect(ext.find((e) => e.cmd === 'PASV')?.pasv?.[0]).toBe(WAN.router);
      const lan = dialog(t, t.ns.lan, LAN.server, [...login, 'PASV', 'QUIT']);
      expect(lan.find((e) => e.cmd === 'PASV')?.pasv?.[0]).toBe(LAN.server);
      for (const client of ['curl', 'lftp'] as const) {
        const r = runClient(t, t.ns.ext, client, WAN.router, fx, 'pasv', `vh-${client}.bin`);
        expect(r.advertised?.[0]).toBe(WAN.router);
        expect(r.retrSha256).toBe(fx.big.sha256);
      }
    });
    // The pitfall: DNAT to the very address the LAN vhost binds lands external clients in
    // that vhost, which advertises a private address they cannot reach.
    forwardStandard(LAN.server);
    await withServer(conf, () => {
      const ext = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', '!data', 'QUIT']);
      const pasv = ext.find((e) => e.cmd === 'PASV');
      expect(pasv?.pasv?.[0]).toBe(LAN.server);
      expect(ext.find((e) => e.data)?.data).toBe('error');
    });
  });

  test('4. PORT/EPRT to a foreign address is refused before any connection; active mode to the client itself works', async () => {
    forwardStandard();
    await withServer(base(fx, `MasqueradeAddress ${WAN.router}`), (s) => {
      const watchers = [
        t.spawn(t.ns.lan, 'python3', ['-c', 'import socket,sys;s=socket.socket();s.setsockopt(1,2,1);s.bind(("0.0.0.0",40000));s.listen(5);s.settimeout(8)\ntry:\n  s.accept();print("CONNECTED")\nexcept Exception: print("none")']),
        t.spawn(t.ns.ext2, 'python3', ['-c', 'import socket,sys;s=socket.socket();s.setsockopt(1,2,1);s.bind(("0.0.0.0",40000));s.listen(5);s.settimeout(8)\ntry:\n  s.accept();print("CONNECTED")\nexcept Exception: print("none")']),
      ];
      const outputs = watchers.map((w) => new Promise<string>((r) => { let o = ''; w.stdout!.on('data', (d: Buffer) => { o += d; }); w.on('exit', () => r(o.trim())); }));
      const d = dialog(t, t.ns.ext, WAN.router, [
        ...login,
        'PORT 192,168,50,20,156,64', 'RETR small.txt',
        'EPRT |1|192.168.50.20|40000|', 'RETR small.txt',
        'PORT 203,0,113,60,156,64', 'RETR small.txt',
        'EPRT |1|203.0.113.60|40000|',
        'PORT 203,0,113,50,0,25',
        'QUIT',
      ]);
      const codes = d.filter((e) => e.cmd === 'PORT' || e.cmd === 'EPRT').map((e) => e.code);
      expect(codes).toEqual([500, 500, 500, 500, 500]);
      for (const e of d.filter((x) => x.cmd === 'RETR')) expect(e.code).toBeGreaterThanOrEqual(400);
      return Promise.all(outputs).then((o) => {
        expect(o).toEqual(['none', 'none']);
        // A LAN address from a public client is refused outright (no silent ProFTPD-style rewrite).
        expect(s.log()).toContain('Refused PORT 192,168,50,20,156,64 (private address 192.168.50.20 from public client 203.0.113.50)');
        expect(s.log()).toContain('Refused PORT 203,0,113,60,156,64 (address mismatch)');
        expect(s.log()).toContain('Refused PORT 203,0,113,50,0,25 (port 25 below 1024, possible bounce attack)');
        // Active mode back to the client's own address: the server connects out through the router's MASQUERADE.
        const active = dialog(t, t.ns.ext, WAN.router, [...login, '!listen 40001', `PORT 203,0,113,50,156,65`, 'RETR small.txt', '!accept', 'QUIT']);
        expect(active.find((e) => e.cmd === 'PORT')?.code).toBe(200);
        const acc = active.find((e) => e.accept);
        expect(acc?.accept).toBe('ok');
        expect(acc?.peer).toBe(WAN.router);
        const curlActive = t.exec(t.ns.ext, 'curl', ['-sS', '--max-time', '30', '-P', WAN.ext, `ftp://${USER}:${PASSWORD}@${WAN.router}:2121/small.txt`]);
        expect(curlActive).toBe('hello through the NAT\n');
      });
    });
  });

  test('5. 50 parallel passive transfers from outside: all in range, all intact', async () => {
    forwardStandard();
    await withServer(base(fx, `MasqueradeAddress ${WAN.router}`), () => {
      const script = `for i in $(seq 1 50); do curl -sS -v --disable-epsv --max-time 90 -o ${fx.dir}/par-$i ftp://${USER}:${PASSWORD}@${WAN.router}:2121/${fx.par.name} 2>${fx.dir}/par-$i.log & done; wait`;
      t.exec(t.ns.ext, 'sh', ['-c', script], { timeoutMs: 180_000 });
      const ports = new Set<number>();
      for (let i = 1; i <= 50; i++) {
        expect(sha256File(join(fx.dir, `par-${i}`)), `transfer ${i}`).toBe(fx.par.sha256);
        const m = /227 Entering Passive Mode \(203,0,113,1,(\d+),(\d+)\)/.exec(readFileSync(join(fx.dir, `par-${i}.log`), 'utf8'));
        expect(m, `transfer ${i} PASV`).not.toBeNull();
        const port = Number(m![1]) * 256 + Number(m![2]);
        expect(inRange(port)).toBe(true);
        ports.add(port);
      }
      expect(ports.size).toBeGreaterThan(1);
    });
  });

  test('6. the router forwards only part of the range: refuse answers 425 quickly; kernel falls back, logs, and nothing hangs', async () => {
    clearForwards();
    t.forward('2121', LAN.server);
    t.forward('60000:60004', LAN.server);
    const conf = `
ServerName "partial range"
Port 2121
AuthUserFile ${fx.passwd}
DefaultRoot ~
MasqueradeAddress ${WAN.router}
PassivePorts 60000 60004
`;
    for (const policy of ['refuse', 'kernel'] as const) {
      await withServer(conf, async (s) => {
        // Five sessions hold the five forwarded ports.
        const holders = Array.from({ length: 5 }, () => t.spawn(t.ns.ext, 'python3', [join(new URL('./clients/', import.meta.url).pathname, 'dialog.py'), WAN.router, '2121'], { stdin: 'pipe' }));
        for (const h of holders) { h.stdin?.write([...login, 'PASV', '!sleep 6', 'QUIT'].join('\n') + '\n'); h.stdin?.end(); }
        await new Promise((r) => setTimeout(r, 2500));
        const d = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', '!data', 'QUIT']);
        const pasv = d.find((e) => e.cmd === 'PASV')!;
        if (policy === 'refuse') {
          expect(pasv.code).toBe(425);
          expect(pasv.ms).toBeLessThan(1000);
        } else {
          expect(pasv.code).toBe(227);
          const port = pasv.pasv![1];
          expect(port < 60000 || port > 60004).toBe(true);
          const data = d.find((e) => e.data)!;
          expect(data.data).toBe('error');
          expect(data.ms).toBeLessThan(6000);
          expect(await s.waitForLog('defaulting to INPORT_ANY')).toContain('unable to find open port in PassivePorts range 60000-60004: defaulting to INPORT_ANY');
        }
        await Promise.all(holders.map((h) => new Promise((r) => (h.exitCode !== null ? r(null) : h.once('exit', r)))));
      }, ['--exhaustion', policy]);
    }
  });

  test('7. <Limit EPSV PASV> DenyAll refuses both', async () => {
    forwardStandard();
    await withServer(base(fx, `MasqueradeAddress ${WAN.router}\n<Limit EPSV PASV>\n  DenyAll\n</Limit>`), () => {
      const d = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', 'EPSV', 'QUIT']);
      expect(d.find((e) => e.cmd === 'PASV')?.lines?.[0]).toBe('501 PASV: Operation not permitted');
      expect(d.find((e) => e.cmd === 'EPSV')?.lines?.[0]).toBe('501 EPSV: Operation not permitted');
    });
  });

  test('8. ftpkit probe from the external host: success, and failure when MasqueradeAddress is wrong', async () => {
    forwardStandard();
    const url = `ftp://${USER}:${PASSWORD}@${WAN.router}:2121`;
    const probe = (): { code: number; out: string } => {
      try { return { code: 0, out: t.exec(t.ns.ext, process.execPath, [CLI, 'probe', url, '--expect-ports', `${RANGE.min}-${RANGE.max}`, '--timeout', '3000']) }; } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        return { code: err.status, out: `${err.stdout}${err.stderr}` };
      }
    };
    await withServer(base(fx, `MasqueradeAddress ${WAN.router}`), () => {
      const r = probe();
      expect(r.code, r.out).toBe(0);
    });
    await withServer(base(fx, 'MasqueradeAddress 203.0.113.99'), () => {
      const r = probe();
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain('203.0.113.99');
    });
    await withServer(base(fx), () => {
      const r = probe();
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toMatch(/192\.168\.50\.10/);
    });
  });

  test('9. the rules printed by ftpkit firewall are the ones the router uses', async () => {
    clearForwards();
    const confText = base(fx, `MasqueradeAddress ${WAN.router}`);
    const confPath = join(fx.dir, 'fw.conf');
    execFileSync('sh', ['-c', `cat > ${confPath}`], { input: confText });
    const rules = execFileSync(process.execPath, [CLI, 'firewall', '--config', confPath, '--format', 'iptables', '--public', WAN.router, '--server', LAN.server], { encoding: 'utf8' });
    expect(rules).toContain(`${RANGE.min}:${RANGE.max}`);
    t.applyRouterRules(rules);
    await withServer(confText, () => {
      const r = runClient(t, t.ns.ext, 'curl', WAN.router, fx, 'pasv', 'fw.bin');
      expect(r.advertised?.[0]).toBe(WAN.router);
      expect(r.retrSha256).toBe(fx.big.sha256);
    });
  });
});
