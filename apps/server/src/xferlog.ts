/**
 * TransferLog in the xferlog(5) format of wu-ftpd and ProFTPD, one line per transfer,
 * so xferstats, webalizer, awstats, fail2ban and friends read it unchanged:
 *
 *   Tue Nov 24 07:30:42 2026 1 127.0.0.1 6 /path/file b _ o r user ftp 0 * c
 *   current-time transfer-time remote-host file-size filename transfer-type
 *   special-action-flag direction access-mode username service-name
 *   authentication-method authenticated-user-id completion-status
 *
 * As ProFTPD (src/xferlog.c): the time is local, `%a %b %02d %H:%M:%S %Y`; white space and
 * control characters in the file name become `_`; authentication method `0` and user id
 * `*` (no RFC 1413 ident); service `ftp` (or `ftps` on a TLS session).
 */
import { createWriteStream, type WriteStream } from 'node:fs';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export interface TransferRecord {
  /** When the transfer ended. */
  end: Date;
  durationMs: number;
  remoteAddress: string;
  bytes: number;
  /** The file's path as logged (ProFTPD logs the absolute path on disk; `/` paths of the user's view also work). */
  path: string;
  type: 'ascii' | 'binary';
  direction: 'outgoing' | 'incoming' | 'deleted';
  access: 'anonymous' | 'guest' | 'real';
  /** The user name; for anonymous logins, the password (e-mail address) given. */
  user: string;
  secure?: boolean;
  complete: boolean;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `Tue Nov 24 07:30:42 2026` in local time (or UTC), as ProFTPD's pr_strtime. */
export function formatXferlogTime(d: Date, utc = false): string {
  const [wd, mo, day, h, m, s, y] = utc
    ? [d.getUTCDay(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCFullYear()]
    : [d.getDay(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getFullYear()];
  return `${DAYS[wd]} ${MONTHS[mo]} ${pad2(day)} ${pad2(h)}:${pad2(m)}:${pad2(s)} ${y}`;
}

/** Replace what would break the space-separated format (ProFTPD: isspace/iscntrl -> `_`). */
function field(text: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = text.replace(/[\s\u0000-\u001f\u007f]/g, '_');
  return cleaned === '' ? '_' : cleaned;
}

/**
 * One xferlog line, without the trailing newline. The transfer time is in whole seconds,
 * rounded up and at least 1 (xferstats and others divide the size by it).
 */
export function formatXferlogLine(r: TransferRecord, options: { utc?: boolean } = {}): string {
  const seconds = Math.max(1, Math.ceil(r.durationMs / 1000));
  return [
    formatXferlogTime(r.end, options.utc ?? false),
    seconds,
    field(r.remoteAddress),
    Math.max(0, Math.trunc(r.bytes)),
    field(r.path),
    r.type === 'ascii' ? 'a' : 'b',
    '_',
    r.direction === 'outgoing' ? 'o' : r.direction === 'incoming' ? 'i' : 'd',
    r.access === 'anonymous' ? 'a' : r.access === 'guest' ? 'g' : 'r',
    field(r.user),
    r.secure === true ? 'ftps' : 'ftp',
    '0',
    '*',
    r.complete ? 'c' : 'i',
  ].join(' ');
}

/** An append-only TransferLog file. */
export interface TransferLog {
  write(record: TransferRecord): void;
  close(): Promise<void>;
}

/** Open (append, mode 0644) a TransferLog file. Errors are reported through `onError`. */
export function openTransferLog(path: string, onError: (err: Error) => void): TransferLog {
  const stream: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o644 });
  stream.on('error', onError);
  return {
    write(record) {
      stream.write(`${formatXferlogLine(record)}\n`);
    },
    close() {
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}
