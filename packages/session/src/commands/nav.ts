/**
 * Navigation and file management: PWD, CWD, CDUP, MKD, RMD, DELE, RNFR/RNTO
 * (RFC 959 §4.1.1, §4.1.3), SIZE, MDTM (RFC 3659 §3, §4), MFMT
 * (draft-somers-ftp-mfxx). Replies are ProFTPD's (mod_core).
 */
import { formatTimeVal, parseMfmtArg } from '@ftpkit/command';
import { quotePathname } from '@ftpkit/reply';
import { settingAt } from '../config.js';
import type { Session } from '../core.js';
import { PATH_LOOKUP_ERRORS, errorCode, fileErrorReply, strerror } from '../errors.js';

import { parentPath } from '../path.js';
import type { FileInfo, FileSystem } from '../ports.js';
import type { Cmd } from './table.js';

/** The logged-in user's file system (the login check ran before any handler here). */
export function userFs(s: Session): FileSystem {
  const fs = s.fs;
  if (fs === undefined) throw new Error('no file system before login');
  return fs;
}

/** Reply for a failed file operation on `arg` (550/553/452/552). */
export function fail(s: Session, arg: string, error: unknown): void {
  const r = fileErrorReply(arg, error);
  s.reply(r.code, r.text);
}

/** stat() that answers the error itself and returns undefined. */
export async function statOrFail(s: Session, path: string, arg: string): Promise<FileInfo | undefined> {
  try {
    return await userFs(s).stat(path);
  } catch (error) {
    fail(s, arg, error);
    return undefined;
  }
}

/** True when `path` exists (errors other than ENOENT count as existing, to stay safe). */
export async function exists(s: Session, path: string): Promise<boolean> {
  try {
    await userFs(s).stat(path);
    return true;
  } catch (error) {
    return (error as { code?: unknown } | undefined)?.code !== 'ENOENT';
  }
}

export function pwd(s: Session): void {
  s.reply(257, `${quotePathname(s.cwd)} is the current directory`);
}

/**
 * Whether the user may change into `path`, answering the refusal itself: the file
 * system's `enter` (chdir(2) semantics: search permission, ProFTPD's `550 <dir>:
 * Permission denied`) when it has one, else a stat that must say `dir`.
 */
async function enterOrFail(s: Session, path: string, arg: string): Promise<boolean> {
  const fs = userFs(s);
  if (fs.enter !== undefined) {
    try {
      await fs.enter(path);
      return true;
    } catch (error) {
      fail(s, arg, error);
      return false;
    }
  }
  const info = await statOrFail(s, path, arg);
  if (info === undefined) return false;
  if (info.type !== 'dir') {
    s.reply(550, `${arg}: Not a directory`);
    return false;
  }
  return true;
}

export async function cwd(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  const path = c.arg === undefined ? s.home : c.path;
  if (!(await enterOrFail(s, path, arg))) return;
  s.cwd = path;
  s.reply(250, `${c.raw} command successful`);
}

/**
 * CDUP: the parent of an existing directory exists; a file system with `enter` is still
 * asked whether the user may change into it (search permission).
 */
export function cdup(s: Session, c: Cmd): void | Promise<void> {
  const path = parentPath(s.cwd);
  const done = (): void => {
    s.cwd = path;
    s.reply(250, `${c.raw} command successful`);
  };
  if (userFs(s).enter === undefined) {
    done();
    return;
  }
  return enterOrFail(s, path, '..').then((ok) => {
    if (ok) done();
  });
}

export async function mkd(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  if (c.path === '/') {
    s.reply(550, `${arg}: File exists`);
    return;
  }
  try {
    await userFs(s).mkdir(c.path);
  } catch (error) {
    fail(s, arg, error);
    return;
  }
  s.reply(257, `${quotePathname(c.path)} - Directory successfully created`);
}

export async function rmd(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  if (c.path === '/') {
    // The session's root is in use (ProFTPD's rmdir(2) of its chroot: EBUSY).
    s.reply(550, `${arg}: Device or resource busy`);
    return;
  }
  try {
    await userFs(s).rmdir(c.path);
  } catch (error) {
    fail(s, arg, error);
    return;
  }
  s.reply(250, `${c.raw} command successful`);
}

