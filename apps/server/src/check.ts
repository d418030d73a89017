/**
 * `ftpkit check`: `proftpd -t` (the configuration parses: exit 0, else `file:line`
 * errors and exit 1) plus the NAT guide's "Double Checking":
 * - every MasqueradeAddress is resolved now and classified; a private answer is the
 *   FAQ's "name resolved inside the LAN" case;
 * - every PassivePorts range is scanned on the server's bind address the way the guide
 *   uses nmap: try to bind each port; the ones another process holds are listed;
 * - the range is compared with MaxClients (one passive port per session at a time).
 * It also lists each `<Directory>` section: the path it covers, its `<Limit>` sections and its settings.
 */
import { createServer } from 'node:net';
import { existsSync, statSync } from 'node:fs';

import { directoryPath, formatDiagnostic, type DirectorySection, type DirectorySettings, type FtpkitConfig, type HostSpec, type LimitSection, type ServerConfig } from '@ftpkit/config';
import { loadAuthGroupFile, loadAuthUserFile } from '@ftpkit/config/node';
import { DnsCache } from '@ftpkit/masquerade/node';
import { classifyAddress } from './address.js';
import { layeredValues, listeningServers, unappliedSettings } from './config-values.js';
import type { CheckArgs } from './args.js';
import { mergeRanges, type PortRange } from './firewall.js';
import { ftpsOfServer } from './ftps.js';
import { loadConfig } from './load-config.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** `main server`, `<VirtualHost 192.168.0.10> (proftpd.conf:20)`, or the file. */
  where: string;
  message: string;
}

export interface MasqueradeFinding {
  where: string;
  /** The section that sets it: the server itself or `<IfClass internal>`. */
  setBy: string;
  value: string;
  address?: string;
  source?: string;
  kind?: string;
  error?: string;
}

export interface RangeFinding {
  where: string;
  range: PortRange;
  size: number;
  bindAddress: string;
  /** Ports another process holds (undefined when not scanned). */
  taken?: number[];
  scanError?: string;
}

export interface CheckReport {
  ok: boolean;
  source: string;
  syntaxOk: boolean;
  findings: Finding[];
  masquerade: MasqueradeFinding[];
  ranges: RangeFinding[];
}

/** Try to bind every port; resolve with those that cannot be bound (EADDRINUSE/EACCES). */
export async function scanPorts(host: string, ranges: readonly PortRange[], concurrency = 128): Promise<{ taken: number[]; error?: string }> {
  const ports: number[] = [];
  for (const r of mergeRanges(ranges)) for (let p = r.min; p <= r.max; p++) ports.push(p);
  const taken: number[] = [];
  let fatal: string | undefined;
  const tryPort = (port: number): Promise<void> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE' || err.code === 'EACCES') taken.push(port);
        else fatal ??= `${err.code ?? err.message}${err.code === 'EADDRNOTAVAIL' ? ` (${host} is not an address of this machine)` : ''}`;
        resolve();
      });
      s.listen({ port, host, exclusive: true }, () => s.close(() => resolve()));
    });
  for (let i = 0; i < ports.length && fatal === undefined; i += concurrency) {
    await Promise.all(ports.slice(i, i + concurrency).map(tryPort));
  }
  taken.sort((a, b) => a - b);
  return fatal === undefined ? { taken } : { taken, error: fatal };
}

