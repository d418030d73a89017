/**
 * Several ftpkit instances behind a real HAProxy, in network namespaces, with the
 * configuration files of docs/deployment.md used as written:
 *
 *   ext (203.0.113.50), ext2 (203.0.113.60)
 *      │ WAN
 *   rtr: HAProxy on 203.0.113.1 — :2121 round-robin to both instances (send-proxy-v2, health
 *        checks with a v2 LOCAL header); :60000-60049 → ftp1, :60050-60099 → ftp2, same port,
 *        send-proxy-v2 too. It reaches the LAN from 192.168.50.1. Test only: a second
 *        control frontend :2122 to the same instances, whose sessions the PROXY destination
 *        puts in a <VirtualHost> (ProxyProtocolOptions UseProxiedServerAddress).
 *      │ LAN
 *   srv  (192.168.50.10): ftp1 = `ftpkit serve --passive-partition 1/2`
 *   srv2 (192.168.50.12): ftp2 = `ftpkit serve --passive-partition 2/2`
 *   lan  (192.168.50.20): a LAN client that reaches the instances directly.
 *
 * No DNAT: everything from outside goes through HAProxy. Needs root, iproute2, iptables and
 * haproxy; in CI (CI=true) a missing piece is a failure.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_CLIENTS, CLI, dialog, login, makeFixtures, PASSWORD, runClient, sha256File, snippet, startServerWith, USER, type Fixtures, type RunningServer } from './harness.js';
import { buildTopology, canBuildTopology, LAN, WAN, type Topology } from './topology.js';

const topo = canBuildTopology();
const haveHaproxy = ((): boolean => {
  try { execFileSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const can = !topo.ok ? topo : haveHaproxy ? topo : { ok: false as const, why: 'haproxy is not installed (apt-get install haproxy)' };
const inCi = process.env.CI === 'true';
if (!can.ok && !inCi) console.warn(`HAProxy suite skipped: ${can.why}`);
const suite = can.ok || inCi ? describe : describe.skip;

const FTP2 = '192.168.50.12';
const SLICES = [{ min: 60000, max: 60049 }, { min: 60050, max: 60099 }] as const;
const sliceOf = (port: number | undefined): number => SLICES.findIndex((s) => port !== undefined && port >= s.min && port <= s.max);

interface LogRecord { msg: string; client?: string; level?: number; [k: string]: unknown }
/** Let the servers' output written during synchronous client runs reach the logs. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));
const records = (s: RunningServer): LogRecord[] =>
  s.log().split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as LogRecord; } catch { return { msg: '' }; } });

suite('several ftpkit instances behind HAProxy (PROXY protocol v2 on control and data connections)', () => {
  let t: Topology;
  let fx: Fixtures;
  let srv2: string;
  let conf: string;
  let haproxy: ChildProcess;
  let haproxyOut = '';
  const ftp: RunningServer[] = [];

  const startInstance = (i: 0 | 1): Promise<RunningServer> =>
    startServerWith(t, conf, fx, { ns: i === 0 ? t.ns.srv : srv2, args: ['--passive-partition', `${i + 1}/2`], startTimeoutMs: 30_000 });

  beforeAll(async () => {
    if (!can.ok) throw new Error(`the HAProxy suite cannot run: ${can.why}`);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    t = buildTopology();
    fx = makeFixtures(8, 4);
    srv2 = t.addLanHost('srv2', FTP2);
    // The guide's files, with this run's password file.
    conf = snippet('ftpkit-lb.conf').replace('/etc/ftpkit/ftpd.passwd', fx.passwd) + `
# Test only: one external address may not log in (the real client address drives <Limit>).
<Limit LOGIN>
  Deny from ${WAN.ext2}
</Limit>
# Test only: the balancer's second frontend (:2122) is another virtual host.
<IfClass lb>
  ProxyProtocolOptions UseProxiedServerAddress
</IfClass>
<VirtualHost ${WAN.router}>
  Port 2122
  ServerName "second frontend"
  AuthUserFile ${fx.passwd}
  DefaultRoot ~
</VirtualHost>
`;
    ftp.push(await startInstance(0), await startInstance(1));
    const cfg = join(fx.dir, 'haproxy.cfg');
    writeFileSync(cfg, `${snippet('haproxy.cfg')}
frontend ftp_control_second
  bind ${WAN.router}:2122
  default_backend ftp_instances
`);
    execFileSync('haproxy', ['-c', '-f', cfg], { stdio: 'pipe' });
    haproxy = t.spawn(t.ns.rtr, 'haproxy', ['-db', '-f', cfg]);
    haproxy.stdout?.on('data', (d: Buffer) => { haproxyOut += d.toString(); });
    haproxy.stderr?.on('data', (d: Buffer) => { haproxyOut += d.toString(); });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited with ${haproxy.exitCode}:\n${haproxyOut}`);
      try {
        const r = t.exec(t.ns.ext, 'python3', ['-c', `import socket; s=socket.create_connection(("${WAN.router}",2121),timeout=1); print(s.recv(200).decode())`], { timeoutMs: 3000 });
        if (r.startsWith('220')) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`haproxy did not start:\n${haproxyOut}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  });
  afterAll(async () => {
    await Promise.all(ftp.map((s) => s.stop()));
    t?.destroy();
    fx?.cleanup();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (t) expect(left).not.toContain(t.tag);
  });

  test('each instance owns its part of the passive range (--passive-partition i/n)', () => {
    for (const [i, host] of [LAN.server, FTP2].entries()) {
      const d = dialog(t, t.ns.lan, host, [...login, 'PASV', 'PASV', 'PASV', 'PASV', 'EPSV', 'QUIT']);
      const ports = d.filter((e) => e.cmd === 'PASV' || e.cmd === 'EPSV').map((e) => e.pasv?.[1] ?? e.epsv);
      expect(ports.map(sliceOf), `instance ${i + 1}: ${ports.join(' ')}`).toEqual([i, i, i, i, i]);
    }
  });

  test('external clients land on both instances; every transfer is intact; the instances see the real client', async () => {
    const slices = new Set<number>();
    for (const client of ALL_CLIENTS) {
      for (const mode of ['pasv', 'epsv'] as const) {
        const name = `lb-${client}-${mode}.bin`;
        const r = runClient(t, t.ns.ext, client, WAN.router, fx, mode, name);
        const port = mode === 'pasv' ? r.advertised?.[1] : r.epsvPort;
        if (mode === 'pasv') expect(r.advertised?.[0], `${client} PASV address`).toBe(WAN.router);
        expect(sliceOf(port), `${client} ${mode} port ${port}`).toBeGreaterThanOrEqual(0);
        slices.add(sliceOf(port));
        expect(r.retrSha256, `${client} ${mode} RETR`).toBe(fx.big.sha256);
        expect(sha256File(join(fx.home, name)), `${client} ${mode} STOR`).toBe(fx.upload.sha256);
        expect(r.listed, `${client} ${mode} LIST`).toBe(true);
      }
    }
    expect([...slices].sort()).toEqual([0, 1]);
    await settle();
    for (const [i, s] of ftp.entries()) {
      const logins = records(s).filter((r) => r.msg === `USER alice: Login successful.`);
      expect(logins.length, `instance ${i + 1} logins`).toBeGreaterThan(0);
      // The external client by its own address (and the LAN client of the first test), never HAProxy's.
      expect([...new Set(logins.map((r) => r.client))].sort(), `instance ${i + 1} login clients`).toEqual([LAN.client, WAN.ext]);
      // Health checks arrive with a v2 LOCAL header: accepted, nothing refused.
      expect(records(s).filter((r) => /PROXY header/.test(r.msg)), `instance ${i + 1}`).toEqual([]);
      expect(records(s).filter((r) => /SECURITY VIOLATION/.test(r.msg)), `instance ${i + 1}`).toEqual([]);
    }
  });

  test('the passive-connection check applies to the real client: a stranger on the port is rejected, the client gets its data', async () => {
    // The client: PASV, report the port, wait for the stranger, then connect and RETR.
    const client = t.spawn(t.ns.ext, 'python3', ['-c', `
import json, re, socket, sys
c = socket.create_connection(("${WAN.router}", 2121), timeout=15); f = c.makefile("rb")
def reply():
    line = f.readline().decode()
    while line[3:4] == "-": line = f.readline().decode()
    return line.strip()
reply()
for cmd in ["USER ${USER}", "PASS ${PASSWORD}", "TYPE I"]:
    c.sendall((cmd + "\\r\\n").encode()); reply()
c.sendall(b"PASV\\r\\n"); r = reply()
n = [int(x) for x in re.search(r"\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)", r).groups()]
print(n[4] * 256 + n[5], flush=True)
sys.stdin.readline()
d = socket.create_connection(("${WAN.router}", n[4] * 256 + n[5]), timeout=15)
c.sendall(b"RETR small.txt\\r\\n"); first = reply()
data = b""
while True:
    b = d.recv(65536)
    if not b: break
    data += b
print(json.dumps({"first": first, "final": reply(), "data": data.decode()}), flush=True)
`], { stdin: 'pipe' });
    let out = '';
    client.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const until = async (pred: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; client said: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => /^\d+\n/.test(out), 'the PASV port');
    const port = Number(out.split('\n')[0]);
    const instance = ftp[sliceOf(port)]!;
    // The stranger connects first (HAProxy adds a header naming 203.0.113.60) and holds on.
    const stranger = t.spawn(t.ns.ext2, 'python3', ['-c', `
import socket, time
t0 = time.time()
s = socket.create_connection(("${WAN.router}", ${port}), timeout=15)
print("connected", flush=True)
try:
    got = s.recv(100)
    print("closed" if got == b"" else "DATA " + repr(got), round(time.time() - t0, 1), flush=True)
except Exception as e:
    print("error", e, flush=True)
`]);
    let strangerOut = '';
    stranger.stdout!.on('data', (d: Buffer) => { strangerOut += d.toString(); });
    await until(() => strangerOut.startsWith('connected\n'), 'the stranger to connect');
    // HAProxy has opened its connection to the instance (with the stranger's header) by now.
    await new Promise((r) => setTimeout(r, 300));
    client.stdin!.write('go\n');
    client.stdin!.end();
    await until(() => out.split('\n').length > 2, 'the transfer');
    const result = JSON.parse(out.split('\n')[1]!) as { first: string; final: string; data: string };
    expect(result.first).toMatch(/^150 /);
    expect(result.final).toMatch(/^226 /);
    expect(result.data).toBe('hello through the NAT\n');
    await until(() => strangerOut.split('\n').length > 2, 'the stranger');
    expect(strangerOut).toMatch(/^connected\nclosed/);
    const log = await instance.waitForLog('SECURITY VIOLATION');
    expect(log).toContain(`SECURITY VIOLATION: Passive connection from foreign IP address ${WAN.ext2} rejected (does not match client IP address ${WAN.ext}).`);
  });

  test('PROXY headers are believed only from the load balancer; the real address drives <Limit LOGIN>', async () => {
    // A LAN client reaches an instance directly: no header expected, a forged one is just a bad command.
    const lan = dialog(t, t.ns.lan, LAN.server, [`PROXY TCP4 203.0.113.99 ${LAN.server} 40000 2121`, ...login, 'QUIT']);
    expect(lan[0]?.banner?.code).toBe(220);
    expect(lan.find((e) => e.cmd === 'PROXY')?.code).toBe(500);
    expect(lan.find((e) => e.cmd === 'PASS')?.code).toBe(230);
    await settle();
    expect(records(ftp[0]!).some((r) => r.msg === 'USER alice: Login successful.' && r.client === LAN.client)).toBe(true);
    expect(records(ftp[0]!).some((r) => r.client === '203.0.113.99')).toBe(false);
    // Through HAProxy, 203.0.113.60 is refused at connect by <Limit LOGIN> (no reply at all), 203.0.113.50 is not.
    for (let i = 0; i < 2; i++) {
      const denied = dialog(t, t.ns.ext2, WAN.router, []);
      expect(denied[0]?.banner, JSON.stringify(denied)).toEqual({ code: 0, lines: [], closed: true });
    }
    await settle();
    const denials = ftp.map((s) => records(s).filter((r) => r.msg === `Connection from ${WAN.ext2} [${WAN.ext2}] denied`).length);
    expect(denials).toEqual([1, 1]);
    expect(dialog(t, t.ns.ext, WAN.router, [...login, 'QUIT']).find((e) => e.cmd === 'PASS')?.code).toBe(230);
  });

  test('UseProxiedServerAddress: the frontend a client connected to (the PROXY destination) picks the <VirtualHost>', async () => {
    const second = dialog(t, t.ns.ext, WAN.router, [...login, 'QUIT'], 2122);
    expect(second[0]?.banner?.lines.join('\n')).toMatch(/^220 ftpkit Server \(second frontend\) \[/);
    expect(second.find((e) => e.cmd === 'PASS')?.code).toBe(230);
    const first = dialog(t, t.ns.ext, WAN.router, ['QUIT']);
    expect(first[0]?.banner?.lines.join('\n')).toBe(`220 ftpkit Server (ftp.example.com) [${WAN.router}]`);
    await settle();
    const moved = ftp.flatMap((s) => records(s).filter((r) => r.msg === `Changing to server 'second frontend' (${WAN.router}:2122) due to PROXY protocol`));
    expect(moved.map((r) => r.client)).toEqual([WAN.ext]);
  });

  test('an instance goes away: new sessions go to the other one, transfers intact', async () => {
    await ftp[1]!.stop();
    for (let i = 0; i < 4; i++) {
      const r = runClient(t, t.ns.ext, 'ftplib', WAN.router, fx, 'pasv', `failover-${i}.bin`);
      expect(sliceOf(r.advertised?.[1])).toBe(0);
      expect(r.retrSha256).toBe(fx.big.sha256);
    }
    ftp[1] = await startInstance(1);
  });
});
