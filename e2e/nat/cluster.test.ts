/**
 * One machine, more than one process or fewer ports than clients, with the files of
 * docs/deployment.md as written:
 * - `--workers N` (node:cluster) behind the NAT router: workers share the control port,
 *   each owns a part of the passive range, a killed worker is replaced and the sessions of
 *   the others carry on;
 * - share mode (`--passive-share`, the guide's Kubernetes setup): a 10-port range serves 200
 *   clients from 200 loopback addresses (127.0.1.x, inside the server namespace) at once;
 * - Docker `-p` to other host ports (`--passive-expose`): the router publishes the ports the
 *   way Docker does, one DNAT rule per port.
 * Needs root, iproute2 and iptables; in CI (CI=true) a missing piece is a failure.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, dialog, login, makeFixtures, PASSWORD, runClient, sha256, sha256File, snippet, startServerWith, USER, type Fixtures, type RunningServer, type StartOptions } from './harness.js';
import { buildTopology, canBuildTopology, LAN, WAN, type Topology } from './topology.js';

const can = canBuildTopology();
const inCi = process.env.CI === 'true';
if (!can.ok && !inCi) console.warn(`cluster suite skipped: ${can.why}`);
const suite = can.ok || inCi ? describe : describe.skip;

interface LogRecord { msg: string; pid?: number; [k: string]: unknown }
const records = (s: RunningServer): LogRecord[] =>
  s.log().split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as LogRecord; } catch { return { msg: '' }; } });

/** `ftpkit serve` arguments of a guide command line, without `serve --config <file>`. */
function serveArgs(words: string[]): string[] {
  const at = words.indexOf('serve');
  const rest = words.slice(at + 1);
  const c = rest.indexOf('--config');
  if (c !== -1) rest.splice(c, 2);
  return rest;
}

