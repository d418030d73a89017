/**
 * `<Directory>` matching, as ProFTPD does it (src/dirtree.c `dir_match_path`,
 * `recur_match_path`, `_reorder_dirs`/`_find_best_dir`, `resolve_deferred_dirs`;
 * modules/mod_core.c `add_directory`).
 *
 * Theory of operation:
 * - Paths. A section's path is made absolute once per session (`directoryTree`):
 *   inside `<Anonymous>` a relative path is joined to the anonymous root (ProFTPD keeps
 *   the root beside the section, `add_directory`); `~` and `~/x` stand for the
 *   logged-in user's home, `~user/x` for that user's, and `%u` for the user name
 *   (ProFTPD resolves these after login, `resolve_deferred_dirs`). A section whose path
 *   cannot be resolved (an unknown user) matches nothing, as in ProFTPD.
 * - Nesting. Each section hangs below the deepest other section whose path, without
 *   trailing `*` and `/`, is a prefix of its own at a `/` boundary (`_find_best_dir`):
 *   `/srv/ftp/pub/incoming` lives below `/srv/ftp/pub` or `/srv/ftp/*`.
 * - Matching a path (`recur_match_path`; the path first loses a trailing `*` and `/`):
 *   siblings are tried in check order (last-defined first: ProFTPD inserts contexts at
 *   the head of their set). A section matches when its path equals the path, or the
 *   path matches `<dir>/*` (just `<dir>` when that already ends in `/*`), or the
 *   section's path is itself a glob that matches the path (Bug#3491). Globs are
 *   fnmatch without FNM_PATHNAME: `*` also matches `/`, so `<Directory /pub>` covers
 *   `/pub` and its whole subtree, and `<Directory /pub/*>` the subtree without `/pub`.
 *   The first match wins, unless one of its children matches too (the closer match).
 * - The `<Limit>` walk over the result (`dir_check_limits`, limit.ts): the matched
 *   section, its parents up the nesting, then `<Anonymous>`, then the server.
 * - Settings (`directorySettings`): ProFTPD copies each setting down into the sections
 *   below (`merge_down`) and reads it from the matched section (`get_param_ptr(CURRENT_CONF,
 *   …)`), so a key comes from the matched section, else the nearest parent that sets
 *   it; keys no section sets are the session's (`<Anonymous>`, then the server).
 */
import { globMatch, isGlob } from '@ftpkit/classes';
import type { DirectorySection, DirectorySettings } from './model.js';

/** What a session knows to make `<Directory>` paths absolute. */
export interface DirectoryPlace {
  /** The `<Anonymous>` root (absolute), for relative paths; absent outside `<Anonymous>`. */
  readonly anonymousRoot?: string | undefined;
  /** The logged-in user's name (`%u`). */
  readonly user?: string | undefined;
  /** The logged-in user's home (`~`, `~/x`). */
  readonly home?: string | undefined;
  /** Another user's home (`~user/x`), undefined when there is no such user. */
  readonly homeOf?: ((user: string) => string | undefined) | undefined;
}

/** One section in the nesting, with its absolute path (a glob). */
export interface DirectoryNode {
  readonly section: DirectorySection;
  readonly path: string;
  readonly parent: DirectoryNode | undefined;
  readonly children: readonly DirectoryNode[];
}

/** The `<Directory>` sections of a session, nested as ProFTPD nests them. */
export interface DirectoryTree {
  /** Top-level sections, in check order. */
  readonly top: readonly DirectoryNode[];
  /** Sections whose path could not be resolved (they match nothing). */
  readonly unresolved: readonly DirectorySection[];
}

/** Backslash-escapes glob characters, for a literal path (a root or a home) inside a pattern. */
function literal(path: string): string {
  return path.replace(/[\\*?[\]{}]/g, (c) => `\\${c}`);
}

/**
 * Lexically normalises an absolute path or pattern: one `/` between components, `.`
 * and `..` resolved, no trailing `/` (except for `/` itself).
 */
export function normalizeDirectoryPath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** `~`, `~/x`, `~user/x` with their homes (undefined when unknown); other paths unchanged. */
export function expandTilde(path: string, place: DirectoryPlace): string | undefined {
  if (!path.startsWith('~')) return path;
  const slash = path.indexOf('/');
  const name = path.slice(1, slash < 0 ? undefined : slash);
  const rest = slash < 0 ? '' : path.slice(slash);
  const home = name === '' ? place.home : place.homeOf?.(name);
  return home === undefined ? undefined : `${home}${rest}`;
}

/**
 * The absolute path (glob) of a `<Directory>` path in a session, or undefined when it
 * cannot be resolved (no home for `~`, an unknown `~user`, a relative path outside
 * `<Anonymous>`). Roots and homes are taken literally.
 */
