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
import { DEFAULT_SETTINGS, type FtpkitConfig, type ServerConfig, type Settings } from '@ftpkit/config';
import type { SessionTlsConfig } from '@ftpkit/session';
import { checkFtpsOptions, type FtpsOptions } from '@ftpkit/session/node';

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
export function serverFtps(settings: TlsSettings, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ServerFtps | undefined {
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

/** What the session core needs: TLSRequired and session reuse (TLSOptions NoSessionReuseRequired). */
export function sessionTls(settings: Pick<Settings, 'tlsRequired' | 'tlsOptions'>): SessionTlsConfig {
  const r = settings.tlsRequired;
  return {
    required: { control: r.control, data: r.data, authOnly: r.authOnly },
    requireSessionReuse: !settings.tlsOptions.includes('NoSessionReuseRequired'),
  };
}
