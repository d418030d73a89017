/**
 * FTPS (RFC 4217) from mod_tls directives: `TLSEngine on`, the certificate files,
 * `TLSProtocol`, `TLSRequired` and `TLSOptions NoSessionReuseRequired|UseImplicitSSL`,
 * mapped onto @ftpkit/session's FtpsOptions (the node side: certificates, handshakes)
 * and SessionTlsConfig (the core: AUTH TLS, PROT, what is required).
 *
 * Certificate files are read when the configuration is applied — at startup that is
 * before `User`/`Group` drop root, so root-only key files work, as in ProFTPD.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_SETTINGS, type AnonymousConfig, type ConfigDiagnostic, type FtpkitConfig, type ServerConfig, type Settings } from '@ftpkit/config';
import type { SessionTlsConfig } from '@ftpkit/session';
import { checkFtpsOptions, selfSignedCertificate, type FtpsOptions } from '@ftpkit/session/node';

/** The FTPS of one server. */
export interface ServerFtps {
  options: FtpsOptions;
  /** `TLSOptions UseImplicitSSL`: TLS from the first byte (port 990 style). */
  implicit: boolean;
}

type TlsSettings = Pick<
  Settings,
  | 'tlsEngine'
  | 'tlsProtocol'
  | 'tlsOptions'
  | 'tlsRequired'
  | 'tlsRsaCertificateFile'
  | 'tlsRsaCertificateKeyFile'
  | 'tlsEcCertificateFile'
  | 'tlsEcCertificateKeyFile'
  | 'tlsCertificateChainFile'
>;

const PROTOCOL_ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/**
 * The FTPS of a server, or undefined when TLSEngine is off. Throws an Error naming the
 * directive when a file cannot be read or the certificate is unusable.
 */
