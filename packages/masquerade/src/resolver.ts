/**
 * The policy chain: which IPv4 address goes into the 227 reply (RFC 959 §4.1.2, PASV)
 * for this client.
 *
 * Theory of operation. The user composes an ordered list of policies; the constructor
 * validates and compiles each one into a rule (throwing for caller misuse), and appends the
 * control connection's own address as the last rule unless the chain already ends with it or
 * `fallback: false`. `resolve(ctx)` is synchronous and pure: it walks the rules in order and
 * each rule either does not apply (`no-match`), cannot give an address (`unusable`: a DNS
 * name not resolved yet, an IPv6 address, a callback that threw), or proposes an address.
 * A proposal must be IPv4 (IPv4-mapped IPv6 counts as IPv4, RFC 4291 §2.5.5.2) and, with the
 * guard on (the default), reachable by this client (see `guardVerdict`); otherwise the walk
 * goes on to the next rule. The first acceptable proposal is the answer. Every step is
 * recorded, so the answer says which rule chose the address and why the earlier ones did not.
 *
 * When no rule gives an acceptable address the answer is a refusal:
 * - the client reached us over IPv6: `522 Network protocol not supported, use EPSV`
 *   (a 227 cannot carry an IPv6 address; RFC 2428 §3 gives 522 for a family we will not
 *   use, and EPSV works on any family). ProFTPD sends a malformed 227 here (Bug#3745).
 * - otherwise: `425` with a reason naming each rule and the address the guard refused.
 */
import {
  type Ip,
  type Network,
  guardVerdict,
  inNetwork,
  isHostName,
  parseIp,
  parseNetwork,
  parseNetworks,
} from './address.js';
import { MasqueradeError } from './errors.js';
import { ipv6PasvLines } from './log.js';

/** What the resolver knows about one control connection. */
export interface MasqueradeContext {
  /** The control connection's local address (the socket's `localAddress`). */
  localAddress: string;
  /** The client's address (the socket's `remoteAddress`, or the PROXY protocol source). */
  remoteAddress: string;
  /**
   * The address the client connected to, when a proxy speaking the PROXY protocol sits in
   * front (its destination address). It is what the client can reach, so the
   * control-connection rule prefers it, and the local map tries it before `localAddress`.
   */
  proxiedDestination?: string;
  /** The session is FTPS (AUTH TLS or implicit); the `tls` rule applies only then. */
  tls?: boolean;
  /** Names of the classes the client belongs to (ProFTPD `<Class>`), for `class:` matches. */
  classes?: readonly string[];
}

/** A DNS name's current value, as held by a cache (`DnsCache` in `@ftpkit/masquerade/node`). */
export interface DnsAnswer {
  address: string | undefined;
  reason: string;
}

/** Where the resolver reads DNS names from (names arrive lower-cased); `get` must not block (it runs inside PASV). */
export interface DnsLookup {
  get(name: string): DnsAnswer;
}

/** One entry of a client-network map. */
export interface ClientNetworkEntry {
  /**
   * A CIDR block (`192.168.0.0/16`), a single address, or `class:<name>`; a leading `!`
   * negates (`!class:internal`: the client is not in class `internal`).
   */
  match: string;
  /** IPv4 address, or a DNS name read from the resolver's `dns`. */
  address: string;
}

/**
 * One link of the chain.
 * - `static`: always this IPv4 address (ProFTPD `MasqueradeAddress 203.0.113.7`).
 * - `dns`: the current value of a DNS name (`MasqueradeAddress ftp.example.com`), read from
 *   the `dns` option, which `/node`'s `DnsCache` keeps fresh.
 * - `local-map`: by the address the client connected to, IP or CIDR → address or name
 *   (one entry per interface or per `<VirtualHost>`).
 * - `client-network`: by the client's network or class (ProFTPD `<IfClass>`), first match wins.
 * - `control-connection`: the address the client connected to (no masquerading).
 * - `tls`: the inner policy, for FTPS sessions only (ProFTPD `TLSMasqueradeAddress`).
 * - `callback`: your function; return an IPv4 address, or `undefined` to pass.
 */
export type Policy =
  | { kind: 'static'; address: string }
  | { kind: 'dns'; name: string }
  | { kind: 'local-map'; map: Readonly<Record<string, string>> }
  | { kind: 'client-network'; entries: readonly ClientNetworkEntry[] }
  | { kind: 'control-connection' }
  | { kind: 'tls'; policy: Policy }
  | { kind: 'callback'; fn: (ctx: MasqueradeContext) => string | undefined; name?: string };

/** The rule names that appear in answers. */
export type RuleKind = Policy['kind'];

