/**
 * A NAT test topology in network namespaces, built and torn down by the suite itself.
 *
 *   ext (203.0.113.50) ── WAN 203.0.113.0/24 ── rtr (203.0.113.1 | 192.168.50.1) ── LAN 192.168.50.0/24 (bridge in rtr)
 *                                                                                    ├── srv (192.168.50.10, .11)
 *                                                                                    └── lan (192.168.50.20)
 *   ext2 (203.0.113.60): a second public host (a target for foreign-address PORT tests).
 *
 * The router DNATs the control port and a chosen part of the passive range from its WAN
 * address to the server and masquerades the LAN. No FTP conntrack helper is loaded or
 * attached: passive FTP crosses the NAT only because of MasqueradeAddress and PassivePorts.
 * Every name is prefixed with a per-run tag so parallel or crashed runs never collide.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export const WAN = { router: '203.0.113.1', ext: '203.0.113.50', ext2: '203.0.113.60', prefix: 24 } as const;
export const LAN = { router: '192.168.50.1', server: '192.168.50.10', server2: '192.168.50.11', client: '192.168.50.20', prefix: 24, cidr: '192.168.50.0/24' } as const;

export interface Topology {
  tag: string;
  ns: { ext: string; ext2: string; rtr: string; srv: string; lan: string };
  /** Run a command inside a namespace and return stdout. */
  exec(ns: string, cmd: string, args: string[], opts?: { input?: string; timeoutMs?: number }): string;
  /** Start a long-running process inside a namespace (killed by destroy()). */
  spawn(ns: string, cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: 'pipe' | 'ignore' }): ChildProcess;
  /** Apply router rules: iptables-restore text for the nat and filter tables. */
  applyRouterRules(rules: string): void;
  /** Forward TCP ports (single or 'a:b' range) from the WAN address to a LAN address. */
  forward(ports: string, to: string): void;
  /**
   * Another host on the LAN (a namespace named `<tag>-<name>`, default route via the router),
   * removed by destroy(). `name` is at most 4 characters and unique. Returns the namespace.
   */
  addLanHost(name: string, address: string): string;
  destroy(): void;
}

export function canBuildTopology(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: 'network namespaces need Linux' };
  if (process.getuid?.() !== 0) return { ok: false, why: 'network namespaces need root' };
  for (const tool of ['ip', 'iptables', 'iptables-restore']) {
    try { execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }); } catch { return { ok: false, why: `${tool} is not installed (apt-get install iproute2 iptables)` }; }
  }
  return { ok: true };
}

const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });

export function buildTopology(): Topology {
  const tag = `fk${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const ns = { ext: `${tag}-ext`, ext2: `${tag}-ext2`, rtr: `${tag}-rtr`, srv: `${tag}-srv`, lan: `${tag}-lan` };
  const children = new Set<ChildProcess>();
  const extra: string[] = [];
  let wire: (host: string, bridge: string, addr: string, prefix: number, gw: string) => void = () => undefined;
  const inNs = (n: string, ...args: string[]): string => run('ip', ['netns', 'exec', n, ...args]);
  const topo: Topology = {
    tag,
    ns,
    exec(n, cmd, args, opts = {}) {
      return execFileSync('ip', ['netns', 'exec', n, cmd, ...args], {
        encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000,
        ...(opts.input === undefined ? {} : { input: opts.input }),
      });
    },
    spawn(n, cmd, args, opts = {}) {
      const child = spawn('ip', ['netns', 'exec', n, cmd, ...args], { stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    applyRouterRules(rules) {
      run('ip', ['netns', 'exec', ns.rtr, 'iptables-restore', '--noflush'], rules);
    },
    forward(ports, to) {
      inNs(ns.rtr, 'iptables', '-t', 'nat', '-A', 'PREROUTING', '-d', WAN.router, '-p', 'tcp', '--dport', ports, '-j', 'DNAT', '--to-destination', to);
    },
    addLanHost(name, address) {
      const n = `${tag}-${name}`;
      run('ip', ['netns', 'add', n]);
      extra.push(n);
      inNs(n, 'ip', 'link', 'set', 'lo', 'up');
      wire(n, 'lanbr', address, LAN.prefix, LAN.router);
      return n;
    },
    destroy() {
      for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
      for (const n of [...Object.values(ns), ...extra]) {
        // Kill anything still running inside the namespace, then remove it.
        try { run('ip', ['netns', 'pids', n]).split('\n').filter(Boolean).forEach((pid) => { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }); } catch { /* no ns */ }
        try { run('ip', ['netns', 'del', n]); } catch { /* already gone */ }
      }
    },
  };
  try {
    for (const n of Object.values(ns)) { run('ip', ['netns', 'add', n]); inNs(n, 'ip', 'link', 'set', 'lo', 'up'); }
    // WAN: a bridge in the router namespace joins the router, ext and ext2.
    inNs(ns.rtr, 'ip', 'link', 'add', 'wanbr', 'type', 'bridge');
    inNs(ns.rtr, 'ip', 'link', 'add', 'lanbr', 'type', 'bridge');
    wire = (host: string, bridge: string, addr: string, prefix: number, gw: string) => {
      const a = `${host.slice(-4)}0`, b = `${host.slice(-4)}1`;
      run('ip', ['link', 'add', a, 'netns', ns.rtr, 'type', 'veth', 'peer', 'name', b, 'netns', host]);
      inNs(ns.rtr, 'ip', 'link', 'set', a, 'master', bridge, 'up');
      inNs(host, 'ip', 'link', 'set', b, 'name', 'eth0');
      inNs(host, 'ip', 'addr', 'add', `${addr}/${prefix}`, 'dev', 'eth0');
      inNs(host, 'ip', 'link', 'set', 'eth0', 'up');
      inNs(host, 'ip', 'route', 'add', 'default', 'via', gw);
    };
    inNs(ns.rtr, 'ip', 'addr', 'add', `${WAN.router}/${WAN.prefix}`, 'dev', 'wanbr');
    inNs(ns.rtr, 'ip', 'addr', 'add', `${LAN.router}/${LAN.prefix}`, 'dev', 'lanbr');
    inNs(ns.rtr, 'ip', 'link', 'set', 'wanbr', 'up');
    inNs(ns.rtr, 'ip', 'link', 'set', 'lanbr', 'up');
    wire(ns.ext, 'wanbr', WAN.ext, WAN.prefix, WAN.router);
    wire(ns.ext2, 'wanbr', WAN.ext2, WAN.prefix, WAN.router);
    wire(ns.srv, 'lanbr', LAN.server, LAN.prefix, LAN.router);
    inNs(ns.srv, 'ip', 'addr', 'add', `${LAN.server2}/${LAN.prefix}`, 'dev', 'eth0');
    wire(ns.lan, 'lanbr', LAN.client, LAN.prefix, LAN.router);
    inNs(ns.rtr, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // The router: masquerade the LAN towards the WAN; no FTP helper anywhere.
    inNs(ns.rtr, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', LAN.cidr, '-o', 'wanbr', '-j', 'MASQUERADE');
    // WAN hosts must not reach LAN addresses directly: only DNAT-ed traffic is forwarded in.
    inNs(ns.rtr, 'iptables', '-A', 'FORWARD', '-i', 'wanbr', '-o', 'lanbr', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED,DNAT', '-j', 'ACCEPT');
    inNs(ns.rtr, 'iptables', '-A', 'FORWARD', '-i', 'wanbr', '-o', 'lanbr', '-j', 'DROP');
  } catch (err) {
    topo.destroy();
    throw err;
  }
  return topo;
}
