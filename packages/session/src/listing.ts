/**
 * Directory listing formats: LIST (`ls -l` lines as ProFTPD's mod_ls writes them),
 * NLST (bare names) and MLSD/MLST entries (RFC 3659 §7 facts; time-vals and the
 * OPTS MLST / FEAT forms come from @ftpkit/command).
 *
 * All times are UTC (ProFTPD's `TimesGMT on` default), so a listing does not depend on
 * the server's time zone and the core needs no platform clock beyond `now`.
 */
import { formatTimeVal } from '@ftpkit/command';
import type { FileInfo } from './ports.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
/** ls(1) shows the year instead of the time for files older than six months. */
const SIX_MONTHS_MS = 180 * 24 * 3600 * 1000;
/** …or more than an hour in the future (clock skew). */
const FUTURE_SLACK_MS = 3600 * 1000;

function pad(value: number, width: number, fill = '0'): string {
  return String(value).padStart(width, fill);
}

/** `drwxr-xr-x`-style type and permission string (with setuid/setgid/sticky letters). */
export function modeString(type: FileInfo['type'], mode: number): string {
  const typeChar = type === 'dir' ? 'd' : type === 'link' ? 'l' : type === 'other' ? 'p' : '-';
  const bit = (mask: number, char: string): string => ((mode & mask) !== 0 ? char : '-');
  const exec = (xMask: number, specialMask: number, on: string, off: string): string => {
    const x = (mode & xMask) !== 0;
    if ((mode & specialMask) !== 0) return x ? on : off;
    return x ? 'x' : '-';
  };
  return (
    typeChar +
    bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't', 'T')
  );
}

/** `Nov 24 05:30` or, for old/future files, `Nov 24  2019` (ls(1), UTC). */
export function lsTime(mtime: number, now: number): string {
  const d = new Date(mtime);
  const head = `${MONTHS[d.getUTCMonth()] ?? 'Jan'} ${pad(d.getUTCDate(), 2, ' ')}`;
  if (mtime < now - SIX_MONTHS_MS || mtime > now + FUTURE_SLACK_MS) {
    return `${head}  ${d.getUTCFullYear()}`;
  }
  return `${head} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}`;
}

/**
 * A small memo of a pure function of one number: a directory's entries share a few modes
 * and, mostly, a few minutes, so a 1 000-line LIST formats each once. Cleared when full.
 */
class Memo {
  readonly #values = new Map<number, string>();
  constructor(
    private readonly limit: number,
    private readonly compute: (key: number) => string,
  ) {}