/** What one rule did for one `resolve` call. */
export interface Step {
  rule: RuleKind;
  /** Position in the chain (the implicit control-connection fallback is `policies.length`). */
  index: number;
  outcome: 'chosen' | 'no-match' | 'unusable' | 'guarded';
  /** The address the rule proposed (for `chosen`, `guarded`, and unusable IPv6 proposals). */
  address?: string;
  reason: string;
}

/**
 * The resolver's answer: an address with the rule that chose it and why, or the reply to
 * send instead of a 227. `steps` explains every rule tried; `warnings` are lines the
 * application should log (guard refusals, ProFTPD's IPv6 PASV notes).
 */
export type Answer =
  | {
      ok: true;
      /** Dotted IPv4, ready for `formatPasv`. */
      address: string;
      rule: RuleKind;
      index: number;
      reason: string;
      steps: readonly Step[];
      warnings: readonly string[];
    }
  | {
      ok: false;
      replyCode: 522 | 425;
      /** Reply text (without the code). */
      text: string;
      /** The rule whose address the guard refused first, else the last rule tried, else `'none'`. */
      rule: RuleKind | 'none';
      reason: string;
      steps: readonly Step[];
      warnings: readonly string[];
    };

/** Options of {@link MasqueradeResolver}. */
export interface MasqueradeResolverOptions {
  policies: readonly Policy[];
  /** Refuse addresses a client cannot reach (default `true`); see `guardVerdict`. */
  guard?: boolean;
  /** Extra networks to treat as private, e.g. `['100.64.0.0/10']`. */
  internalRanges?: readonly string[];
  /** Where DNS names are read from; required when a policy names a host. */
  dns?: DnsLookup;
  /** End the chain with the control connection's address (default `true`). */
  fallback?: boolean;
}

/** Reply texts of the refusals. */
export const REFUSAL_TEXT: {
  readonly ipv6: string;
  readonly guarded: string;
  readonly none: string;
} = {
  ipv6: 'Network protocol not supported, use EPSV',
  guarded: 'No passive address reachable from your network, use EPSV',
  none: 'No passive address available, use EPSV',
};

type Target = { ip: Ip } | { name: string };

type Outcome =
  | { type: 'address'; address: string; reason: string }
  | { type: 'no-match' | 'unusable'; reason: string };

interface NormContext {
  readonly raw: MasqueradeContext;
  readonly local: Ip;
  readonly remote: Ip;
  readonly proxied: Ip | undefined;
  readonly tls: boolean;
  readonly classes: ReadonlySet<string>;
}

interface Rule {
  readonly kind: RuleKind;
  readonly index: number;
  apply(ctx: NormContext): Outcome;
}

/**
 * Answers "which IPv4 address do I put in the 227 reply for this client?".
 *
 * @example
 * const r = new MasqueradeResolver({ policies: [
 *   { kind: 'client-network', entries: [{ match: '192.168.0.0/16', address: '192.168.1.10' }] },
 *   { kind: 'static', address: '203.0.113.7' },
 * ] });
 * r.resolve({ localAddress: '192.168.1.10', remoteAddress: '198.51.100.9' });
 * // { ok: true, address: '203.0.113.7', rule: 'static', reason: 'static address 203.0.113.7', … }
 */
export class MasqueradeResolver {
  readonly guard: boolean;
  private readonly rules: readonly Rule[];
  private readonly internal: readonly Network[];
  private readonly dnsNames: ReadonlySet<string>;

