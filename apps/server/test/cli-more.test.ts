/**
 * More of `ftpkit serve --config` (limits, timeouts, <Limit LOGIN>, HOST, User/Group) and
 * `ftpkit probe` against the real server.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { anonymousSection, cleanup, cryptHash, freePort, freeRange, loopbackConf, RawFtp, runCli, selfSignedCertificate, serve, tempDir } from './helpers.js';

afterEach(cleanup);


describe('limits and timeouts from the configuration', () => {
  it('MaxClientsPerHost: the second login gets ProFTPD\'s 530 and is closed', async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, 'MaxClientsPerHost 1')]);
    const a = await RawFtp.connect(port);
    await a.read();
    expect((await a.login('anonymous', 'x@y')).code).toBe(230);
    const b = await RawFtp.connect(port);
    await b.read();
    const r = await b.login('anonymous', 'x@y');
    expect(`${r.code} ${r.text}`).toBe('530 Sorry, the maximum number of clients (1) from your host are already connected.');
    await expect(b.read()).rejects.toThrow('closed');
    await s.waitFor(/^Connection refused \(MaxClientsPerHost 1\)$/);
    a.close();
    await s.stop();
  });

  it('TimeoutIdle closes an idle session with 421', async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, 'TimeoutIdle 1')]);
    const a = await RawFtp.connect(port);
    await a.read();
    await a.login('anonymous', 'x@y');
    const r = await a.read(4000);
    expect(`${r.code} ${r.text}`).toBe('421 Idle timeout (1 second): closing control connection');
    await s.stop();
  });

  it('<Limit LOGIN> DenyAll at connect: the connection closes with no reply at all', async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, '<Limit LOGIN>\n  DenyAll\n</Limit>')]);
    const a = await RawFtp.connect(port);
    await expect(a.read()).rejects.toThrow('closed');
    await s.waitFor(/^Connection from 127\.0\.0\.1 \[127\.0\.0\.1\] denied$/);
    await s.stop();
  });

  it('HOST selects a name-based virtual host (ServerAlias) with its own MasqueradeAddress', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = join(dir, 'host.conf');
    writeFileSync(conf, `Port ${port}
DefaultAddress 127.0.0.1
SocketBindTight on
ServerName "main"
MasqueradeAddress 203.0.113.1
${anonymousSection(dir)}
<VirtualHost 127.0.0.1>
  Port ${port}
  ServerName "b"
  ServerAlias b.example.com
  MasqueradeAddress 203.0.113.9
${anonymousSection(dir, '  ')}
</VirtualHost>
`);
    const s = await serve(['--config', conf]);
    const a = await RawFtp.connect(port);
    await a.read();
    const h = await a.cmd('HOST b.example.com');
    expect(h.code).toBe(220);
    await a.login('anonymous', 'x@y');
    expect((await a.pasv()).host).toBe('203.0.113.9');
    a.close();
    await s.stop();
  });

  (process.getuid?.() === 0 || process.env['CI'] === 'true' ? it : it.skip)('User/Group: started as root, the server drops privileges after binding; a root-only AuthUserFile still works', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'ftpd.passwd');
    const hash = cryptHash('pw');
    writeFileSync(passwd, `alice:${hash}:65534:65534::${dir}:/bin/sh\n`);
    chmodSync(passwd, 0o600);
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, `User nobody\nGroup nogroup\nAuthUserFile ${passwd}\nRequireValidShell off\nDefaultRoot ~`)], { ready: /^configuration loaded/ });
    await s.waitFor(/^running as user nobody, group nogroup$/);
    const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
    const uid = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    expect(status).toMatch(new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}`, 'm'));
    const a = await RawFtp.connect(port);
    await a.read();
    expect((await a.login('anonymous', 'x@y')).code).toBe(230);
    a.close();
    const b = await RawFtp.connect(port);
    await b.read();
    expect((await b.login('alice', 'pw')).code).toBe(230);
    b.close();
    await s.stop();
  });
});

describe('--lenient and --log-format', () => {
  it('an unimplemented directive stops serve unless --lenient; pretty logs are readable lines', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = loopbackConf(dir, port, 'ExtendedLog /tmp/never.log');
    const strict = await runCli(['serve', '--config', conf]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain(`${conf}:4:`);
    const s = await serve(['--config', conf, '--lenient']);
    expect(s.logs.some((l) => l.level === 40 && l.msg.includes('ExtendedLog'))).toBe(true);
    await s.stop();
    const pretty = await runCli(['serve', '--config', conf, '--lenient', '--log-format', 'pretty', '--drain-timeout', '0'], { timeoutMs: 4000 });
    // Killed by the timeout (SIGKILL) after running: what it printed is plain text, one record per line.
    expect(pretty.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO  ftpkit listening on 127\.0\.0\.1:\d+/m);
    expect(pretty.stdout).not.toContain('{"level"');
  });
});

describe('ftpkit probe against ftpkit serve', () => {
  it('passes with the right settings and explains a wrong MasqueradeAddress (exit 1)', async () => {
    const range = await freeRange(10);
    const port = await freePort();
    const good = await serve(['--root', tempDir(), '--port', String(port), '--passive-ports', range.spec]);
    const ok = await runCli(['probe', `ftp://127.0.0.1:${port}`, '--expect-ports', range.spec, '--timeout', '3000']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/PASV: 227 Entering Passive Mode \(127,0,0,1,\d+,\d+\)\./);
    expect(ok.stdout).toContain(`is in ${range.spec}`);
    expect(ok.stdout).toContain('PASS: passive transfers work from here.');
    const json = await runCli(['probe', `ftp://anonymous:me%40example.com@127.0.0.1:${port}`, '--json', '--timeout', '3000']);
    const report = JSON.parse(json.stdout) as { ok: boolean; passive: { command: string; list?: { ok: boolean } }[] };
    expect(report.ok).toBe(true);
    expect(report.passive.map((p) => [p.command, p.list?.ok])).toEqual([['PASV', true], ['EPSV', true]]);
    await good.stop();

    const port2 = await freePort();
    const bad = await serve(['--root', tempDir(), '--port', String(port2), '--passive-ports', range.spec, '--masquerade', '127.0.0.2']);
    const r = await runCli(['probe', `ftp://127.0.0.1:${port2}`, '--timeout', '1500', '--no-epsv']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toMatch(/connect to 127\.0\.0\.2:\d+.*MasqueradeAddress is wrong/);
    const expectAddr = await runCli(['probe', `ftp://127.0.0.1:${port2}`, '--timeout', '1500', '--expect-address', '127.0.0.1', '--no-list']);
    expect(expectAddr.code).toBe(1);
    expect(expectAddr.stdout).toContain('Set MasqueradeAddress 127.0.0.1');
    await bad.stop();
  });

  it('fails fast on a closed port', async () => {
    const port = await freePort();
    const r = await runCli(['probe', `ftp://127.0.0.1:${port}`, '--timeout', '1000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Nothing accepts connections');
  });
});

/** Clients from 203.0.113.0/24 are advertised 198.51.100.1. */
const INTERNET_CLASS = `<Class internet>
  From 203.0.113.0/24
</Class>
<IfClass internet>
  MasqueradeAddress 198.51.100.1
</IfClass>`;

