import { execFile, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ByteSink, ByteSource, FileSystem } from '../../src/index.js';
import { localFileSystem, virtualSegments } from '../../src/node/fs.js';
import type { FileSink, LocalFileSystemOptions } from '../../src/node/fs.js';
import { parseIdFile } from '../../src/node/owners.js';
import { hygiene, pattern, tempDirs } from './helpers.js';

const tmp = tempDirs();
hygiene();

async function collect(source: ByteSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
}

async function upload(sink: ByteSink, ...chunks: Array<string | Buffer>): Promise<void> {
  for (const c of chunks) await sink.write(typeof c === 'string' ? Buffer.from(c) : c);
}

/** A root with a file, a directory, and a sibling outside the root. */
function setup(options: Partial<LocalFileSystemOptions> = {}): { root: string; outside: string; fs: FileSystem } {
  const base = tmp();
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'dir'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'hello.txt'), 'hello world\n');
  writeFileSync(join(outside, 'secret.txt'), 'secret\n');
  return { root, outside, fs: localFileSystem({ root, ownerNames: false, ...options }) };
}

describe('virtual paths', () => {
  it('normalises and never climbs above the root', () => {
    expect(virtualSegments('/')).toEqual([]);
    expect(virtualSegments('/a/./b//c/')).toEqual(['a', 'b', 'c']);
    expect(virtualSegments('/../../etc/passwd')).toEqual(['etc', 'passwd']);
    expect(virtualSegments('/a/../../b')).toEqual(['b']);
    expect(virtualSegments('a\\..\\b')).toEqual(['a\\..\\b']);
    expect(() => virtualSegments('/a\0b')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('rejects bad options as caller misuse', () => {
    expect(() => localFileSystem({ root: '' })).toThrow(expect.objectContaining({ code: 'ERR_FS_ROOT_INVALID' }));
    expect(() => localFileSystem({ root: '/tmp', hiddenStores: 'a/b' })).toThrow(expect.objectContaining({ code: 'ERR_FS_OPTION_INVALID' }));
  });
});

describe('localFileSystem: reading', () => {
  it('stats, lists and reads files under the root', async () => {
    const { fs } = setup();
    const info = await fs.stat('/hello.txt');
    expect(info).toMatchObject({ name: 'hello.txt', type: 'file', size: 12, mode: 0o644 });
    expect(info.unique).toMatch(/^[0-9A-F]+U[0-9A-F]+$/);
    expect((await fs.stat('/')).type).toBe('dir');
    const names = (await fs.list('/')).map((e) => `${e.type}:${e.name}`).sort();
    expect(names).toEqual(['dir:dir', 'file:hello.txt']);
    expect((await collect(await fs.read('/hello.txt', { start: 0 }))).toString()).toBe('hello world\n');
    expect((await collect(await fs.read('/hello.txt', { start: 6 }))).toString()).toBe('world\n');
    expect((await collect(await fs.read('/hello.txt', { start: 100 }))).length).toBe(0);
  });

  it('reads large files in chunks with read-ahead, byte for byte', async () => {
    const { root, fs } = setup({ readChunkSize: 4096, readAhead: 3 });
    const data = pattern(4096 * 5 + 123);
    writeFileSync(join(root, 'big.bin'), data);
    const source = await fs.read('/big.bin', { start: 0 });
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for await (const chunk of source) {
      sizes.push(chunk.length);
      parts.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(sizes).toEqual([4096, 4096, 4096, 4096, 4096, 123]);
    const exact = pattern(8192, 7);
    writeFileSync(join(root, 'exact.bin'), exact);
    expect((await collect(await fs.read('/exact.bin', { start: 4096 }))).equals(exact.subarray(4096))).toBe(true);
  });

  it('holds no descriptor for a source that is never iterated, nor after an early stop', async () => {
    const { root, fs } = setup({ readChunkSize: 4096 });
    writeFileSync(join(root, 'big.bin'), pattern(100_000));
    const before = readdirSync('/proc/self/fd').length;
    await fs.read('/big.bin', { start: 0 });
    expect(readdirSync('/proc/self/fd').length).toBe(before);
    for await (const chunk of await fs.read('/big.bin', { start: 0 })) {
      expect(chunk.length).toBe(4096);
      break;
    }
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });

  it('maps errors to errno names', async () => {
    const { root, fs } = setup();
    expect(await code(fs.stat('/nope'))).toBe('ENOENT');
    expect(await code(fs.read('/dir', { start: 0 }))).toBe('EISDIR');
    expect(await code(fs.list('/hello.txt'))).toBe('ENOTDIR');
    expect(await code(fs.read('/nope', { start: 0 }))).toBe('ENOENT');
    expect(await code(fs.stat('/a\0b'))).toBe('EINVAL');
    expect(await code(fs.stat(`/${'x'.repeat(300)}`))).toBe('ENAMETOOLONG');
    writeFileSync(join(root, 'locked'), 'x', { mode: 0o000 });
    if (process.getuid?.() !== 0) expect(await code(fs.read('/locked', { start: 0 }))).toBe('EACCES');
    const missingRoot = localFileSystem({ root: join(root, 'missing') });
    expect(await code(missingRoot.stat('/'))).toBe('ENOENT');
  });

  it('names owners from passwd/group files', () => {
    const table = parseIdFile('root:x:0:0:root:/root:/bin/bash\n# comment\nftp:x:107:65534::/srv/ftp:/usr/sbin/nologin\nbad\n');
    expect([...table]).toEqual([
      [0, 'root'],
      [107, 'ftp'],
    ]);
  });

  it('names owners from the system files by default', async () => {
    const { fs } = setup({ ownerNames: true });
    const info = await fs.stat('/hello.txt');
    expect(info.uid).toBe(process.getuid?.());
    expect(info.owner).toBe(process.getuid?.() === 0 ? 'root' : expect.any(String));
  });
});

describe('localFileSystem: containment', () => {
  it('keeps .. and absolute paths inside the root', async () => {
    const { fs } = setup();
    expect(await code(fs.stat('/../outside/secret.txt'))).toBe('ENOENT');
    expect(await code(fs.read('/../../../../etc/passwd', { start: 0 }))).toBe('ENOENT');
    expect((await fs.stat('/../hello.txt')).name).toBe('hello.txt');
  });

  it('follows symlinks that stay inside the root', async () => {
    const { root, fs } = setup();
    symlinkSync('hello.txt', join(root, 'link.txt'));
    symlinkSync('dir', join(root, 'dirlink'));
    writeFileSync(join(root, 'dir', 'inner.txt'), 'inner');
    expect((await collect(await fs.read('/link.txt', { start: 0 }))).toString()).toBe('hello world\n');
    expect((await fs.list('/dirlink')).map((e) => e.name)).toEqual(['inner.txt']);
    const entries = await fs.list('/');
    expect(entries.find((e) => e.name === 'link.txt')?.type).toBe('file');
    expect(entries.find((e) => e.name === 'dirlink')?.type).toBe('dir');
    const sink = await fs.write('/dirlink/new.txt', { mode: 'create', start: 0 });
    await upload(sink, 'via link');
    await sink.end();
    expect(readFileSync(join(root, 'dir', 'new.txt'), 'utf8')).toBe('via link');
  });

  it('refuses symlinks that point outside the root, whatever the operation', async () => {
    const { root, outside, fs } = setup();
    symlinkSync(join(outside, 'secret.txt'), join(root, 'escape.txt'));
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync('../../outside/secret.txt', join(root, 'dir', 'relative'));
    symlinkSync('/nonexistent/target', join(root, 'dangling'));
    expect(await code(fs.stat('/escape.txt'))).toBe('EACCES');
    expect(await code(fs.read('/escape.txt', { start: 0 }))).toBe('EACCES');
    expect(await code(fs.read('/dir/relative', { start: 0 }))).toBe('EACCES');
    expect(await code(fs.list('/escape'))).toBe('EACCES');
    expect(await code(fs.stat('/escape/secret.txt'))).toBe('EACCES');
    expect(await code(fs.write('/escape.txt', { mode: 'create', start: 0 }))).toBe('EACCES');
    expect(await code(fs.write('/escape/new.txt', { mode: 'create', start: 0 }))).toBe('EACCES');
    expect(await code(fs.write('/dangling', { mode: 'create', start: 0 }))).toBe('EACCES');
    expect(await code(fs.mkdir('/escape/newdir'))).toBe('EACCES');
    expect(await code(fs.unlink('/escape/secret.txt'))).toBe('EACCES');
    expect(await code(fs.rename('/hello.txt', '/escape/stolen.txt'))).toBe('EACCES');
    expect(await code(fs.rename('/escape/secret.txt', '/mine.txt'))).toBe('EACCES');
    expect(await code(fs.chmod('/escape.txt', 0o777))).toBe('EACCES');
    expect(await code(fs.setModificationTime('/escape.txt', 0))).toBe('EACCES');
    expect(await code(fs.enter!('/escape'))).toBe('EACCES');
    // The listing shows an escaping link as a link, never its target's details.
    const entries = await fs.list('/');
    expect(entries.find((e) => e.name === 'escape.txt')?.type).toBe('link');
    expect(entries.find((e) => e.name === 'dangling')?.type).toBe('link');
    // Deleting the link itself is fine (it is inside the root); the target survives.
    await fs.unlink('/escape.txt');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret\n');
    expect(statSync(outside).isDirectory()).toBe(true);
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
  });

  it('enter (CWD): a directory the process may search; chdir(2) errors otherwise', async () => {
    const { root, fs } = setup();
    expect(await code(fs.enter!('/'))).toBe('ok');
    expect(await code(fs.enter!('/dir'))).toBe('ok');
    expect(await code(fs.enter!('/hello.txt'))).toBe('ENOTDIR');
    expect(await code(fs.enter!('/nope'))).toBe('ENOENT');
    mkdirSync(join(root, 'locked'), { mode: 0o600 });
    // root may search any directory; everyone else needs the x bit
    expect(await code(fs.enter!('/locked'))).toBe(process.getuid?.() === 0 ? 'ok' : 'EACCES');
  });

  it('refuses operations on the root itself', async () => {
    const { fs } = setup();
    expect(await code(fs.rmdir('/'))).toBe('EACCES');
    expect(await code(fs.rename('/', '/x'))).toBe('EACCES');
    expect(await code(fs.write('/', { mode: 'create', start: 0 }))).toBe('EACCES');
  });
});

describe('localFileSystem: changes', () => {
  it('makes and removes directories, deletes, renames, chmods and sets times', async () => {
    const { root, fs } = setup();
    await fs.mkdir('/new');
    expect(statSync(join(root, 'new')).mode & 0o777).toBe(0o755);
    expect(await code(fs.mkdir('/new'))).toBe('EEXIST');
    writeFileSync(join(root, 'new', 'f'), '');
    expect(await code(fs.rmdir('/new'))).toBe('ENOTEMPTY');
    expect(await code(fs.unlink('/new'))).toBe('EISDIR');
    expect(await code(fs.rmdir('/hello.txt'))).toBe('ENOTDIR');
    await fs.unlink('/new/f');
    await fs.rmdir('/new');
    expect(existsSync(join(root, 'new'))).toBe(false);
    await fs.rename('/hello.txt', '/dir/moved.txt');
    expect(readFileSync(join(root, 'dir', 'moved.txt'), 'utf8')).toBe('hello world\n');
    expect(await code(fs.rename('/nope', '/x'))).toBe('ENOENT');
    expect(await code(fs.rename('/dir', '/dir/sub'))).toBe('EINVAL');
    await fs.chmod('/dir/moved.txt', 0o600);
    expect(statSync(join(root, 'dir', 'moved.txt')).mode & 0o7777).toBe(0o600);
    expect(await code(fs.chmod('/dir/moved.txt', 0o17777))).toBe('EINVAL');
    const when = Date.UTC(2020, 0, 2, 3, 4, 5);
    await fs.setModificationTime('/dir/moved.txt', when);
    expect((await fs.stat('/dir/moved.txt')).mtime).toBe(when);
  });

  it('applies an explicit umask exactly', async () => {
    const { root, fs } = setup({ umask: 0o077, hiddenStores: false });
    await fs.mkdir('/private');
    expect(statSync(join(root, 'private')).mode & 0o777).toBe(0o700);
    const sink = await fs.write('/private/f', { mode: 'create', start: 0 });
    await sink.end();
    expect(statSync(join(root, 'private', 'f')).mode & 0o777).toBe(0o600);
  });
});

describe('localFileSystem: uploads with hidden stores', () => {
  it('writes to .in.<name>. and publishes on end', async () => {
    const { root, fs } = setup();
    const sink = await fs.write('/up.txt', { mode: 'create', start: 0 });
    await upload(sink, 'part one, ', 'part two');
    expect(existsSync(join(root, 'up.txt'))).toBe(false);
    expect(existsSync(join(root, '.in.up.txt.'))).toBe(true);
    await sink.end();
    expect(readFileSync(join(root, 'up.txt'), 'utf8')).toBe('part one, part two');
    expect(existsSync(join(root, '.in.up.txt.'))).toBe(false);
    await sink.end(); // idempotent
  });

  it('replaces an existing file atomically: readers see the old bytes until the end', async () => {
    const { root, fs } = setup();
    const sink = await fs.write('/hello.txt', { mode: 'create', start: 0 });
    await upload(sink, 'NEW');
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('hello world\n');
    await sink.end();
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('NEW');
  });

  it('discards an aborted upload: nothing under either name', async () => {
    const { root, fs } = setup();
    const sink = await fs.write('/gone.txt', { mode: 'create', start: 0 });
    await upload(sink, 'half');
    await sink.abort();
    await sink.abort();
    expect(existsSync(join(root, 'gone.txt'))).toBe(false);
    expect(existsSync(join(root, '.in.gone.txt.'))).toBe(false);
    await expect(sink.end()).rejects.toMatchObject({ code: 'EABORTED' });
  });

  it('discards instead of publishing when the feeding connection was cut short', async () => {
    const { root, fs } = setup();
    const sink = (await fs.write('/cut.txt', { mode: 'create', start: 0 })) as FileSink;
    await upload(sink, 'half');
    sink.completion = 'incomplete';
    await sink.end();
    expect(existsSync(join(root, 'cut.txt'))).toBe(false);
    expect(existsSync(join(root, '.in.cut.txt.'))).toBe(false);
  });

  it('uses a custom prefix, refuses a concurrent upload of the same name, replaces a stale leftover', async () => {
    const { root, fs } = setup({ hiddenStores: '.tmp-' });
    writeFileSync(join(root, '.tmp-x.'), 'stale from a crash');
    const a = await fs.write('/x', { mode: 'create', start: 0 });
    expect(await code(fs.write('/x', { mode: 'create', start: 0 }))).toBe('EBUSY');
    await upload(a, 'fresh');
    await a.end();
    expect(readFileSync(join(root, 'x'), 'utf8')).toBe('fresh');
    const b = await fs.write('/x', { mode: 'create', start: 0 });
    await b.abort();
  });

  it('STOU: refuses an existing name, and one that appears during the upload', async () => {
    const { root, fs } = setup();
    expect(await code(fs.write('/hello.txt', { mode: 'create', start: 0, unique: true }))).toBe('EEXIST');
    const sink = await fs.write('/u1', { mode: 'create', start: 0, unique: true });
    await upload(sink, 'mine');
    writeFileSync(join(root, 'u1'), 'someone else');
    await expect(sink.end()).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(root, 'u1'), 'utf8')).toBe('someone else');
    expect(existsSync(join(root, '.in.u1.'))).toBe(false);
    const ok = await fs.write('/u2', { mode: 'create', start: 0, unique: true });
    await upload(ok, 'fine');
    await ok.end();
    expect(readFileSync(join(root, 'u2'), 'utf8')).toBe('fine');
  });

  it('APPE and REST+STOR extend the existing file in place', async () => {
    const { root, fs } = setup();
    const a = await fs.write('/hello.txt', { mode: 'append', start: 0 });
    await upload(a, 'more\n');
    await a.end();
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('hello world\nmore\n');
    const r = await fs.write('/hello.txt', { mode: 'offset', start: 6 });
    await upload(r, 'there\n');
    await r.end();
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('hello there\n');
    const beyond = await fs.write('/new.bin', { mode: 'offset', start: 3 });
    await upload(beyond, 'x');
    await beyond.end();
    expect(readFileSync(join(root, 'new.bin'))).toEqual(Buffer.from([0, 0, 0, 0x78]));
  });

  it('refuses to upload onto a directory', async () => {
    const { fs } = setup();
    expect(await code(fs.write('/dir', { mode: 'create', start: 0 }))).toBe('EISDIR');
    expect(await code(fs.write('/nodir/f', { mode: 'create', start: 0 }))).toBe('ENOENT');
    expect(await code(fs.write('/hello.txt/f', { mode: 'create', start: 0 }))).toBe('ENOTDIR');
  });

  it('writes large uploads with backpressure, byte for byte, and fsyncs when asked', async () => {
    const { root, fs } = setup({ fsync: true, uploadBufferSize: 256 * 1024, uploadWrites: 'pool' });
    const data = pattern(3 * 1024 * 1024 + 17);
    const sink = await fs.write('/big.bin', { mode: 'create', start: 0 });
    let waited = 0;
    for (let i = 0; i < data.length; i += 65536) {
      const r = sink.write(data.subarray(i, i + 65536));
      if (r !== undefined) {
        waited++;
        await r;
      }
    }
    await sink.end();
    expect(waited).toBeGreaterThan(0);
    expect(readFileSync(join(root, 'big.bin')).equals(data)).toBe(true);
  });
});

describe('localFileSystem: uploads in place', () => {
  it('keeps an aborted upload unless deleteAbortedStores', async () => {
    const { root, fs } = setup({ hiddenStores: false });
    const sink = await fs.write('/partial', { mode: 'create', start: 0 });
    await upload(sink, 'half');
    await sink.abort(); // what was received is flushed, then kept
    expect(readFileSync(join(root, 'partial'), 'utf8')).toBe('half');

    const del = setup({ hiddenStores: false, deleteAbortedStores: true });
    const s2 = await del.fs.write('/partial', { mode: 'create', start: 0 });
    await upload(s2, 'half');
    await s2.abort();
    expect(existsSync(join(del.root, 'partial'))).toBe(false);
    // A resume that is cut short keeps what was there.
    writeFileSync(join(del.root, 'resume'), 'abc');
    const s3 = await del.fs.write('/resume', { mode: 'append', start: 0 });
    await upload(s3, 'd');
    await s3.abort();
    expect(readFileSync(join(del.root, 'resume'), 'utf8')).toBe('abcd');
  });

  it('STOU in place refuses an existing name', async () => {
    const { fs } = setup({ hiddenStores: false });
    expect(await code(fs.write('/hello.txt', { mode: 'create', start: 0, unique: true }))).toBe('EEXIST');
  });

  it('writes through a symlink inside the root to its target', async () => {
    const { root, fs } = setup({ hiddenStores: false });
    symlinkSync('hello.txt', join(root, 'alias'));
    const sink = await fs.write('/alias', { mode: 'create', start: 0 });
    await upload(sink, 'replaced');
    await sink.end();
    expect(lstatSync(join(root, 'alias')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe('replaced');
  });
});

// ENOSPC needs a small file system: a tmpfs in a private mount namespace (unshare -rm),
// where enospc-scenario.mjs drives the built module.
const scenario = fileURLToPath(new URL('./enospc-scenario.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/node/index.js', import.meta.url));
const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0;

describe('localFileSystem: a full disk', () => {
  it.skipIf(process.env.CI !== 'true' && (!canUnshare || !existsSync(dist)))(
    'reports ENOSPC (not EIO), the client gets 452, nothing is left behind',
    { timeout: 20_000 },
    async () => {
      const dir = tmp();
      // Asynchronous: a synchronous spawn would block this worker for the child's run.
      const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
        execFile(
          'unshare',
          ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=256k tmpfs "$1" && exec "$2" "$3" "$1"', 'sh', dir, process.execPath, scenario],
          { encoding: 'utf8', timeout: 15_000 },
          (_error, stdout, stderr) => resolve({ stdout, stderr }),
        );
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        fsCode: 'ENOSPC',
        fsLeft: [],
        storReply: '452 Transfer aborted. No space left on device',
        serverLeft: [],
        inPlaceLeft: ['old.txt'],
        appendedKept: 'old\n',
      });
    },
  );
});
