/**
 * Network ACL rules: the `From` syntax of `<Class>` and the `Allow`/`Deny` syntax of
 * `<Limit>` (ProFTPD src/netacl.c `pr_netacl_create` / `pr_netacl_match`).
 *
 * Theory of operation: a token becomes one rule at parse time (`parseNetAcl`); the
 * client is matched against a rule with `matchNetAcl`, which answers 1 (match, or a
 * negated rule that does not match), -1 (a negated rule that matches, or `none`) or
 * 0 (no match). Lists of rules combine those answers in two ways: `Satisfy any|all`
 * for classes (a negated rule that does not match counts as a match there) and
 * `matchNetAclList` for Allow/Deny (negated rules only exclude).
 *
 * Token forms, in the order ProFTPD tries them:
 * - `all`, `none` (case-insensitive; `!` not allowed)
 * - `[!]addr/len`: CIDR, IPv4 or IPv6. ftpkit extension: `addr/255.255.255.0`
 *   (a dotted, contiguous IPv4 netmask), which ProFTPD itself rejects.
 * - `[!]token-with-{[*?`: a glob, an IP glob if it has no letters beyond hex digits,
 *   else a DNS glob
 * - `[!]a.b.c.` (trailing dot): the IP glob `a.b.c.*`
 * - `[!].example.com` (leading dot): the DNS glob `*.example.com`
 * - `[!]a.b.c.d`, `[!]2001:db8::1`: one address
 * - anything else: an exact DNS name
 *
 * IPv4-mapped IPv6 clients (`::ffff:10.1.2.3`) are matched as the IPv4 address.
 */
import ipaddr from 'ipaddr.js';
import { globMatch, isGlob } from './glob.js';
import { fail, ok, type Result } from './result.js';

/** One parsed ACL token. Plain data: it can be serialised and compared. */
export type NetAclRule =
  | { readonly kind: 'all'; readonly negated: false; readonly text: string }
  | { readonly kind: 'none'; readonly negated: false; readonly text: string }
  | {
      readonly kind: 'cidr';
      readonly negated: boolean;
      readonly text: string;
      readonly network: string;
      readonly prefix: number;
      readonly family: 4 | 6;
    }
  | { readonly kind: 'ip'; readonly negated: boolean; readonly text: string; readonly address: string; readonly family: 4 | 6 }
  | { readonly kind: 'ip-glob'; readonly negated: boolean; readonly text: string; readonly pattern: string }
  | { readonly kind: 'dns'; readonly negated: boolean; readonly text: string; readonly name: string }
  | { readonly kind: 'dns-glob'; readonly negated: boolean; readonly text: string; readonly pattern: string };

/**
 * The client being matched: its address (IPv4, IPv6 or IPv4-mapped IPv6) and, when
 * the application did a reverse lookup and verified it forward (`UseReverseDNS on`),
 * its DNS name. Without `reverseDns`, DNS rules compare against the IP text and DNS
 * globs never match (ProFTPD with `UseReverseDNS off`).
 */
export interface NetAclContext {
  readonly address: string;
  readonly reverseDns?: string | undefined;
}

/** 1 = match, -1 = a negated rule matched (or `none`), 0 = no match. */
export type NetAclMatch = 1 | 0 | -1;

const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

function bad<T>(token: string, why: string): Result<T> {
  return fail('ERR_ACL_INVALID', `bad ACL definition '${token}': ${why}`);
}

function parseCidr(token: string, body: string, negated: boolean): Result<NetAclRule> {
  const slash = body.indexOf('/');
  const addrText = body.slice(0, slash);
  const lenText = body.slice(slash + 1);
  if (!/^[0-9A-Fa-f.:]+$/.test(addrText) || !ipaddr.isValid(addrText)) {
    return bad(token, `'${addrText}' is not an IP address`);
  }
  const addr = ipaddr.parse(addrText);
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  let prefix: number;
  if (/^\d+$/.test(lenText)) {
    prefix = Number(lenText);
    const max = family === 4 ? 32 : 128;
    if (prefix > max) return bad(token, `prefix length must be 0-${max} for IPv${family}`);
  } else if (family === 4 && ipaddr.IPv4.isValidFourPartDecimal(lenText)) {
    const mask = ipaddr.IPv4.parse(lenText).prefixLengthFromSubnetMask();
    if (mask === null) return bad(token, `netmask ${lenText} is not contiguous`);
    prefix = mask;
  } else {
    return bad(token, `'${lenText}' is neither a prefix length nor an IPv4 netmask`);
  }
  return ok({ kind: 'cidr', negated, text: token, network: addr.toString(), prefix, family });
}

/**
 * Parses one ACL token (`10.0.0.0/8`, `!192.168.1.5`, `*.example.com`, `all`).
 * Returns `{ok:false}` with code `ERR_ACL_INVALID` and ProFTPD's
 * `bad ACL definition '<x>': …` message on bad input.
 */
