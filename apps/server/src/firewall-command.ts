/**
 * `ftpkit firewall`: from a configuration to a {@link FirewallPlan}, then to rules.
 *
 * Every port comes from the configuration: each server's `Port`, every `PassivePorts`
 * range a session of that server can get (its own, `<Global>`'s, and those of its
 * `<IfClass>`/`<IfUser>`/`<IfGroup>` sections). The DNAT match address is `--public`
 * or the server's MasqueradeAddress (a name is resolved now); the DNAT target is
 * `--server` or the server's own IPv4 address. A server without MasqueradeAddress,
 * when others have one, serves the LAN (the NAT guide's `<VirtualHost 192.168.0.10>`
 * example) and gets no DNAT.
 */
import { lookup } from 'node:dns/promises';
import type { FtpkitConfig, HostSpec, ServerConfig } from '@ftpkit/config';
import { classifyAddress, isIpLiteral } from './address.js';
import type { FirewallArgs } from './args.js';
import { layeredValues, listeningServers } from './config-values.js';
import { FirewallPlanError, mergeRanges, renderFirewall, type FirewallPlan, type FirewallTarget, type PortRange } from './firewall.js';
import { loadConfig } from './load-config.js';

export type NameResolver = (name: string) => Promise<string | undefined>;

const systemResolver: NameResolver = async (name) => {
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch {
    return undefined;
  }
};

/** The server's own IPv4 address, when it has one (not a wildcard, not loopback). */
function ownAddress(s: ServerConfig): string | undefined {
  return s.addresses.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a) && a !== '0.0.0.0' && classifyAddress(a).kind !== 'loopback');
}

export interface PlanOptions {
  source: string;
  format?: 'nftables' | 'iptables';
  publicAddress?: string;
  serverAddress?: string;
  role?: 'router' | 'host';
  resolve?: NameResolver;
}

/** Build the plan for a configuration. Throws {@link FirewallPlanError} when it cannot. */
export async function planFirewall(config: FtpkitConfig, options: PlanOptions): Promise<FirewallPlan> {
  const resolve = options.resolve ?? systemResolver;
  const notes: string[] = [];
  let publicPort: number | undefined;
  let publicAddress = options.publicAddress;
  if (publicAddress !== undefined) {
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(publicAddress);
    if (m) {
      publicAddress = m[1];
      publicPort = Number(m[2]);
    }
  }
  const all = listeningServers(config);
  if (all.length === 0) throw new FirewallPlanError('the configuration has no server with a port to open');
  interface Info {
    server: ServerConfig;
    passive: PortRange[];
    masquerades: HostSpec[];
  }
  const infos: Info[] = all.map((s) => ({
    server: s,
    passive: mergeRanges(layeredValues(config, s, 'passivePorts').map((v) => ({ min: v.value.min, max: v.value.max }))),
    masquerades: layeredValues(config, s, 'masqueradeAddress').map((v) => v.value),
  }));
  const anyMasq = infos.some((i) => i.masquerades.length > 0);
  const publicOf = async (info: Info): Promise<string[]> => {
    if (publicAddress !== undefined) return [publicAddress];
    const out: string[] = [];
    for (const m of info.masquerades) {
      const ip = isIpLiteral(m.host) ? m.host : await resolve(m.host);
      if (ip === undefined) {
        notes.push(`${info.server.label}: MasqueradeAddress ${m.host} does not resolve; pass --public <ip>`);
        continue;
      }
      if (!isIpLiteral(m.host)) notes.push(`${info.server.label}: MasqueradeAddress ${m.host} resolves to ${ip} now`);
      // An <IfClass internal> MasqueradeAddress 10.1.2.3 is for LAN clients: no DNAT from it.
      if (classifyAddress(ip).routable) out.push(ip);
      else notes.push(`${info.server.label}: MasqueradeAddress ${m.host} (${ip}) is not public: no DNAT from it`);
    }
    return [...new Set(out)];
  };

  const routerTargets: FirewallTarget[] = [];
  let routerPossible = options.role !== 'host';
  const missing: string[] = [];
  for (const info of infos) {
    if (anyMasq && info.masquerades.length === 0 && publicAddress === undefined) {
      notes.push(`${info.server.label} has no MasqueradeAddress: it serves the LAN, no DNAT for it`);
      continue;
    }
    const pubs = await publicOf(info);
    const srv = options.serverAddress ?? ownAddress(info.server);
    if (pubs.length === 0) missing.push(`${info.server.label}: no public address (set MasqueradeAddress to an IP address, or pass --public <ip>)`);
    if (srv === undefined) missing.push(`${info.server.label}: the server's LAN address is unknown (it listens on every address); pass --server <lan ip>`);
    for (const pub of pubs) {
      routerTargets.push({
        label: info.server.label,
        controlPort: info.server.port,
        ...(publicPort === undefined ? {} : { publicControlPort: publicPort }),
        passive: info.passive,
        publicAddress: pub,
        ...(srv === undefined ? {} : { serverAddress: srv }),
      });
    }
  }
  if (missing.length > 0 || routerTargets.length === 0) routerPossible = false;
  if (options.role === 'router' && !routerPossible) {
    throw new FirewallPlanError(missing.length > 0 ? missing.join('\n') : 'no server needs DNAT');
  }
  if (routerPossible) return { role: 'router', source: options.source, targets: routerTargets, notes };
  if (options.role === undefined && anyMasq) {
    notes.push('role host: for router (DNAT) rules pass --server <lan ip> (and --public <ip> when MasqueradeAddress is a name)');
    for (const m of missing) notes.push(`  ${m}`);
  }
  const hostTargets: FirewallTarget[] = infos.map((i) => ({ label: i.server.label, controlPort: i.server.port, passive: i.passive }));
  return { role: 'host', source: options.source, targets: hostTargets, notes };
}

/** `ftpkit firewall`. */
export async function runFirewall(args: FirewallArgs): Promise<number> {
  const loaded = loadConfig(args, args.flags, process.cwd());
  if (!loaded.ok) {
    process.stderr.write(`${loaded.errors.join('\n')}\n`);
    return 1;
  }
  try {
    const plan = await planFirewall(loaded.config, {
      source: loaded.source,
      ...(args.publicAddress === undefined ? {} : { publicAddress: args.publicAddress }),
      ...(args.serverAddress === undefined ? {} : { serverAddress: args.serverAddress }),
      ...(args.role === undefined ? {} : { role: args.role }),
    });
    process.stdout.write(renderFirewall(plan, args.format));
    return 0;
  } catch (err) {
    if (err instanceof FirewallPlanError) {
      process.stderr.write(`ftpkit firewall: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
