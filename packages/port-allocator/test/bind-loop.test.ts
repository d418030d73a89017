import { describe, expect, it } from 'vitest';
import { PortAllocator } from '../src/index.js';
import { bindInRange } from '../src/node/bind.js';
import type { BindFailure, Bound, Done } from '../src/node/bind.js';
import { seeded } from './prng.js';

/** Runs the bind loop against a fake OS that answers each port with an errno code (or success). */
async function run(a: PortAllocator, os: (port: number) => string | undefined): Promise<{ tried: number[]; result: Bound<number> | BindFailure }> {
  const tried: number[] = [];
  const result = await new Promise<Bound<number> | BindFailure>((resolve) => {
    bindInRange(a, 'owner', undefined, () => 0, (port: number, done: Done) => {
      tried.push(port);
      const code = os(port);
      done(code === undefined ? null : Object.assign(new Error(`${code} on ${port}`), { code }));
      return port;
    }, resolve);
  });
  return { tried, result };
}

describe('bind loop', async () => {
  it('marks EADDRINUSE and EACCES ports busy and tries others until one binds', async () => {
    const a = new PortAllocator({ ranges: '100-109', random: seeded(5) });
    const { tried, result } = await run(a, (p) => (p < 105 ? 'EADDRINUSE' : p < 109 ? 'EACCES' : undefined));
    expect(result).toMatchObject({ ok: true, handle: 109 });
    expect(new Set(tried).size).toBe(tried.length); // never the same port twice
    expect(a.stats(0)).toMatchObject({ busy: tried.length - 1, inUse: 1 });
  });

  it('applies the policy once every port was refused', async () => {
    const refuse = new PortAllocator({ ranges: '100-104', random: seeded(5) });
    const r1 = await run(refuse, () => 'EADDRINUSE');
    expect(r1.tried).toHaveLength(5);
    expect(r1.result).toMatchObject({ ok: false, reason: 'exhausted' });

    const kernel = new PortAllocator({ ranges: '100-104', random: seeded(5), exhaustion: 'kernel' });
    const r2 = await run(kernel, (p) => (p === 0 ? undefined : 'EADDRINUSE'));
    expect(r2.tried.at(-1)).toBe(0);
    expect(r2.result).toMatchObject({ ok: true, lease: { port: 0, fallback: true } });
  });

  it('stops on other errors, returning the lease', async () => {
    const a = new PortAllocator({ ranges: '100-104', random: seeded(5), cooldownMs: 0 });
    const r = await run(a, () => 'EADDRNOTAVAIL');
    expect(r.tried).toHaveLength(1);
    expect(r.result).toMatchObject({ ok: false, reason: 'error', code: 'EADDRNOTAVAIL' });
    expect(a.stats(0)).toMatchObject({ leases: 0, busy: 0, free: 5 });
  });

  it('a failing kernel fallback bind is an error, and its lease returns', async () => {
    const a = new PortAllocator({ ranges: '100', random: seeded(5), exhaustion: 'kernel' });
    const r = await run(a, () => 'EADDRINUSE');
    expect(r.tried).toEqual([100, 0]);
    expect(r.result).toMatchObject({ ok: false, reason: 'error', code: 'EADDRINUSE' });
    expect(a.stats(0)).toMatchObject({ leases: 0, fallbackLeases: 0 });
  });

  it('reports quota refusals without binding', async () => {
    const a = new PortAllocator({ ranges: '100-104', random: seeded(5), maxPerOwner: 1 });
    await run(a, () => undefined);
    const r = await run(a, () => undefined);
    expect(r.tried).toEqual([]);
    expect(r.result).toMatchObject({ ok: false, reason: 'quota' });
  });
});
