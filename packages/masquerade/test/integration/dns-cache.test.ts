// DnsCache against a real DNS server (dnsmasq on 127.0.0.1), not a mocked `dns` module.
// Names are under .test only; no query leaves loopback.
import diagnosticsChannel from 'node:diagnostics_channel';
import { type TestContext, describe, expect, it } from 'vitest';
import { MasqueradeResolver } from '../../src/index.js';
import {
  type DnsCacheEvent,
  type DnsCacheOptions,
  DNS_CACHE_CHANNEL,
  DnsCache,
  createMasquerade,
} from '../../src/node/index.js';
import { Dnsmasq, dnsmasqAvailable, freePort } from './dnsmasq.js';

const available = dnsmasqAvailable();
if (!available && process.env['CI'] === 'true') {
  throw new Error('dnsmasq is required in CI (apt-get install dnsmasq-base)');
}

interface Fixture {
  /** The DNS server, when one was started, and the port the cache asks. */
  d: Dnsmasq;
  port: number;
  c: DnsCache;
  events: DnsCacheEvent[];
  waitFor: (pred: (e: DnsCacheEvent) => boolean, ms?: number) => Promise<DnsCacheEvent>;
}

/**
 * A dnsmasq serving `hosts` with `--local-ttl ttl` and a DnsCache asking it, both stopped when
 * the test ends (the tests run concurrently). `hosts: undefined` starts no server: the cache
 * then asks a free port where nothing answers.
 */