export function directoryPath(path: string, place: DirectoryPlace): string | undefined {
  let p = place.user === undefined ? path : path.replace(/%u/g, place.user);
  if (p.startsWith('~')) {
    const slash = p.indexOf('/');
    const head = expandTilde(slash < 0 ? p : p.slice(0, slash), place);
    if (head === undefined) return undefined;
    p = literal(head) + (slash < 0 ? '' : p.slice(slash));
  } else if (!p.startsWith('/')) {
    const root = place.anonymousRoot === undefined ? undefined : expandTilde(place.anonymousRoot, place);
    if (root === undefined) return undefined;
    p = `${literal(root)}/${p}`;
  }
  const star = p.endsWith('/*');
  const base = normalizeDirectoryPath(star ? p.slice(0, -2) : p);
  return star ? `${base === '/' ? '' : base}/*` : base;
}

/** The path without trailing `*` and `/` characters (what `_find_best_dir` compares). */
function trimmed(path: string): string {
  return path.replace(/[*/]+$/, '');
}

/** Builds the nesting of a session's sections (given in check order). */
export function directoryTree(sections: readonly DirectorySection[], place: DirectoryPlace): DirectoryTree {
  interface Mutable {
    section: DirectorySection;
    path: string;
    parent: Mutable | undefined;
    children: Mutable[];
  }
  const nodes: Mutable[] = [];
  const unresolved: DirectorySection[] = [];
  for (const section of sections) {
    const path = directoryPath(section.path, place);
    if (path === undefined) unresolved.push(section);
    else nodes.push({ section, path, parent: undefined, children: [] });
  }
  // Parent: the deepest other section below which this one lies. Ranking by (trimmed
  // length, length) keeps `/pub/*` below `/pub` and rules out cycles.
  const rank = (n: Mutable): [number, number] => [trimmed(n.path).length, n.path.length];
  const below = (a: Mutable, b: Mutable): boolean => {
    const [at, al] = rank(a);
    const [bt, bl] = rank(b);
    return at < bt || (at === bt && al < bl);
  };
  for (const n of nodes) {
    let best: Mutable | undefined;
    for (const c of nodes) {
      if (c === n || !below(c, n)) continue;
      const prefix = trimmed(c.path);
      const ok = n.path.startsWith(prefix) && (n.path.length === prefix.length || n.path[prefix.length] === '/' || prefix === '');
      if (ok && (best === undefined || below(best, c))) best = c;
    }
    n.parent = best;
  }
  for (const n of nodes) n.parent?.children.push(n);
  return { top: nodes.filter((n) => n.parent === undefined), unresolved };
}

/** Does one section's absolute path match `path` (normalised)? */
function sectionMatches(pattern: string, path: string): boolean {
  if (pattern === path) return true;
  const suffixed = pattern.endsWith('/*') ? pattern : pattern === '/' ? '/*' : `${pattern}/*`;
  return globMatch(suffixed, path) || (isGlob(pattern) && globMatch(pattern, path));
}

function closest(nodes: readonly DirectoryNode[], path: string): DirectoryNode | undefined {
  for (const n of nodes) {
    if (sectionMatches(n.path, path)) return closest(n.children, path) ?? n;
  }
  return undefined;
}

/**
 * The `<Directory>` sections that apply to an absolute path: the matched section
 * first, then its parents up the nesting; empty when none matches.
 */
export function matchDirectory(tree: DirectoryTree, path: string): readonly DirectorySection[] {
  if (tree.top.length === 0) return [];
  const p = normalizeDirectoryPath(path.endsWith('*') ? path.slice(0, -1) : path);
  const chain: DirectorySection[] = [];
  for (let n = closest(tree.top, p); n !== undefined; n = n.parent) chain.push(n.section);
  return chain;
}

const NO_SETTINGS: DirectorySettings = Object.freeze({});

/**
 * The `<Directory>` settings that apply to an absolute path (the file's for STOR, RETR,
 * RNTO…, the new directory's for MKD, as ProFTPD's `dir_check` is given): each key from
 * the matched section, else from the nearest parent that sets it. Keys no section sets
 * are absent; the same frozen empty object when none applies.
 */
export function directorySettings(tree: DirectoryTree, path: string): DirectorySettings {
  let out: Record<string, unknown> | undefined;
  for (const section of matchDirectory(tree, path)) {
    if (section.settings === undefined) continue;
    for (const [key, value] of Object.entries(section.settings)) {
      if (value === undefined || (out !== undefined && key in out)) continue;
      (out ??= {})[key] = value;
    }
  }
  return out === undefined ? NO_SETTINGS : (out as DirectorySettings);
}
