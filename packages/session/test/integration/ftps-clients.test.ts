/**
 * FTPS with more real clients and the refusals a client meets: basic-ftp (explicit and
 * implicit), Python ftplib with and without session reuse, a plaintext data connection
 * under PROT P, protocol and cipher floors, a self-signed certificate, certificate reload.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Client } from 'basic-ftp';
import { describe, expect, it } from 'vitest';
import { checkFtpsOptions, selfSignedCertificate } from '../../src/node/index.js';
import type { FtpServerOptions } from '../../src/node/index.js';
import { PASSWORD, RawClient, USER, startServer } from './ftp.js';
import type { Fixture } from './ftp.js';
import { HOST, connect, hygiene, missing, pattern, tempDirs } from './helpers.js';

const tmp = tempDirs();
const { cleanups } = hygiene();
const certificate = selfSignedCertificate();

async function server(options: Partial<FtpServerOptions> = {}): Promise<Fixture & { implicitPort: number }> {
  const f = await startServer(tmp(), {
    tls: { context: certificate, handshakeTimeoutMs: 500 },
    listen: [{ host: HOST, port: 0 }, { host: HOST, port: 0, implicitTls: true }],
    ...options,
  });
  cleanups.push(() => f.server.close());
  return { ...f, implicitPort: f.server.addresses()[1]!.port };
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

const sink = (parts: Buffer[]): Writable =>
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });

/** A logged-in raw client over explicit TLS with PBSZ 0 and PROT P. */
async function protectedClient(port: number): Promise<RawClient> {
  const c = await (await RawClient.open(port)).startTls();
  cleanups.push(() => c.close());
  await c.login();
  expect(await c.cmd('PBSZ 0')).toBe('200 PBSZ 0 successful');
  expect(await c.cmd('PROT P')).toBe('200 Protection set to Private');
  return c;
}

