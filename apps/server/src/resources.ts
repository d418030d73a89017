/**
 * What sessions share: one PortAllocator per distinct PassivePorts range (shared by every
 * session and every virtual host using that range, and kept across SIGHUP reloads so a
 * port is never handed out twice; over this process's part of the range when instances
 * or cluster workers split it), one MasqueradeResolver per distinct
 * MasqueradeAddress/TLSMasqueradeAddress pair over one DnsCache (DynMasqRefresh), and
 * one TransferLog per file.
 */
import type { AuthFileResult, AuthGroup, AuthUser, HostSpec, PortRange } from '@ftpkit/config';
import { loadAuthGroupFile, loadAuthUserFile } from '@ftpkit/config/node';
import { MasqueradeResolver, type Policy } from '@ftpkit/masquerade';
import { DnsCache, type DnsCacheEvent } from '@ftpkit/masquerade/node';
import { PortAllocator, formatPortRanges, type AllocatorError, type ExhaustionPolicy, type PortMapping } from '@ftpkit/port-allocator';
import type { Logger } from './log.js';
import { openTransferLog, type TransferLog } from './xferlog.js';

/** One part of n (`--passive-partition`, cluster workers), 0-based. */
export interface PassivePart {
  readonly index: number;
  readonly count: number;
}

/** How this process hands out the ports of every PassivePorts range (the scale-out flags). */
export interface PassiveLayout {
  /** Parts to take, outermost first: an instance's part, then a worker's part of it. */
  readonly parts?: readonly PassivePart[];
  /** Share mode: a port serves several clients at once, told apart by address. */
  readonly share?: boolean;
  /** Listened range -> advertised range (Docker `-p advertised:listened`). */
  readonly expose?: readonly PortMapping[];
}

/**
 * Allocators live for the whole process: one per PassivePorts range, over this
 * process's part of it (`PortAllocator.partition`, once per level of `parts`).
 */
export class AllocatorRegistry {
  private readonly byKey = new Map<string, PortAllocator>();
  constructor(
    private readonly exhaustion: ExhaustionPolicy,
    /** Per client address (the session leases with its client's address as owner); 0 = none. */
    private readonly maxPerClient = 0,
    private readonly layout: PassiveLayout = {},
  ) {}

  /**
   * The allocator of a PassivePorts range. Throws an Error naming the range when the
   * layout does not fit it (a part that does not exist, ports the mapping leaves out).
   */
  get(range: PortRange): PortAllocator {
    const key = `${range.min}-${range.max}`;
    let a = this.byKey.get(key);
    if (a === undefined) {
      const { parts = [], share = false, expose = [] } = this.layout;
      try {
        a = new PortAllocator({
          ranges: [{ min: range.min, max: range.max }],
          random: Math.random,
          exhaustion: this.exhaustion,
          ...(this.maxPerClient > 0 ? { maxPerOwner: this.maxPerClient } : {}),
          ...(share ? { share } : {}),
          ...(expose.length > 0 ? { expose } : {}),
        });
        for (const p of parts) a = a.partition(p.count)[p.index] as PortAllocator;
      } catch (err) {
        const e = err as AllocatorError;
        const why =
          e.code === 'ERR_ALLOCATOR_PARTITION_INVALID'
            ? `cannot be split into ${parts.map((p) => p.count).join(' x ')} parts (${e.message})`
            : e.message;
        throw Object.assign(new Error(`PassivePorts ${key}: ${why}`), { code: e.code });
      }
      this.byKey.set(key, a);
    }
    return a;
  }

  /** `PassivePorts 60000-60099: this process uses 60000-60049 (part 1 of 2)`, when the range is split. */
  describe(range: PortRange): string | undefined {
    const parts = this.layout.parts ?? [];
    if (parts.length === 0) return undefined;
    const which = parts.map((p) => `part ${p.index + 1} of ${p.count}`).join(', ');
    return `PassivePorts ${range.min}-${range.max}: this process uses ${formatPortRanges(this.get(range).ranges)} (${which})`;
  }

  all(): ReadonlyMap<string, PortAllocator> {
    return this.byKey;
  }
}

/** Transfer logs live for the whole process too (reopened only when a reload drops them). */
export class TransferLogRegistry {
  private readonly byPath = new Map<string, TransferLog>();
  constructor(private readonly logger: Logger) {}

