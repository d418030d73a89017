/**
 * File-system faults: a full disk (a 2 MiB tmpfs mounted by the test), permission
 * errors (the server drops to `User nobody`), a file deleted or truncated while it is
 * being downloaded. Each ends with the right reply, nothing half-written visible under
 * its name, no descriptor left open (also none on a deleted file), and the session goes on.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, statfsSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, collect, connectSocket, retr, sleep, stor } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, isRoot, makeTempDir, settleFds, skipUnless, startServer, stopAll, type Served } from '../lib/server.js';

afterEach(() => closeAll());

async function loggedIn(srv: Served): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  return c;
}

const visible = (dir: string): string[] => readdirSync(dir).filter((n) => n !== 'lost+found');
const freeBytes = (dir: string): number => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};
/** Descriptors of `pid` that point at deleted files. */
const deletedFds = (pid: number): string[] =>
  readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      return target.endsWith(' (deleted)') ? [target] : [];
    } catch {
      return [];
    }
  });

describe.skipIf(skipUnless(isRoot))('disk full (ENOSPC on a 2 MiB tmpfs)', () => {
  const mounts: string[] = [];
  afterAll(async () => {
    await stopAll();
    for (const m of mounts) {
      execFileSync('umount', [m]);
      rmSync(m, { recursive: true, force: true });
    }
  });

  async function onTmpfs(directives: string[]): Promise<Served> {
    const dir = makeTempDir('tmpfs');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    mounts.push(dir);
    writeFileSync(join(dir, 'keep.txt'), 'kept\n');
    return startServer({ root: dir, directives });
  }

  for (const [label, directives] of [
    ['HiddenStores on', ['HiddenStores on']],
    ['DeleteAbortedStores on', ['HiddenStores off', 'DeleteAbortedStores on']],
    ['ProFTPD defaults (HiddenStores off, DeleteAbortedStores off)', []],
  ] as const) {
    test(`${label}: STOR of 5 MiB gets 452, nothing half-written is visible, the space comes back`, async () => {
      const srv = await onTmpfs([...directives]);
      const free0 = freeBytes(srv.root);
      const before = srv.fds();
      const c = await loggedIn(srv);
      const r = await stor(c, 'huge.bin', Buffer.alloc(5 << 20, 0x33));
      expect(r.first.code).toBe(150);
      expect(`${r.final?.code} ${r.final?.text}`).toMatch(/^452 /);
      expect(r.final?.text).toMatch(/No space left on device/);
      await sleep(200);
      expect(visible(srv.root).sort(), 'files left in the root').toEqual(['keep.txt']);
      expect(freeBytes(srv.root)).toBeGreaterThanOrEqual(free0 - 64 * 1024);
      // The session goes on: a small upload fits.
      expect((await stor(c, 'small.txt', Buffer.from('fits\n'))).final?.code).toBe(226);
      expect(readFileSync(join(srv.root, 'small.txt'), 'utf8')).toBe('fits\n');
      await c.quit();
      expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
      expect(deletedFds(srv.pid)).toEqual([]);
    });
  }

  test('APPE that fills the disk: 452, and the bytes that were there are intact', async () => {
    const srv = await onTmpfs(['HiddenStores on']);
    writeFileSync(join(srv.root, 'log.txt'), 'line 1\n');
    const c = await loggedIn(srv);
    const r = await stor(c, 'log.txt', Buffer.alloc(5 << 20, 0x34), 'APPE');
    expect(`${r.final?.code}`).toBe('452');
    expect(readFileSync(join(srv.root, 'log.txt')).subarray(0, 7).toString()).toBe('line 1\n');
    expect((await c.cmd('NOOP')).code).toBe(200);
    await c.quit();
  });
});

