/**
 * uid/gid → user and group names for listings (`ls -l` owner and group columns, MLSx
 * `UNIX.owner`), read from /etc/passwd and /etc/group once, on first use, and shared by
 * every file system of the process. An unreadable or absent file yields numeric names.
 */
import { readFile } from 'node:fs/promises';

export interface OwnerNames {
  user(uid: number): string;
  group(gid: number): string;
}

/** Parses `name:x:id:…` lines (passwd(5), group(5)) into id → first name. */
export function parseIdFile(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const name = fields[0];
    const id = Number(fields[2]);
    if (name === undefined || name === '' || !Number.isInteger(id) || out.has(id)) continue;
    out.set(id, name);
  }
  return out;
}

async function readIds(file: string): Promise<Map<number, string>> {
  try {
    return parseIdFile(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
}

function lookup(table: Map<number, string>): (id: number) => string {
  return (id) => table.get(id) ?? String(id);
}

const cache = new Map<string, Promise<OwnerNames>>();

/** The names from `passwd`/`group` files (default the system's), loaded once per pair of paths. */
export function ownerNames(passwd = '/etc/passwd', group = '/etc/group'): Promise<OwnerNames> {
  const key = `${passwd}\0${group}`;
  let hit = cache.get(key);
  if (hit === undefined) {
    hit = Promise.all([readIds(passwd), readIds(group)]).then(([users, groups]) => ({ user: lookup(users), group: lookup(groups) }));
    cache.set(key, hit);
  }
  return hit;
}

/** Numeric names, for file systems created with `ownerNames: false`. */
export const NUMERIC_OWNERS: OwnerNames = { user: String, group: String };
