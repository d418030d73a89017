/**
 * @packageDocumentation
 * File access for @ftpkit/config: `loadConfigFile` (Include with globs, `%{env:}`
 * from the environment, `-D` defines), the AuthUserFile/AuthGroupFile readers and
 * crypt(3) password verification (MD5-crypt, SHA-crypt, bcrypt).
 *
 * @example
 * ```ts
 * import { loadConfigFile, loadAuthUserFile, verifyPassword } from '@ftpkit/config/node';
 *
 * const r = loadConfigFile('/etc/proftpd/proftpd.conf', { defines: ['TLS'] });
 * const users = loadAuthUserFile('/etc/proftpd/ftpd.passwd');
 * const alice = users.entries.find((u) => u.name === 'alice');
 * const ok = alice !== undefined && (await verifyPassword(alice.passwordHash, 'secret'));
 * ```
 */
export { type LoadConfigOptions, expandGlob, fileSystemInclude, loadAuthGroupFile, loadAuthUserFile, loadConfigFile } from './load.js';
export { type HashScheme, hashPassword, identifyHash, md5Crypt, shaCrypt, verifyPassword } from './crypt.js';
export {
  type EffectiveConfig,
  type FtpkitConfig,
  type ParseConfigResult,
  type SessionContext,
  checkLimit,
  formatDiagnostics,
  parseConfig,
  resolveSessionConfig,
} from '../index.js';
export { type VirtualHostNameResult, resolveVirtualHostNames } from './dns.js';
