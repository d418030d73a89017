import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DataChannelFactory } from '../../src/index.js';
import { nodeDataChannels } from '../../src/node/index.js';
import { RawClient, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { eventually, hygiene, pattern, readAll, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

/** Data channels that record every active connection the core asks for. */
function spyChannels(): { factory: DataChannelFactory; connects: string[] } {
  const inner = nodeDataChannels({ lingerMs: 1000 });
  const connects: string[] = [];
  return {
    connects,
    factory: {
      listen: (r) => inner.listen(r),
      connect: (r) => {
        connects.push(`${r.host}:${r.port}`);
        return inner.connect(r);
      },
    },
  };
}

async function replyLine(c: RawClient): Promise<string> {
  const r = await c.reply();
  return `${r.code} ${r.text}`;
}

async function session(options: Parameters<typeof startServer>[1] = {}): Promise<{ f: Fixture; c: RawClient; base: string }> {
  const base = tmp();
  const f = await startServer(base, options);
  cleanups.push(() => f.server.close());
  const c = await RawClient.open(f.port);
  cleanups.push(() => c.close());
  await c.login();
  return { f, c, base };
}

describe('ABOR', { timeout: 30_000 }, () => {
  it('mid-RETR: 426 then 226, the data connection is closed, the session goes on', async () => {
    const { f, c } = await session();
    writeFileSync(join(f.root, 'huge.bin'), pattern(48 * 1024 * 1024));
    const { data } = await c.pasv();
    const sock = await data();
    sock.on('error', () => undefined);
    sock.pause(); // let the server block on backpressure
    c.send('RETR huge.bin');
    expect((await c.reply()).code).toBe(150);
    await new Promise((r) => setTimeout(r, 100));
    const closed = new Promise((resolve) => sock.once('close', resolve));
    sock.resume();
    c.send('ABOR');
    expect(await c.reply()).toMatchObject({ code: 426 });
    expect(await c.reply()).toMatchObject({ code: 226 });
    await closed;
    expect(await c.cmd('NOOP')).toMatch(/^200 /);
    const end = f.events.find((e) => e.type === 'transfer-end');
    expect(end).toMatchObject({ reason: 'aborted', completion: 'i' });
  });

  it('mid-STOR: nothing appears under the final name, no temporary file stays', async () => {
    const { f, c } = await session();
    const { data } = await c.pasv();
    const sock = await data();
    sock.on('error', () => undefined);
    c.send('STOR aborted.bin');
    expect((await c.reply()).code).toBe(150);
    sock.write(pattern(256 * 1024));
    await eventually(() => existsSync(join(f.root, '.in.aborted.bin.')));
    c.send('ABOR');
    expect(await c.reply()).toMatchObject({ code: 426 });
    expect(await c.reply()).toMatchObject({ code: 226 });
    await eventually(() => readdirSync(f.root).length === 0, 3000, 'upload discarded');
    expect(await c.cmd('NOOP')).toMatch(/^200 /);
  });

  it('a data connection reset mid-STOR: 426, nothing published', async () => {
    const { f, c } = await session();
    const { data } = await c.pasv();
    const sock = await data();
    c.send('STOR reset.bin');
    expect((await c.reply()).code).toBe(150);
    sock.write('some bytes');
    await eventually(() => existsSync(join(f.root, '.in.reset.bin.')));
    await new Promise((r) => setTimeout(r, 50));
    sock.resetAndDestroy();
    expect(await c.reply()).toMatchObject({ code: 426 });
    await eventually(() => readdirSync(f.root).length === 0, 3000, 'upload discarded');
  });
});

describe('REST', { timeout: 30_000 }, () => {
  it('resumes RETR and STOR at the offset', async () => {
    const { f, c } = await session();
    const data = pattern(200_000, 5);
    writeFileSync(join(f.root, 'r.bin'), data);
    expect(await c.cmd('TYPE I')).toMatch(/^200 /);
    expect(await c.cmd('REST 150000')).toMatch(/^350 /);
    let p = await c.pasv();
    let sock = await p.data();
    c.send('RETR r.bin');
    expect((await c.reply()).code).toBe(150);
    expect((await readAll(sock)).equals(data.subarray(150_000))).toBe(true);
    expect((await c.reply()).code).toBe(226);

    writeFileSync(join(f.root, 'w.bin'), Buffer.concat([data.subarray(0, 1000), Buffer.from('garbage tail')]));
    expect(await c.cmd('REST 1000')).toMatch(/^350 /);
    p = await c.pasv();
    sock = await p.data();
    c.send('STOR w.bin');
    expect((await c.reply()).code).toBe(150);
    sock.end(data.subarray(1000));
    expect((await c.reply()).code).toBe(226);
    expect(readFileSync(join(f.root, 'w.bin')).equals(data)).toBe(true);
  });
});

describe('PORT and EPRT refusals', () => {
  it('refuses a foreign address and a privileged port without connecting anywhere', async () => {
    const spy = spyChannels();
    const { c } = await session({ dataChannels: spy.factory });
    expect(await c.cmd('PORT 192,0,2,1,200,10')).toMatch(/^500 /);
    expect(await c.cmd('EPRT |1|192.0.2.1|51210|')).toMatch(/^5\d\d /);
    expect(await c.cmd('PORT 127,0,0,1,0,25')).toMatch(/^5\d\d /);
    expect(await c.cmd('EPRT |1|127.0.0.1|25|')).toMatch(/^5\d\d /);
    // A transfer after the refusals has no data channel to use.
    expect(await c.cmd('LIST')).toMatch(/^425 /);
    expect(spy.connects).toEqual([]);
  });
});

describe('path traversal', { timeout: 30_000 }, () => {
  it('keeps every path inside the user root, symlinks included', async () => {
    const { f, c, base } = await session();
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret.txt'), 'secret');
    writeFileSync(join(f.root, 'mine.txt'), 'mine');
    symlinkSync(join(base, 'outside', 'secret.txt'), join(f.root, 'link-out.txt'));
    symlinkSync(join(base, 'outside'), join(f.root, 'dir-out'));
    symlinkSync('mine.txt', join(f.root, 'link-in.txt'));

    expect(await c.cmd('TYPE I')).toMatch(/^200 /);
    expect(await c.cmd('CWD ../../..')).toMatch(/^250 /);
    expect(await c.cmd('PWD')).toBe('257 "/" is the current directory');
    expect(await c.cmd('SIZE ../outside/secret.txt')).toMatch(/^550 /);
    expect(await c.cmd('SIZE /../../outside/secret.txt')).toMatch(/^550 /);
    expect(await c.cmd('SIZE link-in.txt')).toBe('213 4');
    expect(await c.cmd('SIZE link-out.txt')).toMatch(/^550 /);
    expect(await c.cmd('CWD dir-out')).toMatch(/^550 /);
    expect(await c.cmd('MKD dir-out/new')).toMatch(/^550 /);
    expect(await c.cmd('DELE dir-out/secret.txt')).toMatch(/^550 /);
    expect(await c.cmd('RNFR mine.txt')).toMatch(/^350 /);
    expect(await c.cmd('RNTO dir-out/stolen.txt')).toMatch(/^550 /);
    expect(await c.cmd('RNFR dir-out/secret.txt')).toMatch(/^550 /);

    let p = await c.pasv();
    let sock = await p.data();
    c.send('RETR link-out.txt');
    expect(await replyLine(c)).toMatch(/^550 /);
    sock.destroy();
    p = await c.pasv();
    sock = await p.data();
    c.send('RETR ../../../../../etc/passwd');
    expect(await replyLine(c)).toMatch(/^550 /);
    sock.destroy();
    p = await c.pasv();
    sock = await p.data();
    c.send('STOR dir-out/planted.txt');
    expect(await replyLine(c)).toMatch(/^550 /);
    sock.destroy();
    p = await c.pasv();
    sock = await p.data();
    c.send('LIST dir-out');
    // ProFTPD opens the data connection, sends nothing and answers 450.
    expect((await c.reply()).code).toBe(150);
    expect((await readAll(sock)).toString()).toBe('');
    expect(await c.reply()).toMatchObject({ code: 450, text: 'dir-out: Permission denied' });
    expect(readdirSync(join(base, 'outside'))).toEqual(['secret.txt']);
    expect(readFileSync(join(base, 'outside', 'secret.txt'), 'utf8')).toBe('secret');
  });
});
