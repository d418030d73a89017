/**
 * `ftpkit firewall`: the rules the NAT guide writes by hand (ipchains/ipmasqadm, ipf),
 * for today's Linux, derived from the configuration.
 *
 * Role `router` (the box doing NAT in front of the server):
 *   - DNAT of each control port and each PassivePorts range from the public address to
 *     the server's LAN address (passive ports keep their number: the 227 reply tells the
 *     client the port the server listens on);
 *   - FORWARD accepts for new connections to those ports.
 * Role `host` (the FTP server itself): INPUT accepts for the same ports.
 *
 * nftables output is for `nft -f`: the DNAT lives in its own table `ip ftpkit`, replaced
 * as a whole on every load; accepts are inserted at the top of the `inet filter` chains
 * (created when missing), because an accept in a separate table cannot override a drop in
 * the operator's own filter table. iptables output is for `iptables-restore --noflush`
 * (without --noflush, iptables-restore would flush the tables it touches).
 */

export interface PortRange {
  min: number;
  max: number;
}

/** One listener (main server or virtual host) to open. */
export interface FirewallTarget {
  /** For comments: `main server`, `<VirtualHost 192.168.0.10>`. */
  label: string;
  /** The port the server listens on. */
  controlPort: number;
  /** The port clients connect to on the public address (default: controlPort). */
  publicControlPort?: number;
  /** PassivePorts; empty means the kernel's range (the guide's "not a good situation"). */
  passive: readonly PortRange[];
  /** Router role: the public (WAN) address DNAT matches. */
  publicAddress?: string;
  /** Router role: the server's LAN address DNAT goes to. */
  serverAddress?: string;
}

export interface FirewallPlan {
  role: 'router' | 'host';
  /** Where the plan came from, for the header comment (`/etc/proftpd.conf`). */
  source: string;
  targets: readonly FirewallTarget[];
  /** Extra comment lines (e.g. why a vhost was left out). */
  notes?: readonly string[];
}

/** A plan that cannot be rendered (caller's mistake, reported to the operator). */
export class FirewallPlanError extends Error {
  readonly code: string = 'ERR_FIREWALL_PLAN';
}

/** The kernel's range when no PassivePorts is configured (ProFTPD's EPSV: 1024-65535). */
export const ANY_UNPRIVILEGED: PortRange = { min: 1024, max: 65535 };

function rangesOf(t: FirewallTarget): readonly PortRange[] {
  return t.passive.length > 0 ? t.passive : [ANY_UNPRIVILEGED];
}

function isIPv4(a: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

function check(plan: FirewallPlan): void {
  if (plan.targets.length === 0) throw new FirewallPlanError('the configuration has no server to open ports for');
  for (const t of plan.targets) {
    if (plan.role === 'router') {
      if (t.publicAddress === undefined) {
        throw new FirewallPlanError(
          `${t.label}: no public address for DNAT (set MasqueradeAddress to an IP address, or pass --public <ip>)`,
        );
      }
      if (t.serverAddress === undefined) {
        throw new FirewallPlanError(
          `${t.label}: the server's LAN address is unknown (it listens on every address); pass --server <lan ip>`,
        );
      }
      for (const [what, a] of [['public', t.publicAddress], ['server', t.serverAddress]] as const) {
        if (!isIPv4(a)) throw new FirewallPlanError(`${t.label}: the ${what} address '${a}' is not an IPv4 address (NAT for FTP is IPv4)`);
      }
    }
    for (const p of [t.controlPort, t.publicControlPort ?? t.controlPort]) {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw new FirewallPlanError(`${t.label}: bad port ${p}`);
    }
  }
}

const fmtRange = (r: PortRange, sep: string): string => (r.min === r.max ? String(r.min) : `${r.min}${sep}${r.max}`);

function header(plan: FirewallPlan, how: string): string[] {
  const lines = [
    `# ftpkit firewall rules (${plan.role}) for ${plan.source}`,
    `# Load with: ${how}`,
  ];
  for (const t of plan.targets) {
    const ranges = t.passive.length > 0 ? t.passive.map((r) => fmtRange(r, '-')).join(', ') : 'none (kernel ports 1024-65535)';
    const nat = plan.role === 'router' ? ` ${t.publicAddress ?? '?'}:${t.publicControlPort ?? t.controlPort} -> ${t.serverAddress ?? '?'}:${t.controlPort},` : '';
    lines.push(`#   ${t.label}:${nat} control port ${t.controlPort}, PassivePorts ${ranges}`);
    if (t.passive.length === 0) {
      lines.push('#   (no PassivePorts: every unprivileged port must be open; set PassivePorts to narrow this)');
    }
  }
  for (const n of plan.notes ?? []) lines.push(`# ${n}`);
  return lines;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}

/** Sort and merge overlapping or adjacent ranges (nft refuses overlapping set elements). */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.min - b.min || a.max - b.max);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.min <= last.max + 1) last.max = Math.max(last.max, r.max);
    else out.push({ min: r.min, max: r.max });
  }
  return out;
}

