/**
 * DnsCache: keeps the DNS names of a masquerade chain resolved, so that a PASV never waits
 * for DNS (mod_dynmasq's `DynMasqRefresh`, made TTL-aware).
 *
 * Theory of operation. Each name is an entry in one of four states:
 * - `pending`: the first lookup is in flight (`add` awaits it);
 * - `unresolved`: no lookup has succeeded yet; PASV skips the rule (ProFTPD Bug#4104's
 *   deferred resolution) and the lookup is retried every `retryMs`;
 * - `fresh`: the last lookup succeeded; the next one is due when the TTL runs out
 *   (clamped to [minTtlMs, maxTtlMs]) or after `refreshMs`, whichever comes first;
 * - `stale`: a refresh failed; the last known good address stays in use, retried every `retryMs`.
 * A lookup ends in one of three outcomes (`same` address, `changed` address, `failed`), and
 * TRANSITIONS below gives the next state and the event to emit. A name that resolves to a
 * private, loopback or link-local address also emits `private-address-warning` (the NAT
 * howto's FAQ: a name resolved inside the LAN gives the internal address).
 *
 * Lookups: an IP literal needs none; an interface name (`eth0`, `lo`) reads the interface's
 * first IPv4 address; anything else asks DNS for A records with their TTL (RFC 1035 §3.2.1,
 * RFC 2181 §8), through `servers` when given, else the system's resolvers; when DNS fails
 * and `lookupFallback` is on, `dns.lookup()` (getaddrinfo: /etc/hosts, NSS) answers with
 * `fallbackTtlMs`. Among several A records the address in use is kept while it is still
 * listed, so round-robin DNS does not flap; otherwise the first record is taken.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { promises as dnsPromises } from 'node:dns';
import { networkInterfaces } from 'node:os';
import {
  type DnsAnswer,
  type DnsLookup,
  addressScope,
  dynmasqFailedLine,
  dynmasqUnchangedLine,
  dynmasqUpdatedLine,
  masqueradingAsLine,
  normalizeAddress,
  MasqueradeError,
} from '../index.js';

/** Events of the cache, ready to log: `message` is ProFTPD's text where ProFTPD has one. */
export type DnsCacheEventType =
  | 'resolved'
  | 'updated'
  | 'unchanged'
  | 'failed-keeping-last'
  | 'deferred'
  | 'private-address-warning';

/** One event. `level` is a suggestion for the application's logger. */
export interface DnsCacheEvent {
  type: DnsCacheEventType;
  level: 'debug' | 'info' | 'warn';
  name: string;
  /** The address now in use (absent while unresolved). */
  address?: string;
  /** The address before an update (absent when there was none: `(was (null))`). */
  previous?: string;
  /** TTL of the answer, milliseconds. */
  ttlMs?: number;
  source?: DnsSource;
  /** Why the lookup failed (an error code such as `ECONNREFUSED`, `ENOTFOUND`). */
  error?: string;
  message: string;
}

/** Where an address came from. */
export type DnsSource = 'literal' | 'device' | 'dns' | 'lookup';

/** Options of {@link DnsCache}. */
export interface DnsCacheOptions {
  /** Refresh every name at least this often (mod_dynmasq `DynMasqRefresh`, in ms). */
  refreshMs?: number;
  /** Lower bound of a TTL (default 5000 ms): a TTL of 0 does not make us query in a loop. */
  minTtlMs?: number;
  /** Upper bound of a TTL (default 3 600 000 ms). */
  maxTtlMs?: number;
  /** Delay before retrying a failed lookup (default 10 000 ms, at most `refreshMs`). */
  retryMs?: number;
  /** Per-query timeout (default 2000 ms) and attempts (default 2) of the DNS resolver. */
  timeoutMs?: number;
  tries?: number;
  /** DNS servers (`'127.0.0.1:5353'`, `'[::1]:53'`); default: the system's. */
  servers?: readonly string[];
  /** Fall back to `dns.lookup()` when DNS fails (default: on without `servers`, off with them). */
  lookupFallback?: boolean;
  /** TTL for answers without one: `dns.lookup()` and interface addresses (default 60 000 ms). */
  fallbackTtlMs?: number;
  /** Read interface names (`eth0`) from the host's interfaces (default true). */
  devices?: boolean;
  /** Extra networks that count as private for the warning (as in MasqueradeResolver). */
  internalRanges?: readonly string[];
  onEvent?: (event: DnsCacheEvent) => void;
}

