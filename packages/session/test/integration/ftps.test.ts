import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { HOST, hygiene, missing, pattern, readAll, tempDirs } from './helpers.js';
import type { FtpServerOptions } from '../../src/node/index.js';

const tmp = tempDirs();
const { cleanups } = hygiene();

let cert = '';
let key = '';
const noOpenssl = missing('openssl');

beforeAll(() => {
  if (noOpenssl) return;
  const dir = tmp();
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-days', '2',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
});

async function server(options: Partial<FtpServerOptions> = {}): Promise<Fixture & { work: string; implicitPort: number }> {
  const base = tmp();
  const f = await startServer(base, {
    tls: { context: { cert, key } },
    listen: [{ host: HOST, port: 0 }, { host: HOST, port: 0, implicitTls: true }],
    ...options,
  });
  cleanups.push(() => f.server.close());
  const work = join(base, 'client');
  mkdirSync(work);
  return { ...f, work, implicitPort: f.server.addresses()[1]!.port };
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

const creds = `${USER}:${encodeURIComponent(PASSWORD)}`;

describe('FTPS', { timeout: 30_000 }, () => {
  it.skipIf(noOpenssl || missing('curl'))('explicit AUTH TLS with PROT P (curl resumes the session), and implicit FTPS', async () => {
    const f = await server();
    const data = pattern(1_500_000, 31);
    writeFileSync(join(f.root, 'f.bin'), data);
    const out = join(f.work, 'out.bin');
    let r = await run('curl', ['-sS', '-k', '--ssl-reqd', '-o', out, `ftp://${creds}@127.0.0.1:${f.port}/f.bin`]);
    expect(r.stderr).toBe('');
    expect(readFileSync(out).equals(data)).toBe(true);
    r = await run('curl', ['-sS', '-k', '--ssl-reqd', '-T', out, `ftp://${creds}@127.0.0.1:${f.port}/up.bin`]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(f.root, 'up.bin')).equals(data)).toBe(true);
    r = await run('curl', ['-sS', '-k', '-o', out, `ftps://${creds}@127.0.0.1:${f.implicitPort}/f.bin`]);
    expect(r.stderr).toBe('');
    expect(readFileSync(out).equals(data)).toBe(true);
    // TLS 1.2 resumes through the per-session ticket keys or session-ID cache.
    r = await run('curl', ['-sS', '-k', '--ssl-reqd', '--tls-max', '1.2', '-o', out, `ftp://${creds}@127.0.0.1:${f.port}/f.bin`]);
    expect(r.stderr).toBe('');
    expect(readFileSync(out).equals(data)).toBe(true);
    r = await run('curl', ['-sS', '-k', '--ssl-reqd', '--tls-max', '1.2', '--no-sessionid', '-o', out, `ftp://${creds}@127.0.0.1:${f.port}/f.bin`]);
    expect(r.code).not.toBe(0); // no resumption: the data connection is refused (425)
    const tlsEvents = f.events.filter((e) => e.type === 'tls').map((e) => (e as { channel: string; outcome: string; resumed?: boolean }));
    expect(tlsEvents.filter((e) => e.channel === 'control' && e.outcome === 'established')).toHaveLength(4);
    expect(tlsEvents.filter((e) => e.channel === 'data' && e.outcome === 'established').every((e) => e.resumed === true)).toBe(true);
    expect(tlsEvents.filter((e) => e.channel === 'data' && e.outcome === 'not-resumed')).toHaveLength(1);
  });

  it.skipIf(noOpenssl || missing('lftp'))('lftp mirrors over FTPS with protected data', async () => {
    const f = await server();
    writeFileSync(join(f.root, 'a.txt'), 'alpha\n');
    mkdirSync(join(f.root, 'd'));
    writeFileSync(join(f.root, 'd', 'b.bin'), pattern(300_000, 2));
    const down = join(f.work, 'down');
    const r = await run('lftp', [
      '-u', `${USER},${PASSWORD}`, '-p', String(f.port), '-e',
      `set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; mirror / "${down}"; quit`,
      '127.0.0.1',
    ]);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(down, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(readFileSync(join(down, 'd', 'b.bin')).equals(pattern(300_000, 2))).toBe(true);
  });

  const ftpsScript = fileURLToPath(new URL('./ftps-client.py', import.meta.url));

  it.skipIf(noOpenssl || missing('python3'))('Python FTP_TLS, which does not resume the session: refused by default, served when reuse is not required', async () => {
    const strict = await server();
    let r = await run('python3', [ftpsScript, String(strict.port), USER, PASSWORD]);
    expect(r.code).not.toBe(0); // the data connection is cut (ftplib sees a reset or the 425)
    expect(strict.events.some((e) => e.type === 'tls' && e.channel === 'data' && e.outcome === 'not-resumed')).toBe(true);

    // TLS 1.2: Python's ssl (OpenSSL 3.0) fails unwrap() with SHUTDOWN_WHILE_IN_INIT after a
    // TLS 1.3 server sent its session tickets, against any TLS 1.3 server that does.
    const relaxed = await server({ config: { tls: { requireSessionReuse: false } }, tls: { context: { cert, key, maxVersion: 'TLSv1.2' } } });
    r = await run('python3', [ftpsScript, String(relaxed.port), USER, PASSWORD]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      auth: '234 AUTH TLS successful',
      login: expect.stringMatching(/^230 /),
      prot: '200 Protection set to Private',
      stor: '226 Transfer complete',
      retr: '226 Transfer complete',
      same: true,
      nlst: ['tls.bin'],
    });
  });

  it.skipIf(noOpenssl)('a data connection resuming another session\'s TLS is not "resumed"', async () => {
    const f = await server();
    writeFileSync(join(f.root, 'x.txt'), 'x');
    // Session A: its TLS session (ticket) is what the client offers on B's data connection.
    const a = await RawClient.open(f.port);
    cleanups.push(() => a.close());
    expect(await a.cmd('AUTH TLS')).toBe('234 AUTH TLS successful');
    const aTls = tls.connect({ socket: a.socket, rejectUnauthorized: false });
    const ticket = await new Promise<Buffer>((resolve) => aTls.once('session', resolve));
    aTls.destroy();

    const b = await RawClient.open(f.port);
    cleanups.push(() => b.close());
    expect(await b.cmd('AUTH TLS')).toBe('234 AUTH TLS successful');
    const bTls = tls.connect({ socket: b.socket, rejectUnauthorized: false });
    await new Promise((resolve) => bTls.once('secureConnect', resolve));
    const lines: string[] = [];
    bTls.on('data', (d: Buffer) => lines.push(...d.toString().split('\r\n').filter(Boolean)));
    const cmd = async (line: string): Promise<string> => {
      const n = lines.length;
      bTls.write(`${line}\r\n`);
      for (let i = 0; i < 200 && lines.length === n; i++) await new Promise((r) => setTimeout(r, 10));
      return lines[lines.length - 1] ?? '';
    };
    expect(await cmd(`USER ${USER}`)).toMatch(/^331 /);
    expect(await cmd(`PASS ${PASSWORD}`)).toMatch(/^230 /);
    expect(await cmd('PBSZ 0')).toMatch(/^200 /);
    expect(await cmd('PROT P')).toMatch(/^200 /);
    const pasv = await cmd('PASV');
    const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv)!;
    const port = Number(m[5]) * 256 + Number(m[6]);
    bTls.write('RETR x.txt\r\n');
    const data = tls.connect({ host: HOST, port, rejectUnauthorized: false, session: ticket });
    data.on('error', () => undefined);
    await readAll(data).catch(() => Buffer.alloc(0));
    for (let i = 0; i < 200 && !lines.some((l) => l.startsWith('425')); i++) await new Promise((r) => setTimeout(r, 10));
    expect(lines.find((l) => /^(226|425) /.test(l))).toMatch(/^425 .*not resumed/);
    bTls.destroy();
  });
});
