/**
 * `ftpkit serve --workers N`: N server processes on one machine (node:cluster) sharing
 * the control port, each with its own part of every PassivePorts range.
 *
 * Theory of operation.
 * - The primary process loads the configuration once (a broken one stops it before any
 *   fork), writes the PidFile and forks N workers. Worker i gets `FTPKIT_WORKER=i/N` and
 *   runs the ordinary server over part i of N of every PassivePorts range (of this
 *   instance's part, with `--passive-partition`): two workers never advertise the same
 *   passive port, and each binds its passive ports itself (exclusive listeners).
 * - Control connections are accepted by the primary and handed to the workers in turn
 *   (cluster.SCHED_RR); a session then lives in one worker.
 * - A worker that exits while the server runs is replaced by a new one with the same part
 *   of the range; the other workers and their sessions are not touched. One that dies
 *   again within a few seconds of its start is restarted after a growing delay (to 30 s).
 * - SIGHUP goes to every worker (each reloads; open sessions keep their configuration).
 *   SIGTERM/SIGINT: no more replacements, SIGTERM to every worker (each drains), exit when
 *   all have. Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process group;
 *   the primary decides) and drain when the primary goes away.
 * - MaxClients, MaxClientsPerHost and MaxInstances count per worker.
 */
import cluster, { type Worker } from 'node:cluster';
import { rmSync, writeFileSync } from 'node:fs';
import type { ServeArgs } from './args.js';
import { createLogger } from './log.js';

/** The environment variable that makes `ftpkit serve` a cluster worker: `index/count`, index from 0. */
export const WORKER_ENV = 'FTPKIT_WORKER';

/** This process's place among the workers (index from 0). */
export interface WorkerSlot {
  readonly index: number;
  readonly count: number;
}

/** The slot of this process when it is a cluster worker started by {@link runPrimary}. */
export function workerSlot(env: NodeJS.ProcessEnv = process.env): WorkerSlot | undefined {
  if (!cluster.isWorker) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(env[WORKER_ENV] ?? '');
  if (m === null) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return index < count ? { index, count } : undefined;
}

/** The message a worker sends once its listeners are bound. */
export const READY_MESSAGE = 'ftpkit:ready';

/** A worker's life shorter than this counts as a failed start (the next restart waits). */
const STABLE_MS = 5000;
const MAX_DELAY_MS = 30_000;

export interface PrimaryOptions {
  workers: number;
  pidFile?: string;
  systemLog?: string;
}

/** Run the primary process: fork, replace, pass signals on. Resolves with the exit code. */
export function runPrimary(args: ServeArgs, options: PrimaryOptions): Promise<number> {
  const { workers, pidFile } = options;
  const logger = createLogger({
    ...(args.logFormat === undefined ? {} : { format: args.logFormat }),
    level: args.logLevel,
    ...(options.systemLog === undefined ? {} : { file: options.systemLog }),
  });
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const slots: (Worker | undefined)[] = Array.from({ length: workers }, () => undefined);
  const startedAt: number[] = Array.from({ length: workers }, () => 0);
  const delays: number[] = Array.from({ length: workers }, () => 0);
  const timers = new Set<NodeJS.Timeout>();
  let stopping = false;

  const fork = (index: number): void => {
    const w = cluster.fork({ [WORKER_ENV]: `${index}/${workers}` });
    const pid = w.process.pid ?? 0;
    const name = `worker ${index + 1}/${workers}`;
    slots[index] = w;
    startedAt[index] = Date.now();
    w.on('message', (m: unknown) => {
      if (m === READY_MESSAGE) logger.info({ worker: index + 1, workerPid: pid }, `${name} ready (pid ${pid})`);
    });
    w.on('exit', (code, signal) => {
      if (slots[index] === w) slots[index] = undefined;
      if (stopping) return;
      const lived = Date.now() - (startedAt[index] ?? 0);
      const delay = lived >= STABLE_MS ? 0 : Math.min(MAX_DELAY_MS, Math.max(250, (delays[index] ?? 0) * 2));
      delays[index] = delay;
      const how = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      logger.warn({ worker: index + 1, workerPid: pid }, `${name} (pid ${pid}) exited with ${how}; starting a new one${delay > 0 ? ` in ${delay} ms` : ''}`);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopping) fork(index);
      }, delay);
      timers.add(timer);
    });
  };

  if (pidFile !== undefined) {
    try {
      writeFileSync(pidFile, `${process.pid}\n`);
    } catch (err) {
      logger.error(`unable to write PidFile '${pidFile}': ${(err as Error).message}`);
    }
  }
  logger.info(`ftpkit: starting ${workers} workers`);
  for (let i = 0; i < workers; i++) fork(i);

  return new Promise<number>((resolve) => {
    const live = (): Worker[] => slots.filter((w): w is Worker => w !== undefined);
    const hup = (): void => {
      logger.info('received SIGHUP: the workers reload the configuration');
      for (const w of live()) w.process.kill('SIGHUP');
    };
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn(`received ${signal} again: stopping the workers now`);
        for (const w of live()) w.process.kill('SIGKILL');
        process.exit(1);
      }
      stopping = true;
      for (const t of timers) clearTimeout(t);
      const all = live();
      logger.info(`received ${signal}: draining ${all.length} worker(s)`);
      let left = all.length;
      const done = (): void => {
        if (pidFile !== undefined) rmSync(pidFile, { force: true });
        process.off('SIGHUP', hup);
        logger.info('ftpkit stopped');
        resolve(0);
      };
      if (left === 0) {
        done();
        return;
      }
      for (const w of all) {
        w.once('exit', () => {
          if (--left === 0) done();
        });
        w.process.kill('SIGTERM');
      }
    };
    process.on('SIGHUP', hup);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
