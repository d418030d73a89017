/**
 * PortAllocator: leases ports from ranges, sans-IO (time and randomness come in).
 *
 * Theory of operation
 * -------------------
 * Every port of the ranges has a slot number 0..size-1 and one state (PORT_STATES):
 *
 *     free --lease--> leased --release--> cooling --(cooldownMs elapsed)--> free
 *                      ^ |                    |
 *                      | +----markBusy--> busy --(busyRetryMs elapsed)--> free
 *                      +--lease by the peer that released it, when none is free
 *
 * - free ports sit in a dense array with a position index, so picking one uniformly at
 *   random and removing it is a swap with the last element: O(1) for any range size.
 * - cooling and busy ports sit in two FIFO lists. Each has one constant delay, so FIFO
 *   order is expiry order and they drain lazily, at the head, whenever a call brings a
 *   `now`. Nothing runs between calls; there are no timers.
 * - Cooling reuse (`coolingReuse: 'peer'`, the default). The cooldown keeps a released
 *   port from a *different* client while TIME_WAIT and NAT conntrack entries of its last
 *   connection may still be around. The client that released it is not at risk from its
 *   own past connections (ProFTPD and pure-ftpd hand a client its just-closed port back all
 *   the time), so when no port is free, a lease with a `peer` key takes the cooling port
 *   that peer released longest ago instead of failing. Each peer's cooling ports form a
 *   linked FIFO (queue.ts), so finding it, and dropping a port from its peer's list when
 *   it expires, are O(1); the port's entry in the cooling queue is skipped when it comes
 *   up. Free ports still come first: the random choice stays the rule, reuse is the
 *   alternative to exhaustion.
 * - A lease is keyed by an owner (a session, a client address); `maxPerOwner` caps the
 *   leases one owner holds at once.
 * - Share mode (`share: true`): a leased port may be leased again to a different peer
 *   key (a client address), never to the same one twice at once. Free ports are used
 *   first; once none is free a port already shared is chosen, skipping the peer's own
 *   ports, which costs O(ports this peer holds or cools), not O(range).
 * - When no port can be leased the exhaustion policy answers: `refuse` (the caller
 *   answers 425) or `kernel` (the caller binds port 0, as ProFTPD does). Both emit an
 *   `exhausted` event whose message is ProFTPD's log line; `kernel` also emits
 *   `fallback` and returns a port-0 lease that counts towards quotas until released.
 *
 * The allocator never does IO: `@ftpkit/port-allocator/node` binds the sockets and calls
 * `markBusy` when the OS refuses a port.
 */
import { AllocatorError } from './errors.js';
import { SlotLists, SlotQueue } from './queue.js';
import type { SlotList } from './queue.js';
import { checkRange, countPorts, parsePortRanges, partitionRanges } from './ranges.js';
import type { PortRange } from './ranges.js';

/** What to do when every port of the ranges is leased, cooling or busy. */
export type ExhaustionPolicy = 'refuse' | 'kernel';

/** One port mapping: ports listened on in `from` are advertised as the same offset in `to`. */
export interface PortMapping {
  from: PortRange;
  to: PortRange;
}

export interface AllocatorOptions {
  /** `"60000-60100,61000"` or `[{ min, max }]`; see {@link parsePortRanges}. */
  ranges: string | readonly PortRange[];
  /** A random source returning numbers in [0, 1), e.g. `Math.random` or a seeded PRNG. */
  random: () => number;
  /** How long a released port rests before it is leased again. Default 2000 ms. */
  cooldownMs?: number;
  /** How long a port the OS refused stays aside before it is tried again. Default 30000 ms. */
  busyRetryMs?: number;
  /** At most this many leases per owner at once (kernel fallback leases included). */
  maxPerOwner?: number;
  /** Default `'refuse'`. */
  exhaustion?: ExhaustionPolicy;
  /**
   * Listened -> advertised port mapping, e.g. Docker `-p 30000-30099:60000-60099` is
   * `{ from: { min: 60000, max: 60099 }, to: { min: 30000, max: 30099 } }`. Every port of
   * `ranges` must be covered by some `from`.
   */
  expose?: PortMapping | readonly PortMapping[];
  /** Share mode: one port may be leased at once to several different peers. */
  share?: boolean;
  /**
   * `'peer'` (default): when no port is free, a lease with a `peer` key takes the cooling
   * port this peer released longest ago, before its cooldown ends (see the theory of
   * operation). `'none'`: cooling ports wait out `cooldownMs` whoever asks. Not used in
   * share mode, where a peer's ports are told apart by its address, so the peer itself
   * must wait. Prefer `'none'` for UDP, where a peer's late packets reach its next socket.
   */
  coolingReuse?: CoolingReuse;
}

