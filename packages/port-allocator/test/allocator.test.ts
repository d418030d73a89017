import { describe, expect, it } from 'vitest';
import { AllocatorError, PortAllocator, fallbackMessage } from '../src/index.js';
import type { AllocatorEvent, AllocatorOptions, Lease } from '../src/index.js';
import { seeded } from './prng.js';

function make(opts: Partial<AllocatorOptions> = {}): PortAllocator {
  return new PortAllocator({ ranges: '60000-60009', random: seeded(1), ...opts });
}

function take(a: PortAllocator, owner: string, now: number, peer?: string): Lease {
  const r = a.lease(owner, now, peer === undefined ? undefined : { peer });
  if (!r.ok) throw new Error(`expected a lease, got ${r.message}`);
  return r.lease;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as AllocatorError).code;
  }
  return undefined;
}

const PROFTPD_LINE =
  'unable to find open port in PassivePorts range 60000-60009: defaulting to INPORT_ANY (consider defining a larger PassivePorts range)';

describe('PortAllocator', () => {
  it('hands out every port of the range once, then reports exhaustion', () => {
    const a = make({ cooldownMs: 0 });
    const ports = Array.from({ length: 10 }, () => take(a, 's', 0).port).sort((x, y) => x - y);
    expect(ports).toEqual(Array.from({ length: 10 }, (_, i) => 60000 + i));
    const r = a.lease('s', 0);
    expect(r).toMatchObject({ ok: false, reason: 'exhausted', policy: 'refuse' });
    expect(a.stats(0)).toMatchObject({ size: 10, inUse: 10, free: 0, exhaustions: 1, fallbacks: 0, leases: 10 });
  });

  it('keeps a released port cooling for cooldownMs', () => {
    const a = make({ ranges: '5000', cooldownMs: 1000 });
    const l = take(a, 's', 100);
    a.release(l, 200);
    expect(a.portState(5000, 200)).toBe('cooling');
    expect(a.lease('s', 1199).ok).toBe(false);
    expect(a.stats(1199)).toMatchObject({ cooling: 1, free: 0 });
    expect(take(a, 's', 1200).port).toBe(5000);
  });

  it('release with { cooldown: false } frees the port at once (it never carried a connection)', () => {
    const a = make({ ranges: '5000', cooldownMs: 1000 });
    const freed: number[] = [];
    a.on('release', (e) => freed.push(e.freeAt));
    const l = take(a, 's', 100);
    a.release(l, 200, { cooldown: false });
    expect(a.portState(5000, 200)).toBe('free');
    expect(freed).toEqual([200]);
    const again = take(a, 's', 200);
    expect(again.port).toBe(5000);
    a.release(again, 300, { cooldown: true });
    expect(a.portState(5000, 300)).toBe('cooling');
  });

  it('uses a default cooldown of 2000 ms and busy retry of 30000 ms', () => {
    const a = make();
    expect(a.cooldownMs).toBe(2000);
    expect(a.busyRetryMs).toBe(30000);
    expect(a.exhaustion).toBe('refuse');
  });

  it('counts owners exactly through many short-lived owners', () => {
    const a = make({ ranges: '1000-2999', cooldownMs: 0, maxPerOwner: 2 });
    const keep = [take(a, 'keep-1', 0), take(a, 'keep-2', 0), take(a, 'keep-2', 0)];
    for (let i = 0; i < 5000; i++) {
      const l = take(a, `session-${i}`, 0);
      if (i % 7 === 0) take(a, `session-${i}`, 0); // some owners keep one lease
      a.release(l, 0);
    }
    const st = a.stats(0);
    expect(st.owners).toBe(2 + Math.ceil(5000 / 7));
    expect(st.leases).toBe(3 + Math.ceil(5000 / 7));
    expect(a.leasesOf('keep-2')).toBe(2);
    expect(a.leasesOf('session-1')).toBe(0);
    expect(a.lease('keep-2', 0)).toMatchObject({ ok: false, reason: 'quota' });
    for (const l of keep) a.release(l, 0);
    expect(a.stats(0).owners).toBe(Math.ceil(5000 / 7));
  });

  it('release is idempotent and ignores foreign or forged leases', () => {
    const a = make({ ranges: '5000-5001', cooldownMs: 0 });
    const l = take(a, 's', 0);
    a.release({ ...l, id: l.id + 100 }, 0);
    a.release({ ...l, port: l.port === 5000 ? 5001 : 5000 }, 0);
    a.release({ ...l, owner: 'other' }, 0);
    a.release({ ...l, fallback: true }, 0);
    a.release(null as never, 0);
    expect(a.stats(0).inUse).toBe(1);
    a.release(l, 0);
    a.release(l, 0);
    expect(a.stats(0)).toMatchObject({ inUse: 0, free: 2, leases: 0, owners: 0 });
  });

  it('sets a busy port aside for busyRetryMs, without cooldown, then retries it', () => {
    const a = make({ ranges: '5000', cooldownMs: 5, busyRetryMs: 100 });
    const events: AllocatorEvent[] = [];
    a.on('busy', (e) => events.push(e));
    const l = take(a, 's', 0);
    a.markBusy(l, 10);
    a.markBusy(l, 10);
    expect(events).toEqual([{ type: 'busy', now: 10, lease: l, retryAt: 110 }]);
    expect(a.stats(50)).toMatchObject({ busy: 1, cooling: 0, inUse: 0, leases: 0 });
    expect(a.lease('s', 109).ok).toBe(false);
    expect(take(a, 's', 110).port).toBe(5000);
  });

  it('enforces maxPerOwner per owner and frees quota on release', () => {
    const a = make({ maxPerOwner: 2, cooldownMs: 0 });
    const quota: AllocatorEvent[] = [];
    a.on('quota', (e) => quota.push(e));
    const l1 = take(a, 'A', 0);
    take(a, 'A', 0);
    const r = a.lease('A', 0);
    expect(r).toMatchObject({ ok: false, reason: 'quota', policy: 'refuse' });
    expect(quota).toHaveLength(1);
    expect(quota[0]).toMatchObject({ type: 'quota', owner: 'A', limit: 2 });
    expect(take(a, 'B', 0).owner).toBe('B');
    expect(a.leasesOf('A')).toBe(2);
    a.release(l1, 0);
    expect(a.lease('A', 0).ok).toBe(true);
    expect(a.stats(0)).toMatchObject({ quotaRefusals: 1, owners: 2 });
  });

  it("refuse policy: the 'exhausted' event carries ProFTPD's wording", () => {
    const a = make({ ranges: '60000-60009', cooldownMs: 0 });
    const seen: AllocatorEvent[] = [];
    a.on('exhausted', (e) => seen.push(e));
    a.on('fallback', (e) => seen.push(e));
    for (let i = 0; i < 10; i++) take(a, 's', 0);
    const r = a.lease('late', 7);
    expect(r.ok).toBe(false);
    expect(seen).toEqual([{
      type: 'exhausted', now: 7, owner: 'late', policy: 'refuse', ranges: '60000-60009',
      message: 'unable to find open port in PassivePorts range 60000-60009: refusing (consider defining a larger PassivePorts range)',
    }]);
  });

  it('kernel policy: returns a port-0 fallback lease and emits the exact ProFTPD log line', () => {
    const a = make({ exhaustion: 'kernel', cooldownMs: 0, maxPerOwner: 20 });
    const seen: AllocatorEvent[] = [];
    a.on('exhausted', (e) => seen.push(e));
    a.on('fallback', (e) => seen.push(e));
    for (let i = 0; i < 10; i++) take(a, 's', 0);
    const r = a.lease('s', 3);
    if (r.ok || r.fallback === undefined) throw new Error('expected a fallback');
    expect(r.policy).toBe('kernel');
    expect(r.message).toBe(PROFTPD_LINE);
    expect(fallbackMessage(a.ranges)).toBe(PROFTPD_LINE);
    expect(r.fallback).toMatchObject({ port: 0, exposedPort: 0, owner: 's', fallback: true });
    expect(seen.map((e) => [e.type, 'message' in e ? e.message : ''])).toEqual([
      ['exhausted', PROFTPD_LINE],
      ['fallback', PROFTPD_LINE],
    ]);
    expect(a.stats(3)).toMatchObject({ exhaustions: 1, fallbacks: 1, fallbackLeases: 1, leases: 11, inUse: 10 });
    expect(a.leasesOf('s')).toBe(11);
    a.release(r.fallback, 4);
    expect(a.stats(4)).toMatchObject({ fallbackLeases: 0, leases: 10, inUse: 10 });
  });

  it('kernel fallback leases count towards the quota; a quota refusal never falls back', () => {
    const a = make({ ranges: '5000', exhaustion: 'kernel', maxPerOwner: 2 });
    take(a, 's', 0);
    const fb = a.lease('s', 0);
    expect(fb).toMatchObject({ ok: false, reason: 'exhausted', policy: 'kernel' });
    expect(a.lease('s', 0)).toMatchObject({ ok: false, reason: 'quota', policy: 'refuse' });
    expect(a.stats(0).fallbacks).toBe(1);
  });

  it('maps listened ports to advertised ports (Docker -p 30000-30099:60000-60099)', () => {
    const a = new PortAllocator({
      ranges: '60000-60099', random: seeded(3), cooldownMs: 0,
      expose: { from: { min: 60000, max: 60099 }, to: { min: 30000, max: 30099 } },
    });
    for (let i = 0; i < 100; i++) {
      const l = take(a, 's', 0);
      expect(l.exposedPort).toBe(l.port - 30000);
    }
    expect(a.exposedPortOf(60042)).toBe(30042);
    expect(a.listenedPortOf(30042)).toBe(60042);
    expect(a.exposedPortOf(59999)).toBeUndefined();
    expect(a.listenedPortOf(29999)).toBeUndefined();
  });

  it('maps several ranges with several mappings, cutting ranges where mappings change', () => {
    const a = new PortAllocator({
      ranges: '100-109', random: seeded(4), cooldownMs: 0,
      expose: [{ from: { min: 105, max: 120 }, to: { min: 2005, max: 2020 } }, { from: { min: 90, max: 104 }, to: { min: 1090, max: 1104 } }],
    });
    const seen = new Map<number, number>();
    for (let i = 0; i < 10; i++) {
      const l = take(a, 's', 0);
      seen.set(l.port, l.exposedPort);
    }
    expect([...seen].sort((x, y) => x[0] - y[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => [100 + i, (i < 5 ? 1000 : 1900) + 100 + i]));
  });

  it('refuses mappings that do not fit with ERR_ALLOCATOR_EXPOSE_INVALID', () => {
    const base = { ranges: '100-109', random: seeded(1) };
    expect(codeOf(() => new PortAllocator({ ...base, expose: { from: { min: 100, max: 105 }, to: { min: 1, max: 6 } } })))
      .toBe('ERR_ALLOCATOR_EXPOSE_INVALID'); // 106-109 not covered
    expect(codeOf(() => new PortAllocator({ ...base, expose: { from: { min: 100, max: 109 }, to: { min: 1, max: 5 } } })))
      .toBe('ERR_ALLOCATOR_EXPOSE_INVALID'); // sizes differ
    expect(codeOf(() => new PortAllocator({ ...base, expose: [] }))).toBe('ERR_ALLOCATOR_EXPOSE_INVALID');
    expect(codeOf(() => new PortAllocator({
      ...base, expose: [{ from: { min: 100, max: 105 }, to: { min: 1, max: 6 } }, { from: { min: 104, max: 109 }, to: { min: 10, max: 15 } }],
    }))).toBe('ERR_ALLOCATOR_EXPOSE_INVALID'); // overlap
    expect(codeOf(() => new PortAllocator({ ...base, expose: { from: { min: 100, max: 109 }, to: { min: 65530, max: 65539 } } })))
      .toBe('ERR_ALLOCATOR_EXPOSE_INVALID');
  });

  it('refuses bad options with ERR_ALLOCATOR_OPTION_INVALID', () => {
    const base = { ranges: '100-109', random: seeded(1) };
    expect(codeOf(() => new PortAllocator({ ...base, random: 3 as never }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, cooldownMs: -1 }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, cooldownMs: Number.NaN }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, busyRetryMs: Infinity }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, maxPerOwner: 0 }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, exhaustion: 'retry' as never }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, coolingReuse: 'any' as never }))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator(null as never))).toBe('ERR_ALLOCATOR_OPTION_INVALID');
    expect(codeOf(() => new PortAllocator({ ...base, ranges: '0-5' }))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(codeOf(() => make().lease('s', Number.NaN))).toBe('ERR_ALLOCATOR_NOW_INVALID');
    const a = make();
    const l = take(a, 's', 0);
    expect(codeOf(() => a.release(l, Number.NaN))).toBe('ERR_ALLOCATOR_NOW_INVALID');
    expect(codeOf(() => a.markBusy(l, undefined as never))).toBe('ERR_ALLOCATOR_NOW_INVALID');
    expect(a.stats(0).leases).toBe(1);
  });

  it('survives a faulty random source (1, NaN, negative) without leaving the range', () => {
    for (const value of [1, Number.NaN, -0.5, 7]) {
      const a = make({ random: () => value, cooldownMs: 0 });
      const ports = new Set(Array.from({ length: 10 }, () => take(a, 's', 0).port));
      expect(ports.size).toBe(10);
    }
  });

  it('chooses uniformly among free ports', () => {
    const a = make({ ranges: '1000-1009', random: seeded(42), cooldownMs: 0 });
    const counts = new Array<number>(10).fill(0);
    const trials = 20000;
    for (let i = 0; i < trials; i++) {
      const l = take(a, 's', 0);
      counts[l.port - 1000]! += 1;
      a.release(l, 0);
    }
    // chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value
    const expected = trials / 10;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('does not favour the last port of the range (ProFTPD always tries max last)', () => {
    const a = make({ ranges: '1000-1009', random: seeded(9), cooldownMs: 0 });
    let lastWasMax = 0;
    for (let round = 0; round < 500; round++) {
      const leases = Array.from({ length: 10 }, () => take(a, 's', 0));
      if (leases[9]!.port === 1009) lastWasMax++;
      for (const l of leases) a.release(l, 0);
    }
    expect(lastWasMax).toBeLessThan(100); // ~50 expected; ProFTPD: 500
  });

  it('emits lease and release events; unsubscribe stops them', () => {
    const a = make({ cooldownMs: 10 });
    const seen: string[] = [];
    const off = a.on('lease', (e) => seen.push(`lease ${e.lease.port}`));
    a.on('release', (e) => seen.push(`release ${e.lease.port} ${e.freeAt}`));
    const l = take(a, 's', 5);
    a.release(l, 6);
    off();
    off();
    take(a, 's', 7);
    expect(seen).toEqual([`lease ${l.port}`, `release ${l.port} 16`]);
  });

  it('listeners that unsubscribe during an emit do not disturb the others', () => {
    const a = make();
    const seen: number[] = [];
    const off1 = a.on('lease', () => {
      seen.push(1);
      off1();
    });
    a.on('lease', () => seen.push(2));
    take(a, 's', 0);
    take(a, 's', 0);
    expect(seen).toEqual([1, 2, 2]);
  });

  it('reports port states and the transitions follow PORT_STATES', () => {
    const a = make({ ranges: '5000', cooldownMs: 10, busyRetryMs: 20 });
    expect(a.portState(4999, 0)).toBeUndefined();
    expect(a.portState(5000, 0)).toBe('free');
    const l = take(a, 's', 0);
    expect(a.portState(5000, 0)).toBe('leased');
    a.release(l, 0);
    expect(a.portState(5000, 9)).toBe('cooling');
    expect(a.portState(5000, 10)).toBe('free');
  });

  it('partition() gives disjoint allocators with the same options', () => {
    const a = make({ ranges: '100-199', maxPerOwner: 3, exhaustion: 'kernel' });
    const parts = a.partition(3);
    expect(parts.map((p) => p.size)).toEqual([33, 33, 34]);
    expect(parts.map((p) => p.ranges)).toEqual([[{ min: 100, max: 132 }], [{ min: 133, max: 165 }], [{ min: 166, max: 199 }]]);
    for (const p of parts) {
      expect(p.maxPerOwner).toBe(3);
      expect(p.exhaustion).toBe('kernel');
    }
    expect(codeOf(() => a.partition(101))).toBe('ERR_ALLOCATOR_PARTITION_INVALID');
  });
});