/** The diagnostics channel every event is also published on. */
export const DNS_CACHE_CHANNEL = 'ftpkit:masquerade:dns';

type State = 'pending' | 'unresolved' | 'fresh' | 'stale';
type Outcome = 'same' | 'changed' | 'failed';

/** State machine of an entry: state × outcome → next state and event. */
const TRANSITIONS: Readonly<Record<State, Readonly<Record<Outcome, { next: State; event: DnsCacheEventType }>>>> = {
  pending: {
    same: { next: 'fresh', event: 'resolved' }, // unreachable: nothing to be the same as
    changed: { next: 'fresh', event: 'resolved' },
    failed: { next: 'unresolved', event: 'deferred' },
  },
  unresolved: {
    same: { next: 'fresh', event: 'updated' }, // unreachable
    changed: { next: 'fresh', event: 'updated' },
    failed: { next: 'unresolved', event: 'deferred' },
  },
  fresh: {
    same: { next: 'fresh', event: 'unchanged' },
    changed: { next: 'fresh', event: 'updated' },
    failed: { next: 'stale', event: 'failed-keeping-last' },
  },
  stale: {
    same: { next: 'fresh', event: 'unchanged' },
    changed: { next: 'fresh', event: 'updated' },
    failed: { next: 'stale', event: 'failed-keeping-last' },
  },
};

const LEVELS: Readonly<Record<DnsCacheEventType, DnsCacheEvent['level']>> = {
  resolved: 'info',
  updated: 'info',
  unchanged: 'debug',
  'failed-keeping-last': 'warn',
  deferred: 'warn',
  'private-address-warning': 'warn',
};

interface Entry {
  readonly name: string;
  state: State;
  address: string | undefined;
  source: DnsSource | undefined;
  ttlMs: number | undefined;
  checkedAt: number;
  failingSince: number | undefined;
  error: string | undefined;
  warnedFor: string | undefined;
  nextAt: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  inflight: Promise<void> | undefined;
}

type LookupResult =
  | { ok: true; addresses: string[]; ttlMs: number; source: DnsSource }
  | { ok: false; error: string };

/** A snapshot of one name, for status pages and `ftpkit check`. */
export interface DnsCacheEntry {
  name: string;
  state: State;
  address: string | undefined;
  source: DnsSource | undefined;
  ttlMs: number | undefined;
  error: string | undefined;
}

function positive(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new MasqueradeError('ERR_MASQUERADE_OPTION_INVALID', `DnsCache: ${option} must be a positive number of milliseconds`);
  }
  return value;
}

function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * A TTL-aware cache of DNS names with last-known-good answers; implements the resolver's
 * `DnsLookup`, so `get` never blocks.
 *
 * @example
 * const cache = new DnsCache({ refreshMs: 60_000, onEvent: (e) => log[e.level](e.message) });
 * await cache.add('ftp.example.com');   // logs "Masquerading as '203.0.113.7' (ftp.example.com)"
 * const resolver = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'ftp.example.com' }], dns: cache });
 */
export class DnsCache implements DnsLookup {
  private readonly entries = new Map<string, Entry>();
  private readonly resolver: dnsPromises.Resolver;
  private readonly channel = diagnosticsChannel.channel(DNS_CACHE_CHANNEL);
  private readonly refreshMs: number | undefined;
  private readonly minTtlMs: number;
  private readonly maxTtlMs: number;
  private readonly retryMs: number;
  private readonly fallbackTtlMs: number;
  private readonly lookupFallback: boolean;
  private readonly devices: boolean;
  private readonly internalRanges: readonly string[];
  private readonly onEvent: ((event: DnsCacheEvent) => void) | undefined;
  private closed = false;

