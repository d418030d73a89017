/**
 * `ftpkit serve` end to end on 127.0.0.1: the built CLI, real clients (basic-ftp and raw
 * dialogues), every flag, NAT guide configurations, logs, TransferLog, reload and drain.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { anonymousSection, cleanup, cryptHash, dataConnection, freePort, freeRange, loopbackConf, RawFtp, runCli, serve, tempDir } from './helpers.js';

afterEach(cleanup);
afterAll(cleanup);

async function ftpClient(port: number, user = 'anonymous', password = 'guest@example.com'): Promise<Client> {
  const c = new Client(5000);
  await c.access({ host: '127.0.0.1', port, user, password });
  return c;
}

async function download(c: Client, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await c.downloadTo(new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } }), path);
  return Buffer.concat(chunks);
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('ftpkit serve with no configuration (npm start)', () => {
  it('serves ./ftp-root on 127.0.0.1:2121, anonymous read-only, and says how to connect', async () => {
    const cwd = tempDir();
    const s = await serve([], { cwd });
    expect(existsSync(join(cwd, 'ftp-root'))).toBe(true);
    const hint = await s.waitFor(/connect with: ftp:\/\/127\.0\.0\.1:2121\//);
    expect(hint.msg).toContain('anonymous, read-only');
    writeFileSync(join(cwd, 'ftp-root', 'hello.txt'), 'hello\n');
    const c = await ftpClient(2121);
    try {
      expect((await c.list()).map((f) => f.name)).toContain('hello.txt');
      expect((await download(c, 'hello.txt')).toString()).toBe('hello\n');
      await expect(c.uploadFrom(Readable.from([Buffer.from('x')]), 'new.txt')).rejects.toThrow(/55\d/);
    } finally {
      c.close();
    }
    expect(existsSync(join(cwd, 'ftp-root', 'new.txt'))).toBe(false);
    expect(await s.stop()).toBe(0);
  });
});

describe('ftpkit serve flags', () => {
  it('--root --listen --port --passive-ports --user (hashed), anonymous refused without --anonymous', async () => {
    const root = tempDir();
    const port = await freePort();
    const range = await freeRange(4);
    const s = await serve(['--root', root, '--listen', '127.0.0.1', '--port', String(port), '--passive-ports', range.spec, '--user', 'bob:s3cret']);
    const c = await ftpClient(port, 'bob', 's3cret');
    try {
      const payload = randomBytes(100_000);
      await c.uploadFrom(Readable.from([payload]), 'up.bin');
      expect(sha(readFileSync(join(root, 'up.bin')))).toBe(sha(payload));
    } finally {
      c.close();
    }
    const raw = await RawFtp.connect(port);
    await raw.read();
    expect((await raw.login('bob', 'wrong')).code).toBe(530);
    expect((await raw.login('anonymous', 'x@y')).code).toBe(530);
    expect((await raw.login('bob', 's3cret')).code).toBe(230);
    const p = await raw.pasv();
    expect(p.code).toBe(227);
    expect(p.port).toBeGreaterThanOrEqual(range.min);
    expect(p.port).toBeLessThanOrEqual(range.max);
    raw.close();
    expect(JSON.stringify(s.logs)).not.toContain('s3cret');
    await s.stop();
  });

  it('--user with --anonymous allows both', async () => {
    const root = tempDir();
    const port = await freePort();
    const s = await serve(['--root', root, '--port', String(port), '--user', 'bob:pw', '--anonymous']);
    const raw = await RawFtp.connect(port);
    await raw.read();
    expect((await raw.login('anonymous', 'me@example.com')).code).toBe(230);
    raw.close();
    await s.stop();
  });

  it('--masquerade: 227 carries the address, startup logs both ProFTPD forms', async () => {
    const port = await freePort();
    const s = await serve(['--root', tempDir(), '--port', String(port), '--masquerade', '127.0.0.2']);
    await s.waitFor(new RegExp(`^127\\.0\\.0\\.1:${port} masquerading as 127\\.0\\.0\\.2$`));
    await s.waitFor(/^Masquerading as '127\.0\.0\.2' \(127\.0\.0\.2\)$/);
    const raw = await RawFtp.connect(port);
    await raw.read();
    await raw.login('anonymous', 'x@y');
    const p = await raw.pasv();
    expect(p.host).toBe('127.0.0.2');
    raw.close();
    await s.stop();
  });

  it('passive peer check: a foreign data connection is refused and logged; --allow-foreign-address allows it', async () => {
    for (const allow of [false, true]) {
      const root = tempDir();
      writeFileSync(join(root, 'f.txt'), 'data');
      const port = await freePort();
      const s = await serve(['--root', root, '--port', String(port), ...(allow ? ['--allow-foreign-address'] : [])]);
      const raw = await RawFtp.connect(port);
      await raw.read();
      await raw.login('anonymous', 'x@y');
      const p = await raw.pasv();
      const stranger = dataConnection(p.port, '127.0.0.1', '127.0.0.2');
      const first = raw.cmd('RETR f.txt');
      if (allow) {
        expect((await first).code).toBe(150);
        expect((await stranger.done).toString()).toBe('data');
      } else {
        await s.waitFor(/^SECURITY VIOLATION: Passive connection from foreign IP address 127\.0\.0\.2 rejected \(does not match client IP address 127\.0\.0\.1\)\.$/);
        expect((await stranger.done).length).toBe(0);
        // The stranger did not steal the transfer: the client's own connection still gets it.
        const own = dataConnection(p.port);
        expect((await first).code).toBe(150);
        expect((await own.done).toString()).toBe('data');
      }
      expect((await raw.read()).code).toBe(226);
      raw.close();
      await s.stop();
    }
  });

  it('--exhaustion refuse answers 425; kernel falls back and logs ProFTPD\'s line', async () => {
    for (const policy of ['refuse', 'kernel'] as const) {
      const port = await freePort();
      const range = await freeRange(2);
      const s = await serve(['--root', tempDir(), '--port', String(port), '--passive-ports', range.spec, '--exhaustion', policy]);
      const holders: RawFtp[] = [];
      for (let i = 0; i < 2; i++) {
        const h = await RawFtp.connect(port);
        await h.read();
        await h.login('anonymous', 'x@y');
        const p = await h.pasv();
        expect(p.port).toBeGreaterThanOrEqual(range.min);
        expect(p.port).toBeLessThanOrEqual(range.max);
        holders.push(h);
      }
      const b = await RawFtp.connect(port);
      await b.read();
      await b.login('anonymous', 'x@y');
      const p = await b.pasv();
      if (policy === 'refuse') {
        expect(p.code).toBe(425);
        await s.waitFor(new RegExp(`unable to find open port in PassivePorts range ${range.spec}: refusing`));
      } else {
        expect(p.code).toBe(227);
        expect(p.port < range.min || p.port > range.max).toBe(true);
        await s.waitFor(new RegExp(`^unable to find open port in PassivePorts range ${range.spec}: defaulting to INPORT_ANY \\(consider defining a larger PassivePorts range\\)$`));
      }
      for (const h of [...holders, b]) h.close();
      await s.stop();
    }
  });

  it('--passive-per-client: one address cannot take the whole range from another', async () => {
    const port = await freePort();
    const range = await freeRange(4);
    const s = await serve(['--root', tempDir(), '--port', String(port), '--passive-ports', range.spec, '--passive-per-client', '2']);
    const codes: number[] = [];
    const clients: RawFtp[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await RawFtp.connect(port);
      await c.read();
      await c.login('anonymous', 'x@y');
      codes.push((await c.pasv()).code);
      clients.push(c);
    }
    expect(codes).toEqual([227, 227, 425]);
    const other = await RawFtp.connect(port, '127.0.0.1', '127.0.0.2');
    await other.read();
    await other.login('anonymous', 'x@y');
    const p = await other.pasv();
    expect(p.code).toBe(227);
    expect(p.port >= range.min && p.port <= range.max).toBe(true);
    for (const c of [...clients, other]) c.close();
    await s.stop();
  });

  it('refuses PORT to a foreign address with ProFTPD\'s log line', async () => {
    const port = await freePort();
    const s = await serve(['--root', tempDir(), '--port', String(port)]);
    const raw = await RawFtp.connect(port);
    await raw.read();
    await raw.login('anonymous', 'x@y');
    expect((await raw.cmd('PORT 1,2,3,4,234,96')).code).toBe(500);
    await s.waitFor(/^Refused PORT 1,2,3,4,234,96 \(address mismatch\)$/);
    raw.close();
    await s.stop();
  });

  it('exits 1 with file:line errors on a bad configuration, and 1 when the port is taken', async () => {
    const dir = tempDir();
    const conf = join(dir, 'bad.conf');
    writeFileSync(conf, 'Port 2121\nPassivePorts 70000 80000\n');
    const r = await runCli(['serve', '--config', conf]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${conf}:2:`);
    const port = await freePort();
    const first = await serve(['--root', tempDir(), '--port', String(port)]);
    const second = await runCli(['serve', '--root', tempDir(), '--port', String(port), '--log-format', 'json']);
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('EADDRINUSE');
    await first.stop();
  });
});

describe('ftpkit serve --config: the NAT guide configurations', () => {
  it('AuthUserFile + DefaultRoot ~ + MasqueradeAddress + PassivePorts + TransferLog (xferlog)', async () => {
    const dir = tempDir();
    const home = join(dir, 'home', 'alice');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'hello.txt'), 'hello\n');
    const hash = cryptHash('n4t-Secret');
    writeFileSync(join(dir, 'ftpd.passwd'), `alice:${hash}:1000:1000:Alice:${home}:/bin/sh\n`);
    const port = await freePort();
    const range = await freeRange(5);
    const conf = join(dir, 'proftpd.conf');
    writeFileSync(conf, `ServerName "NAT probe"
DefaultAddress 127.0.0.1
SocketBindTight on
Port ${port}
MasqueradeAddress 203.0.113.7
PassivePorts ${range.min} ${range.max}
AuthUserFile ${join(dir, 'ftpd.passwd')}
RequireValidShell off
DefaultRoot ~
TransferLog ${join(dir, 'xferlog')}
`);
    const s = await serve(['--config', conf]);
    await s.waitFor(new RegExp(`^127\\.0\\.0\\.1:${port} masquerading as 203\\.0\\.113\\.7$`));
    const raw = await RawFtp.connect(port);
    expect((await raw.read()).text).toBe('ftpkit Server (NAT probe) [203.0.113.7]');
    expect((await raw.login('alice', 'n4t-Secret')).text).toBe('User alice logged in');
    expect((await raw.cmd('PWD')).text).toMatch(/^"\/" /);
    const p = await raw.pasv();
    expect(p.host).toBe('203.0.113.7');
    expect(p.port).toBeGreaterThanOrEqual(range.min);
    // The masquerade address is not ours: the client reaches the port on the real address.
    const d = dataConnection(p.port);
    expect((await raw.cmd('TYPE I')).code).toBe(200);
    const r = await raw.cmd('RETR hello.txt');
    expect(r.code).toBe(150);
    expect((await d.done).toString()).toBe('hello\n');
    expect((await raw.read()).code).toBe(226);
    raw.close();
    await s.waitFor(/^download of \/hello\.txt complete: 6 bytes/);
    const deadline = Date.now() + 3000;
    while (!existsSync(join(dir, 'xferlog')) || readFileSync(join(dir, 'xferlog'), 'utf8') === '') {
      if (Date.now() > deadline) throw new Error('no xferlog line');
      await new Promise((res) => setTimeout(res, 50));
    }
    const line = readFileSync(join(dir, 'xferlog'), 'utf8').trim();
    expect(line).toMatch(/^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4} \d+ 127\.0\.0\.1 6 \/hello\.txt b _ o r alice ftp 0 \* c$/);
    await s.stop();
  });

  it('the FAQ: a LAN <VirtualHost> without MasqueradeAddress next to a masquerading main server', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = join(dir, 'faq.conf');
    writeFileSync(conf, `ServerName "Some Server Name"
Port ${port}
MasqueradeAddress 203.0.113.7
${anonymousSection(dir)}
<VirtualHost 127.0.0.2>
  ServerName "Some Other Server Name"
${anonymousSection(dir, '  ')}
</VirtualHost>
`);
    const s = await serve(['--config', conf]);
    const main = await RawFtp.connect(port, '127.0.0.1');
    expect((await main.read()).text).toBe('ftpkit Server (Some Server Name) [203.0.113.7]');
    await main.login('anonymous', 'x@y');
    expect((await main.pasv()).host).toBe('203.0.113.7');
    const lan = await RawFtp.connect(port, '127.0.0.2');
    expect((await lan.read()).text).toBe('ftpkit Server (Some Other Server Name) [127.0.0.2]');
    await lan.login('anonymous', 'x@y');
    expect((await lan.pasv()).host).toBe('127.0.0.2');
    main.close();
    lan.close();
    await s.stop();
  });

  it('the FAQ: <IfClass> gives internal clients another MasqueradeAddress; <Limit EPSV> DenyAll', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = join(dir, 'ifclass.conf');
    writeFileSync(conf, `Port ${port}
<IfModule mod_ifsession.c>
  <Class internal>
    From 127.0.0.2/32
  </Class>
  <IfClass internal>
    MasqueradeAddress 10.1.2.3
  </IfClass>
  <IfClass !internal>
    MasqueradeAddress 203.0.113.4
  </IfClass>
</IfModule>
<Limit EPSV>
  DenyAll
</Limit>
${anonymousSection(dir)}
`);
    const s = await serve(['--config', conf]);
    const internal = await RawFtp.connect(port, '127.0.0.1', '127.0.0.2');
    await internal.read();
    await internal.login('anonymous', 'x@y');
    expect((await internal.pasv()).host).toBe('10.1.2.3');
    const feat = await internal.cmd('FEAT');
    expect(feat.text).not.toMatch(/\bEPSV\b/);
    expect((await internal.cmd('EPSV')).text).toBe('EPSV: Operation not permitted');
    const other = await RawFtp.connect(port, '127.0.0.1');
    await other.read();
    await other.login('anonymous', 'x@y');
    expect((await other.pasv()).host).toBe('203.0.113.4');
    internal.close();
    other.close();
    await s.stop();
  });

  it('-D defines select <IfDefine> sections; PidFile is written and removed', async () => {
    const dir = tempDir();
    const port = await freePort();
    const pid = join(dir, 'ftpkit.pid');
    const conf = loopbackConf(dir, port, `PidFile ${pid}\n<IfDefine PUBLIC>\n  MasqueradeAddress 203.0.113.5\n</IfDefine>`);
    const s = await serve(['--config', conf, '-D', 'PUBLIC'], { ready: /^configuration loaded/ });
    expect(readFileSync(pid, 'utf8').trim()).toBe(String(s.child.pid));
    const raw = await RawFtp.connect(port);
    expect((await raw.read()).text).toContain('[203.0.113.5]');
    raw.close();
    expect(await s.stop()).toBe(0);
    expect(existsSync(pid)).toBe(false);
  });
});

describe('signals', () => {
  it('SIGHUP reloads: open sessions keep their configuration, new ones get the new one; a broken file is refused', async () => {
    const dir = tempDir();
    const port = await freePort();
    const write = (masq: string): string => loopbackConf(dir, port, `MasqueradeAddress ${masq}`);
    const conf = write('203.0.113.10');
    const s = await serve(['--config', conf]);
    const before = await RawFtp.connect(port);
    await before.read();
    await before.login('anonymous', 'x@y');
    write('203.0.113.11');
    s.child.kill('SIGHUP');
    await s.waitFor(/^configuration reloaded/);
    expect((await before.pasv()).host).toBe('203.0.113.10');
    const after = await RawFtp.connect(port);
    await after.read();
    await after.login('anonymous', 'x@y');
    expect((await after.pasv()).host).toBe('203.0.113.11');
    writeFileSync(conf, 'Port nope\n');
    s.child.kill('SIGHUP');
    await s.waitFor(/^reload failed/);
    const third = await RawFtp.connect(port);
    await third.read();
    await third.login('anonymous', 'x@y');
    expect((await third.pasv()).host).toBe('203.0.113.11');
    for (const r of [before, after, third]) r.close();
    await s.stop();
  });

  it('SIGTERM drains: no new connections, the transfer in flight arrives whole, then 421 and exit 0', async () => {
    const root = tempDir();
    const big = randomBytes(24 << 20);
    writeFileSync(join(root, 'big.bin'), big);
    const port = await freePort();
    const s = await serve(['--root', root, '--port', String(port), '--drain-timeout', '20']);
    const idle = await RawFtp.connect(port);
    await idle.read();
    const raw = await RawFtp.connect(port);
    await raw.read();
    await raw.login('anonymous', 'x@y');
    await raw.cmd('TYPE I');
    const p = await raw.pasv();
    const d = dataConnection(p.port);
    d.socket.pause();
    expect((await raw.cmd('RETR big.bin')).code).toBe(150);
    s.child.kill('SIGTERM');
    await s.waitFor(/draining/);
    await s.waitFor(/waiting for the transfer in progress/);
    expect((await idle.read()).code).toBe(421);
    await expect(RawFtp.connect(port)).rejects.toThrow();
    await new Promise((res) => setTimeout(res, 300));
    d.socket.resume();
    const received = await d.done;
    expect(received.length).toBe(big.length);
    expect(sha(received)).toBe(sha(big));
    expect((await raw.read()).code).toBe(226);
    expect((await raw.read()).code).toBe(421);
    expect(await s.exited).toBe(0);
  });
});
