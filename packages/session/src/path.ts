/**
 * Virtual path normalisation: every path argument goes through here before any port
 * sees it.
 *
 * The user's file system is a tree rooted at `/` (DefaultRoot / chroot semantics):
 * - relative arguments are resolved against the working directory;
 * - `.` and empty segments vanish, `..` removes one segment and can never climb above
 *   `/` (`/../../etc` is `/etc`, inside the virtual root);
 * - `~` alone or `~/rest` is the user's home directory (ProFTPD expands `~` too);
 * - a NUL byte is refused (RFC 959 pathnames are NVT strings without NUL; a NUL would
 *   truncate the name in a C file system API);
 * - backslashes are ordinary characters (`a\b` is one name, never a separator).
 *
 * The result is absolute, has no trailing slash (except `/` itself) and no `.`/`..`
 * segment, which is the contract of {@link FileSystem}.
 */

export type PathResult = { ok: true; path: string } | { ok: false; reason: 'nul' };

/**
 * Resolve `arg` against `cwd` (itself normalised) and `home` (normalised).
 * Never throws on peer input.
 */
export function resolvePath(cwd: string, arg: string, home = '/'): PathResult {
  if (arg.includes('\0')) return { ok: false, reason: 'nul' };
  let base = cwd;
  let rest = arg;
  if (rest === '~' || rest.startsWith('~/')) {
    base = home;
    rest = rest.slice(1);
  } else if (rest.startsWith('/')) {
    base = '/';
  }
  if (rest === '' || rest === '.') return { ok: true, path: base };
  const out = base === '/' ? [] : base.slice(1).split('/');
  for (const segment of rest.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return { ok: true, path: '/' + out.join('/') };
}

/** The parent of a normalised path (`/` is its own parent). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a normalised path (`''` for `/`). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Join a normalised directory and one entry name. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
