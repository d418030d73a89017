import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileInfo } from '../../src/index.js';
import { readDirectorySync } from '../../src/node/dir-reader.js';
import { localFileSystem as sourceFileSystem } from '../../src/node/fs.js';
// The worker script exists in dist only: the worker path is tested through the built module.
import { localFileSystem as builtFileSystem } from '../../dist/node/fs.js';
import { DirReaders, dirReaderWorkers, readDirectory, warmDirectoryReaders } from '../../dist/node/dir-reader.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

/** A tree with a file, a folder, links inside, outside and dangling. */
function tree(): { root: string; outside: string } {
  const base = tmp();
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  for (const d of [join(root, 'dir'), outside]) mkdirSync(d, { recursive: true });
  for (const [file, text] of [[join(root, 'hello.txt'), 'hello world\n'], [join(outside, 'secret.txt'), 'secret\n']] as const) writeFileSync(file, text);
  const links = { 'link.txt': 'hello.txt', dirlink: 'dir', 'escape.txt': join(outside, 'secret.txt'), dangling: '/nonexistent/target' };
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(root, name));
  return { root, outside };
}

const byName = (a: FileInfo, b: FileInfo): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const sorted = (infos: FileInfo[]): FileInfo[] => [...infos].sort(byName);

describe('directory listings in a worker thread', () => {
  it('the worker and the calling thread read the same entries (links inside as their target, others as links)', async () => {
    const { root } = tree();
    const fromWorker = await builtFileSystem({ root }).list('/');
    expect(dirReaderWorkers()).toBeGreaterThan(0);
    const here = await sourceFileSystem({ root }).list('/');
    expect(sorted(fromWorker)).toEqual(sorted(here));
    const types = Object.fromEntries(fromWorker.map((e) => [e.name, e.type]));
    expect(types).toEqual({ 'hello.txt': 'file', dir: 'dir', 'link.txt': 'file', dirlink: 'dir', 'escape.txt': 'link', dangling: 'link' });
    const hello = fromWorker.find((e) => e.name === 'hello.txt');
    expect(hello).toMatchObject({ size: 12, mode: 0o666 & ~process.umask(), nlink: 1, uid: process.getuid?.() });
    expect(fromWorker.find((e) => e.name === 'link.txt')?.unique).toBe(hello?.unique);
    expect(fromWorker.find((e) => e.name === 'escape.txt')?.size).not.toBe(7);
  });

  it('errors reading the directory keep their errno code (ENOENT, ENOTDIR) through the worker', async () => {
    const { root } = tree();
    const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'none');
    expect(await code(readDirectory(join(root, 'nope'), root))).toBe('ENOENT');
    expect(await code(readDirectory(join(root, 'hello.txt'), root))).toBe('ENOTDIR');
    const fs = builtFileSystem({ root });
    expect(await code(fs.list('/nope'))).toBe('ENOENT');
    expect(await code(fs.list('/hello.txt'))).toBe('ENOTDIR');
  });

  it('a listing is read afresh every time: sizes and names are those of the moment (no cache)', async () => {
    const { root } = tree();
    const fs = builtFileSystem({ root });
    const size = async (name: string): Promise<number | undefined> => (await fs.list('/')).find((e) => e.name === name)?.size;
    expect(await size('hello.txt')).toBe(12);
    appendFileSync(join(root, 'hello.txt'), 'more');
    expect(await size('hello.txt')).toBe(16);
    truncateSync(join(root, 'hello.txt'), 3);
    expect(await size('hello.txt')).toBe(3);
    writeFileSync(join(root, 'new.txt'), 'x');
    expect(await size('new.txt')).toBe(1);
    renameSync(join(root, 'new.txt'), join(root, 'renamed.txt'));
    expect(await size('new.txt')).toBeUndefined();
    expect(await size('renamed.txt')).toBe(1);
  });

  it('lists a directory while it changes: entries that stay are always there, none is broken, sizes are real', async () => {
    const { root } = tree();
    const dir = join(root, 'busy');
    mkdirSync(dir);
    for (let i = 0; i < 200; i++) writeFileSync(join(dir, `stay-${i}`), 'x'.repeat(i));
    const fs = builtFileSystem({ root });
    let churning = true;
    const churn = (async () => {
      for (let n = 0; churning && n < 200_000; n++) {
        const name = join(dir, `tmp-${n % 50}`);
        writeFileSync(name, 'y'.repeat(n % 97));
        if (n % 3 === 0) unlinkSync(name);
        if (n % 5 === 0) rmSync(join(dir, `tmp-${(n + 25) % 50}`), { force: true });
        if (n % 20 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let round = 0; round < 15; round++) {
        const entries = await Promise.all([fs.list('/busy'), fs.list('/busy'), fs.list('/busy')]);
        for (const list of entries) {
          const stay = list.filter((e) => e.name.startsWith('stay-'));
          expect(stay).toHaveLength(200);
          for (const e of stay) expect(e.size).toBe(Number(e.name.slice(5)));
          for (const e of list) {
            expect(e.type).toBe('file');
            expect(Number.isFinite(e.mtime) && e.mtime > 0).toBe(true);
            if (e.name.startsWith('tmp-')) expect(e.size).toBeLessThan(97);
          }
        }
      }
    } finally {
      churning = false;
      await churn;
    }
  }, 60_000);

  it('reads on the calling thread give the same packed fields as the worker', async () => {
    const { root } = tree();
    const here = readDirectorySync(root, root);
    const there = await readDirectory(root, root);
    const rows = (l: { names: string[]; numbers: Float64Array }): string[] =>
      l.names.map((n, i) => `${n} ${[...l.numbers.subarray(i * 9, i * 9 + 9)].join(',')}`).sort();
    expect(rows(there)).toEqual(rows(here));
    expect(here.numbers.length).toBe(here.names.length * 9);
  });

  it('warmDirectoryReaders starts the workers before any listing; warm workers answer at once', async () => {
    warmDirectoryReaders();
    expect(dirReaderWorkers()).toBe(2);
    warmDirectoryReaders();
    expect(dirReaderWorkers()).toBe(2);
    const { root } = tree();
    expect((await Promise.all([readDirectory(root, root), readDirectory(root, root)])).map((l) => l.names.length)).toEqual([6, 6]);
  });

  it('a worker that dies leaves no request unanswered, and a new one takes its place', async () => {
    const { root } = tree();
    const readers = new DirReaders();
    const first = readers.read(root, root);
    expect(readers.workers).toBe(1);
    const stopped = readers.close();
    expect((await first).names.sort()).toEqual(['dangling', 'dir', 'dirlink', 'escape.txt', 'hello.txt', 'link.txt']);
    await stopped;
    expect(readers.workers).toBe(0);
    expect((await readers.read(root, root)).names).toHaveLength(6);
    expect(readers.workers).toBe(1);
    await readers.close();
  });

  it('an idle worker does not keep the process alive', () => {
    const { root } = tree();
    const file = join(tmp(), 'list.mjs');
    writeFileSync(
      file,
      `import { localFileSystem } from ${JSON.stringify(new URL('../../dist/node/fs.js', import.meta.url).href)};
import { dirReaderWorkers } from ${JSON.stringify(new URL('../../dist/node/dir-reader.js', import.meta.url).href)};
const entries = await localFileSystem({ root: ${JSON.stringify(root)} }).list('/');
console.log(entries.length, dirReaderWorkers());
`,
    );
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('6 1');
  });
});
