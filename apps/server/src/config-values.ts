/** Reading a parsed configuration across its layers (for `check` and `firewall`). */
import type { FtpkitConfig, ServerConfig, SettingsLayer } from '@ftpkit/config';

/** The main server and the virtual hosts that listen (ProFTPD: `Port 0` does not). */
export function listeningServers(config: FtpkitConfig): ServerConfig[] {
  return [config.main, ...config.virtualHosts].filter((s) => s.port > 0);
}

/**
 * Every value a setting takes for sessions of a server, with the section that sets it:
 * the server's own (else `<Global>`'s), then each `<IfClass>`/`<IfUser>`/`<IfGroup>`.
 */
export function layeredValues<K extends keyof SettingsLayer>(
  config: FtpkitConfig,
  s: ServerConfig,
  key: K,
): { setBy: string; value: NonNullable<SettingsLayer[K]> }[] {
  const out: { setBy: string; value: NonNullable<SettingsLayer[K]> }[] = [];
  const own = s.settings[key];
  const global = config.global.settings[key];
  if (own !== undefined) out.push({ setBy: s.label, value: own as NonNullable<SettingsLayer[K]> });
  else if (global !== undefined) out.push({ setBy: '<Global>', value: global as NonNullable<SettingsLayer[K]> });
  for (const layer of [...config.global.layers, ...s.layers]) {
    const v = layer.content[key];
    if (v !== undefined) out.push({ setBy: layer.label ?? `<If${layer.kind}>`, value: v as NonNullable<SettingsLayer[K]> });
  }
  return out;
}

/** Settings the configuration sets that this server does not apply yet, with the directive name. */
const UNAPPLIED: readonly [keyof SettingsLayer, string, (v: unknown) => boolean][] = [
  ['displayLogin', 'DisplayLogin', () => true],
  ['displayChdir', 'DisplayChdir', () => true],
  ['accessGrantMsg', 'AccessGrantMsg', () => true],
  ['deferWelcome', 'DeferWelcome on', (v) => v === true],
  ['allowFilter', 'AllowFilter', () => true],
  ['denyFilter', 'DenyFilter', () => true],
  ['showSymlinks', 'ShowSymlinks off', (v) => v === false],
];

/** One line per directive that is set somewhere but not applied by `ftpkit serve`. */
export function unappliedSettings(config: FtpkitConfig): string[] {
  const out = new Set<string>();
  const layers: SettingsLayer[] = [config.global.settings, ...config.global.anonymous.map((a) => a.settings), ...config.global.layers.map((l) => l.content)];
  for (const s of [config.main, ...config.virtualHosts]) {
    layers.push(s.settings, ...s.layers.map((l) => l.content), ...s.anonymous.map((a) => a.settings));
  }
  for (const layer of layers) {
    for (const [key, label, applies] of UNAPPLIED) {
      const v = layer[key];
      if (v !== undefined && applies(v)) out.add(`${label}: parsed but not applied by this server yet`);
    }
  }
  // FTPS is set up per server: mod_tls directives in conditional sections do not apply.
  const conditional: SettingsLayer[] = [...config.global.layers, ...[config.main, ...config.virtualHosts].flatMap((s) => s.layers)].map((l) => l.content);
  const anonymous: SettingsLayer[] = [...config.global.anonymous, ...[config.main, ...config.virtualHosts].flatMap((s) => s.anonymous)].map((a) => a.settings);
  for (const layer of [...conditional, ...anonymous]) {
    const tls = Object.keys(layer).filter((k) => k.startsWith('tls') && k !== 'tlsMasqueradeAddress' && k !== 'tlsRequired');
    if (tls.length > 0) out.add(`mod_tls directives inside <IfClass>/<IfUser>/<IfGroup>/<Anonymous> (${tls.join(', ')}): parsed but not applied; set them for the server`);
  }
  return [...out];
}