/** Who may lease a cooling port before its cooldown ends: its last peer, or nobody. */
export type CoolingReuse = 'peer' | 'none';

/** A leased port. `port` is the one to bind, `exposedPort` the one to advertise. */
export interface Lease {
  readonly port: number;
  readonly exposedPort: number;
  readonly owner: string;
  readonly id: number;
  /** The peer key given to `lease` (share mode). */
  readonly peer?: string;
  /** True for a kernel fallback lease: `port` is 0, bind it and advertise what the OS chose. */
  readonly fallback?: boolean;
}

export type LeaseResult =
  | { ok: true; lease: Lease }
  | {
      ok: false;
      reason: 'exhausted' | 'quota';
      /** `'kernel'` only when the range is exhausted and the policy says so; quotas always refuse. */
      policy: ExhaustionPolicy;
      message: string;
      /** With policy `'kernel'`: the lease to bind on port 0; release it like any other. */
      fallback?: Lease;
    };

export interface LeaseOptions {
  /** Peer key (normally the client's IP address). Required in share mode. */
  peer?: string;
}

/** Options of {@link PortAllocator.release}. */
export interface ReleaseOptions {
  /**
   * `false`: the port is free at once instead of cooling down for `cooldownMs` (it never
   * carried a connection). Default `true`.
   */
  cooldown?: boolean;
}

export interface AllocatorStats {
  /** Ports in the ranges. */
  size: number;
  /** Ports held by at least one lease. */
  inUse: number;
  cooling: number;
  busy: number;
  free: number;
  /** Times the range was exhausted (both policies). */
  exhaustions: number;
  /** Times the kernel fallback was chosen. */
  fallbacks: number;
  /** Times an owner's quota refused a lease. */
  quotaRefusals: number;
  /** Times a cooling port was leased again by the peer that released it (`coolingReuse`). */
  coolingReuses: number;
  /** Active leases, kernel fallback leases included (share mode: can exceed `inUse`). */
  leases: number;
  /** Active kernel fallback leases. */
  fallbackLeases: number;
  /** Owners holding at least one lease. */
  owners: number;
}

export type PortState = 'free' | 'leased' | 'cooling' | 'busy';

/** The port state machine as data: which state may follow which (see the file comment). */
export const PORT_STATES: Readonly<Record<PortState, readonly PortState[]>> = {
  free: ['leased'],
  leased: ['cooling', 'busy', 'free'], // 'free' directly when the delay (cooldownMs, busyRetryMs) is 0
  cooling: ['free', 'leased'], // 'leased': taken back by the peer that released it (coolingReuse)
  busy: ['free'],
};

export type AllocatorEvent =
  | { type: 'lease'; now: number; lease: Lease }
  | { type: 'release'; now: number; lease: Lease; /** when the port is free again */ freeAt: number }
  | { type: 'busy'; now: number; lease: Lease; /** when the port is tried again */ retryAt: number }
  | { type: 'exhausted'; now: number; owner: string; peer?: string; policy: ExhaustionPolicy; ranges: string; message: string }
  | { type: 'fallback'; now: number; owner: string; peer?: string; lease: Lease; ranges: string; message: string }
  | { type: 'quota'; now: number; owner: string; peer?: string; limit: number; message: string };

export type AllocatorEventType = AllocatorEvent['type'];
type Listener<T extends AllocatorEventType> = (e: Extract<AllocatorEvent, { type: T }>) => void;
type AnyListener = (e: AllocatorEvent) => void;

/** ProFTPD's PassivePorts fallback line, logged at WARNING (mod_core.c core_pasv/core_epsv; reference §1.3), `%d-%d` per range. */
export function fallbackMessage(ranges: readonly PortRange[]): string {
  return `unable to find open port in PassivePorts range ${rangesText(ranges)}: defaulting to INPORT_ANY (consider defining a larger PassivePorts range)`;
}

/** The same situation under the `refuse` policy, worded so one grep finds both. */
export function refuseMessage(ranges: readonly PortRange[]): string {
  return `unable to find open port in PassivePorts range ${rangesText(ranges)}: refusing (consider defining a larger PassivePorts range)`;
}

function rangesText(ranges: readonly PortRange[]): string {
  return ranges.map((r) => `${r.min}-${r.max}`).join(',');
}