describe('FTPS with more clients', { timeout: 30_000 }, () => {
  it('basic-ftp (secure: true and implicit) lists, downloads and uploads, resuming the session', async () => {
    const f = await server();
    const data = pattern(1_200_000, 5);
    writeFileSync(join(f.root, 'b.bin'), data);
    for (const [secure, port] of [[true, f.port], ['implicit', f.implicitPort]] as const) {
      const client = new Client(10_000);
      try {
        await client.access({ host: HOST, port, user: USER, password: PASSWORD, secure, secureOptions: { rejectUnauthorized: false } });
        expect((await client.list()).map((e) => e.name)).toContain('b.bin');
        const parts: Buffer[] = [];
        await client.downloadTo(sink(parts), 'b.bin');
        expect(Buffer.concat(parts).equals(data)).toBe(true);
        await client.uploadFrom(join(f.root, 'b.bin'), `up-${String(secure)}.bin`);
        expect(readFileSync(join(f.root, `up-${String(secure)}.bin`)).equals(data)).toBe(true);
      } finally {
        client.close();
      }
    }
    const dataEvents = f.events.filter((e) => e.type === 'tls' && e.channel === 'data');
    expect(dataEvents.length).toBe(6);
    expect(dataEvents.every((e) => e.type === 'tls' && e.outcome === 'established' && e.resumed === true)).toBe(true);
  });

  const script = fileURLToPath(new URL('./ftps-reuse-client.py', import.meta.url));

  it.skipIf(missing('python3'))('Python FTP_TLS that resumes the control session is served with reuse required; without resuming it gets 425', async () => {
    const f = await server();
    writeFileSync(join(f.root, 'p.bin'), pattern(400_000, 9));
    const r = await run('python3', [script, String(f.port), USER, PASSWORD]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { reuse: Record<string, unknown>; fresh: Record<string, unknown> };
    expect(out.reuse).toMatchObject({ retr: '226 Transfer complete', bytes: 400_000, stor: '226 Transfer complete', nlst: expect.arrayContaining(['p.bin', 'py.bin']) });
    expect(out.fresh.error).toMatch(/^425 Unable to build data connection: TLS session of the control connection not resumed/);
  });
});

describe('FTPS refusals', { timeout: 15_000 }, () => {
  it('a plaintext data connection under PROT P gets 522 and the upload leaves nothing', async () => {
    const f = await server();
    const c = await protectedClient(f.port);
    const { data } = await c.pasv();
    const plain = await data();
    cleanups.push(() => plain.destroy());
    plain.write('this is not a TLS ClientHello\r\n');
    c.send('STOR plain.txt');
    expect((await c.reply()).code).toBe(150);
    expect(await c.reply().then((r) => `${r.code} ${r.text}`)).toBe('522 Data connection must be protected: TLS negotiation failed (wrong version number)');
    expect(() => readFileSync(join(f.root, 'plain.txt'))).toThrow();
    // A plaintext client that waits for the server to speak first: cut after the handshake timeout.
    const second = await c.pasv();
    const waiting = await second.data();
    cleanups.push(() => waiting.destroy());
    c.send('LIST');
    expect((await c.reply()).code).toBe(150);
    expect((await c.reply(3000)).code).toBe(522);
    expect(await c.cmd('NOOP')).toBe('200 NOOP command successful');
  });

  it('ABOR while the data connection is still in its TLS handshake closes it at once', async () => {
    const f = await server({ tls: { context: certificate, handshakeTimeoutMs: 8000 } });
    writeFileSync(join(f.root, 'x.txt'), 'x');
    const c = await protectedClient(f.port);
    const { data } = await c.pasv();
    const silent = await data(); // connects, never says ClientHello
    cleanups.push(() => silent.destroy());
    const closed = new Promise<number>((resolve) => silent.once('close', () => resolve(Date.now())));
    c.send('RETR x.txt');
    expect((await c.reply()).code).toBe(150);
    const t0 = Date.now();
    c.send('ABOR');
    expect((await c.reply()).code).toBe(426);
    expect((await c.reply()).code).toBe(226);
    expect((await closed) - t0).toBeLessThan(2000);
  });

  it('TLSRequired-style session config: USER before AUTH is 550, PROT C is 534, then everything works over TLS', async () => {
    const f = await server({ config: { tls: { required: { control: 'required', data: 'required' } } } });
    const plain = await RawClient.open(f.port);
    cleanups.push(() => plain.close());
    expect(await plain.cmd(`USER ${USER}`)).toBe('550 SSL/TLS required on the control channel');
    const c = await protectedClient(f.port);
    expect(await c.cmd('PROT C')).toBe('534 Unwilling to accept security parameters');
    const { data } = await c.pasv();
    c.send('LIST');
    const socket = tls.connect({ socket: await data(), rejectUnauthorized: false, session: (c.socket as tls.TLSSocket).getSession() });
    socket.on('data', () => undefined);
    expect((await c.reply()).code).toBe(150);
    expect((await c.reply()).code).toBe(226);
  });

  it('offers TLS 1.2 and 1.3 only, and only AEAD ciphers with TLS 1.2', async () => {
    const f = await server();
    const handshake = (options: tls.ConnectionOptions): Promise<string> =>
      new Promise((resolve) => {
        const s = tls.connect({ host: HOST, port: f.implicitPort, rejectUnauthorized: false, ...options });
        s.once('secureConnect', () => {
          resolve(`${s.getProtocol()} ${s.getCipher().standardName}`);
          s.destroy();
        });
        s.once('error', (e: Error & { code?: string }) => resolve(`error ${e.code ?? e.message}`));
      });
    expect(await handshake({})).toMatch(/^TLSv1\.3 TLS_/);
    expect(await handshake({ maxVersion: 'TLSv1.2' })).toMatch(/^TLSv1\.2 TLS_ECDHE_ECDSA_WITH_(AES_\d+_GCM|CHACHA20_POLY1305)/);
    expect(await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toMatch(/^error /);
    expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA' })).toMatch(/^error /);
  });

  it('checks the options up front', () => {
    const other = selfSignedCertificate();
    expect(() => checkFtpsOptions({ context: { cert: certificate.cert, key: other.key } })).toThrow(expect.objectContaining({ code: 'ERR_FTPS_OPTION_INVALID' }));
    expect(() => checkFtpsOptions({ context: { ...certificate, minVersion: 'TLSv1.1' } })).toThrow(/only TLSv1.2 and TLSv1.3/);
    expect(() => checkFtpsOptions({ context: {} })).toThrow(/certificate and its key/);
    expect(() => checkFtpsOptions({ context: certificate })).not.toThrow();
  });
});

describe('certificates', { timeout: 15_000 }, () => {
  it('selfSignedCertificate: a verifiable ECDSA certificate for the names given (GeneralizedTime from 2050)', () => {
    const c = selfSignedCertificate({ commonName: 'ftp.test', altNames: ['ftp.test', '192.0.2.1', '2001:db8::1'], days: 2, now: Date.UTC(2049, 11, 31) });
    const x = new X509Certificate(c.cert);
    expect(x.subject).toBe('CN=ftp.test');
    expect(x.issuer).toBe('CN=ftp.test');
    expect(x.subjectAltName).toBe('DNS:ftp.test, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.ca).toBe(false);
    expect(new Date(x.validFrom).getTime()).toBe(Date.UTC(2049, 11, 30, 23));
    expect(new Date(x.validTo).getTime()).toBe(Date.UTC(2050, 0, 2));
    expect(() => checkFtpsOptions({ context: c })).not.toThrow();
  });

  it.skipIf(missing('curl'))('curl --ssl-reqd works with the self-signed certificate; updateTls swaps it for new handshakes only', async () => {
    const f = await server();
    writeFileSync(join(f.root, 'c.txt'), 'hello over TLS\n');
    const r = await run('curl', ['-sS', '-k', '--ssl-reqd', `ftp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${f.port}/c.txt`]);
    expect(r.stdout).toBe('hello over TLS\n');
    const peerCert = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tls.connect({ host: HOST, port: f.implicitPort, rejectUnauthorized: false }, () => {
          resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
          s.destroy();
        });
        s.once('error', reject);
      });
    const before = await peerCert();
    expect(before).toBe(new X509Certificate(certificate.cert).fingerprint256);
    // A plain session opened before the reload protects itself with the new certificate.
    const early = await RawClient.open(f.port);
    cleanups.push(() => early.close());
    const next = selfSignedCertificate({ commonName: 'reloaded' });
    expect(() => f.server.updateTls({ context: { cert: next.cert, key: certificate.key } })).toThrow();
    f.server.updateTls({ context: next });
    expect(await peerCert()).toBe(new X509Certificate(next.cert).fingerprint256);
    const secured = await early.startTls();
    expect((secured.socket as tls.TLSSocket).getPeerX509Certificate()?.subject).toBe('CN=reloaded');
    const stillPlain = await connect(f.port);
    stillPlain.destroy();
  });
});
