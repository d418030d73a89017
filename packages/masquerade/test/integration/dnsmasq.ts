// A real DNS server on loopback for the DnsCache tests: dnsmasq serving a hosts file
// (names under .test only), with a chosen TTL. No upstream servers: nothing leaves 127.0.0.1.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PATH = `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin`;

export function dnsmasqAvailable(): boolean {
  return spawnSync('dnsmasq', ['--version'], { env: { ...process.env, PATH } }).status === 0;
}

/**
 * A UDP port on 127.0.0.1 that was free a moment ago, below the kernel's ephemeral range:
 * a port the kernel hands out to other programs' sockets could be taken between a test
 * choosing it and dnsmasq binding it (the "DNS down at startup" test leaves it unbound
 * on purpose for a while).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const sock = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => sock.close(() => resolve()));
    if (ok) return port;
  }
}

export class Dnsmasq {
  private child: ChildProcess | undefined;
  private reads = 0;
  private log = '';
  private readonly dir: string;
  private readonly hostsFile: string;

  private constructor(readonly port: number, private readonly ttl: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'ftpkit-dnsmasq-'));
    chmodSync(this.dir, 0o755); // dnsmasq drops root privileges and must still read the file on SIGHUP
    this.hostsFile = join(this.dir, 'hosts');
  }

  /** Starts dnsmasq serving `hosts` (hosts-file syntax) with `--local-ttl ttl`. */
  static async start(hosts: string, ttl: number, port?: number): Promise<Dnsmasq> {
    for (let attempt = 1; ; attempt++) {
      const d = new Dnsmasq(port ?? (await freePort()), ttl);
      d.writeHosts(hosts);
      try {
        await d.spawn();
        return d;
      } catch (err) {
        await d.dispose();
        if (port !== undefined || attempt === 3) throw err; // a free port taken meanwhile: try another
      }
    }
  }

  /** Replaces the hosts file and makes dnsmasq read it again (SIGHUP); resolves once it has. */
  async setHosts(hosts: string): Promise<void> {
    this.writeHosts(hosts);
    const before = this.reads;
    this.child?.kill('SIGHUP');
    await this.until(() => this.reads > before, 'reload the hosts file');
  }

  /** Stops the server (the port then refuses queries). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Starts it again on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private writeHosts(hosts: string): void {
    writeFileSync(this.hostsFile, hosts, { mode: 0o644 });
  }

  private async spawn(): Promise<void> {
    const before = this.reads;
    const child = spawn('dnsmasq', [
      '--no-daemon', '--no-resolv', '--no-hosts', '--conf-file=/dev/null',
      `--port=${this.port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
      `--addn-hosts=${this.hostsFile}`, `--local-ttl=${this.ttl}`,
      `--pid-file=${join(this.dir, 'dnsmasq.pid')}`,
    ], { env: { ...process.env, PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.log += chunk;
      this.reads += chunk.split('\n').filter((l) => l.includes(`read ${this.hostsFile}`)).length;
    });
    await this.until(() => this.reads > before || child.exitCode !== null, 'start');
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${this.log}`);
  }

  private async until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`dnsmasq did not ${what} in time: ${this.log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
