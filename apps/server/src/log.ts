/**
 * Logging: pino everywhere; JSON lines for log shippers, or one readable line per
 * record on a terminal (a small formatter instead of pino-pretty: the server logs flat
 * records with a message and a few fields, which needs no more than this).
 *
 * The messages themselves are ProFTPD's (reference/proftpd-behaviour.md) so the lines
 * operators already grep for keep working: `127.0.0.1:2121 masquerading as 203.0.113.7`,
 * `Refused PORT 1,2,3,4,234,96 (address mismatch)`, `unable to find open port in
 * PassivePorts range …`, `SECURITY VIOLATION: Passive connection from …`.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogFormat } from './args.js';

export type { Logger } from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields that are part of every record or shown in the prefix, never as key=value. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'session', 'client', 'event', 'v']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') {
    return JSON.stringify((v as { message: string }).message);
  }
  return JSON.stringify(v) ?? String(v);
}

/**
 * Format one pino record as `2026-11-24 05:30:42,413 INFO  [client#session] message key=value`.
 * The timestamp follows ProFTPD's log (local time, comma before the milliseconds).
 */
export function formatPrettyLine(record: Record<string, unknown>, colour = false): string {
  const time = typeof record['time'] === 'number' ? new Date(record['time']) : new Date(0);
  const stamp =
    `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ` +
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())},${pad(time.getMilliseconds(), 3)}`;
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  let name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  if (colour) name = `\u001b[${LEVEL_COLOURS[level] ?? '0'}m${name}\u001b[0m`;
  const who =
    record['client'] !== undefined
      ? ` ${String(record['client'])}${record['session'] !== undefined ? `#${String(record['session'])}` : ''}:`
      : '';
  const extras = Object.entries(record)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => {
      if (k === 'err' && v !== null && typeof v === 'object') {
        const e = v as { message?: unknown; stack?: unknown };
        return `err=${formatValue(e.message ?? v)}`;
      }
      return `${k}=${formatValue(v)}`;
    });
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  return `${stamp} ${name}${who} ${msg}${extras.length > 0 ? `  ${extras.join(' ')}` : ''}\n`;
}

/** A pino destination that turns each JSON record into a {@link formatPrettyLine}. */
export function prettyDestination(out: { write(s: string): unknown }, colour: boolean): DestinationStream {
  return {
    write(line: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(formatPrettyLine(record, colour));
    },
  };
}

export interface LoggerOptions {
  /** Default: pretty when `stream` is a terminal, JSON otherwise. */
  format?: LogFormat;
  level?: string;
  /** Where lines go (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
  /** Also append readable lines to this file (ProFTPD SystemLog). */
  file?: string;
}

/** The server's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stdout;
  const tty = stream.isTTY === true;
  const format = options.format ?? (tty ? 'pretty' : 'json');
  const base = { level: options.level ?? 'info', base: { pid: process.pid } };
  let dest: DestinationStream;
  if (format === 'pretty') dest = prettyDestination(stream, tty && process.env['NO_COLOR'] === undefined);
  else if (stream === process.stdout) dest = pino.destination({ fd: 1, sync: true });
  else if (stream === process.stderr) dest = pino.destination({ fd: 2, sync: true });
  else dest = stream;
  if (options.file !== undefined) {
    const file = prettyDestination(pino.destination({ dest: options.file, append: true, sync: true, mkdir: true }), false);
    const main = dest;
    dest = {
      write(line: string): void {
        main.write(line);
        file.write(line);
      },
    };
  }
  return pino(base, dest);
}
