import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PORT_STATES, PortAllocator, countPorts, parsePortRanges, partitionRanges } from '../src/index.js';
import type { Lease, PortRange, PortState } from '../src/index.js';
import { seeded } from './prng.js';

/** 1 to 3 disjoint small ranges somewhere in 1..65535. */
const rangesArb: fc.Arbitrary<PortRange[]> = fc
  .array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), len: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 })) }), { minLength: 1, maxLength: 3 })
  .chain((parts) => fc.integer({ min: 1, max: 65535 - 40 }).map((start) => {
    const out: PortRange[] = [];
    let at = start;
    for (const p of parts) {
      out.push({ min: at, max: at + p.len - 1 });
      at += p.len + p.gap + 1;
    }
    return out;
  }));

type Op =
  | { kind: 'lease'; owner: number; peer: number }
  | { kind: 'release'; pick: number }
  | { kind: 'busy'; pick: number }
  | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('lease' as const), owner: fc.nat(3), peer: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('busy' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.nat(2), fc.nat(40)) }) },
);

const configArb = fc.record({
  ranges: rangesArb,
  cooldownMs: fc.oneof(fc.constant(0), fc.nat(8), fc.nat(30)),
  busyRetryMs: fc.oneof(fc.constant(0), fc.nat(8), fc.nat(60)),
  maxPerOwner: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  exhaustion: fc.constantFrom('refuse' as const, 'kernel' as const),
  share: fc.boolean(),
  coolingReuse: fc.constantFrom('peer' as const, 'none' as const),
  seed: fc.nat(),
});

const portsOf = (ranges: readonly PortRange[]): number[] =>
  ranges.flatMap((r) => Array.from({ length: r.max - r.min + 1 }, (_, i) => r.min + i));

type Config = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs `ops` against an allocator made from `cfg` and a model of what it may do, checking every step. */
function checkModel(cfg: Config, ops: Op[]): void {
  const a = new PortAllocator({
    ranges: cfg.ranges, random: seeded(cfg.seed), cooldownMs: cfg.cooldownMs, busyRetryMs: cfg.busyRetryMs,
    exhaustion: cfg.exhaustion, share: cfg.share, coolingReuse: cfg.coolingReuse,
    ...(cfg.maxPerOwner === undefined ? {} : { maxPerOwner: cfg.maxPerOwner }),
  });
  const all = portsOf(a.ranges);
  const inRange = new Set(all);
  const active: Lease[] = [];
  const portFree = new Map<number, number>(); // port -> time it may be leased again (all peers)
  const peerFree = new Map<string, number>(); // `${peer}/${port}` -> time it may be leased again to that peer
  // non-share releases that started a cooldown, oldest first: what a peer may take back
  const cooled: { port: number; peer: string | undefined; due: number }[] = [];
  const reuses = (): boolean => !cfg.share && cfg.coolingReuse === 'peer';
  let now = 0;
  const holders = (port: number): Lease[] => active.filter((l) => l.port === port);
  const eligible = (peer: string): number[] =>
    all.filter((p) => {
      const h = holders(p);
      if (now < (peerFree.get(`${peer}/${p}`) ?? -Infinity)) return false;
      if (h.length === 0) return now >= (portFree.get(p) ?? -Infinity);
      return cfg.share && h.every((l) => l.peer !== peer);
    });
  const states = (): PortState[] => all.map((p) => a.portState(p, now) as PortState);

  for (const op of ops) {
    const before = states();
    if (op.kind === 'advance') {
      now += op.ms;
    } else if (op.kind === 'lease') {
      const owner = `o${op.owner}`;
      const peer = `p${op.peer}`;
      // without share mode, peer p3 leases without a peer key
      const keyed = cfg.share || op.peer !== 3;
      const held = active.filter((l) => l.owner === owner).length;
      const canTake = eligible(peer);
      // with none free, the oldest port this peer released that is still cooling
      const mine = reuses() && keyed && canTake.length === 0 ? cooled.findIndex((c) => c.peer === peer && c.due > now) : -1;
      const r = a.lease(owner, now, keyed ? { peer } : undefined);
      if (r.ok) {
        const l = r.lease;
        expect(inRange.has(l.port)).toBe(true);
        expect(l.exposedPort).toBe(l.port);
        expect(held).toBeLessThan(a.maxPerOwner);
        if (mine === -1) {
          expect(canTake).toContain(l.port); // not cooling, not busy, not held (by this peer)
        } else {
          expect(l.port).toBe(cooled[mine]?.port);
          cooled.splice(mine, 1);
        }
        active.push(l);
      } else if (r.reason === 'quota') {
        expect(held).toBe(cfg.maxPerOwner);
      } else {
        expect(held).toBeLessThan(a.maxPerOwner);
        expect(canTake).toEqual([]); // exhaustion only when nothing is leasable
        expect(mine).toBe(-1); // … not even a cooling port of this peer
        expect(r.policy).toBe(cfg.exhaustion);
        if (cfg.exhaustion === 'kernel') {
          expect(r.fallback?.port).toBe(0);
          active.push(r.fallback as Lease);
        } else {
          expect(r.fallback).toBeUndefined();
        }
      }
    } else if (active.length > 0) {
      const [l] = active.splice(op.pick % active.length, 1) as [Lease];
      const busy = op.kind === 'busy';
      if (busy) a.markBusy(l, now);
      else a.release(l, now);
      if (l.port !== 0) {
        const last = holders(l.port).length === 0;
        if (last) portFree.set(l.port, now + (busy ? cfg.busyRetryMs : cfg.cooldownMs));
        if (last && !busy && !cfg.share) cooled.push({ port: l.port, peer: l.peer, due: now + cfg.cooldownMs });
        else if (!busy) peerFree.set(`${l.peer}/${l.port}`, now + cfg.cooldownMs);
      }
      // idempotent: a second call changes nothing
      const snapshot = a.stats(now);
      a.release(l, now);
      a.markBusy(l, now);
      expect(a.stats(now)).toEqual(snapshot);
    }
    const after = states();
    after.forEach((s, i) => {
      if (s !== before[i]) expect(PORT_STATES[before[i] as PortState]).toContain(s);
    });
    // stats agree with the model
    const st = a.stats(now);
    if (!reuses()) expect(st.coolingReuses).toBe(0);
    const usedPorts = new Set(active.filter((l) => l.port !== 0).map((l) => l.port));
    expect(st.inUse).toBe(usedPorts.size);
    expect(st.leases).toBe(active.length);
    expect(st.inUse + st.cooling + st.busy + st.free).toBe(st.size);
    expect(st.size).toBe(all.length);
    if (!cfg.share) expect(usedPorts.size).toBe(active.filter((l) => l.port !== 0).length);
    else {
      const pairs = new Set(active.filter((l) => l.port !== 0).map((l) => `${l.peer}/${l.port}`));
      expect(pairs.size).toBe(active.filter((l) => l.port !== 0).length);
    }
  }

  // every port is eventually leasable
  for (const l of active) a.release(l, now);
  now += Math.max(cfg.cooldownMs, cfg.busyRetryMs) + 1;
  const got = all.map((_, i) => a.lease(`final${i}`, now, cfg.share ? { peer: 'z' } : undefined));
  expect(got.every((r) => r.ok)).toBe(true);
  expect(new Set(got.map((r) => (r.ok ? r.lease.port : -1))).size).toBe(all.length);
}