  get(path: string | undefined): TransferLog | undefined {
    if (path === undefined || path.toUpperCase() === 'NONE') return undefined;
    let t = this.byPath.get(path);
    if (t === undefined) {
      t = openTransferLog(path, (err) => this.logger.error({ err }, `unable to open TransferLog '${path}': ${err.message}`));
      this.byPath.set(path, t);
    }
    return t;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byPath.values()].map((t) => t.close()));
    this.byPath.clear();
  }
}

function policyOf(spec: HostSpec): Policy {
  return spec.kind === 'name' ? { kind: 'dns', name: spec.host } : { kind: 'static', address: spec.host };
}

const LEVEL: Record<DnsCacheEvent['level'], 'debug' | 'info' | 'warn'> = { debug: 'debug', info: 'info', warn: 'warn' };

/**
 * Masquerade resolvers of one configuration generation. A reload builds a new one (a
 * changed DynMasqRefresh or name takes effect); the previous generation's cache is
 * closed but its answers stay readable for the sessions that still use it.
 */
export class MasqueradeGeneration {
  readonly dns: DnsCache;
  private readonly byKey = new Map<string, MasqueradeResolver>();

  constructor(logger: Logger, refreshSeconds: number | undefined) {
    this.dns = new DnsCache({
      ...(refreshSeconds === undefined ? {} : { refreshMs: refreshSeconds * 1000 }),
      onEvent: (e) => {
        // mod_dynmasq prefixes its refresh lines with its name.
        const dynmasq = e.type === 'updated' || e.type === 'unchanged' || e.type === 'failed-keeping-last';
        logger[LEVEL[e.level]]({ name: e.name, address: e.address }, dynmasq ? `mod_dynmasq/0.5: ${e.message}` : e.message);
      },
    });
  }

  /** Resolve every name now (startup and reload), so PASV never waits for DNS. */
  async add(specs: readonly HostSpec[]): Promise<void> {
    await Promise.all(specs.map((s) => this.dns.add(s.host)));
  }

  /**
   * The resolver for a pair. Neither set: undefined (the local address is advertised),
   * except for a session that came through a PROXY-protocol load balancer, which gets the
   * address the client connected to (the header's destination, the chain's last rule).
   */
  resolverFor(masq: HostSpec | undefined, tlsMasq: HostSpec | undefined, proxied = false): MasqueradeResolver | undefined {
    if (masq === undefined && tlsMasq === undefined && !proxied) return undefined;
    const key = `${masq?.host ?? ''}|${tlsMasq?.host ?? ''}`;
    let r = this.byKey.get(key);
    if (r === undefined) {
      const policies: Policy[] = [];
      if (tlsMasq !== undefined) policies.push({ kind: 'tls', policy: policyOf(tlsMasq) });
      if (masq !== undefined) policies.push(policyOf(masq));
      // Without a MasqueradeAddress nothing is guarded, as without a resolver.
      r = new MasqueradeResolver({ policies, dns: this.dns, ...(policies.length === 0 ? { guard: false } : {}) });
      this.byKey.set(key, r);
    }
    return r;
  }

  /** The address a spec stands for now (for the startup lines). */
  current(spec: HostSpec): string | undefined {
    return spec.kind === 'name' ? this.dns.get(spec.host).address : spec.host;
  }

  close(): void {
    this.dns.close();
  }
}

/**
 * AuthUserFile / AuthGroupFile contents. Read again at every login (edits apply at
 * once, as in ProFTPD); when a file cannot be read any more — a root-only (0600) file
 * after the switch to `User nobody` — the copy read at startup or the last good read is
 * used, as ProFTPD keeps the files it opened as root.
 */
export class AuthFileCache {
  private readonly users = new Map<string, readonly AuthUser[]>();
  private readonly groups = new Map<string, readonly AuthGroup[]>();
  constructor(private readonly logger: Logger) {}

  private read<T>(path: string, load: (p: string) => AuthFileResult<T>, cache: Map<string, readonly T[]>, what: string): readonly T[] {
    const r = load(path);
    const unreadable = r.errors.find((e) => e.line === 0);
    if (unreadable === undefined) {
      cache.set(path, r.entries);
      return r.entries;
    }
    const kept = cache.get(path);
    if (kept !== undefined) return kept;
    this.logger.error(`${what} ${path}: ${unreadable.message}`);
    return [];
  }

  userFile(path: string): readonly AuthUser[] {
    return this.read(path, loadAuthUserFile, this.users, 'AuthUserFile');
  }

  groupFile(path: string): readonly AuthGroup[] {
    return this.read(path, loadAuthGroupFile, this.groups, 'AuthGroupFile');
  }
}
