import { X509Certificate } from 'node:crypto';
import { parseConfig } from '@ftpkit/config';
import type { FtpkitConfig } from '@ftpkit/config';
import { describe, expect, it } from 'vitest';
import { GENERATED_CERTIFICATE, ftpsOfServer, readCertificateFile, sessionTls, withTls } from '../src/ftps.js';

function config(text: string): FtpkitConfig {
  const r = parseConfig(text, { file: 'test.conf' });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.config;
}

describe('sessionTls', () => {
  it('maps TLSRequired and NoSessionReuseRequired', () => {
    const c = config('TLSRequired auth+data\nTLSOptions NoSessionReuseRequired\n');
    const s = { tlsRequired: c.main.settings.tlsRequired!, tlsOptions: c.main.settings.tlsOptions! };
    expect(sessionTls(s)).toEqual({ required: { control: 'required', data: 'required', authOnly: true }, requireSessionReuse: false });
  });

  it('an <Anonymous> section with TLSRequired off exempts anonymous logins', () => {
    const c = config('TLSRequired on\n<Anonymous /srv/ftp>\n  User ftp\n  TLSRequired off\n</Anonymous>\n<VirtualHost 127.0.0.2>\n  TLSRequired on\n  <Anonymous /srv/ftp2>\n    User ftp\n  </Anonymous>\n</VirtualHost>\n');
    const s = { tlsRequired: c.main.settings.tlsRequired!, tlsOptions: [] };
    expect(sessionTls(s, c.main.anonymous).exemptAnonymous).toBe(true);
    expect(sessionTls(s, c.virtualHosts[0]!.anonymous).exemptAnonymous).toBeUndefined();
  });
});

describe('withTls (serve --tls)', () => {
  it('turns TLSEngine on everywhere and gives the generated certificate only to servers without one', () => {
    const c = config('ServerName main\n<VirtualHost 127.0.0.2>\n  TLSRSACertificateFile /etc/ssl/v.crt\n  TLSRSACertificateKeyFile /etc/ssl/v.key\n</VirtualHost>\n<VirtualHost 127.0.0.3>\n  TLSEngine off\n</VirtualHost>\n');
    const { config: patched, warnings } = withTls(c, 'test.conf');
    expect(patched.main.settings.tlsEngine).toBe(true);
    expect(patched.main.settings.tlsEcCertificateFile).toBe(GENERATED_CERTIFICATE.cert);
    expect(patched.virtualHosts[0]!.settings.tlsEcCertificateFile).toBeUndefined();
    expect(patched.virtualHosts[0]!.settings.tlsRsaCertificateFile).toBe('/etc/ssl/v.crt');
    expect(patched.virtualHosts[1]!.settings.tlsEngine).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/^--tls: no certificate configured for main server, <VirtualHost 127\.0\.0\.3>.*; using a self-signed certificate generated for testing/);
    // The generated certificate is read from memory, the same one every time (reloads).
    const pem = readCertificateFile(GENERATED_CERTIFICATE.cert);
    expect(new X509Certificate(pem).verify(new X509Certificate(pem).publicKey)).toBe(true);
    expect(withTls(c, 'test.conf').config.main.settings.tlsEcCertificateFile).toBe(GENERATED_CERTIFICATE.cert);
    expect(readCertificateFile(GENERATED_CERTIFICATE.cert)).toBe(pem);
    expect(ftpsOfServer(patched, patched.main)?.options.context.cert).toBe(pem);
  });

  it('a certificate in <Global> counts for every server', () => {
    const c = config('<Global>\n  TLSECCertificateFile /etc/ssl/g.crt\n  TLSECCertificateKeyFile /etc/ssl/g.key\n</Global>\n');
    const { config: patched, warnings } = withTls(c, 'test.conf');
    expect(warnings).toEqual([]);
    expect(patched.main.settings.tlsEcCertificateFile).toBeUndefined();
  });
});
