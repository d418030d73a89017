/**
 * Path traversal: a corpus of hostile paths (`..`, encoded, absolute host paths, NUL,
 * backslashes, Unicode look-alikes, symlinks out of the root, a sibling folder sharing
 * the root's name as a prefix, rename targets outside) through every command that takes
 * a path. Canary files outside the root must never be read, listed, written, renamed,
 * deleted or even stat'ed: their content marker, size and mtime never appear on the wire,
 * and the tree outside the root is byte-for-byte the same afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, collect, connectSocket, list, retr, stor } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
let base: string;
const MARKER = `CANARY-${randomBytes(8).toString('hex')}`;
/** Unique size and mtime, so a leaked SIZE/MDTM/MLST fact is recognisable. */
const CANARY_SIZE = 7331;
const CANARY_MTIME = new Date(Date.UTC(2001, 1, 3, 4, 5, 6));
const CANARY_MDTM = '20010203040506';
const canaryBody = (MARKER + '\n').padEnd(CANARY_SIZE, '#');

/** Everything under `dir` (symlinks not followed): type, size, mode, mtime, content hash. */
function snapshot(dir: string, skip: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      const kind = st.isSymbolicLink() ? `link->${readlinkSync(p)}` : st.isDirectory() ? 'dir' : 'file';
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : '';
      out[p] = `${kind} ${st.size} ${st.mode.toString(8)} ${st.mtimeMs} ${hash}`;
      if (st.isDirectory() && !st.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out;
}

let before: Record<string, string>;
let etcPasswd: string;
let fdBaseline: number;

beforeAll(async () => {
  srv = await startServer();
  base = srv.dir; // <base>/root is the FTP root; everything else in <base> is "outside"
  const root = srv.root;
  const outside = join(base, 'outside');
  mkdirSync(join(outside, 'sub'), { recursive: true });
  for (const p of [join(outside, 'canary.txt'), join(outside, 'sub', 'canary2.txt'), join(base, 'canary-top.txt')]) {
    writeFileSync(p, canaryBody);
    utimesSync(p, CANARY_MTIME, CANARY_MTIME);
  }
  // A sibling whose name starts with the root's name: defeats a naive startsWith(root) check.
  mkdirSync(join(base, 'root2'));
  writeFileSync(join(base, 'root2', 'sib.txt'), canaryBody);
  utimesSync(join(base, 'root2', 'sib.txt'), CANARY_MTIME, CANARY_MTIME);
  // Inside the root: ordinary files and symlinks that point out (an operator's mistake, or a
  // file system shared with other users).
  mkdirSync(join(root, 'dir', 'deep'), { recursive: true });
  writeFileSync(join(root, 'inside.txt'), 'inside\n');
  symlinkSync(outside, join(root, 'link-out'));
  symlinkSync(join(outside, 'canary.txt'), join(root, 'link-canary'));
  symlinkSync('/etc', join(root, 'link-etc'));
  symlinkSync('../outside', join(root, 'link-dotdot'));
  symlinkSync('../root2', join(root, 'link-sibling'));
  symlinkSync('../../outside', join(root, 'dir', 'link-up'));
  symlinkSync('chain2', join(root, 'chain1'));
  symlinkSync('../outside/sub', join(root, 'chain2'));
  symlinkSync(join(outside, 'created-through-dangling.txt'), join(root, 'dangling'));
  symlinkSync(join(outside, 'newdir'), join(root, 'dangling-dir'));
  symlinkSync('/', join(root, 'link-slash'));
  symlinkSync('.', join(root, 'link-self'));
  etcPasswd = readFileSync('/etc/passwd', 'utf8');
  before = snapshot(base, root);
  fdBaseline = srv.fds();
});
afterEach(() => closeAll());
afterAll(() => stopAll());

/** The corpus: at least 50 hostile paths. `${base}` is the real host path of the test folder. */
function corpus(): string[] {
  const b = base;
  return [
    '..', '../', '/..', '/../..', '../..', '.../...', '....//....//outside',
    '../outside/canary.txt', '../../outside/canary.txt', '/../outside/canary.txt', './../outside/canary.txt',
    'dir/../../outside/canary.txt', 'dir/deep/../../../outside/canary.txt', '//../outside/canary.txt', '/./../outside',
    '../'.repeat(64) + 'etc/passwd', '/../../../../../../../../etc/passwd', '../canary-top.txt', '/../canary-top.txt',
    '..%2foutside%2fcanary.txt', '%2e%2e/outside/canary.txt', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252f..%252fetc/passwd', '..%c0%af../outside',
    '..\\outside\\canary.txt', '..\\..\\outside', '\\..\\outside\\canary.txt', '/..\\outside', 'dir\\..\\..\\outside', '..\\/outside',
    '..\u2215outside\u2215canary.txt', '..\uff0foutside', '\uff0e\uff0e/outside/canary.txt', '\u2025/outside/canary.txt', '..\u3002/outside',
    `${b}/outside/canary.txt`, `${b}/outside`, `${b}/canary-top.txt`, `${b}/root2/sib.txt`, `${b}/root/../outside/canary.txt`, `${b}`,
    '/etc/passwd', '/etc/shadow', '/proc/self/environ', '/proc/self/cwd', '/proc/self/root/etc/passwd', '/root', '/dev/zero',
    '~root', '~root/.bashrc', '~/../outside', '~/../../etc/passwd', '~alice/../outside', '~/../root2/sib.txt',
    '../root2/sib.txt', '/../root2', '../root2',
    'link-out', 'link-out/canary.txt', 'link-out/sub/canary2.txt', 'link-canary', 'link-etc/passwd', 'link-etc', 'link-dotdot/canary.txt',
    'link-sibling/sib.txt', 'dir/link-up/canary.txt', 'dir/link-up', 'chain1/canary2.txt', 'chain1', 'link-slash/etc/passwd', 'link-slash',
    `link-slash${b}/outside/canary.txt`, 'link-self/link-out/canary.txt', 'link-self/../outside', 'dangling',
    '*', '../*', '.*', 'link-out/*', '-R', '-laR', '-la ..', '-la ../outside',
  ];
}

/** What must never come back: the marker, the canary's size as a SIZE reply or fact, its mtime. */
function assertNoLeak(what: string, text: string): void {
  expect(text, what).not.toContain(MARKER);
  expect(text, what).not.toMatch(new RegExp(`^213 ${CANARY_SIZE}$|size=${CANARY_SIZE};|\\b${CANARY_SIZE}\\b.*(canary|sib)`, 'm'));
  expect(text, what).not.toContain(CANARY_MDTM);
  expect(text, what).not.toMatch(/canary2\.txt|canary-top|sib\.txt|created-through|root:x:0:0/);
}

/** Reply text as one string for the leak check (the echo of the requested name is excluded). */
const echoFree = (text: string, path: string): string => text.split(path).join('<path>');

async function loggedIn(): Promise<FtpClient> {
  const c = await FtpClient.connect(srv.port);
  expect((await c.login(USER, PASSWORD)).code).toBe(230);
  expect((await c.cmd('TYPE I')).code).toBe(200);
  return c;
}

describe('path traversal corpus', () => {
  test('the corpus has at least 50 paths', () => {
    expect(corpus().length).toBeGreaterThanOrEqual(50);
  });

  test('read commands never read, list or stat anything outside the root', async () => {
    const c = await loggedIn();
    for (const p of corpus()) {
      for (const verb of ['SIZE', 'MDTM', 'MLST', 'STAT', 'CWD']) {
        const r = await c.cmd(`${verb} ${p}`);
        assertNoLeak(`${verb} ${p} → ${r.code} ${r.text}`, echoFree(r.text, p));
        if (verb === 'CWD' && r.code === 250) {
          const pwd = await c.cmd('PWD');
          expect(pwd.code).toBe(257);
          const l = await list(c, 'LIST -la');
          assertNoLeak(`LIST after CWD ${p}`, l.text);
          expect((await c.cmd('CWD /')).code).toBe(250);
        }
      }
      const got = await retr(c, p);
      assertNoLeak(`RETR ${p} → ${got.first.code} ${got.first.text}`, got.data.toString('latin1') + echoFree(got.first.text + (got.final?.text ?? ''), p));
      if (got.first.code === 150) expect(got.final?.code).toBe(226);
      for (const verb of ['LIST', 'NLST', 'MLSD']) {
        const l = await list(c, `${verb} ${p}`);
        assertNoLeak(`${verb} ${p} → ${l.first.code} ${l.first.text}`, l.text + echoFree(l.first.text, p));
      }
    }
    await c.quit();
  });

  test('write commands never create, change, rename or delete anything outside the root', async () => {
    const c = await loggedIn();
    const payload = Buffer.from(`WRITTEN-${MARKER}`);
    for (const p of corpus().filter((x) => !x.startsWith('-') && !x.includes('*'))) {
      writeFileSync(join(srv.root, 'victim.txt'), 'victim\n');
      await stor(c, p, payload);
      await stor(c, p, payload, 'APPE');
      for (const line of [`MKD ${p}`, `MKD ${p}/newdir`, `RMD ${p}`, `DELE ${p}`, `SITE CHMOD 777 ${p}`, `MFMT 19990101000000 ${p}`]) {
        const r = await c.cmd(line);
        assertNoLeak(`${line} → ${r.code} ${r.text}`, echoFree(r.text, p));
      }
      // Rename out of the root, and into the root from outside.
      expect((await c.cmd('RNFR victim.txt')).code).toBe(350);
      const to = await c.cmd(`RNTO ${p}`);
      assertNoLeak(`RNTO ${p}`, echoFree(to.text, p));
      const from = await c.cmd(`RNFR ${p}`);
      if (from.code === 350) await c.cmd('RNTO stolen.txt');
      // Whatever happened, it happened inside the root.
      expect(snapshot(base, srv.root)).toEqual(before);
    }
    await c.quit();
  });

  test('a symlink out of the root is no existence oracle: missing and existing names answer alike', async () => {
    const c = await loggedIn();
    const pairs: [string, string][] = [
      ['link-out/canary.txt', 'link-out/no-such-file.txt'],
      ['link-etc/passwd', 'link-etc/no-such-file'],
      ['dir/link-up/sub', 'dir/link-up/no-such-dir'],
    ];
    for (const [exists, missing] of pairs) {
      for (const verb of ['SIZE', 'MDTM', 'CWD', 'RETR', 'DELE']) {
        const a = await c.cmd(`${verb} ${exists}`);
        const b = await c.cmd(`${verb} ${missing}`);
        expect(`${a.code} ${echoFree(a.text, exists)}`, `${verb}: ${exists} vs ${missing}`).toBe(`${b.code} ${echoFree(b.text, missing)}`);
      }
    }
    await c.quit();
  });

  test('raw bytes: NUL, CR NUL, overlong UTF-8 and Telnet IAC inside names are refused or stay inside', async () => {
    const c = await loggedIn();
    const lines: Buffer[] = [
      Buffer.from('RETR ../outside/canary.txt\0.jpg\r\n'),
      Buffer.from('RETR link-canary\0\r\n'),
      Buffer.from('CWD ..\0/outside\r\n'),
      Buffer.from('RETR ..\r\0/outside/canary.txt\r\n'),
      Buffer.concat([Buffer.from('RETR ..'), Buffer.from([0xc0, 0xaf]), Buffer.from('outside/canary.txt\r\n')]),
      Buffer.concat([Buffer.from('RETR ..'), Buffer.from([0xe0, 0x80, 0xaf]), Buffer.from('outside/canary.txt\r\n')]),
      Buffer.concat([Buffer.from('RETR ..'), Buffer.from([0xff, 0xff]), Buffer.from('/outside/canary.txt\r\n')]),
      Buffer.concat([Buffer.from('RETR .'), Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('./outside/canary.txt\r\n')]),
    ];
    for (const line of lines) {
      const d = await connectSocket((await c.pasv()).port);
      const data = collect(d);
      c.write(line);
      const r = await c.reply();
      if (r.code !== 150) d.destroy();
      else await c.reply();
      assertNoLeak(`${JSON.stringify(line.toString('latin1'))} → ${r.code} ${r.text}`, r.text.replace(/\.\.?\/?outside\/canary\.txt/g, '') + (await data).toString('latin1'));
    }
    await c.quit();
  });

  test('afterwards: the outside tree and /etc/passwd are untouched, no descriptor leaked, the server serves', async () => {
    expect(snapshot(base, srv.root)).toEqual(before);
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(etcPasswd);
    expect(await settleFds(srv, fdBaseline, 12_000), describeSockets(srv)).toBeLessThanOrEqual(fdBaseline);
    const c = await loggedIn();
    const got = await retr(c, 'inside.txt');
    expect(got.data.toString()).toBe('inside\n');
    await c.quit();
  });
});