describe('PortAllocator cooling reuse (a peer takes back its own cooling ports)', () => {
  /** Leases every port for `peer` and releases them all at `t`, in lease order. */
  function coolAll(a: PortAllocator, peer: string | undefined, t: number): number[] {
    const leases = Array.from({ length: a.size }, () => take(a, 's', t, peer));
    for (const l of leases) a.release(l, t);
    return leases.map((l) => l.port);
  }

  it("is on by default ('peer'), off with 'none', and never in share mode", () => {
    expect(make().coolingReuse).toBe('peer');
    expect(make({ coolingReuse: 'none' }).coolingReuse).toBe('none');
    const shared = make({ share: true });
    coolAll(shared, 'p', 0);
    // share mode: the peer itself waits (its connections are told apart by address)
    expect(shared.lease('s', 1, { peer: 'p' })).toMatchObject({ ok: false, reason: 'exhausted' });
    const none = make({ coolingReuse: 'none' });
    coolAll(none, 'p', 0);
    expect(none.lease('s', 1, { peer: 'p' })).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(none.stats(1)).toMatchObject({ cooling: 10, coolingReuses: 0, exhaustions: 1 });
  });

  it('when no port is free, gives the peer its oldest cooling port, in release order', () => {
    const a = make({ cooldownMs: 1000 });
    const order = coolAll(a, '192.0.2.1', 0);
    const again = Array.from({ length: 10 }, (_, i) => take(a, 's', 100 + i, '192.0.2.1').port);
    expect(again).toEqual(order);
    expect(a.stats(200)).toMatchObject({ inUse: 10, cooling: 0, free: 0, coolingReuses: 10, exhaustions: 0, leases: 10 });
    expect(a.lease('s', 200, { peer: '192.0.2.1' })).toMatchObject({ ok: false, reason: 'exhausted' });
  });

  it('never gives a cooling port to another peer, or to a lease without a peer key', () => {
    const a = make({ cooldownMs: 1000 });
    coolAll(a, '192.0.2.1', 0);
    expect(a.lease('s', 999, { peer: '192.0.2.2' })).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(a.lease('s', 999)).toMatchObject({ ok: false, reason: 'exhausted' });
    const b = make({ cooldownMs: 1000 });
    coolAll(b, undefined, 0); // released without a peer: nobody's to take back
    expect(b.lease('s', 1, { peer: '192.0.2.1' })).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(b.stats(1)).toMatchObject({ cooling: 10, coolingReuses: 0 });
  });

  it('prefers free ports: a cooling port is reused only once none is free', () => {
    const a = make({ cooldownMs: 1000 });
    const first = take(a, 's', 0, 'p');
    a.release(first, 0);
    const next = Array.from({ length: 9 }, () => take(a, 's', 1, 'p').port);
    expect(next).not.toContain(first.port);
    expect(a.stats(1).coolingReuses).toBe(0);
    expect(take(a, 's', 1, 'p').port).toBe(first.port);
    expect(a.stats(1)).toMatchObject({ coolingReuses: 1, cooling: 0, inUse: 10 });
  });

  it('a reused port cools again from its new release; expiry drops it from its peer FIFO', () => {
    const a = make({ ranges: '5000-5001', cooldownMs: 1000 });
    const [p1, p2] = coolAll(a, 'p', 0) as [number, number];
    const l = take(a, 's', 500, 'p');
    expect(l.port).toBe(p1);
    expect(a.portState(p1, 500)).toBe('leased');
    a.release(l, 600);
    expect(a.portState(p2, 1000)).toBe('free'); // released at 0
    expect(a.portState(p1, 1000)).toBe('cooling'); // released again at 600
    expect(a.portState(p1, 1600)).toBe('free');
    // both expired: nothing cooling is left for the peer, free ports are random again
    expect(a.stats(1600)).toMatchObject({ free: 2, cooling: 0, inUse: 0, coolingReuses: 1 });
    const x = take(a, 's', 1600, 'p');
    const y = take(a, 's', 1600, 'p');
    expect(new Set([x.port, y.port])).toEqual(new Set([p1, p2]));
    expect(a.stats(1600).coolingReuses).toBe(1);
  });

  it('one port taken back thousands of times within one cooldown (a client in a PASV+connect loop)', () => {
    const a = make({ ranges: '5000', cooldownMs: 2000 });
    let l = take(a, 's', 0, 'p');
    for (let t = 0; t < 5000; t++) {
      a.release(l, t / 10);
      l = take(a, 's', t / 10, 'p');
      expect(l.port).toBe(5000);
    }
    expect(a.stats(500)).toMatchObject({ inUse: 1, cooling: 0, free: 0, coolingReuses: 5000, leases: 1 });
    a.release(l, 500);
    expect(a.stats(2499)).toMatchObject({ inUse: 0, cooling: 1, free: 0 }); // old entries did not free it early
    expect(a.lease('s', 2499, { peer: 'q' })).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(a.stats(2500)).toMatchObject({ inUse: 0, cooling: 0, free: 1 });
    expect(take(a, 's', 2500, 'q').port).toBe(5000);
  });

  it('keeps separate FIFOs per peer', () => {
    const a = make({ ranges: '5000-5003', cooldownMs: 1000 });
    const la = [take(a, 's', 0, 'a'), take(a, 's', 0, 'a')];
    const lb = [take(a, 's', 0, 'b'), take(a, 's', 0, 'b')];
    a.release(lb[1] as Lease, 1);
    a.release(la[0] as Lease, 2);
    a.release(lb[0] as Lease, 3);
    a.release(la[1] as Lease, 4);
    expect(take(a, 's', 5, 'b').port).toBe(lb[1]?.port);
    expect(take(a, 's', 5, 'a').port).toBe(la[0]?.port);
    expect(take(a, 's', 5, 'a').port).toBe(la[1]?.port);
    expect(take(a, 's', 5, 'b').port).toBe(lb[0]?.port);
    expect(a.stats(5)).toMatchObject({ inUse: 4, cooling: 0, coolingReuses: 4 });
  });

  it('release twice, markBusy and release without cooldown leave no stale FIFO entry', () => {
    const a = make({ ranges: '5000-5002', cooldownMs: 1000, busyRetryMs: 5000 });
    const [l1, l2, l3] = [take(a, 's', 0, 'p'), take(a, 's', 0, 'p'), take(a, 's', 0, 'p')] as [Lease, Lease, Lease];
    a.release(l1, 0);
    a.release(l1, 10); // ignored: no second FIFO entry, no later expiry
    const r1 = take(a, 's', 20, 'p');
    expect(r1.port).toBe(l1.port);
    a.markBusy(r1, 30); // a reused port the OS refuses goes aside like any other
    expect(a.portState(l1.port, 30)).toBe('busy');
    a.release(l2, 40, { cooldown: false });
    expect(a.portState(l2.port, 40)).toBe('free');
    expect(take(a, 's', 40, 'p').port).toBe(l2.port);
    expect(a.lease('s', 40, { peer: 'p' })).toMatchObject({ ok: false, reason: 'exhausted' }); // nothing cooling
    a.release(l3, 50);
    expect(a.stats(50)).toMatchObject({ inUse: 1, cooling: 1, busy: 1, free: 0, leases: 1, coolingReuses: 1 });
    expect(a.stats(1049).cooling).toBe(1);
    expect(a.stats(1050)).toMatchObject({ cooling: 0, free: 1 });
  });

  it('quotas still apply to reused ports; the kernel fallback waits until the peer has none', () => {
    const a = make({ ranges: '5000-5001', cooldownMs: 1000, maxPerOwner: 1, exhaustion: 'kernel' });
    const l1 = take(a, 'o1', 0, 'p');
    const l2 = take(a, 'o2', 0, 'p');
    a.release(l1, 0);
    a.release(l2, 0);
    const r = take(a, 'o1', 1, 'p');
    expect(r.port).toBe(l1.port);
    expect(a.lease('o1', 1, { peer: 'p' })).toMatchObject({ ok: false, reason: 'quota' });
    expect(take(a, 'o2', 1, 'p').port).toBe(l2.port);
    const f = a.lease('o3', 1, { peer: 'p' });
    expect(f).toMatchObject({ ok: false, reason: 'exhausted', policy: 'kernel', fallback: { port: 0 } });
    expect(a.stats(1)).toMatchObject({ coolingReuses: 2, fallbacks: 1, leases: 3, inUse: 2 });
  });

  it('partitions keep the option and reuse only their own ports', () => {
    const parts = make({ ranges: '100-103', cooldownMs: 1000 }).partition(2) as [PortAllocator, PortAllocator];
    expect(parts.map((p) => p.coolingReuse)).toEqual(['peer', 'peer']);
    expect(make({ coolingReuse: 'none' }).partition(2).map((p) => p.coolingReuse)).toEqual(['none', 'none']);
    const [x, y] = parts;
    const xs = coolAll(x, 'p', 0);
    expect(y.stats(1).free).toBe(2);
    const again = [take(x, 's', 1, 'p').port, take(x, 's', 1, 'p').port];
    expect(again).toEqual(xs);
    expect(y.stats(1)).toMatchObject({ free: 2, coolingReuses: 0 });
  });
});

