/**
 * A DNS server for the MasqueradeAddress tests: dnsmasq answering from a hosts file on
 * one loopback address, port 53 (so a resolv.conf can point at it), no upstream servers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './server.js';

const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

export const dnsmasqAvailable = (): boolean => spawnSync('dnsmasq', ['--version'], { env: { ...process.env, PATH } }).status === 0;

export class Dnsmasq {
  readonly dir: string;
  readonly hosts: string;
  /** A resolv.conf naming only this server. */
  readonly resolvConf: string;
  private child: ChildProcess | undefined;

  constructor(readonly address: string) {
    this.dir = makeTempDir('dns');
    chmodSync(this.dir, 0o755); // dnsmasq drops privileges and reads the hosts file later
    this.hosts = join(this.dir, 'hosts');
    this.resolvConf = join(this.dir, 'resolv.conf');
    writeFileSync(this.resolvConf, `nameserver ${address}\noptions timeout:1 attempts:1\n`, { mode: 0o644 });
  }

  /** Starts answering `hosts` (hosts-file lines), TTL 1 s. */
  async start(hosts: string): Promise<void> {
    await this.stop();
    writeFileSync(this.hosts, hosts, { mode: 0o644 });
    const child = spawn('dnsmasq', [
      '--no-daemon', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--port=53',
      `--listen-address=${this.address}`, '--bind-interfaces', `--addn-hosts=${this.hosts}`, '--local-ttl=1',
      `--pid-file=${join(this.dir, 'dnsmasq.pid')}`,
    ], { env: { ...process.env, PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dnsmasq did not start: ${log}`)), 5000);
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes(`read ${this.hosts}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`dnsmasq exited: ${log}`));
      });
    });
  }

  /** Stops it: the address then refuses queries (ICMP port unreachable). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