export function serverFtps(settings: TlsSettings, read: (path: string) => string = readCertificateFile): ServerFtps | undefined {
  if (!settings.tlsEngine) return undefined;
  const load = (directive: string, path: string): string => {
    try {
      return read(path);
    } catch (err) {
      throw new Error(`${directive} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const chain = settings.tlsCertificateChainFile === undefined ? '' : `\n${load('TLSCertificateChainFile', settings.tlsCertificateChainFile)}`;
  const certs: string[] = [];
  const keys: string[] = [];
  for (const [certDirective, certPath, keyDirective, keyPath] of [
    ['TLSRSACertificateFile', settings.tlsRsaCertificateFile, 'TLSRSACertificateKeyFile', settings.tlsRsaCertificateKeyFile],
    ['TLSECCertificateFile', settings.tlsEcCertificateFile, 'TLSECCertificateKeyFile', settings.tlsEcCertificateKeyFile],
  ] as const) {
    if (certPath === undefined) continue;
    certs.push(`${load(certDirective, certPath)}${chain}`);
    // Without a key file, the key is expected in the certificate file (as mod_tls allows).
    keys.push(keyPath === undefined ? load(certDirective, certPath) : load(keyDirective, keyPath));
  }
  if (certs.length === 0) {
    throw new Error('TLSEngine on needs a certificate: TLSRSACertificateFile and TLSRSACertificateKeyFile (or the TLSEC… pair)');
  }
  const versions = [...settings.tlsProtocol].sort((a, b) => PROTOCOL_ORDER.indexOf(a) - PROTOCOL_ORDER.indexOf(b));
  const options: FtpsOptions = {
    context: {
      cert: certs.length === 1 ? certs[0] : certs,
      key: keys.length === 1 ? keys[0] : keys,
      ...(versions[0] === undefined ? {} : { minVersion: versions[0] }),
      ...(versions.at(-1) === undefined ? {} : { maxVersion: versions.at(-1) }),
    },
  };
  try {
    checkFtpsOptions(options);
  } catch (err) {
    throw new Error(`${(err as Error).message} (TLSRSACertificateFile/TLSProtocol)`);
  }
  return { options, implicit: settings.tlsOptions.includes('UseImplicitSSL') };
}

function definedOnly<T extends object>(layer: T): Partial<T> {
  return Object.fromEntries(Object.entries(layer).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The FTPS of a server from its own mod_tls directives over `<Global>`'s over the defaults. */
export function ftpsOfServer(config: FtpkitConfig, server: ServerConfig): ServerFtps | undefined {
  try {
    return serverFtps({ ...DEFAULT_SETTINGS, ...definedOnly(config.global.settings), ...definedOnly(server.settings) });
  } catch (err) {
    throw new Error(`${server.label}: ${(err as Error).message}`);
  }
}

/**
 * What the session core needs: TLSRequired, session reuse (TLSOptions
 * NoSessionReuseRequired), and the anonymous exemption: an `<Anonymous>` section with
 * `TLSRequired off` (or any form that leaves the control channel optional) lets anonymous
 * logins through in the clear, USER and PASS included, while real users stay bound by
 * the server's TLSRequired.
 */
export function sessionTls(
  settings: Pick<Settings, 'tlsRequired' | 'tlsOptions'>,
  anonymous: readonly Pick<AnonymousConfig, 'settings'>[] = [],
): SessionTlsConfig {
  const r = settings.tlsRequired;
  const exempt = anonymous.some((a) => a.settings.tlsRequired !== undefined && a.settings.tlsRequired.control === 'optional');
  return {
    required: { control: r.control, data: r.data, authOnly: r.authOnly },
    requireSessionReuse: !settings.tlsOptions.includes('NoSessionReuseRequired'),
    ...(exempt ? { exemptAnonymous: true } : {}),
  };
}

/**
 * `ftpkit serve --tls` without a certificate: the names the configuration then carries
 * in TLSECCertificateFile/TLSECCertificateKeyFile. No file is behind them: the
 * certificate is made once per process, in memory (so reloads after the privilege drop
 * read it as well), by {@link readCertificateFile}.
 */
export const GENERATED_CERTIFICATE: { readonly cert: string; readonly key: string } = {
  cert: '(self-signed certificate generated for testing)',
  key: '(key of the self-signed certificate generated for testing)',
};

const generated = new Map<string, string>();

/** A certificate file's text; the generated certificate's names are answered from memory. */
export function readCertificateFile(path: string): string {
  const text = generated.get(path);
  if (text !== undefined) return text;
  return readFileSync(path, 'utf8');
}

function generateOnce(): void {
  if (generated.has(GENERATED_CERTIFICATE.cert)) return;
  const name = hostname();
  const pem = selfSignedCertificate({ commonName: name, altNames: [...new Set([name, 'localhost', '127.0.0.1', '::1'])] });
  generated.set(GENERATED_CERTIFICATE.cert, pem.cert);
  generated.set(GENERATED_CERTIFICATE.key, pem.key);
}

/**
 * `--tls`: TLSEngine on for every server; a server with no certificate (its own or
 * `<Global>`'s) gets the self-signed one generated for testing, and a warning says so.
 */
export function withTls(config: FtpkitConfig, source: string): { config: FtpkitConfig; warnings: ConfigDiagnostic[] } {
  const unprovided: string[] = [];
  const patch = (server: ServerConfig): ServerConfig => {
    const merged = { ...definedOnly(config.global.settings), ...definedOnly(server.settings) };
    const settings = { ...server.settings, tlsEngine: true };
    if (merged.tlsRsaCertificateFile === undefined && merged.tlsEcCertificateFile === undefined) {
      generateOnce();
      settings.tlsEcCertificateFile = GENERATED_CERTIFICATE.cert;
      settings.tlsEcCertificateKeyFile = GENERATED_CERTIFICATE.key;
      unprovided.push(server.label);
    }
    return { ...server, settings };
  };
  const patched: FtpkitConfig = { ...config, main: patch(config.main), virtualHosts: config.virtualHosts.map(patch) };
  const warnings: ConfigDiagnostic[] =
    unprovided.length === 0
      ? []
      : [
          {
            severity: 'warning',
            code: 'ERR_CONFIG_VALUE',
            file: source,
            line: 0,
            directive: 'TLSEngine',
            message: `--tls: no certificate configured for ${unprovided.join(', ')}; using a self-signed certificate generated for testing (clients cannot verify it)`,
            fix: 'give TLSRSACertificateFile and TLSRSACertificateKeyFile (or the TLSEC… pair) for real use',
          },
        ];
  return { config: patched, warnings };
}
