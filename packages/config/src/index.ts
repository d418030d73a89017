/**
 * @packageDocumentation
 * ProFTPD-compatible configuration for ftpkit, sans-IO: a parser for the
 * `proftpd.conf` syntax (sections, quoting, comments, continuations, `Include` through
 * an injected reader, `<IfModule>`, `<IfDefine>`, `%{env:NAME}`), a directive schema
 * that produces a typed configuration with `file:line` diagnostics, the per-session
 * resolution (`resolveSessionConfig`: virtual host, `<Global>`, `<IfClass>`,
 * `<IfUser>`/`<IfGroup>`, `<Anonymous>`) and the `<Limit>` evaluator (`checkLimit`,
 * with `<Directory>` sections matched on the command's path) and the per-directory
 * settings of a path (`directorySettings`).
 * File access lives in `@ftpkit/config/node`.
 *
 * @example
 * ```ts
 * import { parseConfig, resolveSessionConfig, checkLimit } from '@ftpkit/config';
 *
 * const r = parseConfig('MasqueradeAddress 1.2.3.4\nPassivePorts 60000 60100\n<Limit EPSV>\n DenyAll\n</Limit>\n', { file: 'proftpd.conf' });
 * if (!r.ok) throw new Error(r.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n'));
 * const s = resolveSessionConfig(r.config, { localAddress: '10.0.0.5', localPort: 21, remoteAddress: '198.51.100.9' });
 * if (s.ok) {
 *   s.value.settings.masqueradeAddress; // { host: '1.2.3.4', kind: 'ipv4' }
 *   checkLimit(s.value, 'EPSV', { address: '198.51.100.9' }).allowed; // false
 * }
 * ```
 */
export * from './model.js';
export { type ConfigDiagnostic, CONFIG_CODES, editDistance, formatDiagnostic, suggest } from './diagnostics.js';
export {
  type ConfigNode,
  type DirectiveNode,
  type IncludeCallback,
  type IncludedFile,
  type SectionNode,
  type SyntaxOptions,
  type SyntaxResult,
  LOADED_MODULES,
  normalizeModuleName,
  parseSyntax,
  splitWords,
} from './syntax.js';
export { type BuildOptions, type BuildResult, buildConfig } from './build.js';
export { type ParseConfigOptions, type ParseConfigResult, formatDiagnostics, parseConfig } from './parse.js';
export {
  type Context,
  type DaemonSpec,
  type SettingSpec,
  LIMIT_DIRECTIVES,
  NOTE_DIRECTIVES,
  DAEMON_DIRECTIVES,
  DIRECTORY_SETTINGS,
  PER_DIRECTORY_SETTINGS,
  SECTIONS,
  SETTING_DIRECTIVES,
  knownDirectiveNames,
  unsupportedDirective,
} from './schema.js';
export { type Check, parseBoolean, parseDuration } from './values.js';
export { ALL_EXCLUDED, LIMIT_COMMANDS, LIMIT_GROUPS, commandGroup, normalizeVerb, pairedCommands } from './commands.js';
export {
  type EffectiveConfig,
  type HostSelection,
  type LocalEndpoint,
  type Selection,
  type SessionContext,
  DEFAULT_FAILED_LOGIN_DELAY_MS,
  classRegistry,
  failedLoginDelayMs,
  findAnonymous,
  foreignAddressAllowed,
  resolveSessionConfig,
  selectServer,
  selectServerByHost,
} from './resolve.js';
export { type AuthFileResult, type AuthGroup, type AuthUser, groupsOf, parseAuthGroupFile, parseAuthUserFile } from './authfile.js';
export { type AnonymousInput, type ConfigInput, type LayerInput, type LimitInput, type ScopeInput, type ServerInput, ConfigError, defineConfig } from './define.js';
export {
  type DirectoryNode,
  type DirectoryPlace,
  type DirectoryTree,
  directoryPath,
  directorySettings,
  directoryTree,
  expandTilde,
  matchDirectory,
  normalizeDirectoryPath,
} from './directory.js';
export { type LimitContext, type LimitDecision, type LimitSubject, checkLimit, checkLimitSection, limitDeniedReply } from './limit.js';
