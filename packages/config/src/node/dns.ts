/**
 * `<VirtualHost ftp.example.com>` and `DefaultAddress host.example.com` name hosts that
 * ProFTPD resolves at startup. `resolveVirtualHostNames` does the same, so that
 * `selectServer` can match the addresses clients connect to.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FtpkitConfig, ServerConfig } from '../index.js';

function isHostName(host: string): boolean {
  return isIP(host) === 0 && !host.startsWith('[');
}

/** The configuration with names replaced by their addresses, and the names that failed. */
export interface VirtualHostNameResult {
  readonly config: FtpkitConfig;
  readonly unresolved: readonly { readonly server: string; readonly name: string; readonly message: string }[];
}

/**
 * Resolves every host name among the servers' addresses (all A and AAAA records). A
 * name that does not resolve is kept as written (it then matches nothing) and reported.
 */
export async function resolveVirtualHostNames(
  config: FtpkitConfig,
  resolve: (name: string) => Promise<readonly string[]> = async (name) => (await lookup(name, { all: true })).map((a) => a.address),
): Promise<VirtualHostNameResult> {
  const unresolved: { server: string; name: string; message: string }[] = [];
  const fix = async (s: ServerConfig): Promise<ServerConfig> => {
    const addresses: string[] = [];
    for (const a of s.addresses) {
      if (!isHostName(a)) {
        addresses.push(a);
        continue;
      }
      try {
        const found = await resolve(a);
        addresses.push(...(found.length > 0 ? found : [a]));
        if (found.length === 0) unresolved.push({ server: s.label, name: a, message: 'no addresses' });
      } catch (e) {
        addresses.push(a);
        unresolved.push({ server: s.label, name: a, message: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      }
    }
    return { ...s, addresses };
  };
  const main = await fix(config.main);
  const virtualHosts = await Promise.all(config.virtualHosts.map(fix));
  return { config: { ...config, main, virtualHosts }, unresolved };
}