const FREE = 0;
const LEASED = 1;
const COOLING = 2;
const BUSY = 3;
const STATE_NAMES: readonly PortState[] = ['free', 'leased', 'cooling', 'busy'];

/** A run of ports with consecutive slots and one listened -> advertised offset. */
interface Segment {
  min: number;
  max: number;
  base: number;
  delta: number;
}

/** One peer's cooling ports, oldest first (non-share mode, `coolingReuse: 'peer'`). */
interface PeerCooling extends SlotList {
  readonly peer: string;
}

/** Per-peer cooling FIFOs: the lists, their links, and each cooling slot's list. */
interface PeerReuse {
  readonly byPeer: Map<string, PeerCooling>;
  readonly links: SlotLists;
  readonly ofSlot: (PeerCooling | undefined)[];
  /** Per slot: entries of the cooling queue left behind by a reuse, skipped as they come up. */
  readonly stale: Uint32Array;
}

interface PeerState {
  held: Set<number>;
  /** slot -> time this peer may have it again */
  cooling: Map<number, number>;
}

interface ShareState {
  holders: Uint32Array;
  /** dense array of slots with at least one holder, and each slot's position in it */
  used: Uint16Array;
  usedPos: Uint16Array;
  usedLength: number;
  peers: Map<string, PeerState>;
  /** FIFO of per-peer cooldowns (same delay for all, so FIFO = expiry order) */
  coolPeer: string[];
  coolSlot: number[];
  coolDue: number[];
  coolHead: number;
}

function optionError(message: string): AllocatorError {
  return new AllocatorError('ERR_ALLOCATOR_OPTION_INVALID', message);
}