describe('PortAllocator share mode', () => {
  it('needs a peer key', () => {
    const a = make({ share: true });
    expect(codeOf(() => a.lease('s', 0))).toBe('ERR_ALLOCATOR_PEER_REQUIRED');
  });

  it('shares a port between different peers, never twice with the same peer', () => {
    const a = make({ ranges: '5000-5001', share: true, cooldownMs: 0 });
    const a1 = take(a, 's1', 0, '10.0.0.1');
    const a2 = take(a, 's2', 0, '10.0.0.1');
    expect(new Set([a1.port, a2.port]).size).toBe(2);
    expect(a.lease('s3', 0, { peer: '10.0.0.1' })).toMatchObject({ ok: false, reason: 'exhausted' });
    const b1 = take(a, 's4', 0, '10.0.0.2');
    const b2 = take(a, 's5', 0, '10.0.0.2');
    expect(new Set([b1.port, b2.port]).size).toBe(2);
    expect(b1.peer).toBe('10.0.0.2');
    expect(a.stats(0)).toMatchObject({ inUse: 2, leases: 4, free: 0 });
  });

  it('uses free ports before sharing', () => {
    const a = make({ ranges: '5000-5009', share: true });
    const ports = new Set(Array.from({ length: 10 }, (_, i) => take(a, `s${i}`, 0, `10.0.0.${i}`).port));
    expect(ports.size).toBe(10);
  });

  it('share mode: release without cooldown lets the same peer have the port again at once', () => {
    const a = make({ ranges: '5000', share: true, cooldownMs: 100 });
    const x = take(a, 's1', 0, 'A');
    take(a, 's2', 0, 'B');
    a.release(x, 10, { cooldown: false });
    expect(take(a, 's3', 10, 'A').port).toBe(5000);
  });

  it('a port stays leased while one peer still holds it, and cools when the last leaves', () => {
    const a = make({ ranges: '5000', share: true, cooldownMs: 100 });
    const x = take(a, 's1', 0, 'A');
    const y = take(a, 's2', 0, 'B');
    a.release(x, 10);
    expect(a.portState(5000, 10)).toBe('leased');
    // A may not have it again during its own cooldown, another peer may
    expect(a.lease('s3', 50, { peer: 'A' }).ok).toBe(false);
    const z = take(a, 's4', 50, 'C');
    expect(take(a, 's3', 110, 'A').port).toBe(5000);
    a.release(y, 120);
    a.release(z, 120);
    expect(a.portState(5000, 120)).toBe('leased');
    expect(a.stats(120)).toMatchObject({ leases: 1, inUse: 1 });
  });

  it('markBusy on a shared port only drops that holder while others remain', () => {
    const a = make({ ranges: '5000', share: true, cooldownMs: 0, busyRetryMs: 100 });
    const x = take(a, 's1', 0, 'A');
    const y = take(a, 's2', 0, 'B');
    a.markBusy(y, 0);
    expect(a.portState(5000, 0)).toBe('leased');
    a.markBusy(x, 1);
    expect(a.portState(5000, 1)).toBe('busy');
    expect(a.portState(5000, 101)).toBe('free');
  });
});