export function parseNetAcl(token: string): Result<NetAclRule> {
  if (token === '') return bad(token, 'empty rule');
  const negated = token.startsWith('!');
  const body = negated ? token.slice(1) : token;
  const lower = body.toLowerCase();
  if (lower === 'all' || lower === 'none') {
    if (negated) return bad(token, 'the ! negation operator cannot be used with ALL/NONE');
    return ok({ kind: lower, negated: false, text: token });
  }
  if (body === '') return bad(token, 'nothing after !');
  if (body.includes('/')) return parseCidr(token, body, negated);
  if (isGlob(body)) {
    const ipLike = !/[g-zG-Z]/.test(body);
    return ok(ipLike ? { kind: 'ip-glob', negated, text: token, pattern: body } : { kind: 'dns-glob', negated, text: token, pattern: lower });
  }
  if (/^[\d.]+\.$/.test(body)) return ok({ kind: 'ip-glob', negated, text: token, pattern: `${body}*` });
  if (body.startsWith('.') && HOSTNAME.test(body.slice(1))) {
    return ok({ kind: 'dns-glob', negated, text: token, pattern: `*${lower}` });
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(body)) return ok({ kind: 'ip', negated, text: token, address: body, family: 4 });
  if (body.includes(':')) {
    if (!ipaddr.IPv6.isValid(body)) return bad(token, `'${body}' is not an IPv6 address`);
    const v6 = ipaddr.IPv6.parse(body);
    return ok(
      v6.isIPv4MappedAddress()
        ? { kind: 'ip', negated, text: token, address: v6.toIPv4Address().toString(), family: 4 }
        : { kind: 'ip', negated, text: token, address: v6.toNormalizedString(), family: 6 },
    );
  }
  if (/^[\d.]+$/.test(body)) return bad(token, `'${body}' is not a dotted-quad IPv4 address`);
  if (!HOSTNAME.test(body)) return bad(token, `'${body}' is not a host name, address or network`);
  return ok({ kind: 'dns', negated, text: token, name: lower.replace(/\.$/, '') });
}

/** The client address normalised: IPv4-mapped IPv6 becomes IPv4. Undefined when unparsable. */
export function normalizeAddress(address: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zoneless = text.replace(/%.*$/, '');
  if (!ipaddr.isValid(zoneless)) return undefined;
  return ipaddr.process(zoneless);
}

/** The text ProFTPD would compare an IP glob with: dotted IPv4, or RFC 5952 IPv6. */
export function addressText(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv4' ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
}

function rawMatch(rule: NetAclRule, addr: ipaddr.IPv4 | ipaddr.IPv6 | undefined, ctx: NetAclContext): boolean | 'skip' {
  switch (rule.kind) {
    case 'all':
    case 'none':
      return true;
    case 'cidr': {
      if (!addr) return false;
      const net = ipaddr.parse(rule.network);
      if (addr.kind() === net.kind()) return addr.match(net, rule.prefix);
      if (addr.kind() === 'ipv4' && net.kind() === 'ipv6') return (addr as ipaddr.IPv4).toIPv4MappedAddress().match(net, rule.prefix);
      return false;
    }
    case 'ip': {
      if (!addr) return false;
      const want = ipaddr.parse(rule.address);
      return want.kind() === addr.kind() && want.toNormalizedString() === addr.toNormalizedString();
    }
    case 'ip-glob':
      if (!addr) return false;
      return globMatch(rule.pattern, addressText(addr), true) || globMatch(rule.pattern, ctx.address, true);
    case 'dns': {
      const name = ctx.reverseDns !== undefined ? ctx.reverseDns.toLowerCase().replace(/\.$/, '') : ctx.address.toLowerCase();
      return name === rule.name;
    }
    case 'dns-glob':
      // ProFTPD skips DNS globs entirely (even negated ones) without a reverse name.
      if (ctx.reverseDns === undefined) return 'skip';
      return globMatch(rule.pattern, ctx.reverseDns.toLowerCase().replace(/\.$/, ''), true);
  }
}

/** Matches one rule against a client (pr_netacl_match). */
export function matchNetAcl(rule: NetAclRule, ctx: NetAclContext): NetAclMatch {
  if (rule.kind === 'all') return 1;
  if (rule.kind === 'none') return -1;
  const hit = rawMatch(rule, normalizeAddress(ctx.address), ctx);
  if (hit === 'skip') return 0;
  if (rule.negated) return hit ? -1 : 1;
  return hit ? 1 : 0;
}

/** Which syntax a list of ACL tokens follows. */
export type AclListMode = 'from' | 'allow';

/**
 * Parses the arguments of a `From` line (`mode:'from'`) or of an `Allow`/`Deny` line
 * (`mode:'allow'`, with an optional leading `from`). Arguments may be comma-separated.
 * `all`/`none` as the first token is the only rule; later, `From` stops there silently
 * (ProFTPD `add_from`) while `Allow`/`Deny` reject it.
 */
export function parseNetAclList(args: readonly string[], mode: AclListMode = 'from'): Result<NetAclRule[]> {
  let tokens = args.flatMap((a) => a.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  if (mode === 'allow' && tokens[0]?.toLowerCase() === 'from') tokens = tokens.slice(1);
  if (tokens.length === 0) return fail('ERR_ACL_INVALID', 'no address, network or host name given');
  const rules: NetAclRule[] = [];
  for (const [i, token] of tokens.entries()) {
    const r = parseNetAcl(token);
    if (!r.ok) return r;
    const special = r.value.kind === 'all' || r.value.kind === 'none';
    if (special && i === 0) return ok([r.value]);
    if (special) {
      if (mode === 'from') break;
      return fail('ERR_ACL_INVALID', `'${token}' must be the only entry of the list`);
    }
    rules.push(r.value);
  }
  return ok(rules);
}

/**
 * One Allow/Deny line (ProFTPD src/dirtree.c `check_ip_access`): every negated rule
 * must be satisfied (the client is not in its pattern), and at least one positive rule
 * must match (`none` matches nothing). So `Allow from 10.0.0.0/8, !10.0.0.5` allows
 * 10.0.0.4 but neither 10.0.0.5 nor 11.0.0.1, and a line of negated rules alone
 * matches nobody.
 */
export function matchNetAclList(rules: readonly NetAclRule[], ctx: NetAclContext): boolean {
  for (const rule of rules) if (rule.negated && matchNetAcl(rule, ctx) === -1) return false;
  for (const rule of rules) {
    if (rule.negated) continue;
    const m = matchNetAcl(rule, ctx);
    if (m === 1) return true;
    if (m === -1) return false;
  }
  return false;
}
