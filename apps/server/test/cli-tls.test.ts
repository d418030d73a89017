/**
 * `ftpkit serve --tls` (a self-signed certificate when none is configured) and FTPS
 * certificates re-read on SIGHUP.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { anonymousSection, cleanup, freePort, freeRange, loopbackConf, selfSignedCertificate, serve, tempDir } from './helpers.js';

afterEach(cleanup);

/** AUTH TLS on a fresh control connection; resolves the certificate the server presented. */
function peerCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let asked = false;
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (!asked && /^220 /m.test(text)) {
        asked = true;
        socket.write('AUTH TLS\r\n');
      } else if (/^234 /m.test(text)) {
        socket.off('data', onData);
        const secure = tls.connect({ socket, rejectUnauthorized: false }, () => {
          const cert = secure.getPeerX509Certificate();
          secure.destroy();
          if (cert === undefined) reject(new Error('no certificate'));
          else resolve(cert);
        });
        secure.once('error', reject);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function curl(args: string[]): string {
  return execFileSync('curl', ['-sS', '--max-time', '10', '-k', '--ssl-reqd', ...args], { encoding: 'utf8' });
}

describe('ftpkit serve --tls', { timeout: 30_000 }, () => {
  it('with no certificate configured: FTPS with a self-signed certificate generated for testing, and a warning that says so', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hello.txt'), 'over TLS\n');
    const port = await freePort();
    const range = await freeRange(4);
    const s = await serve(['--tls', '--root', dir, '--port', String(port), '--passive-ports', range.spec]);
    const warning = await s.waitFor(/--tls: no certificate configured/);
    expect(warning.msg).toContain('using a self-signed certificate generated for testing (clients cannot verify it)');
    expect(curl([`ftp://127.0.0.1:${port}/hello.txt`])).toBe('over TLS\n');
    const cert = await peerCertificate(port);
    expect(cert.subject).toBe(`CN=${hostname()}`);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    await s.stop();
  });

  it('with --config and certificate files: those are used, and SIGHUP re-reads them for new connections', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hello.txt'), 'configured\n');
    const first = selfSignedCertificate(dir, 'first');
    const second = selfSignedCertificate(dir, 'second');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    const port = await freePort();
    const s = await serve(['--tls', '--config', loopbackConf(dir, port, `TLSECCertificateFile ${live.cert}\nTLSECCertificateKeyFile ${live.key}`)]);
    expect(s.logs.some((r) => /no certificate configured/.test(r.msg))).toBe(false);
    expect((await peerCertificate(port)).subject).toBe('CN=first');
    expect(curl([`ftp://127.0.0.1:${port}/hello.txt`])).toBe('configured\n');
    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    s.child.kill('SIGHUP');
    await s.waitFor(/configuration reloaded/);
    expect((await peerCertificate(port)).subject).toBe('CN=second');
    await s.stop();
  });

  it('TLSRequired on with an <Anonymous> section that says TLSRequired off: anonymous works in the clear, a real user needs TLS', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pub.txt'), 'public\n');
    const { cert, key } = selfSignedCertificate(dir, 'anon');
    const port = await freePort();
    const conf = join(dir, 'anon.conf');
    const anonymous = anonymousSection(dir).replace('</Anonymous>', '  TLSRequired off\n</Anonymous>');
    writeFileSync(conf, `Port ${port}\nDefaultAddress 127.0.0.1\nSocketBindTight on\nTLSEngine on\nTLSRequired on\nTLSECCertificateFile ${cert}\nTLSECCertificateKeyFile ${key}\n${anonymous}\n`);
    const s = await serve(['--config', conf]);
    expect(execFileSync('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${port}/pub.txt`], { encoding: 'utf8' })).toBe('public\n');
    const refused = (() => {
      try {
        execFileSync('curl', ['-sS', '--max-time', '10', `ftp://alice:pw@127.0.0.1:${port}/pub.txt`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return '';
      } catch (e) {
        return String((e as { stderr: string }).stderr);
      }
    })();
    expect(refused).toMatch(/550|denied/i);
    expect(curl([`ftp://127.0.0.1:${port}/pub.txt`])).toBe('public\n');
    await s.stop();
  });
});