export async function dele(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  if (c.path === '/') {
    s.reply(550, `${arg}: Is a directory`);
    return;
  }
  try {
    await userFs(s).unlink(c.path);
  } catch (error) {
    fail(s, arg, error);
    return;
  }
  s.reply(250, 'DELE command successful');
}

export async function rnfr(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  if (c.path === '/') {
    s.reply(550, `${arg}: Permission denied`);
    return;
  }
  const info = await statOrFail(s, c.path, arg);
  if (info === undefined) return;
  s.renameFrom = c.path;
  s.reply(350, 'File or directory exists, ready for destination name');
}

export async function rnto(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  const from = c.renameFrom;
  if (from === undefined) {
    s.reply(503, 'Bad sequence of commands');
    return;
  }
  if (c.path === '/') {
    s.reply(553, `${arg}: File name not allowed`);
    return;
  }
  if (c.path !== from && !settingAt(s.cfg, 'allowOverwrite', c.path) && (await exists(s, c.path))) {
    s.reply(550, `${arg}: Rename permission denied`);
    return;
  }
  try {
    await userFs(s).rename(from, c.path);
  } catch (error) {
    fail(s, arg, error);
    return;
  }
  s.reply(250, 'Rename successful');
}

/**
 * SIZE (RFC 3659 §4). In ASCII mode the size on the wire differs from the file's and
 * computing it means reading the whole file, so SIZE is refused as ProFTPD does
 * (`550 SIZE not allowed in ASCII mode`); clients send TYPE I first.
 */
export async function size(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  if (s.ascii) {
    s.reply(550, 'SIZE not allowed in ASCII mode');
    return;
  }
  const info = await statOrFail(s, c.path, arg);
  if (info === undefined) return;
  if (info.type !== 'file') {
    s.reply(550, `${arg}: not a regular file`);
    return;
  }
  s.reply(213, String(info.size));
}

/** MDTM (RFC 3659 §3): `213 YYYYMMDDHHMMSS` in UTC. */
export async function mdtm(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  const info = await statOrFail(s, c.path, arg);
  if (info === undefined) return;
  if (info.type !== 'file') {
    s.reply(550, `${arg}: not a plain file`);
    return;
  }
  s.reply(213, formatTimeVal(info.mtime));
}

/** A time-val's shape (RFC 3659 §2.3), whether or not the date exists. */
const TIME_SHAPE = /^\d{14}(?:\.\d+)?$/;

/** MFMT time-val path (draft-somers-ftp-mfxx §3): `213 Modify=<time-val>; <path>`. */
export async function mfmt(s: Session, c: Cmd): Promise<void> {
  const arg = c.arg ?? '';
  const parsed = parseMfmtArg(arg);
  const timeText = arg.slice(0, arg.indexOf(' '));
  if (!parsed.ok) {
    // ProFTPD names a time it cannot read, and the file for a date that does not exist.
    if (parsed.error.code === 'ERR_TIME_INVALID') {
      const named = TIME_SHAPE.test(timeText) ? arg.slice(timeText.length + 1) : timeText;
      s.reply(501, `${named}: ${strerror('EINVAL')}`);
    } else s.reply(parsed.error.replyCode, parsed.error.message);
    return;
  }
  const pathArg = parsed.value.path;
  const mtime = parsed.value.time;
  const path = s.resolve(pathArg);
  if (path === undefined) return;
  if (!s.allowed('MFMT', { ...c, path })) {
    s.reply(550, `${pathArg}: Operation not permitted`);
    return;
  }
  try {
    await userFs(s).setModificationTime(path, mtime);
  } catch (error) {
    // A path that leads nowhere is 550; a file whose time cannot be set is 501 (ProFTPD).
    if (PATH_LOOKUP_ERRORS.has(errorCode(error))) fail(s, pathArg, error);
    else s.reply(501, `${pathArg}: ${strerror(error)}`);
    return;
  }
  // The time as set: ProFTPD does not echo the fraction.
  s.reply(213, `Modify=${timeText.split('.')[0] as string}; ${pathArg}`);
}