  constructor(opts: DnsCacheOptions = {}) {
    this.refreshMs = opts.refreshMs === undefined ? undefined : positive(opts.refreshMs, 0, 'refreshMs');
    this.minTtlMs = positive(opts.minTtlMs, 5000, 'minTtlMs');
    this.maxTtlMs = Math.max(this.minTtlMs, positive(opts.maxTtlMs, 3_600_000, 'maxTtlMs'));
    this.retryMs = Math.min(positive(opts.retryMs, 10_000, 'retryMs'), this.refreshMs ?? Infinity);
    this.fallbackTtlMs = positive(opts.fallbackTtlMs, 60_000, 'fallbackTtlMs');
    this.lookupFallback = opts.lookupFallback ?? opts.servers === undefined;
    this.devices = opts.devices ?? true;
    this.internalRanges = opts.internalRanges ?? [];
    addressScope('0.0.0.0', this.internalRanges); // validates internalRanges now
    this.onEvent = opts.onEvent;
    this.resolver = new dnsPromises.Resolver({
      timeout: positive(opts.timeoutMs, 2000, 'timeoutMs'),
      tries: Math.max(1, Math.floor(opts.tries ?? 2)),
    });
    if (opts.servers !== undefined) this.resolver.setServers([...opts.servers]);
  }

  /**
   * Starts tracking `name` and resolves it now. Never rejects: when DNS is down the name is
   * deferred (PASV skips its rule) and retried in the background. Adding a name twice is a no-op.
   */
  add(name: string): Promise<void> {
    const key = keyOf(name);
    const existing = this.entries.get(key);
    if (existing !== undefined) return existing.inflight ?? Promise.resolve();
    if (this.closed) return Promise.resolve();
    const e: Entry = {
      name: key, state: 'pending', address: undefined, source: undefined, ttlMs: undefined, checkedAt: 0,
      failingSince: undefined, error: undefined, warnedFor: undefined, nextAt: undefined, timer: undefined, inflight: undefined,
    };
    this.entries.set(key, e);
    return this.refresh(e);
  }

  /** The current address of `name`, from the cache; never blocks. An unknown name is added in the background. */
  get(name: string): DnsAnswer {
    const e = this.entries.get(keyOf(name));
    if (e === undefined) {
      if (this.closed) return { address: undefined, reason: 'not in the DNS cache (closed)' };
      void this.add(name);
      return { address: undefined, reason: 'not in the DNS cache yet; resolving it in the background' };
    }
    const now = Date.now();
    const next = e.nextAt === undefined ? '' : `, next check in ${seconds(Math.max(0, e.nextAt - now))}`;
    switch (e.state) {
      case 'pending':
        return { address: undefined, reason: 'first lookup still in flight' };
      case 'unresolved':
        return { address: undefined, reason: `not resolved (${e.error ?? 'unknown error'})${next}` };
      case 'fresh': {
        const ttl = e.ttlMs === undefined || !Number.isFinite(e.ttlMs) ? '' : `, TTL ${seconds(e.ttlMs)}`;
        return { address: e.address, reason: `resolved to ${e.address} (${e.source}${ttl}, checked ${seconds(now - e.checkedAt)} ago${next})` };
      }
      case 'stale':
        return {
          address: e.address,
          reason: `resolved to ${e.address}, the last known good address (lookups failing for ${seconds(now - (e.failingSince ?? now))}: ${e.error}${next})`,
        };
    }
  }

