import { describe, expect, it } from 'vitest';
import {
  type Answer,
  type MasqueradeContext,
  type MasqueradeResolverOptions,
  type Policy,
  MasqueradeResolver,
  REFUSAL_TEXT,
  fixedDns,
  ipv6PasvLines,
  masqueradeAddressPolicy,
} from '../src/index.js';

const PUBLIC_CLIENT = '198.51.100.9';
const LAN_CLIENT = '192.168.1.20';
const dns = fixedDns({ 'ftp.example.test': '203.0.113.7', 'lan.example.test': '192.168.1.10', 'v6.example.test': '2001:db8::7' });

interface Case {
  name: string;
  policies: Policy[];
  ctx: Partial<MasqueradeContext>;
  opts?: Partial<MasqueradeResolverOptions>;
  /** Expected: address + rule, or refusal code + rule. */
  want: { address: string; rule: string; index?: number; reason?: RegExp } | { refuse: 522 | 425; rule: string; reason?: RegExp };
  /** Outcomes of every step, in order. */
  steps?: string[];
}

const cases: Case[] = [
  // static
  { name: 'static public address to a public client', policies: [{ kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static', index: 0, reason: /^static address 203\.0\.113\.7$/ }, steps: ['chosen'] },
  { name: 'static given IPv4-mapped is normalised', policies: [{ kind: 'static', address: '::ffff:203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' } },
  { name: 'static private to a LAN client is fine', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'static private to a public client: guard skips to the control connection (public)', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { localAddress: '203.0.113.50' }, want: { address: '203.0.113.50', rule: 'control-connection', index: 1 }, steps: ['guarded', 'chosen'] },
  { name: 'static private to a public client, private local: 425 naming the rule and address', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: {}, want: { refuse: 425, rule: 'static', reason: /static #0: static address 10\.1\.2\.3; guard: 10\.1\.2\.3 is a private address and client 198\.51\.100\.9 is public/ }, steps: ['guarded', 'guarded'] },
  { name: 'guard off: private address to a public client', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: {}, opts: { guard: false }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'static link-local to a public client is guarded', policies: [{ kind: 'static', address: '169.254.1.1' }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static', index: 1, reason: /203/ }, steps: ['guarded', 'chosen'] },
  { name: 'static link-local to a LAN client is fine', policies: [{ kind: 'static', address: '169.254.1.1' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '169.254.1.1', rule: 'static' } },
  { name: 'unspecified 0.0.0.0 is never advertised, even to a LAN client', policies: [{ kind: 'static', address: '0.0.0.0' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' }, steps: ['guarded', 'chosen'] },
  { name: 'unspecified 0.0.0.0 is advertised with the guard off', policies: [{ kind: 'static', address: '0.0.0.0' }], ctx: {}, opts: { guard: false }, want: { address: '0.0.0.0', rule: 'static' } },
  { name: 'broadcast is never advertised', policies: [{ kind: 'static', address: '255.255.255.255' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' } },
  { name: 'loopback to a loopback client is fine', policies: [], ctx: { localAddress: '127.0.0.1', remoteAddress: '127.0.0.1' }, want: { address: '127.0.0.1', rule: 'control-connection' } },
  { name: 'loopback to a LAN client is guarded', policies: [{ kind: 'static', address: '127.0.0.1' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' }, steps: ['guarded', 'chosen'] },
  { name: 'public address to a LAN client is fine', policies: [{ kind: 'static', address: '203.0.113.7' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '203.0.113.7', rule: 'static' } },
  { name: 'private address to a loopback client is fine', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { remoteAddress: '127.0.0.1' }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'internalRanges: a carrier-grade NAT client counts as internal', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { remoteAddress: '100.64.0.9' }, opts: { internalRanges: ['100.64.0.0/10'] }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'without internalRanges a carrier-grade NAT client is public', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { remoteAddress: '100.64.0.9', localAddress: '203.0.113.50' }, want: { address: '203.0.113.50', rule: 'control-connection' } },

  // dns
  { name: 'dns name resolved', policies: [{ kind: 'dns', name: 'ftp.example.test' }], ctx: {}, want: { address: '203.0.113.7', rule: 'dns', reason: /^DNS name 'ftp\.example\.test': resolved to 203\.0\.113\.7/ } },
  { name: 'dns name is case-insensitive', policies: [{ kind: 'dns', name: 'FTP.Example.Test' }], ctx: {}, want: { address: '203.0.113.7', rule: 'dns' } },
  { name: 'dns name unresolved: next rule, reason kept', policies: [{ kind: 'dns', name: 'late.example.test' }, { kind: 'static', address: '203.0.113.8' }], ctx: {}, want: { address: '203.0.113.8', rule: 'static' }, steps: ['unusable', 'chosen'] },
  { name: 'dns name resolving to a LAN address, public client: guarded (the FAQ case)', policies: [{ kind: 'dns', name: 'lan.example.test' }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['guarded', 'chosen'] },
  { name: 'dns name resolving to IPv6 is unusable for 227', policies: [{ kind: 'dns', name: 'v6.example.test' }], ctx: { localAddress: '203.0.113.50' }, want: { address: '203.0.113.50', rule: 'control-connection' }, steps: ['unusable', 'chosen'] },

  // local-map
  { name: 'local-map exact address', policies: [{ kind: 'local-map', map: { '10.0.0.5': '203.0.113.7', '10.0.0.6': '203.0.113.8' } }], ctx: { localAddress: '10.0.0.6' }, want: { address: '203.0.113.8', rule: 'local-map', reason: /local address 10\.0\.0\.6 is mapped to address 203\.0\.113\.8/ } },
  { name: 'local-map matches an IPv4-mapped local address', policies: [{ kind: 'local-map', map: { '10.0.0.5': '203.0.113.7' } }], ctx: { localAddress: '::ffff:10.0.0.5' }, want: { address: '203.0.113.7', rule: 'local-map' } },
  { name: 'local-map IPv4-mapped key', policies: [{ kind: 'local-map', map: { '::ffff:10.0.0.5': '203.0.113.7' } }], ctx: { localAddress: '10.0.0.5' }, want: { address: '203.0.113.7', rule: 'local-map' } },
  { name: 'local-map exact beats CIDR, longest prefix beats shorter', policies: [{ kind: 'local-map', map: { '10.0.0.0/8': '203.0.113.1', '10.0.0.0/24': '203.0.113.2', '10.0.0.9': '203.0.113.3' } }], ctx: { localAddress: '10.0.0.5' }, want: { address: '203.0.113.2', rule: 'local-map', reason: /in 10\.0\.0\.0\/24/ } },
  { name: 'local-map exact wins', policies: [{ kind: 'local-map', map: { '10.0.0.0/8': '203.0.113.1', '10.0.0.9': '203.0.113.3' } }], ctx: { localAddress: '10.0.0.9' }, want: { address: '203.0.113.3', rule: 'local-map' } },
  { name: 'local-map miss falls through', policies: [{ kind: 'local-map', map: { '10.0.0.6': '203.0.113.8' } }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' }, steps: ['no-match', 'chosen'] },
  { name: 'local-map tries the PROXY destination first', policies: [{ kind: 'local-map', map: { '10.0.0.5': '203.0.113.7', '172.16.0.1': '203.0.113.9' } }], ctx: { proxiedDestination: '172.16.0.1' }, want: { address: '203.0.113.9', rule: 'local-map', reason: /PROXY destination 172\.16\.0\.1/ } },
  { name: 'local-map keyed by an IPv6 local address gives IPv4', policies: [{ kind: 'local-map', map: { '2001:db8::5': '203.0.113.7' } }], ctx: { localAddress: '2001:DB8:0::5', remoteAddress: '2001:db8::9' }, want: { address: '203.0.113.7', rule: 'local-map' } },
  { name: 'local-map value may be a DNS name', policies: [{ kind: 'local-map', map: { '10.0.0.5': 'ftp.example.test' } }], ctx: {}, want: { address: '203.0.113.7', rule: 'local-map', reason: /mapped to DNS name 'ftp\.example\.test'/ } },

  // client-network
  { name: 'client-network CIDR: LAN client gets the LAN address', policies: [{ kind: 'client-network', entries: [{ match: '192.168.0.0/16', address: '192.168.1.10' }] }, { kind: 'static', address: '203.0.113.7' }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '192.168.1.10', rule: 'client-network', reason: /client 192\.168\.1\.20 is in 192\.168\.0\.0\/16/ } },
  { name: 'client-network CIDR: WAN client gets the public address', policies: [{ kind: 'client-network', entries: [{ match: '192.168.0.0/16', address: '192.168.1.10' }] }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['no-match', 'chosen'] },
  { name: 'client-network matches an IPv4-mapped client', policies: [{ kind: 'client-network', entries: [{ match: '192.168.0.0/16', address: '192.168.1.10' }] }], ctx: { remoteAddress: '::ffff:192.168.1.20' }, want: { address: '192.168.1.10', rule: 'client-network' } },
  { name: 'client-network single address', policies: [{ kind: 'client-network', entries: [{ match: '198.51.100.9', address: '203.0.113.9' }] }], ctx: {}, want: { address: '203.0.113.9', rule: 'client-network' } },
  { name: 'client-network first match wins', policies: [{ kind: 'client-network', entries: [{ match: '192.168.1.0/24', address: '192.168.1.10' }, { match: '192.168.0.0/16', address: '192.168.2.10' }] }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '192.168.1.10', rule: 'client-network' } },
  { name: 'client-network by class', policies: [{ kind: 'client-network', entries: [{ match: 'class:internal', address: '10.1.2.3' }, { match: '!class:internal', address: '203.0.113.7' }] }], ctx: { remoteAddress: '10.9.9.9', classes: ['internal'] }, want: { address: '10.1.2.3', rule: 'client-network', reason: /is in class internal/ } },
  { name: 'client-network negated class (ProFTPD <IfClass !internal>)', policies: [{ kind: 'client-network', entries: [{ match: 'class:internal', address: '10.1.2.3' }, { match: '!class:internal', address: '203.0.113.7' }] }], ctx: { classes: ['other'] }, want: { address: '203.0.113.7', rule: 'client-network', reason: /is not in class internal/ } },
  { name: 'client-network negated CIDR', policies: [{ kind: 'client-network', entries: [{ match: '!10.0.0.0/8', address: '203.0.113.7' }] }], ctx: { remoteAddress: '10.9.9.9' }, want: { address: '10.0.0.5', rule: 'control-connection' }, steps: ['no-match', 'chosen'] },
  { name: 'client-network IPv6 CIDR never matches an IPv4 client', policies: [{ kind: 'client-network', entries: [{ match: '::/0', address: '203.0.113.7' }] }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' } },
  { name: 'client-network IPv6 client by IPv6 CIDR', policies: [{ kind: 'client-network', entries: [{ match: 'fd00::/8', address: '10.1.2.3' }] }], ctx: { localAddress: 'fd00::5', remoteAddress: 'fd00::9' }, want: { address: '10.1.2.3', rule: 'client-network' } },
  { name: 'class-based LAN address to a public client in that class is still guarded', policies: [{ kind: 'client-network', entries: [{ match: 'class:vpn', address: '10.1.2.3' }] }, { kind: 'static', address: '203.0.113.7' }], ctx: { classes: ['vpn'] }, want: { address: '203.0.113.7', rule: 'static' }, steps: ['guarded', 'chosen'] },

  // control-connection
  { name: 'control-connection explicit, public local address', policies: [{ kind: 'control-connection' }], ctx: { localAddress: '203.0.113.50' }, want: { address: '203.0.113.50', rule: 'control-connection', index: 0, reason: /^the control connection's local address 203\.0\.113\.50$/ }, steps: ['chosen'] },
  { name: 'control-connection prefers the PROXY destination', policies: [{ kind: 'control-connection' }], ctx: { proxiedDestination: '203.0.113.60' }, want: { address: '203.0.113.60', rule: 'control-connection', reason: /PROXY protocol destination 203\.0\.113\.60/ } },
  { name: 'control-connection with an IPv4-mapped local address', policies: [], ctx: { localAddress: '::ffff:203.0.113.50', remoteAddress: '::ffff:198.51.100.9' }, want: { address: '203.0.113.50', rule: 'control-connection', index: 0 } },
  { name: 'the implicit fallback is not appended after an explicit one', policies: [{ kind: 'control-connection' }], ctx: {}, want: { refuse: 425, rule: 'control-connection' }, steps: ['guarded'] },
  { name: 'fallback:false and no rule applies: 425 none', policies: [{ kind: 'client-network', entries: [{ match: '10.0.0.0/8', address: '10.1.2.3' }] }], ctx: {}, opts: { fallback: false }, want: { refuse: 425, rule: 'client-network', reason: /no rule gave an address/ }, steps: ['no-match'] },
  { name: 'empty chain with fallback:false', policies: [], ctx: {}, opts: { fallback: false }, want: { refuse: 425, rule: 'none', reason: /the chain is empty/ }, steps: [] },

  // tls
  { name: 'tls rule applies to TLS sessions', policies: [{ kind: 'tls', policy: { kind: 'static', address: '203.0.113.99' } }, { kind: 'static', address: '203.0.113.7' }], ctx: { tls: true }, want: { address: '203.0.113.99', rule: 'tls', reason: /^TLS session: static address 203\.0\.113\.99$/ } },
  { name: 'tls rule skipped for plain sessions', policies: [{ kind: 'tls', policy: { kind: 'static', address: '203.0.113.99' } }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['no-match', 'chosen'] },
  { name: 'tls rule with a DNS name', policies: [{ kind: 'tls', policy: { kind: 'dns', name: 'ftp.example.test' } }], ctx: { tls: true }, want: { address: '203.0.113.7', rule: 'tls' } },
  { name: 'tls rule is guarded too', policies: [{ kind: 'tls', policy: { kind: 'static', address: '10.9.9.9' } }, { kind: 'static', address: '203.0.113.7' }], ctx: { tls: true }, want: { address: '203.0.113.7', rule: 'static' }, steps: ['guarded', 'chosen'] },

  // callback
  { name: 'callback returns an address', policies: [{ kind: 'callback', name: 'k8s', fn: (c) => (c.remoteAddress === PUBLIC_CLIENT ? '203.0.113.42' : undefined) }], ctx: {}, want: { address: '203.0.113.42', rule: 'callback', reason: /^callback 'k8s' returned 203\.0\.113\.42$/ } },
  { name: 'callback passes', policies: [{ kind: 'callback', fn: () => undefined }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['no-match', 'chosen'] },
  { name: 'callback throws: unusable, next rule', policies: [{ kind: 'callback', fn: () => { throw new Error('boom'); } }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['unusable', 'chosen'] },
  { name: 'callback returns garbage', policies: [{ kind: 'callback', fn: () => 'not-an-ip' }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['unusable', 'chosen'] },
  { name: 'callback returns IPv6', policies: [{ kind: 'callback', fn: () => '2001:db8::1' }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '203.0.113.7', rule: 'static' }, steps: ['unusable', 'chosen'] },
  { name: 'callback returns IPv4-mapped', policies: [{ kind: 'callback', fn: () => '::ffff:203.0.113.42' }], ctx: {}, want: { address: '203.0.113.42', rule: 'callback' } },
  { name: 'callback returns a non-string', policies: [{ kind: 'callback', fn: () => 42 as unknown as string }], ctx: { remoteAddress: LAN_CLIENT }, want: { address: '10.0.0.5', rule: 'control-connection' }, steps: ['unusable', 'chosen'] },
  { name: 'callback returning a private address is guarded', policies: [{ kind: 'callback', fn: () => '10.1.1.1' }], ctx: {}, want: { refuse: 425, rule: 'callback' } },

  // IPv6 control connections
  { name: 'IPv6 control connection with an IPv4 masquerade address: 227 (ProFTPD does the same)', policies: [{ kind: 'static', address: '203.0.113.7' }], ctx: { localAddress: '::1', remoteAddress: '::1' }, want: { address: '203.0.113.7', rule: 'static' } },
  { name: 'IPv6-only control connection without an IPv4 answer: 522 use EPSV', policies: [], ctx: { localAddress: '2001:db8::5', remoteAddress: '2001:db8::9' }, want: { refuse: 522, rule: 'control-connection', reason: /the control connection is IPv6 \(2001:db8::5\)/ }, steps: ['unusable'] },
  { name: 'IPv6 loopback control connection without masquerade: 522, not a malformed 227', policies: [], ctx: { localAddress: '::1', remoteAddress: '::1' }, want: { refuse: 522, rule: 'control-connection' } },
  { name: 'IPv6 control connection, IPv4 answer guarded: 522 still', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { localAddress: '2001:db8::5', remoteAddress: '2001:db8::9' }, want: { refuse: 522, rule: 'static' }, steps: ['guarded', 'unusable'] },
  { name: 'IPv6 ULA client is internal: private IPv4 is fine', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { localAddress: 'fd00::5', remoteAddress: 'fd00::9' }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'IPv6 link-local client is internal', policies: [{ kind: 'static', address: '10.1.2.3' }], ctx: { localAddress: 'fe80::5%eth0', remoteAddress: 'fe80::9%eth0' }, want: { address: '10.1.2.3', rule: 'static' } },
  { name: 'IPv4 client via a PROXY destination on IPv6 gets 522', policies: [], ctx: { proxiedDestination: '2001:db8::60', remoteAddress: '2001:db8::9' }, want: { refuse: 522, rule: 'control-connection' } },
];

function run(c: Case): Answer {
  const r = new MasqueradeResolver({ policies: c.policies, dns, ...c.opts });
  return r.resolve({ localAddress: '10.0.0.5', remoteAddress: PUBLIC_CLIENT, ...c.ctx });
}

describe('MasqueradeResolver: every rule and the guard', () => {
  it.each(cases)('$name', (c) => {
    const a = run(c);
    if ('address' in c.want) {
      expect(a.ok ? { address: a.address, rule: a.rule } : a).toEqual({ address: c.want.address, rule: c.want.rule });
      if (!a.ok) return;
      if (c.want.index !== undefined) expect(a.index).toBe(c.want.index);
      if (c.want.reason) expect(a.reason).toMatch(c.want.reason);
      expect(a.steps[a.steps.length - 1]).toMatchObject({ outcome: 'chosen', address: a.address, rule: a.rule, index: a.index });
    } else {
      expect(a.ok ? a : { replyCode: a.replyCode, rule: a.rule }).toEqual({ replyCode: c.want.refuse, rule: c.want.rule });
      if (a.ok) return;
      expect(a.text).toBe(c.want.refuse === 522 ? REFUSAL_TEXT.ipv6 : a.steps.some((s) => s.outcome === 'guarded') ? REFUSAL_TEXT.guarded : REFUSAL_TEXT.none);
      if (c.want.reason) expect(a.reason).toMatch(c.want.reason);
    }
    if (c.steps) expect(a.steps.map((s) => s.outcome)).toEqual(c.steps);
  });
});

describe('answers explain themselves', () => {
  it('a guard refusal is a warning line naming the rule, the address and the client', () => {
    const a = run({ name: '', policies: [{ kind: 'static', address: '10.1.2.3' }, { kind: 'static', address: '203.0.113.7' }], ctx: {}, want: { address: '', rule: '' } });
    expect(a.warnings).toEqual([
      'masquerade guard: rule static #0 chose 10.1.2.3 for client 198.51.100.9, skipped: 10.1.2.3 is a private address and client 198.51.100.9 is public',
    ]);
    expect(a.steps[0]).toEqual({
      rule: 'static', index: 0, outcome: 'guarded', address: '10.1.2.3',
      reason: 'static address 10.1.2.3; guard: 10.1.2.3 is a private address and client 198.51.100.9 is public',
    });
  });

  it('the 425 names every rule and address it refused', () => {
    const a = run({ name: '', policies: [{ kind: 'dns', name: 'lan.example.test' }], ctx: {}, want: { address: '', rule: '' } });
    expect(a).toMatchObject({ ok: false, replyCode: 425, rule: 'dns', text: 'No passive address reachable from your network, use EPSV' });
    if (a.ok) return;
    expect(a.reason).toBe(
      "no address is safe to give client 198.51.100.9 (dns #0: DNS name 'lan.example.test': resolved to 192.168.1.10 (fixed); guard: 192.168.1.10 is a private address and client 198.51.100.9 is public; " +
        "control-connection #1: no earlier rule gave an address, so the control connection's local address 10.0.0.5; guard: 10.0.0.5 is a private address and client 198.51.100.9 is public)",
    );
  });

  it('an unresolved DNS name says so and the next rule answers', () => {
    const a = run({ name: '', policies: [{ kind: 'dns', name: 'late.example.test' }], ctx: { localAddress: '203.0.113.50' }, want: { address: '', rule: '' } });
    expect(a.steps[0]).toEqual({ rule: 'dns', index: 0, outcome: 'unusable', reason: "DNS name 'late.example.test': no fixed value" });
    expect(a).toMatchObject({ ok: true, address: '203.0.113.50', rule: 'control-connection', index: 1 });
  });

  it("an IPv6 control connection answered with IPv4 carries ProFTPD's two log lines", () => {
    const a = run({ name: '', policies: [{ kind: 'static', address: '203.0.113.7' }], ctx: { localAddress: '::1', remoteAddress: '::1' }, want: { address: '', rule: '' } });
    expect(a.warnings).toEqual([
      "sending a PASV response for an IPv6 address '::1'; some FTP clients may have interoperability issues with this response",
      'please configure your FTP client to use the IPv6-compatible EPSV/EPRT commands',
    ]);
    expect(ipv6PasvLines('::1')).toEqual(a.warnings);
  });

  it('an IPv4-mapped control connection is IPv4: no IPv6 warning', () => {
    const a = run({ name: '', policies: [], ctx: { localAddress: '::ffff:203.0.113.50' }, want: { address: '', rule: '' } });
    expect(a).toMatchObject({ ok: true, address: '203.0.113.50', warnings: [] });
  });

  it('the callback sees the context as given', () => {
    const seen: MasqueradeContext[] = [];
    const ctx = { localAddress: '::ffff:10.0.0.5', remoteAddress: PUBLIC_CLIENT, tls: true, classes: ['a'] };
    new MasqueradeResolver({ policies: [{ kind: 'callback', fn: (c) => { seen.push(c); return '203.0.113.1'; } }] }).resolve(ctx);
    expect(seen).toEqual([ctx]);
  });

  it('resolve is synchronous and reads the DNS lookup on every call', () => {
    const values: Record<string, string> = { 'ftp.example.test': '203.0.113.7' };
    const r = new MasqueradeResolver({ policies: [{ kind: 'dns', name: 'ftp.example.test' }], dns: { get: (n) => ({ address: values[n], reason: 'cached' }) } });
    const ctx = { localAddress: '10.0.0.5', remoteAddress: PUBLIC_CLIENT };
    expect(r.resolve(ctx)).toMatchObject({ ok: true, address: '203.0.113.7' });
    values['ftp.example.test'] = '203.0.113.8';
    expect(r.resolve(ctx)).toMatchObject({ ok: true, address: '203.0.113.8' });
  });
});

describe('construction: caller misuse throws with a stable code', () => {
  const bad: [string, MasqueradeResolverOptions, string][] = [
    ['static host name', { policies: [{ kind: 'static', address: 'ftp.example.test' }], dns }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['static garbage', { policies: [{ kind: 'static', address: '300.1.1.1' }] }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['static short IPv4 form', { policies: [{ kind: 'static', address: '127.1' }] }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['static IPv6', { policies: [{ kind: 'static', address: '2001:db8::1' }] }, 'ERR_MASQUERADE_NOT_IPV4'],
    ['dns without a lookup', { policies: [{ kind: 'dns', name: 'ftp.example.test' }] }, 'ERR_MASQUERADE_DNS_REQUIRED'],
    ['dns with an IP', { policies: [{ kind: 'dns', name: '1.2.3.4' }], dns }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['dns bad name', { policies: [{ kind: 'dns', name: 'bad_name!' }], dns }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['local-map bad key', { policies: [{ kind: 'local-map', map: { 'eth0:1': '203.0.113.7' } }] }, 'ERR_MASQUERADE_MATCH_INVALID'],
    ['local-map bad CIDR', { policies: [{ kind: 'local-map', map: { '10.0.0.0/33': '203.0.113.7' } }] }, 'ERR_MASQUERADE_MATCH_INVALID'],
    ['local-map name value without dns', { policies: [{ kind: 'local-map', map: { '10.0.0.5': 'ftp.example.test' } }] }, 'ERR_MASQUERADE_DNS_REQUIRED'],
    ['client-network bad match', { policies: [{ kind: 'client-network', entries: [{ match: '10.0.0.0/40', address: '1.2.3.4' }] }] }, 'ERR_MASQUERADE_MATCH_INVALID'],
    ['client-network empty class', { policies: [{ kind: 'client-network', entries: [{ match: 'class:', address: '1.2.3.4' }] }] }, 'ERR_MASQUERADE_MATCH_INVALID'],
    ['client-network IPv6 value', { policies: [{ kind: 'client-network', entries: [{ match: '10.0.0.0/8', address: '::1' }] }] }, 'ERR_MASQUERADE_NOT_IPV4'],
    ['tls inner invalid', { policies: [{ kind: 'tls', policy: { kind: 'static', address: 'x..y' } }] }, 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['callback without fn', { policies: [{ kind: 'callback' } as unknown as Policy] }, 'ERR_MASQUERADE_POLICY_INVALID'],
    ['unknown kind', { policies: [{ kind: 'interface', name: 'eth0' } as unknown as Policy] }, 'ERR_MASQUERADE_POLICY_INVALID'],
    ['policies not an array', { policies: 'static' } as unknown as MasqueradeResolverOptions, 'ERR_MASQUERADE_OPTION_INVALID'],
    ['bad internalRanges', { policies: [], internalRanges: ['100.64.0.0/99'] }, 'ERR_MASQUERADE_OPTION_INVALID'],
  ];
  it.each(bad)('%s', (_name, opts, code) => {
    expect(() => new MasqueradeResolver(opts)).toThrow(expect.objectContaining({ code }));
  });

  it('names the position of the bad policy', () => {
    expect(() => new MasqueradeResolver({ policies: [{ kind: 'control-connection' }, { kind: 'static', address: 'nope!' }] })).toThrow(/policy #1/);
  });

  it.each([
    ['localAddress', { localAddress: '', remoteAddress: PUBLIC_CLIENT }],
    ['remoteAddress', { localAddress: '10.0.0.5', remoteAddress: 'client' }],
    ['proxiedDestination', { localAddress: '10.0.0.5', remoteAddress: PUBLIC_CLIENT, proxiedDestination: '1.2.3' }],
  ])('a context whose %s is not an address throws ERR_MASQUERADE_CONTEXT_INVALID', (_f, ctx) => {
    const r = new MasqueradeResolver({ policies: [] });
    expect(() => r.resolve(ctx)).toThrow(expect.objectContaining({ code: 'ERR_MASQUERADE_CONTEXT_INVALID' }));
  });
});

describe('helpers', () => {
  it('names() lists every DNS name the chain reads, lower-cased, once', () => {
    const r = new MasqueradeResolver({
      dns,
      policies: [
        { kind: 'dns', name: 'FTP.example.test' },
        { kind: 'local-map', map: { '10.0.0.5': 'lan.example.test', '10.0.0.6': '203.0.113.1' } },
        { kind: 'client-network', entries: [{ match: 'class:x', address: 'ftp.example.test' }] },
        { kind: 'tls', policy: { kind: 'dns', name: 'tls.example.test' } },
      ],
    });
    expect(r.names().sort()).toEqual(['ftp.example.test', 'lan.example.test', 'tls.example.test']);
  });

  it.each([
    ['203.0.113.7', { kind: 'static', address: '203.0.113.7' }],
    ['::ffff:203.0.113.7', { kind: 'static', address: '203.0.113.7' }],
    ['ftp.example.com', { kind: 'dns', name: 'ftp.example.com' }],
    ['ftp.example.com.', { kind: 'dns', name: 'ftp.example.com.' }],
  ])('masqueradeAddressPolicy(%s)', (value, policy) => {
    expect(masqueradeAddressPolicy(value)).toEqual(policy);
  });

  it.each([
    ['', 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['300.1.1.1', 'ERR_MASQUERADE_ADDRESS_INVALID'],
    ['2001:db8::1', 'ERR_MASQUERADE_NOT_IPV4'],
  ])('masqueradeAddressPolicy(%j) throws %s', (value, code) => {
    expect(() => masqueradeAddressPolicy(value)).toThrow(expect.objectContaining({ code }));
  });
});
