import { describe, expect, it } from 'vitest';
import { mapAccepted } from '../src/index.js';
import type { DataChannelFactory, DataConnection, PassiveListener } from '../src/index.js';

function conn(name: string): DataConnection {
  return { remoteAddress: name, remotePort: 1 } as unknown as DataConnection;
}

function factoryOf(queue: Array<DataConnection | undefined>, closed: string[]): DataChannelFactory {
  const listener: PassiveListener = {
    port: 60000,
    exposedPort: 61000,
    fallback: false,
    accept: () => Promise.resolve(queue.shift()),
    close: () => closed.push('closed'),
  };
  return {
    listen: () => Promise.resolve({ ok: true, listener }),
    connect: () => Promise.resolve({ ok: false, reason: 'error', message: 'no' }) as never,
  };
}

describe('mapAccepted', () => {
  it('hands out the mapped connection, skips those mapped to undefined, keeps port facts, closes through', async () => {
    const closed: string[] = [];
    const dropped: string[] = [];
    const listen = mapAccepted(factoryOf([conn('stranger'), conn('client'), undefined], closed), async (c) => {
      if (c.remoteAddress === 'stranger') {
        dropped.push(c.remoteAddress);
        return undefined;
      }
      return conn(`mapped ${c.remoteAddress}`);
    });
    const r = await listen({ owner: 'o', localAddress: '127.0.0.1', ports: undefined });
    if (!r.ok) throw new Error('listen failed');
    expect([r.listener.port, r.listener.exposedPort, r.listener.fallback]).toEqual([60000, 61000, false]);
    expect((await r.listener.accept())?.remoteAddress).toBe('mapped client');
    expect(dropped).toEqual(['stranger']);
    expect(await r.listener.accept()).toBeUndefined();
    r.listener.close();
    expect(closed).toEqual(['closed']);
  });

  it('passes a failed listen through', async () => {
    const failing: DataChannelFactory = {
      listen: () => Promise.resolve({ ok: false, reason: 'exhausted', message: 'none free' }),
      connect: () => Promise.reject(new Error('unused')),
    };
    const r = await mapAccepted(failing, (c) => c)({ owner: 'o', localAddress: '127.0.0.1', ports: undefined });
    expect(r).toEqual({ ok: false, reason: 'exhausted', message: 'none free' });
  });
});