  constructor(opts: MasqueradeResolverOptions) {
    if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.policies)) {
      throw new MasqueradeError('ERR_MASQUERADE_OPTION_INVALID', 'MasqueradeResolver: options.policies must be an array');
    }
    this.guard = opts.guard ?? true;
    this.internal = parseNetworks(opts.internalRanges ?? [], 'internalRanges');
    const names = new Set<string>();
    const compiler = new Compiler(opts.dns, names);
    const rules = opts.policies.map((p, i) => compiler.compile(p, i));
    const last = opts.policies[opts.policies.length - 1];
    if ((opts.fallback ?? true) && last?.kind !== 'control-connection') {
      rules.push(controlConnectionRule(opts.policies.length, 'no earlier rule gave an address, so '));
    }
    this.rules = rules;
    this.dnsNames = names;
  }

  /** The DNS names the chain reads, to hand to `DnsCache.add` at startup. */
  names(): string[] {
    return [...this.dnsNames];
  }

  /**
   * Resolves the address for one PASV. Synchronous; never waits for DNS. Throws
   * ERR_MASQUERADE_CONTEXT_INVALID only when `ctx` holds something that is not an IP address.
   */
  resolve(ctx: MasqueradeContext): Answer {
    const n = normalizeContext(ctx);
    const steps: Step[] = [];
    const warnings: string[] = [];
    const facing = n.proxied ?? n.local;
    for (const rule of this.rules) {
      const out = rule.apply(n);
      if (out.type !== 'address') {
        steps.push({ rule: rule.kind, index: rule.index, outcome: out.type, reason: out.reason });
        continue;
      }
      const ip = parseIp(out.address);
      if (ip === undefined) {
        steps.push({ rule: rule.kind, index: rule.index, outcome: 'unusable', reason: `${out.reason}, which is not an IP address` });
        continue;
      }
      if (ip.family === 6) {
        steps.push({
          rule: rule.kind, index: rule.index, outcome: 'unusable', address: ip.text,
          reason: `${out.reason}, which is IPv6; a 227 reply carries IPv4 only (RFC 959 §4.1.2)`,
        });
        continue;
      }
      if (this.guard) {
        const verdict = guardVerdict(ip, n.remote, this.internal);
        if (!verdict.safe) {
          steps.push({ rule: rule.kind, index: rule.index, outcome: 'guarded', address: ip.text, reason: `${out.reason}; guard: ${verdict.why}` });
          warnings.push(`masquerade guard: rule ${rule.kind} #${rule.index} chose ${ip.text} for client ${n.remote.text}, skipped: ${verdict.why}`);
          continue;
        }
      }
      steps.push({ rule: rule.kind, index: rule.index, outcome: 'chosen', address: ip.text, reason: out.reason });
      if (facing.family === 6) warnings.push(...ipv6PasvLines(facing.text));
      return { ok: true, address: ip.text, rule: rule.kind, index: rule.index, reason: out.reason, steps, warnings };
    }
    return refusal(n, facing, steps, warnings);
  }
}

function refusal(n: NormContext, facing: Ip, steps: Step[], warnings: string[]): Answer {
  const summary = steps.map((s) => `${s.rule} #${s.index}: ${s.reason}`).join('; ') || 'the chain is empty';
  const guarded = steps.find((s) => s.outcome === 'guarded');
  const rule = guarded?.rule ?? steps[steps.length - 1]?.rule ?? 'none';
  if (facing.family === 6) {
    return {
      ok: false, replyCode: 522, text: REFUSAL_TEXT.ipv6, rule, steps, warnings,
      reason: `the control connection is IPv6 (${facing.text}) and no rule gave a usable IPv4 address (${summary})`,
    };
  }
  if (guarded !== undefined) {
    return {
      ok: false, replyCode: 425, text: REFUSAL_TEXT.guarded, rule, steps, warnings,
      reason: `no address is safe to give client ${n.remote.text} (${summary})`,
    };
  }
  return { ok: false, replyCode: 425, text: REFUSAL_TEXT.none, rule, steps, warnings, reason: `no rule gave an address (${summary})` };
}

function normalizeContext(ctx: MasqueradeContext): NormContext {
  const ip = (field: 'localAddress' | 'remoteAddress' | 'proxiedDestination', value: unknown): Ip => {
    const parsed = typeof value === 'string' ? parseIp(value) : undefined;
    if (parsed === undefined) {
      throw new MasqueradeError('ERR_MASQUERADE_CONTEXT_INVALID', `masquerade context: ${field} '${String(value)}' is not an IP address`);
    }
    return parsed;
  };
  return {
    raw: ctx,
    local: ip('localAddress', ctx.localAddress),
    remote: ip('remoteAddress', ctx.remoteAddress),
    proxied: ctx.proxiedDestination === undefined ? undefined : ip('proxiedDestination', ctx.proxiedDestination),
    tls: ctx.tls === true,
    classes: new Set(ctx.classes ?? []),
  };
}

function controlConnectionRule(index: number, prefix: string): Rule {
  return {
    kind: 'control-connection',
    index,
    apply: (ctx) => ({
      type: 'address',
      address: (ctx.proxied ?? ctx.local).text,
      reason: ctx.proxied === undefined
        ? `${prefix}the control connection's local address ${ctx.local.text}`
        : `${prefix}the PROXY protocol destination ${ctx.proxied.text} (the address the client connected to)`,
    }),
  };
}

/** Throws a policy error naming the policy's position. */
function fail(code: MasqueradeError['code'], index: number, message: string): never {
  throw new MasqueradeError(code, `masquerade policy #${index}: ${message}`);
}

class Compiler {
  constructor(private readonly dns: DnsLookup | undefined, private readonly names: Set<string>) {}

