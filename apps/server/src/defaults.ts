/**
 * The embedded default: what `ftpkit serve` runs without a configuration file, written
 * as the proftpd.conf it stands for, so flags and files go through one parser and one
 * mapping (and `ftpkit check`/`firewall` see exactly what `serve` runs).
 *
 *   ftpkit serve                       ./ftp-root on 127.0.0.1:2121, anonymous read-only
 *   ftpkit serve --user bob:secret     bob logs in read-write; anonymous only with --anonymous
 */
import { resolve } from 'node:path';
import type { ServerFlags } from './args.js';
import { hashPassword } from '@ftpkit/config/node';

export const DEFAULT_ROOT = './ftp-root';
export const DEFAULT_LISTEN = '127.0.0.1';
export const DEFAULT_PORT = 2121;
export const DEFAULT_PASSIVE_PORTS = '60000-60100';
/** The system user name anonymous sessions are known by (`User ftp` in `<Anonymous>`). */
export const ANONYMOUS_USER = 'ftp';

/** A login given with `--user name:password`; the password is kept only as a hash (SHA-512-crypt). */
export interface FlagUser {
  name: string;
  hash: string;
  home: string;
}

export interface FlagConfig {
  /** The proftpd.conf text the flags stand for. */
  text: string;
  /** The served folder (absolute). */
  root: string;
  users: FlagUser[];
  anonymous: boolean;
}

/** Quote a directive argument when it needs it (ProFTPD: double quotes, `\"` inside). */
export function quoteArg(value: string): string {
  return /^[^\s"#\\]+$/.test(value) ? value : `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** Build the configuration from flags. `cwd` resolves a relative --root. */
export function configFromFlags(flags: ServerFlags, cwd: string): FlagConfig {
  const root = resolve(cwd, flags.root ?? DEFAULT_ROOT);
  const users: FlagUser[] = flags.users.map((spec) => {
    const i = spec.indexOf(':');
    return { name: spec.slice(0, i), hash: hashPassword(spec.slice(i + 1)), home: root };
  });
  const anonymous = users.length === 0 || flags.anonymous;
  const listen = flags.listen ?? DEFAULT_LISTEN;
  const [min, max] = (flags.passivePorts ?? DEFAULT_PASSIVE_PORTS).split(/\s*[-:]\s*/);
  const lines = [
    '# ftpkit embedded default, from command-line flags',
    'ServerName "ftpkit"',
    `DefaultAddress ${listen}`,
    'SocketBindTight on',
    `Port ${flags.port ?? DEFAULT_PORT}`,
    `PassivePorts ${min} ${max ?? min}`,
    'UseReverseDNS off',
    'RequireValidShell off',
  ];
  if (flags.masquerade !== undefined) lines.push(`MasqueradeAddress ${quoteArg(flags.masquerade)}`);
  if (flags.allowForeignAddress) lines.push('AllowForeignAddress on');
  if (users.length > 0) {
    lines.push('AllowOverwrite on', 'AllowStoreRestart on', `DefaultRoot ${quoteArg(root)}`);
  }
  if (anonymous) {
    lines.push(
      `<Anonymous ${quoteArg(root)}>`,
      `  User ${ANONYMOUS_USER}`,
      `  UserAlias anonymous ${ANONYMOUS_USER}`,
      '  <Limit WRITE>',
      '    DenyAll',
      '  </Limit>',
      '</Anonymous>',
    );
  }
  return { text: `${lines.join('\n')}\n`, root, users, anonymous };
}
