import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PASSWORD, USER, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { hygiene, missing, pattern, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

async function server(): Promise<Fixture & { work: string }> {
  const base = tmp();
  const f = await startServer(base);
  cleanups.push(() => f.server.close());
  const work = join(base, 'client');
  mkdirSync(work);
  return { ...f, work };
}

/** Runs a tool asynchronously (the server runs in this process). */
function run(cmd: string, args: readonly string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 30_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const url = (f: Fixture, path = ''): string => `ftp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${f.port}/${path}`;

/** Every file under `dir` with its bytes, as relative path → content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) {
        out[`${relative(dir, full)}/`] = '';
        walk(full);
      } else out[relative(dir, full)] = readFileSync(full).toString('base64');
    }
  };
  walk(dir);
  return out;
}

/** A tree with names that break naive clients and servers. */
function oddTree(dir: string): void {
  const files: Record<string, Buffer> = {
    'with space.txt': Buffer.from('spaces\n'),
    "quote'single.txt": Buffer.from('single\n'),
    'dq"double.txt': Buffer.from('double\n'),
    'ünïcødé-文件.txt': Buffer.from('utf-8 name\n'),
    '-leading-dash.txt': Buffer.from('dash\n'),
    '--two-dashes': Buffer.from('two dashes\n'),
    'sub dir/-nested -x.txt': Buffer.from('nested\n'),
    'sub dir/big.bin': pattern(1_500_000, 11),
    'sub dir/deeper/empty.txt': Buffer.alloc(0),
  };
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
}

describe('curl', { timeout: 30_000 }, () => {
  it.skipIf(missing('curl'))('downloads with PASV, EPSV and active mode, uploads, resumes, lists', async () => {
    const f = await server();
    const data = pattern(2_000_000, 21);
    writeFileSync(join(f.root, 'f.bin'), data);
    const out = join(f.work, 'out.bin');

    let r = await run('curl', ['-sS', '--disable-epsv', '-o', out, url(f, 'f.bin')]);
    expect(r.stderr).toBe('');
    expect(readFileSync(out).equals(data)).toBe(true);

    r = await run('curl', ['-sS', '-o', out, url(f, 'f.bin')]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);

    r = await run('curl', ['-sS', '-P', '127.0.0.1', '-o', out, url(f, 'f.bin')]);
    expect(r.stderr).toBe('');
    expect(readFileSync(out).equals(data)).toBe(true);
    r = await run('curl', ['-sS', '-P', '127.0.0.1', '--disable-eprt', '-o', out, url(f, 'f.bin')]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);

    // Resume a download from where a partial copy ends (REST).
    writeFileSync(out, data.subarray(0, 700_000));
    r = await run('curl', ['-sS', '-C', '-', '-o', out, url(f, 'f.bin')]);
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);

    // Upload, then resume an upload (SIZE + APPE).
    const up = join(f.work, 'up.bin');
    writeFileSync(up, data);
    r = await run('curl', ['-sS', '-T', up, url(f, 'up.bin')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(f.root, 'up.bin')).equals(data)).toBe(true);
    writeFileSync(join(f.root, 'half.bin'), data.subarray(0, 1_000_000));
    r = await run('curl', ['-sS', '-C', '-', '-T', up, url(f, 'half.bin')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(f.root, 'half.bin')).equals(data)).toBe(true);

    r = await run('curl', ['-sS', '--list-only', url(f, '')]);
    expect(r.stdout.split(/\r?\n/).filter(Boolean).sort()).toEqual(['f.bin', 'half.bin', 'up.bin']);
    r = await run('curl', ['-sS', url(f, '')]);
    expect(r.stdout).toMatch(/^-rw-r--r-- +1 \S+ +\S+ +2000000 \w{3} [ \d]\d [\d ]\d:\d\d f\.bin\r?$/m);
  });

  it.skipIf(missing('curl'))('gets a clear error for a missing file and a bad login', async () => {
    const f = await server();
    let r = await run('curl', ['-sS', '-o', join(f.work, 'x'), url(f, 'missing.bin')]);
    expect(r.code).toBe(78); // CURLE_REMOTE_FILE_NOT_FOUND (550)
    r = await run('curl', ['-sS', `ftp://${USER}:wrong@127.0.0.1:${f.port}/`]);
    expect(r.code).toBe(67); // CURLE_LOGIN_DENIED (530)
  });
});

describe('lftp', { timeout: 30_000 }, () => {
  it.skipIf(missing('lftp'))('mirrors a tree with odd names down and up again', async () => {
    const f = await server();
    oddTree(f.root);
    const down = join(f.work, 'down');
    const settings = 'set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; set ftp:charset utf-8';
    let r = await run('lftp', [
      '-u',
      `${USER},${PASSWORD}`,
      '-p',
      String(f.port),
      '-e',
      `${settings}; mirror / "${down}"; quit`,
      '127.0.0.1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(tree(down)).toEqual(tree(f.root));

    // And back up into a new directory (STOR of every name, MKD of every directory).
    r = await run('lftp', [
      '-u',
      `${USER},${PASSWORD}`,
      '-p',
      String(f.port),
      '-e',
      `${settings}; mirror -R "${down}" "/copy"; quit`,
      '127.0.0.1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const original = tree(f.root);
    const copy = tree(join(f.root, 'copy'));
    delete original['copy/'];
    for (const k of Object.keys(original)) if (k.startsWith('copy/')) delete original[k];
    expect(copy).toEqual(original);
    // No hidden-store leftovers anywhere.
    expect(Object.keys(tree(f.root)).filter((k) => k.includes('.in.'))).toEqual([]);
  });
});

const ftplibScript = fileURLToPath(new URL('./ftplib-client.py', import.meta.url));

describe('Python ftplib', { timeout: 30_000 }, () => {
  it.skipIf(missing('python3'))('stores, retrieves, resumes, converts TYPE A, lists, renames, uses active mode, aborts', async () => {
    const f = await server();
    const r = await run('python3', [ftplibScript, String(f.port), USER, PASSWORD, f.root]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      welcome: expect.stringMatching(/^220 /),
      login: expect.stringMatching(/^230 /),
      pwd: '/',
      stor: '226 Transfer complete',
      retr: '226 Transfer complete',
      retr_ok: true,
      rest_ok: true,
      size: 700000,
      storlines: '226 Transfer complete',
      lines: ['one', 'two', 'three'],
      lines_on_disk: 'one\ntwo\nthree\n',
      pwd2: '/dir é',
      nlst: ['dir é', 'lines.txt', 'py.bin'],
      mlsd: [
        ['dir é', 'dir'],
        ['lines.txt', 'file'],
        ['py.bin', 'file'],
      ],
      passive_epsv: '229',
      active_retr: '226 Transfer complete',
      active_ok: true,
      abort: '426 Transfer aborted. Data connection closed.',
      after_abort: '226 Abort successful',
      noop: expect.stringMatching(/^200 /),
      site_bogus: expect.stringMatching(/^5\d\d$/),
      quit: expect.stringMatching(/^221 /),
    });
  });
});
