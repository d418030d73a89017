/** `parseConfig`: text in, typed configuration and diagnostics out (pure). */
import { buildConfig } from './build.js';
import { formatDiagnostic, type ConfigDiagnostic } from './diagnostics.js';
import type { FtpkitConfig } from './model.js';
import { parseSyntax, type IncludeCallback } from './syntax.js';

/** Options of `parseConfig`. */
export interface ParseConfigOptions {
  /** The file name used in diagnostics (and as the base of relative Include paths). */
  readonly file: string;
  /** Reads the files of an `Include`; without it, Include is an error. */
  readonly include?: IncludeCallback | undefined;
  /** `-D NAME` definitions for `<IfDefine>`. */
  readonly defines?: readonly string[] | undefined;
  /** Values for `%{env:NAME}`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Directives ftpkit does not implement become warnings instead of errors. */
  readonly lenient?: boolean | undefined;
  /** Modules `<IfModule>` treats as loaded (default LOADED_MODULES). */
  readonly modules?: readonly string[] | undefined;
}

/** The outcome: `ok` when there is no error; warnings and notes either way. */
export type ParseConfigResult =
  | { readonly ok: true; readonly config: FtpkitConfig; readonly errors: readonly ConfigDiagnostic[]; readonly warnings: readonly ConfigDiagnostic[] }
  | { readonly ok: false; readonly config?: undefined; readonly errors: readonly ConfigDiagnostic[]; readonly warnings: readonly ConfigDiagnostic[] };

function byPosition(files: readonly string[]): (a: ConfigDiagnostic, b: ConfigDiagnostic) => number {
  const order = new Map(files.map((f, i) => [f, i]));
  return (a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line;
}

/**
 * Parses `proftpd.conf` text into the typed configuration. Never throws on bad input:
 * every problem is a diagnostic with `file:line`, what is wrong and the fix.
 */
export function parseConfig(text: string, opts: ParseConfigOptions): ParseConfigResult {
  const syntax = parseSyntax(text, opts);
  const built = buildConfig(syntax.nodes, { lenient: opts.lenient, files: syntax.files });
  const all = [...syntax.diagnostics, ...built.diagnostics].sort(byPosition(syntax.files));
  const errors = all.filter((d) => d.severity === 'error');
  const warnings = all.filter((d) => d.severity !== 'error');
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config: built.config, errors, warnings };
}

/** Every diagnostic of a result, formatted one per line (errors first). */
export function formatDiagnostics(result: { readonly errors: readonly ConfigDiagnostic[]; readonly warnings: readonly ConfigDiagnostic[] }): string {
  return [...result.errors, ...result.warnings].map(formatDiagnostic).join('\n');
}
