#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * The `ftpkit` command: serve, check, probe, firewall.
 *
 * Exit codes: 0 success, 1 a failed check/probe or a configuration error, 2 a usage error.
 */
import { readFileSync } from 'node:fs';
import { UsageError, parseCli, parsePortRangeArg, usageFor, PROBE_USAGE } from './args.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseCli(argv);
  switch (args.command) {
    case 'help':
      process.stdout.write(usageFor(args.topic));
      return 0;
    case 'version':
      process.stdout.write(`ftpkit ${version()}\n`);
      return 0;
    case 'probe': {
      const { probe, formatProbeReport } = await import('./probe.js');
      const report = await probe({
        url: args.url,
        timeoutMs: args.timeoutMs,
        pasv: args.pasv,
        epsv: args.epsv,
        list: args.list,
        ...(args.expectPorts === undefined
          ? {}
          : { expectPorts: args.expectPorts.split(',').map((p) => parsePortRangeArg(p, '--expect-ports', PROBE_USAGE)) }),
        ...(args.expectAddress === undefined ? {} : { expectAddress: args.expectAddress }),
      });
      process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatProbeReport(report));
      return report.ok ? 0 : 1;
    }
    case 'firewall': {
      const { runFirewall } = await import('./firewall-command.js');
      return runFirewall(args);
    }
    case 'check': {
      const { runCheck } = await import('./check.js');
      return runCheck(args);
    }
    case 'serve': {
      const { runServe } = await import('./serve.js');
      const code = await runServe(args);
      // Drained: nothing left worth waiting for (data sockets' linger timers included).
      process.exit(code);
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`ftpkit: ${err.message}\n\n${err.usage}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`ftpkit: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
