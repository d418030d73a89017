/**
 * `ftpkit serve`: load the configuration (file or flags), start the server, and run
 * the process the way an operator expects: PidFile, privilege drop after binding,
 * SIGHUP reload, SIGTERM/SIGINT drain.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { formatDiagnostic } from '@ftpkit/config';
import type { ServeArgs } from './args.js';
import { createLogger, type Logger } from './log.js';
import { loadConfig, type LoadedConfig } from './load-config.js';
import { READY_MESSAGE, runPrimary, workerSlot, type WorkerSlot } from './cluster.js';
import type { PassiveLayout, PassivePart } from './resources.js';
import { FtpkitServer } from './server.js';

/**
 * Passive ports of this process: the instance's part (--passive-partition), then the
 * worker's; share mode from --passive-share or `PassivePortsShared on`.
 */
function passiveLayout(args: ServeArgs, slot: WorkerSlot | undefined, sharedByConfig: boolean): PassiveLayout {
  const parts: PassivePart[] = [];
  if (args.scale.partition !== undefined) parts.push(args.scale.partition);
  if (slot !== undefined) parts.push(slot);
  return {
    ...(parts.length > 0 ? { parts } : {}),
    ...(args.scale.share || sharedByConfig ? { share: true } : {}),
    ...(args.scale.expose.length > 0 ? { expose: args.scale.expose } : {}),
  };
}

function load(args: ServeArgs, logger?: Logger): LoadedConfig {
  const loaded = loadConfig(args, args.flags, process.cwd());
  if (logger !== undefined) for (const w of loaded.warnings) logger.warn(formatDiagnostic(w));
  return loaded;
}

/** Drop root privileges to `User`/`Group` once the listeners are bound. */
function dropPrivileges(user: string | undefined, group: string | undefined, logger: Logger): void {
  if (process.getuid?.() !== 0 || (user === undefined && group === undefined)) return;
  try {
    if (group !== undefined) process.setgid?.(group);
    if (user !== undefined) {
      (process as { initgroups?: (u: string, g: string) => void }).initgroups?.(user, group ?? user);
      process.setuid?.(user);
    }
    logger.info(`running as user ${user ?? '(unchanged)'}, group ${group ?? '(unchanged)'}`);
  } catch (err) {
    logger.fatal({ err }, `unable to switch to user ${user ?? ''} / group ${group ?? ''}: ${(err as Error).message}`);
    throw err;
  }
}

function connectHint(loaded: Extract<LoadedConfig, { ok: true }>, server: FtpkitServer): string | undefined {
  const flags = loaded.flags;
  if (flags === undefined) return undefined;
  const a = server.addresses()[0];
  if (a === undefined) return undefined;
  const host = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host.includes(':') ? `[${a.host}]` : a.host;
  const who = flags.users.length > 0 ? `${flags.users[0]?.name ?? 'user'}:<password>@` : '';
  const access = flags.users.length > 0 ? `users ${flags.users.map((u) => u.name).join(', ')}${flags.anonymous ? ' and anonymous (read-only)' : ''}` : 'anonymous, read-only';
  return `serving ${flags.root} (${access}); connect with: ftp://${who}${host}:${a.port}/  (e.g. curl ftp://${host}:${a.port}/ or lftp -p ${a.port} ${host})`;
}

/** Run until drained. Resolves with the exit code. */
export async function runServe(args: ServeArgs): Promise<number> {
  if (args.config === undefined) {
    // The embedded default serves a folder that must exist.
    const { configFromFlags } = await import('./defaults.js');
    mkdirSync(configFromFlags({ ...args.flags, users: [] }, process.cwd()).root, { recursive: true });
  }
  const slot = workerSlot();
  const workers = args.scale.workers ?? 1;
  const first = load(args);
  if (!first.ok) {
    const warnings = first.warnings.map((w) => `${formatDiagnostic(w)}\n`).join('');
    process.stderr.write(`${first.errors.join('\n')}\n${warnings}ftpkit: the configuration has errors; not starting\n`);
    return 1;
  }
  if (workers > 1 && slot === undefined) {
    // The primary of --workers: the workers log the warnings and serve.
    const { pidFile, systemLog } = first.config.daemon;
    return runPrimary(args, { workers, ...(pidFile === undefined ? {} : { pidFile }), ...(systemLog === undefined ? {} : { systemLog }) });
  }
  const root = createLogger({
    ...(args.logFormat === undefined ? {} : { format: args.logFormat }),
    level: args.logLevel,
    ...(first.config.daemon.systemLog === undefined ? {} : { file: first.config.daemon.systemLog }),
  });
  const logger = slot === undefined ? root : root.child({ worker: slot.index + 1 });
  for (const w of first.warnings) logger.warn(formatDiagnostic(w));
  const server = new FtpkitServer({
    logger,
    ...(args.flags.exhaustion === undefined ? {} : { exhaustion: args.flags.exhaustion }),
    ...(args.flags.passivePerClient === undefined ? {} : { passivePerClient: args.flags.passivePerClient }),
    passive: passiveLayout(args, slot, first.config.daemon.passivePortsShared === true),
  });
  try {
    await server.apply({ config: first.config, source: first.source, ...(first.flags === undefined ? {} : { flagUsers: first.flags.users }) });
  } catch (err) {
    logger.fatal(`ftpkit: ${(err as Error).message}`);
    return 1;
  }
  // Under --workers the primary writes the PidFile.
  const pidFile = slot === undefined ? first.config.daemon.pidFile : undefined;
  if (pidFile !== undefined) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`);
    } catch (err) {
      logger.error(`unable to write PidFile '${pidFile}': ${(err as Error).message}`);
    }
  }
  try {
    dropPrivileges(first.config.daemon.user, first.config.daemon.group, logger);
  } catch {
    await server.drain(0);
    return 1;
  }
  logger.info({ source: first.source }, `configuration loaded from ${first.source}`);
  const hint = connectHint(first, server);
  if (hint !== undefined) logger.info(hint);
  if (slot !== undefined) process.send?.(READY_MESSAGE);

  let reloading = Promise.resolve();
  const reload = (): void => {
    reloading = reloading.then(async () => {
      logger.info('received SIGHUP: reloading the configuration');
      const next = load(args, logger);
      if (!next.ok) {
        for (const e of next.errors) logger.error(e);
        logger.error('reload failed: keeping the current configuration');
        return;
      }
      try {
        await server.apply({ config: next.config, source: next.source, ...(next.flags === undefined ? {} : { flagUsers: next.flags.users }) });
        logger.info(`configuration reloaded from ${next.source}; ${server.sessions} open session(s) keep theirs`);
      } catch (err) {
        logger.error(`reload failed: ${(err as Error).message}; keeping the current configuration`);
      }
    });
  };

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn(`received ${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      logger.info(`received ${signal}: no new connections; draining ${server.sessions} session(s) (up to ${args.drainTimeoutMs / 1000} s)`);
      void server.drain(args.drainTimeoutMs).then(() => {
        if (pidFile !== undefined) rmSync(pidFile, { force: true });
        logger.info('ftpkit stopped');
        process.off('SIGHUP', reload);
        resolve(0);
      });
    };
    process.on('SIGHUP', reload);
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (slot === undefined) process.on('SIGINT', () => stop('SIGINT'));
    else {
      // A worker: Ctrl-C reaches the whole process group, the primary decides; without it, drain.
      process.on('SIGINT', () => undefined);
      process.once('disconnect', () => stop('disconnect from the primary process'));
    }
  });
}