/** Small ranges that run out, long cooldowns, no share mode: where cooling ports go back to their peer. */
const reuseConfigArb: fc.Arbitrary<Config> = fc.record({
  ranges: fc.integer({ min: 1, max: 6 }).chain((len) => fc.integer({ min: 1, max: 65535 - len }).map((min) => [{ min, max: min + len - 1 }])),
  cooldownMs: fc.integer({ min: 10, max: 60 }),
  busyRetryMs: fc.nat(60),
  maxPerOwner: fc.constant(undefined),
  exhaustion: fc.constantFrom('refuse' as const, 'kernel' as const),
  share: fc.constant(false),
  coolingReuse: fc.constant('peer' as const),
  seed: fc.nat(),
});

describe('PortAllocator properties (model-based)', () => {
  it('never leases a port twice at once or outside its ranges; cooldown, busy time and quotas hold; never refuses while a port is available; transitions follow PORT_STATES', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 120 }), checkModel),
      { numRuns: 500 },
    );
  });

  it('the same model where ranges run out and peers take back their own cooling ports, oldest first', () => {
    fc.assert(fc.property(reuseConfigArb, fc.array(opArb, { maxLength: 120 }), checkModel), { numRuns: 500 });
  });

  it('exposed ports follow the mapping for every lease', () => {
    fc.assert(
      fc.property(rangesArb, fc.integer({ min: -1000, max: 1000 }), fc.nat(), (ranges, shift, seed) => {
        const lo = ranges[0]!.min;
        const hi = ranges[ranges.length - 1]!.max;
        fc.pre(lo + shift >= 1 && hi + shift <= 65535);
        const a = new PortAllocator({ ranges, random: seeded(seed), expose: { from: { min: lo, max: hi }, to: { min: lo + shift, max: hi + shift } } });
        for (let i = 0; i < a.size; i++) {
          const r = a.lease('o', 0);
          if (!r.ok) throw new Error(r.message);
          expect(r.lease.exposedPort).toBe(r.lease.port + shift);
          expect(a.listenedPortOf(r.lease.exposedPort)).toBe(r.lease.port);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('partitions (property)', () => {
  it('are disjoint, cover the ranges exactly and differ in size by at most one', () => {
    fc.assert(
      fc.property(rangesArb, fc.integer({ min: 1, max: 30 }), (ranges, want) => {
        const total = countPorts(ranges);
        const n = Math.min(want, total);
        const parts = partitionRanges(ranges, n);
        expect(parts).toHaveLength(n);
        const seen = new Set<number>();
        for (const part of parts) {
          for (const p of portsOf(parseParts(part))) {
            expect(seen.has(p)).toBe(false);
            seen.add(p);
          }
        }
        expect([...seen].sort((x, y) => x - y)).toEqual(portsOf(ranges));
        const sizes = parts.map(countPorts);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        const allocators = new PortAllocator({ ranges, random: seeded(1) }).partition(n);
        const leased = new Set<number>();
        for (const sub of allocators) {
          for (let i = 0; i < sub.size; i++) {
            const r = sub.lease('w', 0);
            if (!r.ok) throw new Error(r.message);
            expect(leased.has(r.lease.port)).toBe(false);
            leased.add(r.lease.port);
          }
        }
        expect(leased.size).toBe(total);
      }),
      { numRuns: 300 },
    );
  });
});

function parseParts(part: PortRange[]): PortRange[] {
  return parsePortRanges(part); // also proves each part is a valid, non-overlapping list
}
