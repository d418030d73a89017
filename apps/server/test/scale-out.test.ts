/**
 * `ftpkit serve` scale-out flags on 127.0.0.1: --passive-partition, --passive-expose,
 * --passive-share and --workers (node:cluster).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, dataConnection, freePort, freeRange, loopbackConf, RawFtp, runCli, serve, tempDir } from './helpers.js';

afterEach(cleanup);

async function anonymous(port: number): Promise<RawFtp> {
  const c = await RawFtp.connect(port);
  expect((await c.read()).code).toBe(220);
  expect((await c.login('anonymous', 'x@y')).code).toBe(230);
  return c;
}

describe('--passive-partition i/n', () => {
  it('hands out only its part of every PassivePorts range and says which part', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(9);
    const s = await serve(['--config', loopbackConf(dir, port, `PassivePorts ${range.min} ${range.max}`), '--passive-partition', '2/3']);
    const part = { min: range.min + 3, max: range.min + 5 };
    await s.waitFor(new RegExp(`^PassivePorts ${range.min}-${range.max}: this process uses ${part.min}-${part.max} \\(part 2 of 3\\)$`));
    const c = await anonymous(port);
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push((await c.pasv()).port);
    expect(ports.every((p) => p >= part.min && p <= part.max), ports.join(' ')).toBe(true);
    c.close();
    await s.stop();
  });

  it('refuses a part that does not exist or a range too small to split', async () => {
    const dir = tempDir();
    const port = await freePort();
    expect((await runCli(['serve', '--config', loopbackConf(dir, port), '--passive-partition', '3/2'])).code).toBe(2);
    const r = await runCli(['serve', '--config', loopbackConf(dir, port, 'PassivePorts 50000 50001'), '--passive-partition', '1/3']);
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toContain('PassivePorts 50000-50001: cannot be split into 3 parts');
  });
});

describe('--passive-expose advertised:listened', () => {
  it('advertises the published port and listens on the container port', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const exposed = `${range.min + 20000}-${range.max + 20000}`;
    const s = await serve(['--config', loopbackConf(dir, port, `PassivePorts ${range.min} ${range.max}`), '--passive-expose', `${exposed}:${range.spec}`]);
    const c = await anonymous(port);
    const p = await c.pasv();
    expect(p.port).toBeGreaterThanOrEqual(range.min + 20000);
    expect(p.port).toBeLessThanOrEqual(range.max + 20000);
    // What Docker's -p would do: the published port leads to the listened one.
    const d = dataConnection(p.port - 20000);
    expect((await c.cmd('RETR hello.txt')).code).toBe(150);
    expect((await d.done).toString()).toBe('hello\r\n');
    expect((await c.read()).code).toBe(226);
    c.close();
    await s.stop();
  });

  it('refuses a mapping that leaves a PassivePorts port out', async () => {
    const dir = tempDir();
    const port = await freePort();
    const r = await runCli(['serve', '--config', loopbackConf(dir, port, 'PassivePorts 50000 50009'), '--passive-expose', '30000-30004:50000-50004']);
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).toMatch(/PassivePorts 50000-50009: .*port 50005/);
  });
});

describe('--passive-share', () => {
  it('serves transfers through shared listeners; one address never gets the same port twice at once', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(2);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const s = await serve(['--config', loopbackConf(dir, port, `PassivePorts ${range.min} ${range.max}`), '--passive-share', '--exhaustion', 'refuse']);
    const [a, b, c] = [await anonymous(port), await anonymous(port), await anonymous(port)];
    const pa = await a.pasv();
    const pb = await b.pasv();
    expect(new Set([pa.port, pb.port])).toEqual(new Set([range.min, range.max]));
    // The third session of the same address: both ports are already its own.
    expect((await c.pasv()).code).toBe(425);
    for (const [ftp, p] of [[a, pa], [b, pb]] as const) {
      const d = dataConnection(p.port);
      expect((await ftp.cmd('RETR hello.txt')).code).toBe(150);
      expect((await d.done).toString()).toBe('hello\r\n');
      expect((await ftp.read()).code).toBe(226);
    }
    // The ports are free again once they have cooled down (2 s).
    await new Promise((r) => setTimeout(r, 2200));
    expect((await c.pasv()).code).toBe(227);
    await s.stop();
  });
});

describe('PassivePortsShared on (--passive-share as a directive)', () => {
  it('another address shares a port that one address already holds; its data connection is told apart by address', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(2);
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    const s = await serve(['--config', loopbackConf(dir, port, `PassivePorts ${range.min} ${range.max}\nPassivePortsShared on`), '--exhaustion', 'refuse']);
    const [a, b] = [await anonymous(port), await anonymous(port)];
    const held = new Set([(await a.pasv()).port, (await b.pasv()).port]);
    expect(held).toEqual(new Set([range.min, range.max]));
    // Without share mode this would be 425: every port of the range is taken.
    const other = await RawFtp.connect(port, '127.0.0.1', '127.0.0.2');
    expect((await other.read()).code).toBe(220);
    expect((await other.login('anonymous', 'x@y')).code).toBe(230);
    const p = await other.pasv();
    expect(p.code).toBe(227);
    expect(held.has(p.port)).toBe(true);
    const d = dataConnection(p.port, '127.0.0.1', '127.0.0.2');
    expect((await other.cmd('RETR hello.txt')).code).toBe(150);
    expect((await d.done).toString()).toBe('hello\r\n');
    expect((await other.read()).code).toBe(226);
    await s.stop();
  });
});

describe('--workers', () => {
  it('runs workers on one control port, each on its part of the range; a killed worker is replaced; SIGTERM stops them all', async () => {
    const dir = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    const pidFile = join(dir, 'ftpkit.pid');
    const s = await serve(['--config', loopbackConf(dir, port, `PassivePorts ${range.min} ${range.max}\nPidFile ${pidFile}`), '--workers', '2'], {
      ready: /^worker 1\/2 ready/,
    });
    await s.waitFor(/^worker 2\/2 ready/);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(s.child.pid));
    const parts = [
      { min: range.min, max: range.min + 1 },
      { min: range.min + 2, max: range.max },
    ];
    const partOf = (p: number): number => parts.findIndex((r) => p >= r.min && p <= r.max);
    await s.waitFor(new RegExp(`^PassivePorts ${range.spec}: this process uses ${parts[0]!.min}-${parts[0]!.max} \\(part 1 of 2\\)$`));
    await s.waitFor(new RegExp(`^PassivePorts ${range.spec}: this process uses ${parts[1]!.min}-${parts[1]!.max} \\(part 2 of 2\\)$`));
    const seen = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const c = await anonymous(port);
      const first = partOf((await c.pasv()).port);
      expect(partOf((await c.pasv()).port)).toBe(first);
      seen.add(first);
      c.close();
    }
    expect([...seen].sort()).toEqual([0, 1]);
    const ready = s.logs.filter((r) => /^worker 1\/2 ready/.test(r.msg));
    const victim = Number(/pid (\d+)/.exec(ready[0]!.msg)![1]);
    process.kill(victim, 'SIGKILL');
    await s.waitFor(new RegExp(`^worker 1/2 \\(pid ${victim}\\) exited with signal SIGKILL; starting a new one`));
    await s.waitFor(new RegExp(`^worker 1/2 ready \\(pid (?!${victim}\\))\\d+\\)$`));
    const c = await anonymous(port);
    expect((await c.pasv()).code).toBe(227);
    c.close();
    expect(await s.stop('SIGTERM')).toBe(0);
    expect(s.logs.filter((r) => r.msg === 'ftpkit stopped').length).toBeGreaterThanOrEqual(3);
    expect(() => readFileSync(pidFile)).toThrow();
  });
});