/** `60000-60002, 60005` */
export function compactPorts(ports: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ports.length; ) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === (ports[j] as number) + 1) j++;
    parts.push(i === j ? `${ports[i]}` : `${ports[i]}-${ports[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function bindAddressOf(s: ServerConfig): string {
  const literal = s.addresses.find((a) => /^[\d.]+$/.test(a) || a.includes(':'));
  return literal ?? '0.0.0.0';
}

/** Run every check. `scan: false` skips binding the passive ports. */
export async function checkConfig(config: FtpkitConfig, source: string, options: { scan: boolean }): Promise<CheckReport> {
  const findings: Finding[] = [];
  const masquerade: MasqueradeFinding[] = [];
  const ranges: RangeFinding[] = [];
  const servers = listeningServers(config);

  // MasqueradeAddress: resolve every value now, as the server does at startup.
  const names: { where: string; setBy: string; spec: HostSpec }[] = [];
  for (const s of servers) {
    for (const v of layeredValues(config, s, 'masqueradeAddress')) names.push({ where: s.label, setBy: v.setBy, spec: v.value });
    for (const v of layeredValues(config, s, 'tlsMasqueradeAddress')) names.push({ where: s.label, setBy: `${v.setBy} (TLSMasqueradeAddress)`, spec: v.value });
  }
  const cache = new DnsCache({ timeoutMs: 3000, tries: 1 });
  try {
    await Promise.all(names.map((n) => cache.add(n.spec.host)));
    const entries = new Map(cache.list().map((e) => [e.name, e]));
    for (const n of names) {
      const e = entries.get(n.spec.host.toLowerCase());
      const f: MasqueradeFinding = { where: n.where, setBy: n.setBy, value: n.spec.host };
      if (e?.address === undefined) {
        f.error = e?.error ?? 'not resolved';
        findings.push({
          severity: 'warning',
          where: n.where,
          message: `MasqueradeAddress ${n.spec.host} does not resolve now (${f.error}): PASV will advertise the local address until it does (ProFTPD Bug#4104; set DynMasqRefresh to retry)`,
        });
      } else {
        f.address = e.address;
        if (e.source !== undefined) f.source = e.source;
        const cls = classifyAddress(e.address);
        f.kind = cls.label;
        const how = e.source === 'literal' ? '' : ` (${e.source === 'device' ? 'interface' : 'DNS'}: ${n.spec.host} -> ${e.address})`;
        if (n.spec.kind === 'ipv6' || e.address.includes(':')) {
          findings.push({ severity: 'warning', where: n.where, message: `MasqueradeAddress ${n.spec.host} is IPv6: a 227 reply carries IPv4 only (PASV answers 522, use EPSV)` });
        } else if (!cls.routable && n.setBy === n.where) {
          findings.push({
            severity: 'warning',
            where: n.where,
            message: `MasqueradeAddress ${n.spec.host} is ${cls.label}${how}: clients on the Internet cannot reach it. If this name resolved inside your LAN, use the external IP address instead (NAT FAQ)`,
          });
        } else {
          findings.push({ severity: 'info', where: n.where, message: `MasqueradeAddress ${n.spec.host}${n.setBy === n.where ? '' : ` in ${n.setBy}`} -> ${e.address}, ${cls.label}` });
        }
      }
      masquerade.push(f);
    }
  } finally {
    cache.close();
  }

  // PassivePorts: scan and size.
  for (const s of servers) {
    const values = layeredValues(config, s, 'passivePorts');
    const hasMasq = layeredValues(config, s, 'masqueradeAddress').length > 0;
    if (values.length === 0) {
      findings.push({
        severity: hasMasq ? 'warning' : 'info',
        where: s.label,
        message: `no PassivePorts: passive ports come from the kernel's whole range${hasMasq ? ', which a NAT router would have to forward entirely (set PassivePorts, NAT guide)' : ''}`,
      });
    }
    const bindAddress = bindAddressOf(s);
    const maxClients = s.settings.maxClients ?? config.global.settings.maxClients;
    for (const v of values) {
      const range = { min: v.value.min, max: v.value.max };
      const size = range.max - range.min + 1;
      const rf: RangeFinding = { where: s.label, range, size, bindAddress };
      if (options.scan) {
        const r = await scanPorts(bindAddress, [range]);
        rf.taken = r.taken;
        if (r.error !== undefined) {
          rf.scanError = r.error;
          findings.push({ severity: 'warning', where: s.label, message: `cannot scan PassivePorts ${range.min}-${range.max} on ${bindAddress}: ${r.error}` });
        } else if (r.taken.length > 0) {
          findings.push({
            severity: 'warning',
            where: s.label,
            message: `PassivePorts ${range.min}-${range.max}: ${r.taken.length} of ${size} ports are already in use on ${bindAddress} by other processes: ${compactPorts(r.taken)}`,
          });
        } else {
          findings.push({ severity: 'info', where: s.label, message: `PassivePorts ${range.min}-${range.max} (${size} ports): all free on ${bindAddress}` });
        }
      }
      const usable = size - (rf.taken?.length ?? 0);
      if (config.daemon.passivePortsShared === true) {
        findings.push({
          severity: 'info',
          where: s.label,
          message: `PassivePortsShared on: each of the ${usable} ports of ${range.min}-${range.max} serves several clients at once (one at a time per client address), so the range need not be as large as MaxClients`,
        });
      } else if (maxClients !== undefined && usable < maxClients.max) {
        findings.push({
          severity: 'warning',
          where: s.label,
          message: `PassivePorts ${range.min}-${range.max} has ${usable} usable ports but MaxClients is ${maxClients.max}: with every client in a passive transfer, the rest get a kernel port outside the range (or 425 with --exhaustion refuse); consider a larger PassivePorts range`,
        });
      } else if (maxClients === undefined) {
        findings.push({
          severity: 'info',
          where: s.label,
          message: `MaxClients is not set: ${usable} simultaneous passive transfers fit in ${range.min}-${range.max}; beyond that, kernel ports outside the range (or 425 with --exhaustion refuse)`,
        });
      }
      ranges.push(rf);
    }
  }

  // Files the sessions will need.
  for (const s of servers) {
    const userFile = s.settings.authUserFile ?? config.global.settings.authUserFile;
    const groupFile = s.settings.authGroupFile ?? config.global.settings.authGroupFile;
    if (userFile !== undefined) {
      const r = loadAuthUserFile(userFile);
      for (const d of r.errors) findings.push({ severity: d.line === 0 ? 'error' : 'warning', where: s.label, message: formatDiagnostic(d) });
      if (r.errors.length === 0) findings.push({ severity: 'info', where: s.label, message: `AuthUserFile ${userFile}: ${r.entries.length} user(s)` });
    }
    if (groupFile !== undefined) {
      for (const d of loadAuthGroupFile(groupFile).errors) findings.push({ severity: d.line === 0 ? 'error' : 'warning', where: s.label, message: formatDiagnostic(d) });
    }
    for (const anon of [...s.anonymous, ...config.global.anonymous]) {
      if (!existsSync(anon.dir) || !statSync(anon.dir).isDirectory()) {
        findings.push({ severity: 'warning', where: anon.label, message: `the anonymous directory ${anon.dir} does not exist` });
      }
    }
    if (userFile === undefined && s.anonymous.length === 0 && config.global.anonymous.length === 0) {
      findings.push({ severity: 'info', where: s.label, message: 'no AuthUserFile and no <Anonymous>: only users given with --user can log in' });
    }
  }
  // <Directory> sections: what each covers and what it limits.
  for (const s of servers) {
    const own = [...(s.settings.directories ?? []), ...(config.global.settings.directories ?? [])];
    for (const d of own) findings.push({ severity: 'info', where: s.label, message: describeDirectory(d) });
    for (const layer of [...config.global.layers, ...s.layers]) {
      for (const d of layer.content.directories ?? []) findings.push({ severity: 'info', where: s.label, message: `${describeDirectory(d)} (when ${layer.label ?? layer.kind} applies)` });
    }
    for (const anon of [...s.anonymous, ...config.global.anonymous]) {
      for (const d of anon.settings.directories ?? []) findings.push({ severity: 'info', where: anon.label, message: describeDirectory(d, anon.dir) });
    }
  }
  for (const s of servers) {
    try {
      const ftps = ftpsOfServer(config, s);
      if (ftps !== undefined) {
        findings.push({ severity: 'info', where: s.label, message: `FTPS: certificate loaded${ftps.implicit ? ', implicit TLS (UseImplicitSSL)' : ', AUTH TLS offered'}` });
      }
    } catch (err) {
      findings.push({ severity: 'error', where: s.label, message: (err as Error).message.replace(`${s.label}: `, '') });
    }
  }
  // PROXY protocol: who may claim to speak for a client.
  for (const s of servers) {
    for (const v of layeredValues(config, s, 'proxyProtocolEngine')) {
      if (v.value !== true) continue;
      const everyone = v.setBy === s.label || v.setBy === '<Global>';
      findings.push(
        everyone
          ? {
              severity: 'warning',
              where: s.label,
              message: `ProxyProtocolEngine on for every peer: whoever reaches port ${s.port} can claim any client address (and nobody can connect without a PROXY header). Put it inside <IfClass> with the load balancers' addresses`,
            }
          : { severity: 'info', where: s.label, message: `PROXY headers are read from ${v.setBy} only (control and passive data connections)` },
      );
    }
    const engine = layeredValues(config, s, 'proxyProtocolEngine').some((v) => v.value === true);
    for (const v of layeredValues(config, s, 'proxyProtocolOptions')) {
      if (!v.value.includes('UseProxiedServerAddress')) continue;
      findings.push(
        engine
          ? { severity: 'info', where: s.label, message: `ProxyProtocolOptions UseProxiedServerAddress (${v.setBy}): a proxied session gets the <VirtualHost> of the PROXY header's destination address and port` }
          : { severity: 'warning', where: s.label, message: `ProxyProtocolOptions UseProxiedServerAddress (${v.setBy}) has no effect: ProxyProtocolEngine is not on for this server` },
      );
    }
  }
  for (const line of unappliedSettings(config)) findings.push({ severity: 'warning', where: source, message: line });
  if (config.daemon.user !== undefined && process.getuid?.() !== 0) {
    findings.push({ severity: 'info', where: source, message: `User ${config.daemon.user}: privileges are dropped only when started as root` });
  }

  return { ok: !findings.some((f) => f.severity === 'error'), source, syntaxOk: true, findings, masquerade, ranges };
}

