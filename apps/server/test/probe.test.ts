import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { formatProbeReport, parseFtpUrl, probe } from '../src/probe.js';

/** A scripted FTP server on 127.0.0.1: PASV advertises `advertise` (default its own address). */
interface FakeOptions {
  advertise?: string;
  epsv?: 'ok' | 'refuse';
  password?: string;
  listing?: string;
}
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

async function fakeFtp(opts: FakeOptions = {}): Promise<number> {
  const server = createServer((c: Socket) => {
    let data: Server | undefined;
    let pending: Socket | undefined;
    let waitingList: (() => void) | undefined;
    const openPassive = async (): Promise<number> => {
      data?.close();
      pending = undefined;
      data = createServer((d) => {
        pending = d;
        waitingList?.();
      });
      return listen(data);
    };
    c.write('220 fake ready\r\n');
    let buf = '';
    c.on('data', async (chunk) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const [verb, arg] = [line.split(' ')[0]?.toUpperCase(), line.split(' ').slice(1).join(' ')];
        if (verb === 'USER') c.write('331 Password required\r\n');
        else if (verb === 'PASS') c.write(opts.password === undefined || opts.password === arg ? '230 ok\r\n' : '530 Login incorrect.\r\n');
        else if (verb === 'TYPE') c.write('200 Type set to A\r\n');
        else if (verb === 'PASV') {
          const port = await openPassive();
          const a = (opts.advertise ?? '127.0.0.1').split('.').join(',');
          c.write(`227 Entering Passive Mode (${a},${port >> 8},${port & 255}).\r\n`);
        } else if (verb === 'EPSV') {
          if (opts.epsv === 'refuse') c.write('501 EPSV: Operation not permitted\r\n');
          else c.write(`229 Entering Extended Passive Mode (|||${await openPassive()}|)\r\n`);
        } else if (verb === 'LIST') {
          const send = (): void => {
            c.write('150 Opening ASCII mode data connection for file list\r\n');
            pending?.end(opts.listing ?? '-rw-r--r-- 1 ftp ftp 6 Nov 24 07:30 hello.txt\r\ndrwxr-xr-x 2 ftp ftp 4096 Nov 24 07:30 pub\r\n', () => c.write('226 Transfer complete\r\n'));
          };
          if (pending !== undefined) send();
          else waitingList = send;
        } else if (verb === 'ABOR') c.write('226 Abort successful\r\n');
        else if (verb === 'QUIT') c.end('221 Goodbye.\r\n');
        else c.write(`500 ${verb} not understood\r\n`);
      }
    });
    c.on('close', () => data?.close());
    c.on('error', () => undefined);
  });
  return listen(server);
}

describe('parseFtpUrl', () => {
  it('reads user, password, host and port', () => {
    expect(parseFtpUrl('ftp://alice:p%40ss@ftp.example.com:2121')).toEqual({ host: 'ftp.example.com', port: 2121, user: 'alice', password: 'p@ss' });
    expect(parseFtpUrl('ftp://[::1]')).toMatchObject({ host: '::1', port: 21, user: 'anonymous' });
    expect(parseFtpUrl('127.0.0.1:21')).toMatchObject({ host: '127.0.0.1', port: 21 });
    expect(parseFtpUrl('http://x')).toEqual({ error: 'only ftp:// URLs can be probed (got http://)' });
  });
});

describe('probe', () => {
  it('passes when PASV and EPSV lead to a working LIST', async () => {
    const port = await fakeFtp();
    const r = await probe({ url: `ftp://127.0.0.1:${port}`, timeoutMs: 2000, expectPorts: [{ min: 1024, max: 65535 }] });
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    const pasv = r.passive.find((p) => p.command === 'PASV');
    expect(pasv?.address).toBe('127.0.0.1');
    expect(pasv?.addressClass?.kind).toBe('loopback');
    expect(pasv?.list).toMatchObject({ ok: true, entries: 2 });
    const text = formatProbeReport(r);
    expect(text).toMatch(/port: \d+ = \d+\*256\+\d+/);
    expect(text).toContain('PASS');
  });

  it('fails with an explanation when the advertised address is wrong (MasqueradeAddress)', async () => {
    const port = await fakeFtp({ advertise: '127.0.0.2' });
    const r = await probe({ url: `ftp://127.0.0.1:${port}`, timeoutMs: 1000, epsv: false });
    expect(r.ok).toBe(false);
    const pasv = r.passive[0];
    expect(pasv?.data?.ok).toBe(false);
    expect(pasv?.fallback?.ok).toBe(true);
    expect(r.problems.join('\n')).toMatch(/127\.0\.0\.2:\d+.*MasqueradeAddress is wrong/);
  });

  it('fails when the port is outside --expect-ports', async () => {
    const port = await fakeFtp();
    const r = await probe({ url: `ftp://127.0.0.1:${port}`, timeoutMs: 2000, expectPorts: [{ min: 1024, max: 1025 }] });
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/outside the expected range 1024-1025/);
  });

  it('fails when the address is not the expected one', async () => {
    const port = await fakeFtp();
    const r = await probe({ url: `ftp://127.0.0.1:${port}`, timeoutMs: 2000, expectAddress: '203.0.113.7', epsv: false });
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toContain('Set MasqueradeAddress 203.0.113.7');
  });

  it('accepts a refused EPSV (clients fall back to PASV)', async () => {
    const port = await fakeFtp({ epsv: 'refuse' });
    const r = await probe({ url: `ftp://127.0.0.1:${port}`, timeoutMs: 2000 });
    expect(r.ok).toBe(true);
    expect(r.passive.find((p) => p.command === 'EPSV')?.checks[0]?.ok).toBeNull();
  });

  it('reports a failed login and a closed port', async () => {
    const port = await fakeFtp({ password: 'right' });
    const bad = await probe({ url: `ftp://bob:wrong@127.0.0.1:${port}`, timeoutMs: 2000 });
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatch(/Login as 'bob' failed \(530 Login incorrect\.\)/);
    const s = createServer();
    const closed = await listen(s);
    await new Promise((r) => s.close(r));
    servers.splice(servers.indexOf(s), 1);
    const r = await probe({ url: `ftp://127.0.0.1:${closed}`, timeoutMs: 1000 });
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(/Nothing accepts connections/);
  });
});