suite('one machine: cluster workers, shared passive ports, Docker port mapping', () => {
  let t: Topology;
  let fx: Fixtures;
  beforeAll(() => {
    if (!can.ok) throw new Error(`the cluster suite cannot run: ${can.why}`);
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    t = buildTopology();
    fx = makeFixtures(8, 2);
  });
  afterAll(() => {
    t?.destroy();
    fx?.cleanup();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (t) expect(left).not.toContain(t.tag);
  });

  const withServer = async (conf: string, opts: StartOptions, fn: (s: RunningServer) => Promise<void> | void): Promise<void> => {
    const s = await startServerWith(t, conf, fx, opts);
    try { await fn(s); } finally { await s.stop(); }
  };
  const guideConf = (name: string): string => snippet(name).replace('/etc/ftpkit/ftpd.passwd', fx.passwd);

  test('--workers 2: one control port, a part of the range each; a killed worker is replaced and the other one\'s transfers complete', async () => {
    t.exec(t.ns.rtr, 'iptables', ['-t', 'nat', '-F', 'PREROUTING']);
    t.forward('2121', LAN.server);
    t.forward('60000:60099', LAN.server);
    const conf = guideConf('ftpkit-lb.conf').replace(/<Class lb>[\s\S]*<\/IfClass>\n/, '');
    const bothReady = /worker 1\/2 ready[\s\S]*worker 2\/2 ready|worker 2\/2 ready[\s\S]*worker 1\/2 ready/;
    await withServer(conf, { args: ['--workers', '2'], readyLog: bothReady }, async (s) => {
      const pidOf = (): Map<number, number> => {
        const m = new Map<number, number>();
        for (const r of records(s)) {
          const w = /^worker (\d)\/2 ready \(pid (\d+)\)$/.exec(r.msg);
          if (w) m.set(Number(w[1]) - 1, Number(w[2]));
        }
        return m;
      };
      const part = (port: number): number => (port >= 60000 && port <= 60049 ? 0 : port >= 60050 && port <= 60099 ? 1 : -1);
      // Each session's ports come from one worker's part; both parts are in use.
      const seen = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const d = dialog(t, t.ns.ext, WAN.router, [...login, 'PASV', 'PASV', 'EPSV', 'QUIT']);
        const parts = d.filter((e) => e.cmd === 'PASV' || e.cmd === 'EPSV').map((e) => part((e.pasv?.[1] ?? e.epsv)!));
        expect(new Set(parts).size, JSON.stringify(d)).toBe(1);
        expect(parts[0]).toBeGreaterThanOrEqual(0);
        seen.add(parts[0]!);
      }
      expect([...seen].sort()).toEqual([0, 1]);

      // Slow downloads until both workers have one.
      const downloads: { child: ChildProcess; out: string; log: string; worker: number; done: Promise<number | null> }[] = [];
      for (let i = 0; i < 8 && new Set(downloads.map((d) => d.worker)).size < 2; i++) {
        const out = join(fx.dir, `slow-${i}`);
        const log = join(fx.dir, `slow-${i}.log`);
        writeFileSync(log, '');
        const child = t.spawn(t.ns.ext, 'sh', ['-c', `exec curl -sS -v --disable-epsv --limit-rate 2M --max-time 60 -o ${out} ftp://${USER}:${PASSWORD}@${WAN.router}:2121/big.bin 2>${log}`]);
        const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        const deadline = Date.now() + 10_000;
        let m: RegExpExecArray | null = null;
        while ((m = /227 Entering Passive Mode \(203,0,113,1,(\d+),(\d+)\)/.exec(readFileSync(log, 'utf8'))) === null) {
          if (Date.now() > deadline) throw new Error(`no PASV reply: ${readFileSync(log, 'utf8')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        downloads.push({ child, out, log, worker: part(Number(m[1]) * 256 + Number(m[2])), done });
      }
      const workers = new Set(downloads.map((d) => d.worker));
      expect(workers.size, 'downloads on both workers').toBe(2);
      const victim = downloads.at(-1)!.worker;
      const pids = pidOf();
      const victimPid = pids.get(victim)!;
      process.kill(victimPid, 'SIGKILL');
      const codes = await Promise.all(downloads.map((d) => d.done));
      for (const [i, d] of downloads.entries()) {
        if (d.worker === victim) expect(codes[i], `download ${i} on the killed worker`).not.toBe(0);
        else {
          expect(codes[i], `download ${i}: ${readFileSync(d.log, 'utf8').slice(-300)}`).toBe(0);
          expect(sha256File(d.out), `download ${i} on the surviving worker`).toBe(fx.big.sha256);
        }
      }
      const log = await s.waitForLog(new RegExp(`worker ${victim + 1}/2 ready \\(pid (?!${victimPid}\\))\\d+\\)`), 10_000);
      expect(log).toContain(`worker ${victim + 1}/2 (pid ${victimPid}) exited with signal SIGKILL; starting a new one`);
      expect(pidOf().get(victim)).not.toBe(victimPid);
      // The replacement serves its part of the range again.
      const again = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const r = runClient(t, t.ns.ext, 'curl', WAN.router, fx, 'pasv', `after-kill-${i}.bin`);
        expect(r.retrSha256).toBe(fx.big.sha256);
        again.add(part(r.advertised![1]));
      }
      expect([...again].sort()).toEqual([0, 1]);
    });
  });

  test('share mode (the Kubernetes setup): 10 ports, 200 clients from 200 addresses at once, every transfer intact', async () => {
    const mid = Buffer.alloc(256 << 10, 7).map((_, i) => (i * 2654435761) >>> 24);
    writeFileSync(join(fx.home, 'mid.bin'), mid);
    const yaml = snippet('kubernetes.yaml');
    const args = serveArgs(JSON.parse(/args: (\[.*\])/.exec(yaml)![1]!) as string[]);
    expect(args).toContain('--passive-share');
    const conf = guideConf('ftpkit-k8s.conf');
    const range = /PassivePorts (\d+) (\d+)/.exec(conf)!.slice(1).map(Number) as [number, number];
    expect(range[1] - range[0] + 1).toBe(10);
    // 200 clients, each from its own 127.0.1.x: log in, PASV, wait until all 200 hold a
    // passive port, then RETR from the same address.
    const clients = `
import hashlib, json, re, socket, threading
N = 200
barrier = threading.Barrier(N, timeout=60)
results = [None] * N
def reply(f):
    line = f.readline().decode()
    while line[3:4] == "-": line = f.readline().decode()
    return line.strip()
def run(i):
    src = "127.0.1.%d" % (i + 1)
    r = {"src": src}
    c = d = None
    try:
        c = socket.create_connection(("127.0.0.1", 2121), timeout=60, source_address=(src, 0)); f = c.makefile("rb")
        reply(f)
        for cmd in ["USER ${USER}", "PASS ${PASSWORD}", "TYPE I", "PASV"]:
            c.sendall((cmd + "\\r\\n").encode()); line = reply(f)
        r["pasv"] = line
        m = re.search(r"\\((\\d+),(\\d+),(\\d+),(\\d+),(\\d+),(\\d+)\\)", line)
        if m: r["port"] = int(m.group(5)) * 256 + int(m.group(6)); r["host"] = ".".join(m.groups()[:4])
    except Exception as e:
        r["error"] = repr(e)
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        r["barrier"] = "broken"
    try:
        if "port" in r:
            d = socket.create_connection((r["host"], r["port"]), timeout=60, source_address=(src, 0))
            c.sendall(b"RETR mid.bin\\r\\n"); r["first"] = reply(f)
            h = hashlib.sha256()
            while True:
                b = d.recv(65536)
                if not b: break
                h.update(b)
            r["sha256"] = h.hexdigest(); r["final"] = reply(f)
            c.sendall(b"QUIT\\r\\n")
    except Exception as e:
        r["error"] = repr(e)
    finally:
        for s in (c, d):
            if s: s.close()
    results[i] = r
threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
`;
    type Result = { src: string; pasv?: string; port?: number; host?: string; first?: string; final?: string; sha256?: string; error?: string; barrier?: string };
    // Asynchronously: the server's log output must keep flowing while 200 clients run.
    const runAll = async (): Promise<Result[]> => {
      const child = t.spawn(t.ns.srv, 'python3', ['-c', clients]);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      if (code !== 0) throw new Error(`the clients failed (${code}): ${err}`);
      return JSON.parse(out) as Result[];
    };
    const env = { FTP_PUBLIC_ADDRESS: '127.0.0.1' };
    await withServer(conf, { args, env }, async () => {
      const results = await runAll();
      const bad = results.filter((r) => r.sha256 !== sha256(mid) || !/^226 /.test(r.final ?? ''));
      expect(bad.slice(0, 3), `${bad.length} of 200 failed`).toEqual([]);
      const ports = new Set(results.map((r) => r.port));
      expect([...ports].every((p) => p !== undefined && p >= range[0] && p <= range[1]), [...ports].join(' ')).toBe(true);
      expect(ports.size).toBeLessThanOrEqual(10);
      expect(results.every((r) => r.host === '127.0.0.1' && r.barrier === undefined)).toBe(true);
    });
    // Without share mode the same 10 ports serve 10 of them (the rest get 425).
    await withServer(conf, { args: ['--exhaustion', 'refuse'], env }, async () => {
      const results = await runAll();
      expect(results.filter((r) => /^227 /.test(r.pasv ?? '')).length).toBe(10);
      expect(results.filter((r) => /^425 /.test(r.pasv ?? '')).length).toBe(190);
    });
  });

  test('Docker -p 30000-30019:60000-60019 with --passive-expose: clients are told the published ports', async () => {
    const run = snippet('docker-run').replace(/\\\n\s*/g, '').split('\n').find((l) => l.startsWith('docker run'))!;
    const words = run.split(/\s+/);
    const published = words.flatMap((w, i) => (words[i - 1] === '-p' ? [w] : []));
    expect(published).toEqual(['2121:2121', '30000-30019:60000-60019']);
    // Publish the way Docker does: one DNAT rule per port, host port -> container port.
    const rules = ['*nat'];
    for (const p of published) {
      const [host, container] = p.split(':').map((x) => x.split('-').map(Number)) as [number[], number[]];
      for (let i = 0; i <= (host[1] ?? host[0]!) - host[0]!; i++) {
        rules.push(`-A PREROUTING -d ${WAN.router}/32 -p tcp -m tcp --dport ${host[0]! + i} -j DNAT --to-destination ${LAN.server}:${container[0]! + i}`);
      }
    }
    rules.push('COMMIT', '');
    t.exec(t.ns.rtr, 'iptables', ['-t', 'nat', '-F', 'PREROUTING']);
    t.applyRouterRules(rules.join('\n'));
    await withServer(guideConf('ftpkit-docker.conf'), { args: serveArgs(words) }, async (s) => {
      for (const [client, mode] of [['curl', 'pasv'], ['curl', 'epsv'], ['ftplib', 'pasv'], ['lftp', 'epsv']] as const) {
        const r = runClient(t, t.ns.ext, client, WAN.router, fx, mode, `docker-${client}-${mode}.bin`);
        const port = mode === 'pasv' ? r.advertised?.[1] : r.epsvPort;
        if (mode === 'pasv') expect(r.advertised?.[0]).toBe(WAN.router);
        expect(port! >= 30000 && port! <= 30019, `${client} ${mode} port ${port}`).toBe(true);
        expect(r.retrSha256, `${client} ${mode}`).toBe(fx.big.sha256);
        expect(sha256File(join(fx.home, `docker-${client}-${mode}.bin`))).toBe(fx.upload.sha256);
      }
      expect(s.log()).not.toContain('SECURITY VIOLATION');
    });
  });
});