/** `<Limit STOR> AllowAll`: a section's commands and the kinds of rule it holds. */
function describeLimit(l: LimitSection): string {
  const rules = [
    l.order === 'deny,allow' ? 'Order deny,allow' : '',
    l.allowAll ? 'AllowAll' : '',
    l.denyAll ? 'DenyAll' : '',
    l.allow.length > 0 ? 'Allow' : '',
    l.deny.length > 0 ? 'Deny' : '',
    l.allowUser.length > 0 ? 'AllowUser' : '',
    l.denyUser.length > 0 ? 'DenyUser' : '',
    l.allowGroup.length > 0 ? 'AllowGroup' : '',
    l.denyGroup.length > 0 ? 'DenyGroup' : '',
    l.allowClass.length > 0 ? 'AllowClass' : '',
    l.denyClass.length > 0 ? 'DenyClass' : '',
  ].filter(Boolean);
  return `<Limit ${l.commands.join(' ')}> ${rules.join(' ') || '(no rules)'}`;
}

/** One `<Directory>` section: the absolute path it covers (ProFTPD's matching) and its limits. */
function describeDirectory(d: DirectorySection, anonymousRoot?: string): string {
  const path = d.path.startsWith('~') || d.path.includes('%u') ? undefined : directoryPath(d.path, { anonymousRoot });
  const relative = anonymousRoot !== undefined && !d.path.startsWith('/') && !d.path.startsWith('~');
  const shown = path ?? `${relative ? `${anonymousRoot.replace(/\/$/, '')}/` : ''}${d.path} (resolved at each login)`;
  const covers = d.path.endsWith('/*') ? 'what is inside the directory, not the directory itself' : 'the directory and everything below it';
  const parts = [...d.limits.map(describeLimit), ...describeDirectorySettings(d.settings ?? {})];
  return `${d.label}: ${shown} (${covers}): ${parts.length === 0 ? 'no <Limit> sections' : parts.join(', ')}`;
}