  get(key: number): string {
    let v = this.#values.get(key);
    if (v === undefined) {
      if (this.#values.size >= this.limit) this.#values.clear();
      v = this.compute(key);
      this.#values.set(key, v);
    }
    return v;
  }
}

const TYPES: readonly FileInfo['type'][] = ['file', 'dir', 'link', 'other'];
const TYPE_INDEX: Readonly<Record<FileInfo['type'], number>> = { file: 0, dir: 1, link: 2, other: 3 };
/** Key: type index × 0o10000 + permission bits. */
const modes = new Memo(4096, (key) => modeString(TYPES[Math.floor(key / 0o10000)] ?? 'file', key % 0o10000));
const MINUTE_MS = 60_000;
/** Keyed by the minute of mtime: lsTime shows nothing finer, in either form. */
const recentTimes = new Memo(4096, (minute) => lsTime(minute * MINUTE_MS, minute * MINUTE_MS));
const yearTimes = new Memo(4096, (minute) => lsTime(minute * MINUTE_MS, Number.NEGATIVE_INFINITY));

/** {@link lsTime} through the memos. */
function lsTimeOf(mtime: number, now: number): string {
  if (!Number.isSafeInteger(mtime)) return lsTime(mtime, now);
  const minute = Math.floor(mtime / MINUTE_MS);
  return mtime < now - SIX_MONTHS_MS || mtime > now + FUTURE_SLACK_MS ? yearTimes.get(minute) : recentTimes.get(minute);
}

/**
 * One `LIST` line, as ProFTPD's mod_ls writes it
 * (`%s %3d %-8s %-8s %8llu %s %s`):
 * `-rw-r--r--   1 ftp      ftp             6 Nov 24 05:30 hello.txt`.
 * Unknown owners fall back to the numeric id, then to `ftp`.
 */
export function formatListLine(info: FileInfo, now: number, name: string = info.name): string {
  const owner = info.owner ?? (info.uid !== undefined ? String(info.uid) : 'ftp');
  const group = info.group ?? (info.gid !== undefined ? String(info.gid) : 'ftp');
  const nlink = info.nlink ?? 1;
  const mode = info.mode & 0o7777;
  const perms = mode === info.mode ? modes.get((TYPE_INDEX[info.type] ?? 0) * 0o10000 + mode) : modeString(info.type, info.mode);
  return (
    `${perms} ${String(nlink).padStart(3)} ` +
    `${owner.padEnd(8)} ${group.padEnd(8)} ${String(info.size).padStart(8)} ` +
    `${lsTimeOf(info.mtime, now)} ${name}`
  );
}

/**
 * MLSx facts the session knows (RFC 3659 §7.5 plus the UNIX.* facts ProFTPD offers), in
 * the order ProFTPD 1.3.8's mod_facts writes them in entries and lists them in FEAT.
 */
export const MLST_FACTS: readonly string[] = [
  'modify', 'perm', 'size', 'type', 'unique',
  'UNIX.group', 'UNIX.groupname', 'UNIX.mode', 'UNIX.owner', 'UNIX.ownername',
];

/** Facts selected when the client has not sent `OPTS MLST` (RFC 3659 §7.8): all of them, as ProFTPD. */
export const DEFAULT_MLST_FACTS: readonly string[] = MLST_FACTS;

/**
 * RFC 3659 §7.5.5 `perm` fact, from the mode bits and whether the user may write, with
 * ProFTPD's letters and order: `adfrw` for a writable file, `flcdmpe` for a writable
 * directory, `r` and `fle` (ProFTPD's letters for a directory it cannot write) when the
 * user may only read.
 */
export function permFact(info: FileInfo, writable: boolean): string {
  const ownerWrite = writable && (info.mode & 0o200) !== 0;
  if (info.type === 'dir') return ownerWrite ? 'flcdmpe' : 'fle';
  let perm = (info.mode & 0o400) !== 0 ? 'r' : '';
  if (ownerWrite) perm = 'adf' + perm + 'w';
  return perm;
}

/**
 * One MLSx entry: `fact=value;…; name` (RFC 3659 §7.2). `typeOverride` gives `cdir`
 * for the listed directory itself and `pdir` for its parent (RFC 3659 §7.5.1).
 */
export function formatMlsxEntry(
  info: FileInfo,
  facts: readonly string[],
  writable: boolean,
  name: string,
  typeOverride?: string,
): string {
  let out = '';
  for (const fact of facts) {
    switch (fact) {
      case 'type':
        out += `type=${typeOverride ?? mlsxType(info)};`;
        break;
      case 'size':
        // ProFTPD gives no size for directories (cdir, pdir and dir entries).
        if (info.type !== 'dir') out += `size=${info.size};`;
        break;
      case 'modify':
        out += `modify=${formatTimeVal(info.mtime)};`;
        break;
      case 'perm':
        out += `perm=${permFact(info, writable)};`;
        break;
      case 'unique':
        if (info.unique !== undefined) out += `unique=${info.unique};`;
        break;
      case 'UNIX.mode':
        out += `UNIX.mode=0${(info.mode & 0o7777).toString(8).padStart(3, '0')};`;
        break;
      case 'UNIX.owner':
        if (info.uid !== undefined) out += `UNIX.owner=${info.uid};`;
        break;
      case 'UNIX.group':
        if (info.gid !== undefined) out += `UNIX.group=${info.gid};`;
        break;
      case 'UNIX.ownername':
        if (info.owner !== undefined) out += `UNIX.ownername=${info.owner};`;
        break;
      case 'UNIX.groupname':
        if (info.group !== undefined) out += `UNIX.groupname=${info.group};`;
        break;
    }
  }
  return `${out} ${name}`;
}

function mlsxType(info: FileInfo): string {
  switch (info.type) {
    case 'dir':
      return 'dir';
    case 'file':
      return 'file';
    case 'link':
      return 'OS.unix=symlink';
    default:
      return 'OS.unix=special';
  }
}

/** Options of `LIST`/`NLST`/`STAT` arguments that ProFTPD's mod_ls tolerates. */
export interface ListArgs {
  /** `-a`/`-A`: show names starting with `.` */
  all: boolean;
  /** `-R`: list subdirectories too, as `ls -R` (LIST only). */
  recursive: boolean;
  /** The path operand, if any (flags removed). */
  path: string | undefined;
}

/**
 * Split `LIST -la dir` into flags and operand. Like ProFTPD (and `ls`), leading words
 * starting with `-` are options; unknown option letters are ignored (clients send
 * `-l`, `-a`, `-la`, `-R`…). `--` ends the options.
 */
export function parseListArgs(arg: string | undefined): ListArgs {
  let all = false;
  let recursive = false;
  if (arg === undefined) return { all, recursive, path: undefined };
  let rest = arg;
  while (rest.startsWith('-')) {
    const space = rest.indexOf(' ');
    const word = space === -1 ? rest : rest.slice(0, space);
    rest = space === -1 ? '' : rest.slice(space + 1).replace(/^ +/, '');
    if (word === '--') break;
    if (word.includes('a') || word.includes('A')) all = true;
    if (word.includes('R')) recursive = true;
  }
  return { all, recursive, path: rest === '' ? undefined : rest };
}

/** True when a name contains glob characters (`*`, `?`, `[`). */
export function hasGlob(name: string): boolean {
  return /[*?[]/.test(name);
}

/**
 * fnmatch(3)-style match of one name against a pattern with `*`, `?` and `[...]`
 * (`[!...]` negates). Linear in practice: backtracks only to the last `*`.
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starN = n;
      continue;
    }
    if (pc !== undefined) {
      const step = matchOne(pattern, p, name[n] as string);
      if (step > 0) {
        p += step;
        n++;
        continue;
      }
    }
    if (starP === -1) return false;
    p = starP + 1;
    n = ++starN;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Length of the pattern item at `p` when it matches `ch`, else 0. */
function matchOne(pattern: string, p: number, ch: string): number {
  const pc = pattern[p];
  if (pc === '?') return 1;
  if (pc !== '[') return pc === ch ? 1 : 0;
  const close = pattern.indexOf(']', p + 2);
  if (close === -1) return ch === '[' ? 1 : 0;
  let body = pattern.slice(p + 1, close);
  const negate = body.startsWith('!') || body.startsWith('^');
  if (negate) body = body.slice(1);
  let hit = false;
  for (let i = 0; i < body.length; i++) {
    const lo = body[i] as string;
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const hi = body[i + 2] as string;
      if (ch >= lo && ch <= hi) hit = true;
      i += 2;
    } else if (lo === ch) {
      hit = true;
    }
  }
  return hit !== negate ? close - p + 1 : 0;
}
