/**
 * `@ftpkit/masquerade/node`: the IO edge of the masquerade resolver. {@link DnsCache} keeps
 * the chain's DNS names resolved (TTL-aware, mod_dynmasq-style refresh, last known good,
 * deferred resolution) so that a PASV never waits for DNS; {@link createMasquerade} wires a
 * cache and a resolver together and resolves every name at startup.
 *
 * @example
 * ```ts
 * import { createMasquerade } from '@ftpkit/masquerade/node';
 *
 * const masq = await createMasquerade({
 *   policies: [{ kind: 'dns', name: 'ftp.example.com' }],
 *   dnsCache: { refreshMs: 60_000, onEvent: (e) => logger[e.level](e.message) },
 * });
 * // logs "Masquerading as '203.0.113.7' (ftp.example.com)"
 * const answer = masq.resolver.resolve({ localAddress: '10.0.0.5', remoteAddress: '198.51.100.9' });
 * masq.close();
 * ```
 *
 * @packageDocumentation
 */
import { type MasqueradeResolverOptions, MasqueradeResolver } from '../index.js';
import { type DnsCacheOptions, DnsCache } from './dns-cache.js';

export {
  type DnsCacheEntry,
  type DnsCacheEvent,
  type DnsCacheEventType,
  type DnsCacheOptions,
  type DnsSource,
  DNS_CACHE_CHANNEL,
  DnsCache,
} from './dns-cache.js';

/** Options of {@link createMasquerade}: the resolver's, with the cache's instead of `dns`. */
export interface CreateMasqueradeOptions extends Omit<MasqueradeResolverOptions, 'dns'> {
  dnsCache?: DnsCacheOptions;
}

/** A resolver and the cache that feeds it. */
export interface Masquerade {
  readonly resolver: MasqueradeResolver;
  readonly dns: DnsCache;
  /** Stops the cache's timers. */
  close(): void;
}

/**
 * Builds the resolver on a new {@link DnsCache} and resolves every DNS name of the chain
 * before returning. Never fails because of DNS: a name that does not resolve is deferred
 * and its rule is skipped until it does. Throws only for an invalid chain (MasqueradeError).
 */
export async function createMasquerade(opts: CreateMasqueradeOptions): Promise<Masquerade> {
  const cache = new DnsCache(opts.dnsCache);
  let resolver: MasqueradeResolver;
  try {
    resolver = new MasqueradeResolver({ ...opts, dns: cache });
  } catch (err) {
    cache.close();
    throw err;
  }
  await Promise.all(resolver.names().map((name) => cache.add(name)));
  return { resolver, dns: cache, close: () => cache.close() };
}