/** A section's settings as directives (`AllowOverwrite on`, `Umask 077 027`). */
function describeDirectorySettings(d: DirectorySettings): string[] {
  const onOff = (v: boolean): string => (v ? 'on' : 'off');
  const octal = (v: number): string => `0${v.toString(8).padStart(2, '0')}`;
  const out: string[] = [];
  if (d.allowOverwrite !== undefined) out.push(`AllowOverwrite ${onOff(d.allowOverwrite)}`);
  if (d.allowStoreRestart !== undefined) out.push(`AllowStoreRestart ${onOff(d.allowStoreRestart)}`);
  if (d.allowRetrieveRestart !== undefined) out.push(`AllowRetrieveRestart ${onOff(d.allowRetrieveRestart)}`);
  if (d.deleteAbortedStores !== undefined) out.push(`DeleteAbortedStores ${onOff(d.deleteAbortedStores)}`);
  if (d.hiddenStores !== undefined) out.push(d.hiddenStores === false ? 'HiddenStores off' : `HiddenStores ${d.hiddenStores.prefix} ${d.hiddenStores.suffix}`);
  if (d.umask !== undefined) out.push(`Umask ${octal(d.umask.file)} ${octal(d.umask.dir)}`);
  return out;
}

/** The report for a terminal. */
export function formatCheckReport(r: CheckReport): string {
  const lines = [`Checking syntax of configuration file ${r.source}`, r.syntaxOk ? 'Syntax OK' : 'Syntax error'];
  // One block per server (or file), in the order they first appear.
  const groups = new Map<string, Finding[]>();
  for (const f of r.findings) groups.set(f.where, [...(groups.get(f.where) ?? []), f]);
  for (const [where, findings] of groups) {
    lines.push(`${where}:`);
    for (const f of findings) {
      const tag = f.severity === 'error' ? 'ERROR  ' : f.severity === 'warning' ? 'WARNING' : 'info   ';
      lines.push(`  ${tag} ${f.message}`);
    }
  }
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  lines.push('', `${errors} error(s), ${warnings} warning(s)`);
  return `${lines.join('\n')}\n`;
}

/** `ftpkit check`. */
export async function runCheck(args: CheckArgs): Promise<number> {
  const loaded = loadConfig(args, args.flags, process.cwd());
  const diagnostics = loaded.warnings.map(formatDiagnostic);
  if (!loaded.ok) {
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ok: false, source: loaded.source, syntaxOk: false, errors: loaded.errors, warnings: diagnostics }, null, 2)}\n`);
    } else {
      process.stderr.write(`Checking syntax of configuration file ${loaded.source}\n${[...loaded.errors, ...diagnostics].join('\n')}\nSyntax error\n`);
    }
    return 1;
  }
  const report = await checkConfig(loaded.config, loaded.source, { scan: args.scan });
  for (const d of loaded.warnings) {
    report.findings.unshift({ severity: d.severity === 'note' ? 'info' : 'warning', where: loaded.source, message: formatDiagnostic(d) });
  }
  const warned = report.findings.some((f) => f.severity === 'warning');
  const ok = report.ok && !(args.strict && warned);
  report.ok = ok;
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatCheckReport(report));
  return ok ? 0 : 1;
}
