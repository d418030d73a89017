import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatDiagnostics, parseConfig, resolveSessionConfig, type EffectiveConfig, type FtpkitConfig, type ParseConfigOptions, type SessionContext } from '../src/index.js';

export const fixture = (rel: string): string => fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url));

export function parseOk(text: string, opts: Partial<ParseConfigOptions> = {}): FtpkitConfig {
  const r = parseConfig(text, { file: 'test.conf', ...opts });
  if (!r.ok) throw new Error(formatDiagnostics(r));
  return r.config;
}

export function parseFixture(rel: string): FtpkitConfig {
  return parseOk(readFileSync(fixture(rel), 'utf8'), { file: rel });
}

export function session(config: FtpkitConfig, ctx: Partial<SessionContext> & { remoteAddress: string }): EffectiveConfig {
  const r = resolveSessionConfig(config, { localAddress: '10.0.0.5', localPort: 21, ...ctx });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