  compile(policy: Policy, index: number): Rule {
    if (policy === null || typeof policy !== 'object') fail('ERR_MASQUERADE_POLICY_INVALID', index, 'not an object');
    switch (policy.kind) {
      case 'static': {
        const t = this.target(policy.address, index, 'static address');
        if (!('ip' in t)) {
          fail('ERR_MASQUERADE_ADDRESS_INVALID', index, `static address '${policy.address}' is a host name; use { kind: 'dns', name: '${policy.address}' }`);
        }
        return { kind: 'static', index, apply: () => ({ type: 'address', address: t.ip.text, reason: `static address ${t.ip.text}` }) };
      }
      case 'dns': {
        if (typeof policy.name !== 'string' || !isHostName(policy.name)) {
          fail('ERR_MASQUERADE_ADDRESS_INVALID', index, `'${String(policy.name)}' is not a host name`);
        }
        const t = this.target(policy.name, index, 'DNS name');
        return { kind: 'dns', index, apply: () => this.lookup(t) };
      }
      case 'local-map':
        return this.localMap(policy.map, index);
      case 'client-network':
        return this.clientNetwork(policy.entries, index);
      case 'control-connection':
        return controlConnectionRule(index, '');
      case 'tls': {
        const inner = this.compile(policy.policy, index);
        return {
          kind: 'tls',
          index,
          apply: (ctx) => {
            if (!ctx.tls) return { type: 'no-match', reason: 'not a TLS session' };
            const out = inner.apply(ctx);
            return { ...out, reason: `TLS session: ${out.reason}` };
          },
        };
      }
      case 'callback':
        return callbackRule(policy, index);
      default:
        return fail('ERR_MASQUERADE_POLICY_INVALID', index, `unknown kind '${String((policy as { kind: unknown }).kind)}'`);
    }
  }

  /** An IPv4 literal (IPv4-mapped accepted) or a host name read through `dns`. */
  private target(value: unknown, index: number, what: string): Target {
    if (typeof value !== 'string') return fail('ERR_MASQUERADE_ADDRESS_INVALID', index, `${what} must be a string`);
    const ip = parseIp(value);
    if (ip !== undefined) {
      if (ip.family !== 4) fail('ERR_MASQUERADE_NOT_IPV4', index, `${what} ${value} is IPv6; a 227 reply carries IPv4 only (RFC 959 §4.1.2)`);
      return { ip };
    }
    if (!isHostName(value)) fail('ERR_MASQUERADE_ADDRESS_INVALID', index, `${what} '${value}' is neither an IPv4 address nor a host name`);
    if (this.dns === undefined) fail('ERR_MASQUERADE_DNS_REQUIRED', index, `${what} '${value}' is a host name but the resolver has no dns option`);
    const name = value.toLowerCase();
    this.names.add(name);
    return { name };
  }

  private lookup(t: Target): Outcome {
    if ('ip' in t) return { type: 'address', address: t.ip.text, reason: `address ${t.ip.text}` };
    const got = (this.dns as DnsLookup).get(t.name);
    return got.address === undefined
      ? { type: 'unusable', reason: `DNS name '${t.name}': ${got.reason}` }
      : { type: 'address', address: got.address, reason: `DNS name '${t.name}': ${got.reason}` };
  }

  private localMap(map: Readonly<Record<string, string>>, index: number): Rule {
    if (map === null || typeof map !== 'object') fail('ERR_MASQUERADE_POLICY_INVALID', index, 'local-map needs a map object');
    const exact = new Map<string, Target>();
    const blocks: { net: Network; target: Target }[] = [];
    for (const [key, value] of Object.entries(map)) {
      const net = parseNetwork(key);
      if (net === undefined) fail('ERR_MASQUERADE_MATCH_INVALID', index, `local-map key '${key}' is not an address or CIDR block`);
      const target = this.target(value, index, `local-map value for ${key}`);
      if (key.includes('/')) blocks.push({ net, target });
      else exact.set(net.text.slice(0, net.text.lastIndexOf('/')), target);
    }
    // Most specific block first; Array.prototype.sort is stable, so equal prefixes keep their order.
    blocks.sort((a, b) => b.net.bits - a.net.bits);
    return {
      kind: 'local-map',
      index,
      apply: (ctx) => {
        const candidates = ctx.proxied === undefined ? [ctx.local] : [ctx.proxied, ctx.local];
        for (const ip of candidates) {
          const via = ip === ctx.proxied ? 'PROXY destination' : 'local address';
          const hit = exact.get(ip.text);
          if (hit !== undefined) return this.mapped(hit, `${via} ${ip.text} is mapped`);
          const block = blocks.find((b) => inNetwork(ip, b.net));
          if (block !== undefined) return this.mapped(block.target, `${via} ${ip.text} is in ${block.net.text}, mapped`);
        }
        return { type: 'no-match', reason: `local address ${candidates.map((c) => c.text).join(' / ')} is not in the map` };
      },
    };
  }

