/**
 * @packageDocumentation
 * `@ftpkit/server`: the `ftpkit` reference server and its operator tools as a library.
 * The CLI (`ftpkit serve|check|probe|firewall`) is built from these pieces; embed them
 * to run a ProFTPD-configured server inside your own process, or to check NAT from a
 * monitoring job.
 *
 * @example
 * ```ts
 * import { parseConfig } from '@ftpkit/config';
 * import { FtpkitServer, createLogger, probe } from '@ftpkit/server';
 *
 * const r = parseConfig('Port 2121\nDefaultAddress 127.0.0.1\nSocketBindTight on\n' +
 *   'PassivePorts 60000 60100\n<Anonymous /srv/ftp>\n User ftp\n UserAlias anonymous ftp\n</Anonymous>\n', { file: 'inline' });
 * if (!r.ok) throw new Error('bad configuration');
 * const server = new FtpkitServer({ logger: createLogger({ format: 'json' }) });
 * await server.apply({ config: r.config, source: 'inline' });
 * const report = await probe({ url: 'ftp://127.0.0.1:2121', timeoutMs: 3000 });
 * console.log(report.ok);            // true: PASV/EPSV, data connection and LIST work
 * await server.drain(5000);          // let transfers finish, then close
 * ```
 */
export { FtpkitServer, type FtpkitServerOptions, type LoadedGeneration } from './server.js';
export type { PassiveLayout, PassivePart } from './resources.js';
export { createLogger, formatPrettyLine, type Logger, type LoggerOptions } from './log.js';
export { formatXferlogLine, formatXferlogTime, openTransferLog, type TransferLog, type TransferRecord } from './xferlog.js';
export {
  ANY_UNPRIVILEGED,
  FirewallPlanError,
  mergeRanges,
  renderFirewall,
  renderIptables,
  renderNftables,
  type FirewallPlan,
  type FirewallTarget,
  type PortRange,
} from './firewall.js';
export { planFirewall, type NameResolver, type PlanOptions } from './firewall-command.js';
export {
  formatProbeReport,
  parseFtpUrl,
  probe,
  type DataAttempt,
  type PassiveProbe,
  type ProbeCheck,
  type ProbeOptions,
  type ProbeReport,
} from './probe.js';
export { checkConfig, compactPorts, formatCheckReport, scanPorts, type CheckReport, type Finding } from './check.js';
export { classifyAddress, type AddressClass, type AddressKind } from './address.js';
export { configFromFlags, type FlagConfig, type FlagUser } from './defaults.js';
export { loadConfig, type LoadedConfig } from './load-config.js';
export { UsageError, parseCli, type CliArgs, type ServerFlags } from './args.js';