describe.skipIf(skipUnless(isRoot))('permission errors (server running as nobody)', () => {
  let srv: Served;
  let base: string;
  beforeAll(async () => {
    base = makeTempDir('perm');
    chmodSync(base, 0o755);
    const root = join(base, 'root');
    mkdirSync(join(root, 'locked'), { recursive: true });
    mkdirSync(join(root, 'ro', 'sub'), { recursive: true });
    writeFileSync(join(root, 'secret.txt'), 'secret\n', { mode: 0o600 });
    writeFileSync(join(root, 'ro.txt'), 'read only\n', { mode: 0o644 });
    writeFileSync(join(root, 'locked', 'x.txt'), 'x\n');
    writeFileSync(join(root, 'ro', 'file.txt'), 'in ro\n');
    chownSync(root, 65534, 65534);
    chmodSync(join(root, 'locked'), 0o700);
    chmodSync(join(root, 'ro'), 0o755);
    srv = await startServer({ root, directives: ['User nobody', 'Group nogroup', 'HiddenStores on'], authFileMode: 0o644 });
  });
  afterAll(async () => {
    await stopAll();
    rmSync(base, { recursive: true, force: true });
  });

  // apps/server reads the AuthUserFile at each login (sessions.ts findUser), after it dropped
  // root: a password file only root can read (0600, as it should be) makes every login fail.
  test('User nobody with a root-only AuthUserFile (0600) still lets users log in', async () => {
    const locked = await startServer({ root: srv.root, directives: ['User nobody', 'Group nogroup'], authFileMode: 0o600 });
    const c = await FtpClient.connect(locked.port);
    const r = await c.login(USER, PASSWORD);
    await c.quit();
    expect(`${r.code} ${r.text}`).toBe('230 User alice logged in');
  });

  // ProFTPD's chdir(2) fails with EACCES on a directory without search permission.
  test('CWD into a directory the server may not enter gets 550 Permission denied', async () => {
    const c = await loggedIn(srv);
    const r = await c.cmd('CWD locked');
    await c.quit();
    expect(`${r.code} ${r.text}`).toBe('550 locked: Permission denied');
  });

  test('every refused operation gets 550/553 Permission denied and the session goes on', async () => {
    const before = srv.fds();
    const c = await loggedIn(srv);
    expect(await retr(c, 'secret.txt').then((r) => `${r.first.code} ${r.first.text}`)).toBe('550 secret.txt: Permission denied');
    for (const line of ['RETR locked/x.txt', 'DELE ro/file.txt', 'MKD ro/new', 'RMD ro/sub', 'SITE CHMOD 777 ro.txt']) {
      const r = await c.cmd(line);
      if (line.startsWith('RETR') && r.code === 150) throw new Error(`${line} was served`);
      expect(`${r.code} ${r.text}`, line).toMatch(/^(550|553|450|451) .*(Permission denied|Operation not permitted)$/);
    }
    const list = await c.cmd('NLST locked');
    expect([425, 450, 550]).toContain(list.code);
    expect((await c.cmd('RNFR ro/file.txt')).code).toBe(350);
    expect(`${(await c.cmd('RNTO moved.txt')).text}`).toMatch(/Permission denied/);
    for (const [verb, path] of [['STOR', 'ro/new.txt'], ['APPE', 'ro.txt'], ['STOR', 'locked/new.txt']] as const) {
      const r = await stor(c, path, Buffer.from('nope\n'), verb);
      expect(`${r.first.code} ${r.first.text}`, `${verb} ${path}`).toMatch(/^(550|553) .*Permission denied/);
    }
    expect(readFileSync(join(srv.root, 'ro.txt'), 'utf8')).toBe('read only\n');
    expect(existsSync(join(srv.root, 'ro', 'new.txt'))).toBe(false);
    expect(readdirSync(join(srv.root, 'ro')).filter((n) => n.startsWith('.in.'))).toEqual([]);
    // What nobody may do still works.
    expect((await stor(c, 'mine.txt', Buffer.from('ok\n'))).final?.code).toBe(226);
    await c.quit();
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
  });
});

describe('the file changes while it is downloaded', () => {
  let srv: Served;
  const big = Buffer.alloc(32 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 13)) & 255;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => stopAll());

  for (const change of ['deleted', 'truncated', 'replaced'] as const) {
    test(`${change} mid-RETR: a definite reply, only bytes of the file, no descriptor left on it`, async () => {
      const path = join(srv.root, `${change}.bin`);
      writeFileSync(path, big);
      const before = srv.fds();
      const c = await loggedIn(srv);
      const d = await connectSocket((await c.pasv()).port);
      const got = collect(d);
      d.pause();
      expect((await c.cmd(`RETR ${change}.bin`)).code).toBe(150);
      await sleep(100);
      if (change === 'deleted') unlinkSync(path);
      else if (change === 'truncated') truncateSync(path, 1 << 20);
      else writeFileSync(path, 'replaced\n');
      d.resume();
      const data = await got;
      const final = await c.reply(15_000);
      expect([226, 426, 451]).toContain(final.code);
      expect(big.subarray(0, data.length).equals(data), 'received bytes are a prefix of the file').toBe(true);
      if (final.code === 226 && change === 'deleted') expect(data.length).toBe(big.length);
      expect((await c.cmd('NOOP')).code).toBe(200);
      await c.quit();
      expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
      expect(deletedFds(srv.pid)).toEqual([]);
    });
  }
});