async function fixture(t: TestContext, hosts: string | undefined, ttl: number, extra: DnsCacheOptions = {}): Promise<Fixture> {
  const d = hosts === undefined ? undefined : await Dnsmasq.start(hosts, ttl);
  if (d !== undefined) t.onTestFinished(() => d.dispose());
  const port = d?.port ?? (await freePort());
  const events: DnsCacheEvent[] = [];
  const c = new DnsCache({
    servers: [`127.0.0.1:${port}`], timeoutMs: 300, tries: 1, minTtlMs: 100, retryMs: 150,
    onEvent: (e) => events.push(e), ...extra,
  });
  t.onTestFinished(() => c.close());
  const waitFor = async (pred: (e: DnsCacheEvent) => boolean, ms = 4000): Promise<DnsCacheEvent> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = events.find(pred);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) throw new Error(`no such event; saw ${JSON.stringify(events.map((e) => e.message))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { d: d as Dnsmasq, port, c, events, waitFor };
}

const PUBLIC_CLIENT = { localAddress: '10.0.0.5', remoteAddress: '198.51.100.9' };

describe.skipIf(!available).concurrent('DnsCache with dnsmasq on loopback', () => {
  it('resolves at startup, logs it the ProFTPD way, and feeds the resolver synchronously', async (t) => {
    const { d, c, events } = await fixture(t, '203.0.113.7 ftp.example.test\n', 42);
    await c.add('FTP.Example.Test.');
    expect(events).toEqual([
      { type: 'resolved', level: 'info', name: 'ftp.example.test', address: '203.0.113.7', ttlMs: 42_000, source: 'dns', message: "Masquerading as '203.0.113.7' (ftp.example.test)" },
    ]);
    expect(c.get('ftp.example.test')).toMatchObject({ address: '203.0.113.7', reason: expect.stringMatching(/^resolved to 203\.0\.113\.7 \(dns, TTL 42 s, checked [\d.]+ s ago, next check in 4\d(\.\d)? s\)$/) });
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'ftp.example.test' }], dns: c });
    const answer = r.resolve(PUBLIC_CLIENT);
    expect(answer).toMatchObject({ ok: true, address: '203.0.113.7', rule: 'dns' });
    expect(answer.ok && answer.reason).toMatch(/^DNS name 'ftp\.example\.test': resolved to 203\.0\.113\.7 \(dns, TTL 42 s/);
    expect(c.list()).toEqual([{ name: 'ftp.example.test', state: 'fresh', address: '203.0.113.7', source: 'dns', ttlMs: 42_000, error: undefined }]);
  });

  it('picks up a changed record at the next refresh (DynMasqRefresh), with mod_dynmasq lines', async (t) => {
    const { d, c, events, waitFor } = await fixture(t, '198.51.100.20 masq.example.test\n', 3600, { refreshMs: 250 });
    await c.add('masq.example.test');
    await waitFor((e) => e.type === 'unchanged');
    expect(events.find((e) => e.type === 'unchanged')?.message).toBe("MasqueradeAddress 'masq.example.test' has not changed addresses");
    await d.setHosts('198.51.100.21 masq.example.test\n');
    const updated = await waitFor((e) => e.type === 'updated');
    expect(updated).toMatchObject({
      address: '198.51.100.21', previous: '198.51.100.20', level: 'info',
      message: "MasqueradeAddress 'masq.example.test' updated for new address 198.51.100.21 (was 198.51.100.20)",
    });
    expect(c.get('masq.example.test').address).toBe('198.51.100.21');
  });

  it('refreshes when the TTL runs out, not before', async (t) => {
    const { d, c, waitFor } = await fixture(t, '203.0.113.7 ttl.example.test\n', 1, { minTtlMs: 100 });
    const start = Date.now();
    await c.add('ttl.example.test');
    await d.setHosts('203.0.113.8 ttl.example.test\n');
    expect(c.get('ttl.example.test').address).toBe('203.0.113.7'); // still cached: the TTL has not expired
    const updated = await waitFor((e) => e.type === 'updated', 3000);
    const elapsed = Date.now() - start;
    expect(updated).toMatchObject({ address: '203.0.113.8', previous: '203.0.113.7', ttlMs: 1000 });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2500);
  });

  it('keeps the last known good address when the server goes away, and recovers', async (t) => {
    const { d, c, waitFor } = await fixture(t, '203.0.113.7 lkg.example.test\n', 3600, { refreshMs: 200 });
    await c.add('lkg.example.test');
    await d.stop();
    const failed = await waitFor((e) => e.type === 'failed-keeping-last');
    expect(failed).toMatchObject({ level: 'warn', address: '203.0.113.7', error: 'ECONNREFUSED', message: "unable to resolve 'lkg.example.test', keeping previous address" });
    const got = c.get('lkg.example.test');
    expect(got.address).toBe('203.0.113.7');
    expect(got.reason).toMatch(/^resolved to 203\.0\.113\.7, the last known good address \(lookups failing for [\d.]+ s: ECONNREFUSED/);
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'lkg.example.test' }], dns: c });
    expect(r.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: true, address: '203.0.113.7', rule: 'dns' });
    expect(c.list()[0]?.state).toBe('stale');

    await d.restart();
    const before = failed;
    await waitFor((e) => e.type === 'unchanged' && e !== before);
    expect(c.list()[0]).toMatchObject({ state: 'fresh', address: '203.0.113.7', error: undefined });
  });

  it('defers a name when DNS is down at startup, and resolves it when DNS comes back', async (t) => {
    const { port, c, events, waitFor } = await fixture(t, undefined, 0);
    const t0 = Date.now();
    await c.add('late.example.test'); // must not throw, must not hang
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(events[0]).toMatchObject({ type: 'deferred', level: 'warn', name: 'late.example.test', error: 'ECONNREFUSED' });
    expect(events[0]?.message).toMatch(/^unable to resolve 'late\.example\.test' \(ECONNREFUSED\); retrying every 0\.2 s/);
    expect(events[0]).not.toHaveProperty('address');
    expect(c.get('late.example.test')).toMatchObject({ address: undefined, reason: expect.stringMatching(/^not resolved \(ECONNREFUSED\)/) });

    // Meanwhile PASV goes on to the next rule.
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'late.example.test' }, { kind: 'static', address: '203.0.113.1' }], dns: c });
    expect(r.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: true, address: '203.0.113.1', rule: 'static' });

    const d = await Dnsmasq.start('198.51.100.30 late.example.test\n', 3600, port);
    t.onTestFinished(() => d.dispose());
    const updated = await waitFor((e) => e.type === 'updated');
    expect(updated.message).toBe("MasqueradeAddress 'late.example.test' updated for new address 198.51.100.30 (was (null))");
    expect(r.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: true, address: '198.51.100.30', rule: 'dns' });
  });

  it('warns when a name resolves to a private address (the FAQ case), once per address', async (t) => {
    const { d, c, events } = await fixture(t, '192.168.1.10 inside.example.test\n', 3600);
    await c.add('inside.example.test');
    expect(events.map((e) => e.type)).toEqual(['resolved', 'private-address-warning']);
    expect(events[1]).toMatchObject({ level: 'warn', address: '192.168.1.10' });
    expect(events[1]?.message).toMatch(/^MasqueradeAddress 'inside\.example\.test' resolves to private address 192\.168\.1\.10: clients outside/);
    await c.refreshAll();
    expect(events.map((e) => e.type)).toEqual(['resolved', 'private-address-warning', 'unchanged']);
    // The guard keeps public clients away from it; LAN clients may have it.
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'inside.example.test' }], dns: c });
    expect(r.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: false, replyCode: 425, rule: 'dns' });
    expect(r.resolve({ localAddress: '10.0.0.5', remoteAddress: '192.168.1.20' })).toMatchObject({ ok: true, address: '192.168.1.10' });
    // Fixed in DNS, then broken again: warned again.
    await d.setHosts('203.0.113.7 inside.example.test\n');
    await c.refreshAll();
    await d.setHosts('192.168.1.10 inside.example.test\n');
    await c.refreshAll();
    expect(events.slice(3).map((e) => e.type)).toEqual(['updated', 'updated', 'private-address-warning']);
  });

  it('keeps the address in use while round-robin DNS still lists it', async (t) => {
    const { d, c, events } = await fixture(t, '203.0.113.7 rr.example.test\n203.0.113.8 rr.example.test\n', 3600);
    await c.add('rr.example.test');
    const first = c.get('rr.example.test').address;
    expect(['203.0.113.7', '203.0.113.8']).toContain(first);
    for (let i = 0; i < 4; i++) await c.refreshAll();
    expect(events.slice(1).map((e) => e.type)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    const other = first === '203.0.113.7' ? '203.0.113.8' : '203.0.113.7';
    await d.setHosts(`${other} rr.example.test\n`);
    await c.refreshAll();
    expect(events[events.length - 1]).toMatchObject({ type: 'updated', address: other, previous: first });
  });

  it('never blocks: get() answers while the first lookup is in flight', async (t) => {
    const { c } = await fixture(t, '203.0.113.7 slow.example.test\n', 3600);
    const pending = c.add('slow.example.test');
    expect(c.get('slow.example.test')).toEqual({ address: undefined, reason: 'first lookup still in flight' });
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'slow.example.test' }], dns: c });
    expect(r.resolve({ localAddress: '203.0.113.50', remoteAddress: '198.51.100.9' })).toMatchObject({ ok: true, rule: 'control-connection' });
    await pending;
    expect(r.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: true, address: '203.0.113.7', rule: 'dns' });
  });

  it('get() of a name never added starts resolving it in the background', async (t) => {
    const { d, c, waitFor } = await fixture(t, '203.0.113.9 forgot.example.test\n', 3600);
    expect(c.get('forgot.example.test')).toEqual({ address: undefined, reason: 'not in the DNS cache yet; resolving it in the background' });
    await waitFor((e) => e.type === 'resolved');
    expect(c.get('forgot.example.test').address).toBe('203.0.113.9');
  });

  it('createMasquerade resolves every name of the chain before returning', async (t) => {
    const d = await Dnsmasq.start('203.0.113.7 ftp.example.test\n192.168.1.10 lan.example.test\n', 3600);
    t.onTestFinished(() => d.dispose());
    const events: DnsCacheEvent[] = [];
    const m = await createMasquerade({
      policies: [
        { kind: 'client-network', entries: [{ match: '192.168.0.0/16', address: 'lan.example.test' }] },
        { kind: 'dns', name: 'ftp.example.test' },
      ],
      dnsCache: { servers: [`127.0.0.1:${d.port}`], timeoutMs: 300, tries: 1, onEvent: (e) => events.push(e) },
    });
    t.onTestFinished(() => m.close());
    expect(events.filter((e) => e.type === 'resolved').map((e) => e.message).sort()).toEqual([
      "Masquerading as '192.168.1.10' (lan.example.test)",
      "Masquerading as '203.0.113.7' (ftp.example.test)",
    ]);
    expect(m.resolver.resolve(PUBLIC_CLIENT)).toMatchObject({ ok: true, address: '203.0.113.7', rule: 'dns' });
    expect(m.resolver.resolve({ localAddress: '10.0.0.5', remoteAddress: '::ffff:192.168.7.7' })).toMatchObject({ ok: true, address: '192.168.1.10', rule: 'client-network' });
  });

  it('publishes every event on the diagnostics channel', async (t) => {
    const { c, events } = await fixture(t, '203.0.113.7 chan.example.test\n', 3600);
    const seen: unknown[] = [];
    const sub = (m: unknown): void => {
      if ((m as DnsCacheEvent).name === 'chan.example.test') seen.push(m);
    };
    diagnosticsChannel.subscribe(DNS_CACHE_CHANNEL, sub);
    t.onTestFinished(() => { diagnosticsChannel.unsubscribe(DNS_CACHE_CHANNEL, sub); });
    await c.add('chan.example.test');
    expect(seen).toEqual(events);
    expect(seen).toHaveLength(1);
  });

  it('close() stops refreshing', async (t) => {
    const { d, c, events } = await fixture(t, '203.0.113.7 closed.example.test\n', 3600, { refreshMs: 100 });
    await c.add('closed.example.test');
    c.close();
    const n = events.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toHaveLength(n);
    expect(c.get('closed.example.test').address).toBe('203.0.113.7');
  });
});

describe.skipIf(!available).concurrent('DnsCache without DNS answers', () => {
  it('falls back to lookup() for /etc/hosts names when asked to', async (t) => {
    const { c, events } = await fixture(t, '', 3600, { lookupFallback: true }); // dnsmasq answers REFUSED
    await c.add('localhost');
    expect(events[0]).toMatchObject({ type: 'resolved', address: '127.0.0.1', source: 'lookup', ttlMs: 60_000 });
    expect(events[1]).toMatchObject({ type: 'private-address-warning', message: expect.stringContaining('resolves to loopback address 127.0.0.1') });
  });

  it('does not fall back to lookup() when servers are given', async (t) => {
    const { d, c, events } = await fixture(t, '', 3600);
    await c.add('localhost');
    expect(events[0]).toMatchObject({ type: 'deferred', error: 'EREFUSED' });
  });

  it('reads an interface name from the host (ProFTPD MasqueradeAddress lo)', async (t) => {
    const { c, events } = await fixture(t, undefined, 0);
    await c.add('lo');
    expect(events[0]).toMatchObject({ type: 'resolved', address: '127.0.0.1', source: 'device', message: "Masquerading as '127.0.0.1' (lo)" });
  });

  it('takes an IP literal as is, without timers', async (t) => {
    const { c, events } = await fixture(t, undefined, 0);
    await c.add('::ffff:203.0.113.7');
    expect(events).toEqual([{ type: 'resolved', level: 'info', name: '::ffff:203.0.113.7', address: '203.0.113.7', source: 'literal', message: "Masquerading as '203.0.113.7' (::ffff:203.0.113.7)" }]);
    expect(c.get('::ffff:203.0.113.7').reason).toMatch(/^resolved to 203\.0\.113\.7 \(literal, checked [\d.]+ s ago\)$/);
  });

  it('rejects invalid options with a stable code', () => {
    expect(() => new DnsCache({ refreshMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_MASQUERADE_OPTION_INVALID' }));
    expect(() => new DnsCache({ internalRanges: ['nope'] })).toThrow(expect.objectContaining({ code: 'ERR_MASQUERADE_OPTION_INVALID' }));
  });
});