  /** Refreshes every name now (like `ftpdctl dynmasq refresh`). Never rejects. */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.refresh(e)));
  }

  /** A snapshot of every name. */
  list(): DnsCacheEntry[] {
    return [...this.entries.values()].map((e) => ({ name: e.name, state: e.state, address: e.address, source: e.source, ttlMs: e.ttlMs, error: e.error }));
  }

  /** Stops every timer and pending query; cached answers stay readable. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.entries.values()) {
      clearTimeout(e.timer);
      e.timer = undefined;
      e.nextAt = undefined;
    }
    this.resolver.cancel();
  }

  private refresh(e: Entry): Promise<void> {
    if (e.inflight !== undefined) return e.inflight;
    if (this.closed) return Promise.resolve();
    const run = async (): Promise<void> => {
      const result = await this.lookup(e);
      if (this.closed) return;
      this.apply(e, result);
    };
    e.inflight = run().finally(() => {
      e.inflight = undefined;
    });
    return e.inflight;
  }

  private apply(e: Entry, result: LookupResult): void {
    const now = Date.now();
    const previous = e.address;
    let outcome: Outcome;
    if (result.ok) {
      const chosen = previous !== undefined && result.addresses.includes(previous) ? previous : (result.addresses[0] as string);
      outcome = chosen === previous ? 'same' : 'changed';
      e.address = chosen;
      e.source = result.source;
      e.ttlMs = result.ttlMs;
      e.checkedAt = now;
      e.failingSince = undefined;
      e.error = undefined;
    } else {
      outcome = 'failed';
      e.failingSince ??= now;
      e.error = result.error;
    }
    const { next, event } = TRANSITIONS[e.state][outcome];
    e.state = next;
    const base = { name: e.name, ...(e.address === undefined ? {} : { address: e.address }) };
    const detail = !result.ok
      ? { error: result.error }
      : Number.isFinite(result.ttlMs) ? { ttlMs: result.ttlMs, source: result.source } : { source: result.source };
    this.emit({ type: event, level: LEVELS[event], ...base, ...detail, ...(previous === undefined ? {} : { previous }), message: this.message(event, e, previous) });
    if (result.ok && e.address !== undefined && e.warnedFor !== e.address) {
      const scope = addressScope(e.address, this.internalRanges);
      e.warnedFor = undefined; // a public address ends the warning; a private one warns once
      if (scope !== 'public') {
        e.warnedFor = e.address;
        this.emit({
          type: 'private-address-warning', level: 'warn', ...base, source: result.source,
          message: `MasqueradeAddress '${e.name}' resolves to ${scope} address ${e.address}: clients outside that network cannot connect to it (a name resolved from inside the LAN gives the internal address; use the public IP address, or a DNS server that answers with it)`,
        });
      }
    }
    if (e.source !== 'literal') {
      this.schedule(e, result.ok ? this.successDelay(result.ttlMs) : this.retryMs);
    }
  }

  private message(event: DnsCacheEventType, e: Entry, previous: string | undefined): string {
    switch (event) {
      case 'resolved':
        return masqueradingAsLine(e.address as string, e.name);
      case 'updated':
        return dynmasqUpdatedLine(e.name, e.address as string, previous);
      case 'unchanged':
        return dynmasqUnchangedLine(e.name);
      case 'failed-keeping-last':
        return dynmasqFailedLine(e.name);
      default:
        return `unable to resolve '${e.name}' (${e.error}); retrying every ${seconds(this.retryMs)}, PASV uses the next rule meanwhile`;
    }
  }

  private successDelay(ttlMs: number): number {
    const clamped = Math.min(this.maxTtlMs, Math.max(this.minTtlMs, ttlMs));
    return Math.min(clamped, this.refreshMs ?? Infinity);
  }

  private schedule(e: Entry, delay: number): void {
    clearTimeout(e.timer);
    e.nextAt = Date.now() + delay;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      void this.refresh(e);
    }, delay);
    e.timer.unref();
  }

  private emit(event: DnsCacheEvent): void {
    if (this.channel.hasSubscribers) this.channel.publish(event);
    this.onEvent?.(event);
  }

  private async lookup(e: Entry): Promise<LookupResult> {
    const literal = normalizeAddress(e.name);
    if (literal !== undefined) return { ok: true, addresses: [literal], ttlMs: Infinity, source: 'literal' };
    if (this.devices) {
      const iface = networkInterfaces()[e.name]?.find((a) => a.family === 'IPv4');
      if (iface !== undefined) return { ok: true, addresses: [iface.address], ttlMs: this.fallbackTtlMs, source: 'device' };
    }
    let dnsError: string;
    try {
      const records = await this.resolver.resolve4(e.name, { ttl: true });
      if (records.length > 0) {
        const ttl = Math.min(...records.map((r) => r.ttl)) * 1000;
        return { ok: true, addresses: records.map((r) => r.address), ttlMs: ttl, source: 'dns' };
      }
      dnsError = 'ENODATA';
    } catch (err) {
      dnsError = errorCode(err);
    }
    if (this.lookupFallback && !this.closed) {
      try {
        const found = await dnsPromises.lookup(e.name, { family: 4, all: true });
        if (found.length > 0) return { ok: true, addresses: found.map((a) => a.address), ttlMs: this.fallbackTtlMs, source: 'lookup' };
      } catch (err) {
        return { ok: false, error: `${dnsError}; lookup: ${errorCode(err)}` };
      }
    }
    return { ok: false, error: dnsError };
  }
}

function keyOf(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
