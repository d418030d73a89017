// Interoperability with a real HAProxy: `send-proxy-v2` (with the CRC32C and UNIQUE_ID
// TLVs), `send-proxy` (v1) and health checks (v2 LOCAL), all on 127.0.0.1. Needs the
// `haproxy` binary (Debian: apt-get install haproxy); skipped without it, except in CI.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcceptProxiedResult, acceptProxied } from '../../src/node/index.js';
import { ascii, concat } from '../feed.js';

const haveHaproxy = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0;

interface Accepted {
  result: AcceptProxiedResult;
  socket: Socket;
}

/** A backend on 127.0.0.1 that reads the PROXY header of every connection and keeps the outcome. */
class Backend {
  readonly accepted: Accepted[] = [];
  readonly server: Server;
  readonly #waiters = new Set<() => void>();
  constructor() {
    this.server = createServer((socket) => {
      socket.on('error', () => {});
      void acceptProxied(socket, { trusted: ['127.0.0.1'], timeoutMs: 3000, required: true }).then((result) => {
        this.accepted.push({ result, socket });
        for (const w of this.#waiters) w();
      });
    });
  }
  async listen(): Promise<number> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return (this.server.address() as AddressInfo).port;
  }
  /** The first connection that `pred` accepts, waiting for it if need be. */
  async find(pred: (a: Accepted) => boolean, timeoutMs = 4000): Promise<Accepted> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.accepted.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching connection among ${this.accepted.length}`);
      await new Promise<void>((resolve) => {
        const w = (): void => {
          this.#waiters.delete(w);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(w, 100);
        this.#waiters.add(w);
      });
    }
  }
  close(): void {
    for (const a of this.accepted) a.socket.destroy();
    this.server.close();
  }
}

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!haveHaproxy && process.env.CI !== 'true')('behind HAProxy (send-proxy-v2, send-proxy, health checks)', () => {
  const v2 = new Backend();
  const v1 = new Backend();
  const checked = new Backend();
  let dir = '';
  let haproxy: ChildProcess | undefined;
  let log = '';
  let front2 = 0;
  let front1 = 0;

  beforeAll(async () => {
    const [b2, b1, bc] = [await v2.listen(), await v1.listen(), await checked.listen()];
    [front2, front1] = [await freePort(), await freePort()];
    dir = mkdtempSync(join(tmpdir(), 'ftpkit-haproxy-'));
    const conf = join(dir, 'haproxy.cfg');
    writeFileSync(
      conf,
      [
        'global',
        '  nbthread 1',
        'defaults',
        '  mode tcp',
        '  timeout connect 2s',
        '  timeout client 10s',
        '  timeout server 10s',
        'frontend ftp_v2',
        `  bind 127.0.0.1:${front2}`,
        '  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt',
        '  default_backend ftp_v2',
        'backend ftp_v2',
        `  server s1 127.0.0.1:${b2} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
        'frontend ftp_v1',
        `  bind 127.0.0.1:${front1}`,
        '  default_backend ftp_v1',
        'backend ftp_v1',
        `  server s1 127.0.0.1:${b1} send-proxy`,
        'listen checks',
        `  bind 127.0.0.1:${await freePort()}`,
        `  server s1 127.0.0.1:${bc} send-proxy-v2 check inter 100ms`,
        '',
      ].join('\n'),
    );
    haproxy = spawn('haproxy', ['-db', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d: Uint8Array) => (log += String(d)));
    haproxy.stderr!.on('data', (d: Uint8Array) => (log += String(d)));
    const spawned = await Promise.race([once(haproxy, 'spawn').then(() => true), once(haproxy, 'error').then(([e]) => { throw e; })]);
    expect(spawned).toBe(true);
    await waitForPort(front2, haproxy);
    await waitForPort(front1, haproxy);
  });

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      const exited = once(haproxy, 'exit');
      haproxy.kill('SIGTERM');
      const t = setTimeout(() => haproxy?.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    for (const b of [v2, v1, checked]) b.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function ftpThrough(front: number, backend: Backend): Promise<{ result: AcceptProxiedResult; clientPort: number }> {
    const c = connect(front, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'connect');
    try {
      const clientPort = c.localPort!;
      // FTP: the server speaks first, so the client sends nothing until the greeting.
      const { result, socket } = await backend.find((a) => a.result.ok && a.result.remotePort === clientPort);
      socket.write('220 ftpkit ready\r\n');
      const [greeting] = (await once(c, 'data')) as [Uint8Array];
      expect(String(greeting)).toBe('220 ftpkit ready\r\n');
      c.write('USER anonymous\r\n');
      let got = result.ok ? concat(result.rest) : new Uint8Array(0);
      while (got.length < 16) got = concat(got, ((await once(socket, 'data')) as [Uint8Array])[0]);
      expect(got).toEqual(ascii('USER anonymous\r\n'));
      return { result, clientPort };
    } finally {
      c.destroy();
    }
  }

  it('v2: the backend sees the client address and port, the frontend address, a verified CRC32C and the unique ID', async () => {
    const { result, clientPort } = await ftpThrough(front2, v2);
    expect(result, log).toMatchObject({
      ok: true,
      proxied: true,
      remoteAddress: '127.0.0.1',
      remotePort: clientPort,
      localAddress: '127.0.0.1',
      localPort: front2,
      peerAddress: '127.0.0.1',
      header: { version: 2, command: 'PROXY', family: 'tcp4', transport: 'stream', crc32c: expect.any(Number) },
    });
    if (!result.ok) return;
    expect(result.peerPort).not.toBe(clientPort); // the proxy's own connection
    const uid = new TextDecoder().decode(result.header!.uniqueId);
    expect(uid).toMatch(new RegExp(`^7F000001:${clientPort.toString(16).toUpperCase().padStart(4, '0')}_7F000001:${front2.toString(16).toUpperCase().padStart(4, '0')}_`));
  });

  it('v1: the same endpoints from the text line', async () => {
    const { result, clientPort } = await ftpThrough(front1, v1);
    expect(result, log).toMatchObject({ ok: true, proxied: true, remoteAddress: '127.0.0.1', remotePort: clientPort, localPort: front1, header: { version: 1, family: 'tcp4' } });
  });

  it('health checks arrive as v2 LOCAL and keep the real endpoints', async () => {
    const { result } = await checked.find((a) => a.result.ok && a.result.header?.command === 'LOCAL');
    expect(result, log).toMatchObject({ ok: true, proxied: false, remoteAddress: '127.0.0.1', header: { version: 2, command: 'LOCAL', family: 'unknown' } });
  });
});