describe('ProxyProtocolEngine (behind a load balancer)', () => {
  it('takes the client from the PROXY header (classes, logs); a connection without one is dropped', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = loopbackConf(dir, port, `ProxyProtocolEngine on
ProxyProtocolTimeout 1
${INTERNET_CLASS}`);
    const s = await serve(['--config', conf]);
    const a = await RawFtp.connect(port);
    a.socket.write(`PROXY TCP4 203.0.113.50 127.0.0.1 40000 ${port}\r\nUSER anonymous\r\n`);
    expect((await a.read()).code).toBe(220);
    expect((await a.read()).code).toBe(331);
    expect((await a.cmd('PASS x@y')).code).toBe(230);
    expect((await a.pasv()).host).toBe('198.51.100.1');
    const opened = await s.waitFor(/^FTP session opened\.$/);
    expect(opened['client']).toBe('203.0.113.50');
    a.close();
    const b = await RawFtp.connect(port);
    await expect(b.read(3000)).rejects.toThrow('closed');
    expect((await s.waitFor(/PROXY header/)).msg).toBe('no complete PROXY header from 127.0.0.1 within 1000 ms');
    await s.stop();
  });
});

describe('sessions that share a configuration stay apart', () => {
  it('clients of two classes, logged in side by side, each keep their own', async () => {
    const dir = tempDir();
    const port = await freePort();
    const conf = loopbackConf(dir, port, `ProxyProtocolEngine on
${INTERNET_CLASS}`);
    const s = await serve(['--config', conf]);
    const open = async (client: string): Promise<RawFtp> => {
      const c = await RawFtp.connect(port);
      c.socket.write(`PROXY TCP4 ${client} 127.0.0.1 40000 ${port}\r\n`);
      expect((await c.read()).code).toBe(220);
      expect((await c.login('anonymous', 'x@y')).code).toBe(230);
      return c;
    };
    const sessions = [await open('203.0.113.7'), await open('192.0.2.7'), await open('203.0.113.8'), await open('192.0.2.8')];
    const hosts = [];
    for (const c of [...sessions, ...sessions]) hosts.push((await c.pasv()).host);
    expect(hosts).toEqual(['198.51.100.1', '127.0.0.1', '198.51.100.1', '127.0.0.1', '198.51.100.1', '127.0.0.1', '198.51.100.1', '127.0.0.1']);
    for (const c of sessions) c.close();
    await s.stop();
  });
});