  private mapped(target: Target, why: string): Outcome {
    const out = this.lookup(target);
    return { ...out, reason: `${why} to ${out.reason}` };
  }

  private clientNetwork(entries: readonly ClientNetworkEntry[], index: number): Rule {
    if (!Array.isArray(entries)) fail('ERR_MASQUERADE_POLICY_INVALID', index, 'client-network needs an entries array');
    const compiled = entries.map((e) => ({ test: clientMatcher(e?.match, index), target: this.target(e?.address, index, `client-network address for ${String(e?.match)}`) }));
    return {
      kind: 'client-network',
      index,
      apply: (ctx) => {
        for (const { test, target } of compiled) {
          const why = test(ctx);
          if (why !== undefined) return this.mapped(target, why);
        }
        return { type: 'no-match', reason: `client ${ctx.remote.text} matches no entry` };
      },
    };
  }
}

/** Compiles `class:name`, a CIDR or an address, optionally negated with `!`, into a test that returns why it matched. */
function clientMatcher(match: unknown, index: number): (ctx: NormContext) => string | undefined {
  if (typeof match !== 'string') return fail('ERR_MASQUERADE_MATCH_INVALID', index, 'client-network match must be a string');
  const negate = match.startsWith('!');
  const body = (negate ? match.slice(1) : match).trim();
  if (body.startsWith('class:')) {
    const name = body.slice('class:'.length);
    if (name === '') fail('ERR_MASQUERADE_MATCH_INVALID', index, `'${match}' names no class`);
    return (ctx) => (ctx.classes.has(name) !== negate ? `client ${ctx.remote.text} is ${negate ? 'not ' : ''}in class ${name}, mapped` : undefined);
  }
  const net = parseNetwork(body);
  if (net === undefined) fail('ERR_MASQUERADE_MATCH_INVALID', index, `'${match}' is not a CIDR block, an address or class:<name>`);
  return (ctx) => (inNetwork(ctx.remote, net) !== negate ? `client ${ctx.remote.text} is ${negate ? 'not ' : ''}in ${net.text}, mapped` : undefined);
}

function callbackRule(policy: Extract<Policy, { kind: 'callback' }>, index: number): Rule {
  if (typeof policy.fn !== 'function') fail('ERR_MASQUERADE_POLICY_INVALID', index, 'callback needs a function fn');
  const label = `callback${policy.name === undefined ? '' : ` '${policy.name}'`}`;
  return {
    kind: 'callback',
    index,
    apply: (ctx) => {
      let value: unknown;
      try {
        value = policy.fn(ctx.raw);
      } catch (err) {
        return { type: 'unusable', reason: `${label} threw: ${err instanceof Error ? err.message : String(err)}` };
      }
      if (value === undefined) return { type: 'no-match', reason: `${label} returned no address` };
      if (typeof value !== 'string') return { type: 'unusable', reason: `${label} returned a ${typeof value}, not an address` };
      return { type: 'address', address: value, reason: `${label} returned ${value}` };
    },
  };
}

/**
 * The policy for a ProFTPD `MasqueradeAddress` value: `static` for an IP address, `dns` for a
 * host name. Throws ERR_MASQUERADE_ADDRESS_INVALID for anything else and
 * ERR_MASQUERADE_NOT_IPV4 for an IPv6 address (a 227 cannot carry it).
 */
export function masqueradeAddressPolicy(value: string): Policy {
  const ip = parseIp(value);
  if (ip !== undefined) {
    if (ip.family !== 4) throw new MasqueradeError('ERR_MASQUERADE_NOT_IPV4', `MasqueradeAddress ${value} is IPv6; a 227 reply carries IPv4 only`);
    return { kind: 'static', address: ip.text };
  }
  if (!isHostName(value)) throw new MasqueradeError('ERR_MASQUERADE_ADDRESS_INVALID', `MasqueradeAddress '${value}' is neither an IPv4 address nor a host name`);
  return { kind: 'dns', name: value };
}

/** A {@link DnsLookup} over fixed values, for tests and for applications that resolve names themselves. */
export function fixedDns(values: Readonly<Record<string, string>>): DnsLookup {
  const map = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    get: (name) => {
      const address = map.get(name.toLowerCase());
      return address === undefined ? { address: undefined, reason: 'no fixed value' } : { address, reason: `resolved to ${address} (fixed)` };
    },
  };
}
