/**
 * File access for @ftpkit/config: reading the configuration with `Include` (files,
 * directories, globs in any path component), `%{env:NAME}` from the process
 * environment, and the AuthUserFile/AuthGroupFile readers.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { globMatch, isGlob } from '@ftpkit/classes';
import {
  parseAuthGroupFile,
  parseAuthUserFile,
  parseConfig,
  type AuthFileResult,
  type AuthGroup,
  type AuthUser,
  type IncludeCallback,
  type IncludedFile,
  type ParseConfigResult,
} from '../index.js';

/** Options of `loadConfigFile`. */
export interface LoadConfigOptions {
  /** `-D NAME` definitions for `<IfDefine>`. */
  readonly defines?: readonly string[];
  /** Values for `%{env:NAME}` (default: `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directives ftpkit does not implement become warnings. */
  readonly lenient?: boolean;
  /**
   * Resolve absolute Include paths under this directory (checking a copy of
   * `/etc/proftpd` elsewhere: `root: '/tmp/copy'` makes `Include /etc/proftpd/x.conf`
   * read `/tmp/copy/etc/proftpd/x.conf`).
   */
  readonly root?: string;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Expands a path whose components may hold globs (`/etc/proftpd/*.d/*.conf`); sorted. */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split(sep);
  let bases = [parts[0] === '' ? sep : parts[0] as string];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!isGlob(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (!(n.startsWith('.') && !part.startsWith('.')) && globMatch(part, n)) next.push(join(base, n));
    }
    bases = next;
  }
  return bases.sort();
}

/**
 * The include callback for the real file system (ProFTPD `Include` semantics: a file,
 * every file of a directory, or a glob; sorted). With `root`, absolute patterns are
 * looked up below it.
 */
export function fileSystemInclude(root?: string): IncludeCallback {
  return (pattern, fromFile) => includeFrom(isAbsolute(pattern) ? (root !== undefined ? join(root, pattern) : pattern) : resolve(dirname(fromFile), pattern));
}

function includeFrom(full: string): { ok: true; files: IncludedFile[] } | { ok: false; message: string } {
  const read = (paths: string[]): IncludedFile[] => paths.filter(isFile).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  try {
    if (isGlob(full)) return { ok: true, files: read(expandGlob(full)) };
    if (isDir(full)) {
      const names = readdirSync(full).sort();
      return { ok: true, files: read(names.map((n) => join(full, n))) };
    }
    if (!isFile(full)) return { ok: false, message: `${full}: no such file or directory` };
    return { ok: true, files: read([full]) };
  } catch (e) {
    return { ok: false, message: `${full}: ${(e as Error).message}` };
  }
}

/**
 * Reads and parses a configuration file with its Includes. Never throws for a bad or
 * missing file: the problem is an error diagnostic.
 */
export function loadConfigFile(path: string, opts: LoadConfigOptions = {}): ParseConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      errors: [{ severity: 'error', code: 'ERR_CONFIG_INCLUDE', file: path, line: 0, message: `cannot read the configuration: ${err.code ?? err.message}`, fix: 'check the path and its permissions' }],
      warnings: [],
    };
  }
  return parseConfig(text, {
    file: path,
    include: fileSystemInclude(opts.root),
    defines: opts.defines,
    env: opts.env ?? process.env,
    lenient: opts.lenient,
  });
}

function readAuthFile<T>(path: string, parse: (text: string, file: string) => AuthFileResult<T>, what: string): AuthFileResult<T> {
  try {
    const st = statSync(path);
    if (st.mode & 0o002) {
      return { entries: [], errors: [{ severity: 'error', code: 'ERR_AUTHFILE_PERMISSIONS', file: path, line: 0, message: `unable to use world-writable ${what}`, fix: `chmod o-w ${path}` }] };
    }
    return parse(readFileSync(path, 'utf8'), path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { entries: [], errors: [{ severity: 'error', code: 'ERR_AUTHFILE_READ', file: path, line: 0, message: `cannot read ${what}: ${err.code ?? err.message}`, fix: `create it with ftpasswd, or fix ${what}` }] };
  }
}

/** Reads an AuthUserFile (passwd format). A world-writable file is refused, as ProFTPD does. */
export function loadAuthUserFile(path: string): AuthFileResult<AuthUser> {
  return readAuthFile(path, parseAuthUserFile, 'AuthUserFile');
}

/** Reads an AuthGroupFile (group format). */
export function loadAuthGroupFile(path: string): AuthFileResult<AuthGroup> {
  return readAuthFile(path, parseAuthGroupFile, 'AuthGroupFile');
}