/** Rules for `iptables-restore --noflush`. */
export function renderIptables(plan: FirewallPlan): string {
  check(plan);
  const out = header(plan, 'iptables-restore --noflush < this-file   (IPv4; --noflush keeps your other rules)');
  if (plan.role === 'router') {
    const nat: string[] = [];
    const fwd: string[] = [];
    for (const t of plan.targets) {
      const pub = `${t.publicAddress}/32`;
      const srv = t.serverAddress ?? '';
      const cport = t.publicControlPort ?? t.controlPort;
      nat.push(`-A PREROUTING -d ${pub} -p tcp -m tcp --dport ${cport} -j DNAT --to-destination ${srv}:${t.controlPort}`);
      fwd.push(`-I FORWARD -d ${srv}/32 -p tcp -m tcp --dport ${t.controlPort} -m conntrack --ctstate NEW -j ACCEPT`);
      for (const r of rangesOf(t)) {
        nat.push(`-A PREROUTING -d ${pub} -p tcp -m tcp --dport ${fmtRange(r, ':')} -j DNAT --to-destination ${srv}`);
        fwd.push(`-I FORWARD -d ${srv}/32 -p tcp -m tcp --dport ${fmtRange(r, ':')} -m conntrack --ctstate NEW -j ACCEPT`);
      }
    }
    out.push('*nat', ...unique(nat), 'COMMIT', '*filter', ...unique(fwd), 'COMMIT');
  } else {
    const input: string[] = [];
    for (const t of plan.targets) {
      input.push(`-I INPUT -p tcp -m tcp --dport ${t.controlPort} -m conntrack --ctstate NEW -j ACCEPT`);
      for (const r of rangesOf(t)) {
        input.push(`-I INPUT -p tcp -m tcp --dport ${fmtRange(r, ':')} -m conntrack --ctstate NEW -j ACCEPT`);
      }
    }
    out.push('*filter', ...unique(input), 'COMMIT');
  }
  return `${out.join('\n')}\n`;
}

/** Rules for `nft -f`. */
export function renderNftables(plan: FirewallPlan): string {
  check(plan);
  const out = ['#!/usr/sbin/nft -f', ...header(plan, 'nft -f this-file')];
  const portSet = (ranges: PortRange[]): string => {
    const items = mergeRanges(ranges).map((r) => fmtRange(r, '-'));
    return items.length === 1 ? (items[0] ?? '') : `{ ${items.join(', ')} }`;
  };
  if (plan.role === 'router') {
    const dnat: string[] = [];
    const byServer = new Map<string, PortRange[]>();
    for (const t of plan.targets) {
      const pub = t.publicAddress ?? '';
      const srv = t.serverAddress ?? '';
      const cport = t.publicControlPort ?? t.controlPort;
      dnat.push(`\t\tip daddr ${pub} tcp dport ${cport} dnat to ${srv}:${t.controlPort}`);
      const ports = byServer.get(srv) ?? [];
      ports.push({ min: t.controlPort, max: t.controlPort });
      for (const r of rangesOf(t)) {
        dnat.push(`\t\tip daddr ${pub} tcp dport ${fmtRange(r, '-')} dnat to ${srv}`);
        ports.push(r);
      }
      byServer.set(srv, ports);
    }
    out.push(
      '# DNAT: a table of its own, replaced as a whole each time this file is loaded.',
      'table ip ftpkit',
      'delete table ip ftpkit',
      'table ip ftpkit {',
      '\tchain prerouting {',
      '\t\ttype nat hook prerouting priority dstnat; policy accept;',
      ...unique(dnat),
      '\t}',
      '}',
      '# Accept the forwarded connections ahead of the rules of your filter table.',
      'add table inet filter',
      'add chain inet filter forward { type filter hook forward priority filter; }',
    );
    for (const [srv, ports] of byServer) {
      out.push(`insert rule inet filter forward ip daddr ${srv} tcp dport ${portSet(ports)} ct state new accept`);
    }
  } else {
    const ports: PortRange[] = [];
    for (const t of plan.targets) ports.push({ min: t.controlPort, max: t.controlPort }, ...rangesOf(t));
    out.push(
      '# Accept FTP ahead of the rules of your filter table.',
      'add table inet filter',
      'add chain inet filter input { type filter hook input priority filter; }',
      `insert rule inet filter input tcp dport ${portSet(ports)} ct state new accept`,
    );
  }
  return `${out.join('\n')}\n`;
}

/** Render in the requested syntax. */
export function renderFirewall(plan: FirewallPlan, format: 'nftables' | 'iptables'): string {
  return format === 'nftables' ? renderNftables(plan) : renderIptables(plan);
}