function checkDelay(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
    throw optionError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

function buildSegments(ranges: readonly PortRange[], expose: AllocatorOptions['expose']): Segment[] {
  if (expose === undefined) {
    let base = 0;
    return ranges.map((r) => {
      const seg = { min: r.min, max: r.max, base, delta: 0 };
      base += r.max - r.min + 1;
      return seg;
    });
  }
  const list = (Array.isArray(expose) ? expose : [expose]) as readonly PortMapping[];
  if (list.length === 0) throw new AllocatorError('ERR_ALLOCATOR_EXPOSE_INVALID', 'expose: give at least one mapping');
  const maps = list.map((m, i) => {
    let from: PortRange;
    let to: PortRange;
    try {
      from = checkRange(m.from, `expose[${i}].from`);
      to = checkRange(m.to, `expose[${i}].to`);
    } catch (e) {
      throw new AllocatorError('ERR_ALLOCATOR_EXPOSE_INVALID', (e as Error).message);
    }
    if (from.max - from.min !== to.max - to.min) {
      throw new AllocatorError('ERR_ALLOCATOR_EXPOSE_INVALID',
        `expose[${i}]: ${from.min}-${from.max} and ${to.min}-${to.max} differ in size`);
    }
    return { from, delta: to.min - from.min };
  }).sort((a, b) => a.from.min - b.from.min);
  for (let i = 1; i < maps.length; i++) {
    const prev = maps[i - 1] as (typeof maps)[number];
    const cur = maps[i] as (typeof maps)[number];
    if (cur.from.min <= prev.from.max) {
      throw new AllocatorError('ERR_ALLOCATOR_EXPOSE_INVALID',
        `expose: listened ranges ${prev.from.min}-${prev.from.max} and ${cur.from.min}-${cur.from.max} overlap`);
    }
  }
  // Cut each range where the mappings change, so a segment has one offset.
  const segments: Segment[] = [];
  let base = 0;
  for (const r of ranges) {
    let port = r.min;
    while (port <= r.max) {
      const m = maps.find((x) => x.from.min <= port && port <= x.from.max);
      if (m === undefined) {
        throw new AllocatorError('ERR_ALLOCATOR_EXPOSE_INVALID',
          `expose: port ${port} of the ranges has no advertised port (no mapping covers it)`);
      }
      const max = Math.min(r.max, m.from.max);
      segments.push({ min: port, max, base, delta: m.delta });
      base += max - port + 1;
      port = max + 1;
    }
  }
  return segments;
}

/**
 * Leases ports from one or several ranges; see the theory of operation above.
 *
 * Every method that can change state takes `now` (milliseconds, any monotonic clock, the
 * same clock for every call) and never reads a clock itself.
 */
export class PortAllocator {
  /** The ranges, sorted, as validated by {@link parsePortRanges}. */
  readonly ranges: readonly PortRange[];
  /** Number of ports in the ranges. */
  readonly size: number;
  readonly cooldownMs: number;
  readonly busyRetryMs: number;
  readonly maxPerOwner: number;
  readonly exhaustion: ExhaustionPolicy;
  readonly share: boolean;
  readonly coolingReuse: CoolingReuse;

  readonly #options: AllocatorOptions;
  readonly #random: () => number;
  readonly #segments: Segment[];
  readonly #state: Uint8Array;
  readonly #free: Uint16Array;
  readonly #freePos: Uint16Array;
  #freeLength: number;
  /** Cooling slots in release order (= expiry order), and stale entries (see #takeCooling). */
  readonly #cooling: SlotQueue;
  #coolingCount = 0;
  /** Present when cooling ports may go back to their peer (non-share mode). */
  readonly #reuse: PeerReuse | undefined;
  readonly #busy: SlotQueue;
  /** Non-share mode: the lease holding each slot. (A Map with one set and one delete per
   *  lease costs a table reallocation each time in V8; slots are already unique.) */
  readonly #slotLease: (Lease | undefined)[];
  /** Share-mode and kernel fallback leases, by id. */
  readonly #leaseMap = new Map<number, Lease>();
  #leaseCount = 0;
  /** Leases per owner. Entries that drop to 0 stay until a sweep, for the same reason. */
  readonly #owners = new Map<string, number>();
  #idleOwners = 0;
  readonly #shared: ShareState | undefined;
  readonly #listeners: Partial<Record<AllocatorEventType, AnyListener[]>> = {};
  readonly #rangesText: string;
  #nextId = 1;
  #exhaustions = 0;
  #fallbacks = 0;
  #quotaRefusals = 0;
  #coolingReuses = 0;
  #fallbackLeases = 0;

  /** @throws AllocatorError `ERR_ALLOCATOR_RANGE_INVALID`, `ERR_ALLOCATOR_OPTION_INVALID`, `ERR_ALLOCATOR_EXPOSE_INVALID` */
  constructor(options: AllocatorOptions) {
    if (typeof options !== 'object' || options === null) throw optionError('options must be an object');
    this.ranges = Object.freeze(parsePortRanges(options.ranges).map((r) => Object.freeze(r)));
    if (typeof options.random !== 'function') throw optionError('random must be a function returning numbers in [0, 1)');
    this.cooldownMs = checkDelay(options.cooldownMs, 2000, 'cooldownMs');
    this.busyRetryMs = checkDelay(options.busyRetryMs, 30000, 'busyRetryMs');
    const max = options.maxPerOwner;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw optionError(`maxPerOwner must be an integer >= 1, got ${String(max)}`);
    this.maxPerOwner = max ?? Infinity;
    const policy = options.exhaustion ?? 'refuse';
    if (policy !== 'refuse' && policy !== 'kernel') throw optionError(`exhaustion must be 'refuse' or 'kernel', got ${String(policy)}`);
    this.exhaustion = policy;
    this.share = options.share === true;
    const reuse = options.coolingReuse ?? 'peer';
    if (reuse !== 'peer' && reuse !== 'none') throw optionError(`coolingReuse must be 'peer' or 'none', got ${String(reuse)}`);
    this.coolingReuse = reuse;
    this.#options = options;
    this.#random = options.random;
    this.#segments = buildSegments(this.ranges, options.expose);
    this.#rangesText = rangesText(this.ranges);

    const n = countPorts(this.ranges);
    this.size = n;
    this.#state = new Uint8Array(n);
    this.#free = new Uint16Array(n);
    this.#freePos = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      this.#free[i] = i;
      this.#freePos[i] = i;
    }
    this.#freeLength = n;
    this.#slotLease = this.share ? [] : new Array<Lease | undefined>(n).fill(undefined);
    this.#cooling = new SlotQueue(n);
    this.#reuse = reuse === 'peer' && !this.share
      ? { byPeer: new Map(), links: new SlotLists(n), ofSlot: new Array<PeerCooling | undefined>(n).fill(undefined), stale: new Uint32Array(n) }
      : undefined;
    this.#busy = new SlotQueue(n);
    this.#shared = this.share
      ? { holders: new Uint32Array(n), used: new Uint16Array(n), usedPos: new Uint16Array(n), usedLength: 0,
          peers: new Map(), coolPeer: [], coolSlot: [], coolDue: [], coolHead: 0 }
      : undefined;
  }

  /**
   * Leases a port for `owner`. Uniform random among the free ports (share mode: among
   * free ports first, then among ports shared with other peers). With none free and
   * `coolingReuse: 'peer'`, the cooling port `peer` released longest ago.
   *
   * @throws AllocatorError `ERR_ALLOCATOR_PEER_REQUIRED` in share mode without `peer`,
   *   `ERR_ALLOCATOR_NOW_INVALID` when `now` is not a number.
   */
  lease(owner: string, now: number, options?: LeaseOptions): LeaseResult {
    this.#drain(now);
    const peer = options?.peer;
    const held = this.#owners.get(owner) ?? 0;
    if (held >= this.maxPerOwner) return this.#refuseQuota(owner, now, peer);
    let slot: number;
    if (this.#shared !== undefined) {
      if (typeof peer !== 'string') throw new AllocatorError('ERR_ALLOCATOR_PEER_REQUIRED', 'share mode: lease(owner, now, { peer }) needs a peer key');
      slot = this.#takeShared(this.#shared, peer);
    } else {
      slot = this.#takeFree();
      if (slot < 0 && peer !== undefined && this.#reuse !== undefined) slot = this.#takeCooling(this.#reuse, peer);
    }
    if (slot < 0) return this.#exhausted(owner, now, peer, held);
    const port = this.#portOf(slot);
    const lease: Lease = peer === undefined
      ? { port, exposedPort: port + this.#segmentOfSlot(slot).delta, owner, id: this.#nextId++ }
      : { port, exposedPort: port + this.#segmentOfSlot(slot).delta, owner, id: this.#nextId++, peer };
    if (this.#shared === undefined) this.#slotLease[slot] = lease;
    else this.#leaseMap.set(lease.id, lease);
    this.#addLease(owner, held);
    const fns = this.#listeners.lease;
    if (fns !== undefined) this.#emit(fns, { type: 'lease', now, lease });
    return { ok: true, lease };
  }

  /**
   * Returns a lease; the port cools down for `cooldownMs`. With `{ cooldown: false }` it is
   * free at once: for a port that never carried a connection (a passive listener nobody
   * connected to), nothing can outlive it (no TIME_WAIT, no NAT/conntrack entry), so a
   * client that asks for passive ports in a loop does not drain the range. Idempotent;
   * unknown leases are ignored.
   */
  release(lease: Lease, now: number, options?: ReleaseOptions): void {
    this.#end(lease, now, false, options?.cooldown !== false);
  }

  /**
   * The OS refused to bind the leased port (EADDRINUSE, EACCES): ends the lease without
   * cooldown and sets the port aside for `busyRetryMs`. In share mode, a port other
   * peers still hold stays theirs. Idempotent.
   */
  markBusy(lease: Lease, now: number): void {
    this.#end(lease, now, true);
  }

  /** Current counts. Drains expired cooldowns first. */
  stats(now: number): AllocatorStats {
    this.#drain(now);
    const cooling = this.#coolingCount;
    const busy = this.#busy.length;
    const free = this.#freeLength;
    return {
      size: this.size,
      inUse: this.size - free - cooling - busy,
      cooling,
      busy,
      free,
      exhaustions: this.#exhaustions,
      fallbacks: this.#fallbacks,
      quotaRefusals: this.#quotaRefusals,
      coolingReuses: this.#coolingReuses,
      leases: this.#leaseCount,
      fallbackLeases: this.#fallbackLeases,
      owners: this.#owners.size - this.#idleOwners,
    };
  }

  /** State of one port, or `undefined` when it is outside the ranges. */
  portState(port: number, now: number): PortState | undefined {
    this.#drain(now);
    const slot = this.#slotOf(port);
    return slot < 0 ? undefined : STATE_NAMES[this.#state[slot] as number];
  }

  /** Active leases of one owner. */
  leasesOf(owner: string): number {
    return this.#owners.get(owner) ?? 0;
  }

  /** The advertised port for a listened port of the ranges, or `undefined`. */
  exposedPortOf(port: number): number | undefined {
    const slot = this.#slotOf(port);
    return slot < 0 ? undefined : port + this.#segmentOfSlot(slot).delta;
  }

  /** The listened port of the ranges advertised as `exposedPort`, or `undefined`. */
  listenedPortOf(exposedPort: number): number | undefined {
    for (const s of this.#segments) {
      const port = exposedPort - s.delta;
      if (port >= s.min && port <= s.max) return port;
    }
    return undefined;
  }

  /**
   * Splits the ranges into `n` disjoint allocators with the same options (see
   * {@link partitionRanges}), e.g. one per cluster worker. They start empty: partition a
   * configuration, then use the parts instead of this allocator.
   *
   * @throws AllocatorError `ERR_ALLOCATOR_PARTITION_INVALID`
   */
  partition(n: number): PortAllocator[] {
    return partitionRanges(this.ranges, n).map((ranges) => new PortAllocator({ ...this.#options, ranges }));
  }

  /** Subscribes to events; returns the function that unsubscribes. Listeners run synchronously. */
  on<T extends AllocatorEventType>(type: T, fn: Listener<T>): () => void {
    const f = fn as AnyListener;
    const listeners: Partial<Record<AllocatorEventType, AnyListener[]>> = this.#listeners;
    // a fresh array each time, so a listener that (un)subscribes during emit is safe
    listeners[type] = [...(listeners[type] ?? []), f];
    return () => {
      const current = this.#listeners[type];
      if (current === undefined) return;
      const next = current.filter((x) => x !== f);
      if (next.length === 0) delete this.#listeners[type];
      else this.#listeners[type] = next;
    };
  }

  // ---- internals ----

  #addLease(owner: string, held: number): void {
    if (held === 0 && this.#owners.has(owner)) this.#idleOwners--;
    this.#owners.set(owner, held + 1);
    this.#leaseCount++;
  }

  #dropLease(owner: string): void {
    this.#leaseCount--;
    const held = (this.#owners.get(owner) as number) - 1;
    this.#owners.set(owner, held);
    if (held > 0) return;
    // Sweep idle owners once they outnumber the active ones: amortised O(1).
    if (++this.#idleOwners > 1024 && this.#idleOwners * 2 > this.#owners.size) {
      for (const [o, n] of this.#owners) if (n === 0) this.#owners.delete(o);
      this.#idleOwners = 0;
    }
  }

  #emit(fns: readonly AnyListener[], e: AllocatorEvent): void {
    for (const fn of fns) fn(e);
  }

  #refuseQuota(owner: string, now: number, peer: string | undefined): LeaseResult {
    this.#quotaRefusals++;
    const message = `owner ${owner} already holds ${this.maxPerOwner} port(s), the most allowed (maxPerOwner)`;
    const fns = this.#listeners.quota;
    if (fns !== undefined) {
      this.#emit(fns, peer === undefined
        ? { type: 'quota', now, owner, limit: this.maxPerOwner, message }
        : { type: 'quota', now, owner, peer, limit: this.maxPerOwner, message });
    }
    return { ok: false, reason: 'quota', policy: 'refuse', message };
  }

  #exhausted(owner: string, now: number, peer: string | undefined, held: number): LeaseResult {
    this.#exhaustions++;
    const policy = this.exhaustion;
    const ranges = this.#rangesText;
    const message = policy === 'kernel' ? fallbackMessage(this.ranges) : refuseMessage(this.ranges);
    const fns = this.#listeners.exhausted;
    if (fns !== undefined) {
      this.#emit(fns, peer === undefined
        ? { type: 'exhausted', now, owner, policy, ranges, message }
        : { type: 'exhausted', now, owner, peer, policy, ranges, message });
    }
    if (policy === 'refuse') return { ok: false, reason: 'exhausted', policy, message };
    this.#fallbacks++;
    this.#fallbackLeases++;
    const lease: Lease = peer === undefined
      ? { port: 0, exposedPort: 0, owner, id: this.#nextId++, fallback: true }
      : { port: 0, exposedPort: 0, owner, id: this.#nextId++, peer, fallback: true };
    this.#leaseMap.set(lease.id, lease);
    this.#addLease(owner, held);
    const ffns = this.#listeners.fallback;
    if (ffns !== undefined) {
      this.#emit(ffns, peer === undefined
        ? { type: 'fallback', now, owner, lease, ranges, message }
        : { type: 'fallback', now, owner, peer, lease, ranges, message });
    }
    return { ok: false, reason: 'exhausted', policy, message, fallback: lease };
  }

  #end(lease: Lease, now: number, busy: boolean, cooldown = true): void {
    this.#checkNow(now);
    if (typeof lease !== 'object' || lease === null) return;
    let slot = -1;
    let active: Lease | undefined;
    if (this.#shared === undefined && lease.fallback !== true) {
      slot = this.#slotOf(lease.port);
      if (slot >= 0) active = this.#slotLease[slot];
    } else {
      active = this.#leaseMap.get(lease.id);
    }
    if (active === undefined || active.id !== lease.id || active.port !== lease.port || active.owner !== lease.owner) return;
    if (slot >= 0) this.#slotLease[slot] = undefined;
    else this.#leaseMap.delete(active.id);
    this.#dropLease(active.owner);
    if (active.fallback === true) {
      this.#fallbackLeases--;
      const fns = this.#listeners.release;
      if (fns !== undefined) this.#emit(fns, { type: 'release', now, lease: active, freeAt: now });
      return;
    }
    if (slot < 0) slot = this.#slotOf(active.port);
    let lastHolder = true;
    const sh = this.#shared;
    const cooldownMs = cooldown ? this.cooldownMs : 0;
    if (sh !== undefined) lastHolder = this.#dropHolder(sh, slot, active.peer as string, now, busy, cooldownMs);
    let freeAt = now;
    if (lastHolder) {
      const delay = busy ? this.busyRetryMs : cooldownMs;
      if (delay > 0) {
        freeAt = now + delay;
        if (busy) {
          this.#state[slot] = BUSY;
          this.#busy.push(slot, freeAt);
        } else {
          this.#cool(slot, freeAt, active.peer);
        }
      } else {
        this.#addFree(slot);
      }
    } else if (!busy) {
      freeAt = now + cooldownMs;
    }
    if (busy && lastHolder) {
      const fns = this.#listeners.busy;
      if (fns !== undefined) this.#emit(fns, { type: 'busy', now, lease: active, retryAt: freeAt });
    } else {
      const fns = this.#listeners.release;
      if (fns !== undefined) this.#emit(fns, { type: 'release', now, lease: active, freeAt });
    }
  }

  /** Share mode: one holder leaves `slot`. Returns true when it was the last one. */
  #dropHolder(sh: ShareState, slot: number, peer: string, now: number, busy: boolean, cooldownMs: number): boolean {
    const left = (sh.holders[slot] as number) - 1;
    sh.holders[slot] = left;
    const ps = sh.peers.get(peer);
    if (ps !== undefined) {
      ps.held.delete(slot);
      if (left > 0 && !busy && cooldownMs > 0) {
        const due = now + cooldownMs;
        ps.cooling.set(slot, due);
        sh.coolPeer.push(peer);
        sh.coolSlot.push(slot);
        sh.coolDue.push(due);
      }
      if (ps.held.size === 0 && ps.cooling.size === 0) sh.peers.delete(peer);
    }
    if (left > 0) return false;
    // remove from the dense used array (swap with the last)
    const i = sh.usedPos[slot] as number;
    const last = sh.used[--sh.usedLength] as number;
    sh.used[i] = last;
    sh.usedPos[last] = i;
    return true;
  }

  #checkNow(now: number): void {
    if (typeof now !== 'number' || now !== now) {
      throw new AllocatorError('ERR_ALLOCATOR_NOW_INVALID', `now must be a number (milliseconds), got ${String(now)}`);
    }
  }

  #drain(now: number): void {
    this.#checkNow(now);
    const cooling = this.#cooling;
    const reuse = this.#reuse;
    while (cooling.headDue <= now) {
      const slot = cooling.shift();
      if (reuse !== undefined) {
        const stale = reuse.stale[slot] as number;
        if (stale > 0) {
          reuse.stale[slot] = stale - 1;
          continue;
        }
        this.#unlinkPeer(reuse, slot);
      }
      this.#coolingCount--;
      this.#addFree(slot);
    }
    const busy = this.#busy;
    while (busy.headDue <= now) this.#addFree(busy.shift());
    const sh = this.#shared;
    if (sh !== undefined && sh.coolHead < sh.coolDue.length) this.#drainPeers(sh, now);
  }

  #drainPeers(sh: ShareState, now: number): void {
    let h = sh.coolHead;
    while (h < sh.coolDue.length && (sh.coolDue[h] as number) <= now) {
      const peer = sh.coolPeer[h] as string;
      const slot = sh.coolSlot[h] as number;
      const ps = sh.peers.get(peer);
      if (ps !== undefined && ps.cooling.get(slot) === sh.coolDue[h]) {
        ps.cooling.delete(slot);
        if (ps.held.size === 0 && ps.cooling.size === 0) sh.peers.delete(peer);
      }
      h++;
    }
    if (h === sh.coolDue.length) {
      sh.coolPeer.length = sh.coolSlot.length = sh.coolDue.length = 0;
      h = 0;
    } else if (h > 1024 && h * 2 > sh.coolDue.length) {
      sh.coolPeer.splice(0, h);
      sh.coolSlot.splice(0, h);
      sh.coolDue.splice(0, h);
      h = 0;
    }
    sh.coolHead = h;
  }

  /** `slot` starts cooling until `due`; with a peer key, in that peer's FIFO too. */
  #cool(slot: number, due: number, peer: string | undefined): void {
    this.#state[slot] = COOLING;
    this.#cooling.push(slot, due);
    this.#coolingCount++;
    const reuse = this.#reuse;
    if (reuse === undefined || peer === undefined) return;
    let list = reuse.byPeer.get(peer);
    if (list === undefined) {
      list = { peer, head: -1, tail: -1, length: 0 };
      reuse.byPeer.set(peer, list);
    }
    reuse.links.push(list, slot);
    reuse.ofSlot[slot] = list;
  }

  /** Takes a cooling `slot` out of its peer's FIFO, if it is in one. */
  #unlinkPeer(reuse: PeerReuse, slot: number): void {
    const list = reuse.ofSlot[slot];
    if (list === undefined) return;
    reuse.ofSlot[slot] = undefined;
    reuse.links.remove(list, slot);
    if (list.length === 0) reuse.byPeer.delete(list.peer);
  }

  /**
   * The cooling slot `peer` released longest ago, now leased; -1 when it has none. Its
   * entry stays in the cooling queue (a FIFO cannot drop from the middle), marked stale:
   * the entries of one slot come up in release order, and every one but the last is of
   * a cooldown that ended in a reuse, so the drain skips as many as were counted.
   */
  #takeCooling(reuse: PeerReuse, peer: string): number {
    const list = reuse.byPeer.get(peer);
    if (list === undefined) return -1;
    const slot = list.head;
    this.#unlinkPeer(reuse, slot);
    reuse.stale[slot] = (reuse.stale[slot] as number) + 1;
    this.#coolingCount--;
    this.#state[slot] = LEASED;
    this.#coolingReuses++;
    return slot;
  }

  #addFree(slot: number): void {
    this.#state[slot] = FREE;
    this.#free[this.#freeLength] = slot;
    this.#freePos[slot] = this.#freeLength++;
  }

  /** Removes a uniformly chosen free slot and marks it leased; -1 when none is free. */
  #takeFree(): number {
    const n = this.#freeLength;
    if (n === 0) return -1;
    let i = Math.floor(this.#random() * n);
    if (!(i >= 0)) i = 0; // NaN or negative from a faulty source
    else if (i >= n) i = n - 1;
    const free = this.#free;
    const slot = free[i] as number;
    const last = free[n - 1] as number;
    free[i] = last;
    this.#freePos[last] = i;
    this.#freeLength = n - 1;
    this.#state[slot] = LEASED;
    return slot;
  }

  #takeShared(sh: ShareState, peer: string): number {
    let ps = sh.peers.get(peer);
    let slot = this.#takeFree();
    if (slot >= 0) {
      sh.used[sh.usedLength] = slot;
      sh.usedPos[slot] = sh.usedLength++;
    } else {
      const n = sh.usedLength;
      if (n === 0) return -1;
      // The peer blocks at most held + cooling ports, so that many + 1 candidates
      // from a random start always contain an eligible one if any exists.
      const tries = Math.min(n, ps === undefined ? 1 : ps.held.size + ps.cooling.size + 1);
      let at = Math.floor(this.#random() * n);
      if (!(at >= 0)) at = 0;
      else if (at >= n) at = n - 1;
      for (let k = 0; k < tries; k++, at = at + 1 === n ? 0 : at + 1) {
        const s = sh.used[at] as number;
        if (ps === undefined || (!ps.held.has(s) && !ps.cooling.has(s))) {
          slot = s;
          break;
        }
      }
      if (slot < 0) return -1;
    }
    sh.holders[slot] = (sh.holders[slot] as number) + 1;
    if (ps === undefined) {
      ps = { held: new Set(), cooling: new Map() };
      sh.peers.set(peer, ps);
    }
    ps.held.add(slot);
    return slot;
  }

  #segmentOfSlot(slot: number): Segment {
    const segs = this.#segments;
    if (segs.length === 1) return segs[0] as Segment;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((segs[mid] as Segment).base <= slot) lo = mid;
      else hi = mid - 1;
    }
    return segs[lo] as Segment;
  }

  #portOf(slot: number): number {
    const s = this.#segmentOfSlot(slot);
    return s.min + slot - s.base;
  }

  #slotOf(port: number): number {
    const segs = this.#segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid] as Segment;
      if (port < s.min) hi = mid - 1;
      else if (port > s.max) lo = mid + 1;
      else return s.base + port - s.min;
    }
    return -1;
  }
}
