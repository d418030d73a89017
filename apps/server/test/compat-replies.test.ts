/**
 * `ftpkit serve --config` over real sockets, answering as ProFTPD 1.3.8 answered the same
 * commands on the wire (bench/compat/diff.mjs runs both side by side).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RawFtp, anonymousSection, cleanup, dataConnection, freePort, serve, tempDir } from './helpers.js';

afterEach(cleanup);

describe('replies as ProFTPD 1.3.8 gives them', () => {
  it('login, arguments and listings', async () => {
    const dir = tempDir();
    const root = join(dir, 'root');
    mkdirSync(join(root, 'pub', 'deep'), { recursive: true });
    writeFileSync(join(root, 'welcome.txt'), 'w\n');
    writeFileSync(join(root, 'pub', 'deep', 'f.txt'), 'f\n');
    const port = await freePort();
    const conf = join(dir, 'proftpd.conf');
    writeFileSync(conf, `Port ${port}\nDefaultAddress 127.0.0.1\nSocketBindTight on\n${anonymousSection(root)}\n`);
    const s = await serve(['--config', conf]);
    const c = await RawFtp.connect(port);
    expect((await c.read()).code).toBe(220);
    expect(await c.cmd('USER')).toEqual({ code: 500, text: 'USER: command requires a parameter' });
    expect(await c.cmd('TYPE I')).toEqual({ code: 200, text: 'Type set to I' });
    expect(await c.login('anonymous', 'me@example.com')).toEqual({ code: 230, text: 'Anonymous access granted, restrictions apply' });
    expect(await c.cmd('USER anonymous')).toEqual({ code: 230, text: 'User anonymous logged in' });
    expect(await c.cmd('USER someone')).toEqual({ code: 501, text: 'Reauthentication not supported' });
    expect(await c.cmd('NOOP x')).toEqual({ code: 200, text: 'NOOP command successful' });
    expect(await c.cmd('TYPE')).toEqual({ code: 500, text: "'TYPE' not understood" });
    expect(await c.cmd('MODE')).toEqual({ code: 501, text: "'MODE' not understood" });
    expect(await c.cmd('ALLO abc')).toEqual({ code: 504, text: 'abc: Invalid ALLO argument' });
    expect(await c.cmd('SITE')).toEqual({ code: 500, text: "'SITE' requires parameters" });
    expect(await c.cmd('OPTS UTF8')).toEqual({ code: 501, text: "'OPTS UTF8' not understood" });
    c.socket.write('PWD   \r\n');
    expect(await c.read()).toEqual({ code: 257, text: '"/" is the current directory' });

    const p = await c.pasv();
    const data = dataConnection(p.port);
    expect((await c.cmd('LIST -R')).code).toBe(150);
    const listing = (await data.done).toString('utf8');
    expect((await c.read()).code).toBe(226);
    const names = listing.split('\r\n').map((l) => (l.includes(' ') ? l.slice(l.lastIndexOf(' ') + 1) : l));
    expect(names).toEqual(['pub', 'welcome.txt', '', 'pub:', 'deep', '', 'pub/deep:', 'f.txt', '']);
    c.close();
    await s.stop();
  });
});