describe('FTPS (TLSEngine on)', () => {
  const curl = (args: string[]): { code: number; out: string } => {
    try {
      return { code: 0, out: execFileSync('curl', ['-s', '-S', '--max-time', '10', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string };
      return { code: err.status, out: `${err.stdout}${err.stderr}` };
    }
  };

  it('AUTH TLS with PROT P (curl --ssl-reqd); TLSRequired refuses plain FTP', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hello.txt'), 'over TLS\n');
    const { cert, key } = selfSignedCertificate(dir);
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, `TLSEngine on\nTLSRSACertificateFile ${cert}\nTLSRSACertificateKeyFile ${key}\nTLSRequired on`)]);
    const secure = curl(['--ssl-reqd', '-k', `ftp://127.0.0.1:${port}/hello.txt`]);
    expect(secure, secure.out).toEqual({ code: 0, out: 'over TLS\n' });
    const plain = curl([`ftp://127.0.0.1:${port}/hello.txt`]);
    expect(plain.code).not.toBe(0);
    await s.stop();
  });

  it('TLSOptions UseImplicitSSL: TLS from the first byte (ftps://)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hello.txt'), 'implicit\n');
    const { cert, key } = selfSignedCertificate(dir);
    const port = await freePort();
    const s = await serve(['--config', loopbackConf(dir, port, `TLSEngine on\nTLSRSACertificateFile ${cert}\nTLSRSACertificateKeyFile ${key}\nTLSOptions UseImplicitSSL`)]);
    const r = curl(['-k', `ftps://127.0.0.1:${port}/hello.txt`]);
    expect(r, r.out).toEqual({ code: 0, out: 'implicit\n' });
    await s.stop();
  });

  it('a missing certificate stops serve with the directive named', async () => {
    const dir = tempDir();
    const port = await freePort();
    const r = await runCli(['serve', '--config', loopbackConf(dir, port, `TLSEngine on\nTLSRSACertificateFile ${join(dir, 'nope.pem')}`), '--log-format', 'json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/TLSRSACertificateFile .*nope\.pem: ENOENT/);
  });
});
