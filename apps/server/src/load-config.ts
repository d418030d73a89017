/**
 * One way in for every subcommand: a proftpd.conf file (`--config`, with Include,
 * `-D` defines and `%{env:}` through @ftpkit/config/node) or the embedded default built
 * from flags (defaults.ts), parsed by the same parser.
 */
import { formatDiagnostic, parseConfig, type ConfigDiagnostic, type FtpkitConfig } from '@ftpkit/config';
import { loadConfigFile } from '@ftpkit/config/node';
import type { ConfigFlags, ServerFlags } from './args.js';
import { configFromFlags, type FlagConfig } from './defaults.js';
import { withTls } from './ftps.js';

export type LoadedConfig =
  | {
      ok: true;
      config: FtpkitConfig;
      /** The file, or `command-line flags`. */
      source: string;
      /** Set when the configuration came from flags. */
      flags?: FlagConfig;
      warnings: readonly ConfigDiagnostic[];
    }
  | { ok: false; source: string; errors: string[]; warnings: readonly ConfigDiagnostic[] };

export const FLAGS_SOURCE = 'command-line flags';

/** Load (never throws for a bad file; errors come back as `file:line: …` lines). */
export function loadConfig(args: ConfigFlags, flags: ServerFlags, cwd: string): LoadedConfig {
  const loaded = load(args, flags, cwd);
  if (!loaded.ok || flags.tls !== true) return loaded;
  const tls = withTls(loaded.config, loaded.source);
  return { ...loaded, config: tls.config, warnings: [...loaded.warnings, ...tls.warnings] };
}

function load(args: ConfigFlags, flags: ServerFlags, cwd: string): LoadedConfig {
  if (args.config !== undefined) {
    const r = loadConfigFile(args.config, { defines: args.defines, lenient: args.lenient });
    if (!r.ok) return { ok: false, source: args.config, errors: r.errors.map(formatDiagnostic), warnings: r.warnings };
    return { ok: true, config: r.config, source: args.config, warnings: r.warnings };
  }
  const fc = configFromFlags(flags, cwd);
  const r = parseConfig(fc.text, { file: FLAGS_SOURCE, defines: args.defines, lenient: args.lenient, env: process.env });
  if (!r.ok) return { ok: false, source: FLAGS_SOURCE, errors: r.errors.map(formatDiagnostic), warnings: r.warnings };
  return { ok: true, config: r.config, source: FLAGS_SOURCE, flags: fc, warnings: r.warnings };
}
