/**
 * `AuthUserFile` and `AuthGroupFile` (mod_auth_file): passwd(5)- and group(5)-format
 * files as `ftpasswd` writes them. Pure parsers; @ftpkit/config/node reads the files
 * and verifies the crypt(3) hashes.
 *
 *   user:  name:password-hash:uid:gid:gecos:home:shell
 *   group: name:password:gid:member1,member2
 */
import type { ConfigDiagnostic } from './diagnostics.js';

/** One account of an AuthUserFile. */
export interface AuthUser {
  readonly name: string;
  /** crypt(3) hash: `$1$…` MD5, `$5$…`/`$6$…` SHA-crypt, `$2y$…` bcrypt; `*`/`!`… lock the account. */
  readonly passwordHash: string;
  readonly uid: number;
  readonly gid: number;
  readonly gecos: string;
  readonly home: string;
  readonly shell: string;
  readonly line: number;
}

/** One group of an AuthGroupFile. */
export interface AuthGroup {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
  readonly line: number;
}

/** Parsed file: the entries and one diagnostic per bad line (bad lines are skipped). */
export interface AuthFileResult<T> {
  readonly entries: readonly T[];
  readonly errors: readonly ConfigDiagnostic[];
}

function lines(text: string): { text: string; line: number }[] {
  return text
    .split(/\r?\n/)
    .map((t, i) => ({ text: t, line: i + 1 }))
    .filter((l) => l.text.trim() !== '' && !l.text.startsWith('#'));
}

function idField(v: string): number | undefined {
  return /^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff ? Number(v) : undefined;
}

function diag(file: string, line: number, code: string, message: string, fix: string): ConfigDiagnostic {
  return { severity: 'error', code, file, line, message, fix };
}

/** Parses an AuthUserFile. Duplicate names: the first entry is used and the later ones reported. */
export function parseAuthUserFile(text: string, file: string): AuthFileResult<AuthUser> {
  const entries: AuthUser[] = [];
  const errors: ConfigDiagnostic[] = [];
  const seen = new Map<string, number>();
  for (const l of lines(text)) {
    const f = l.text.split(':');
    if (f.length !== 7) {
      errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', `line has ${f.length} fields, expected 7 (name:password:uid:gid:gecos:home:shell)`, 'recreate the entry with ftpasswd --passwd'));
      continue;
    }
    const [name, hash, uid, gid, gecos, home, shell] = f as [string, string, string, string, string, string, string];
    const u = idField(uid);
    const g = idField(gid);
    if (name === '') errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', 'empty user name', 'give the account a name'));
    else if (u === undefined || g === undefined) errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', `user ${name}: uid '${uid}' and gid '${gid}' must be numbers`, 'write numeric ids, e.g. 1001:1001'));
    else if (!home.startsWith('/')) errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', `user ${name}: home '${home}' is not an absolute path`, 'write the full path of the home directory'));
    else if (seen.has(name)) errors.push(diag(file, l.line, 'ERR_AUTHFILE_DUPLICATE', `user ${name} is listed again (first on line ${seen.get(name)}); the first entry is used`, 'remove one of the entries'));
    else {
      seen.set(name, l.line);
      entries.push({ name, passwordHash: hash, uid: u, gid: g, gecos, home, shell, line: l.line });
    }
  }
  return { entries, errors };
}

/** Parses an AuthGroupFile. */
export function parseAuthGroupFile(text: string, file: string): AuthFileResult<AuthGroup> {
  const entries: AuthGroup[] = [];
  const errors: ConfigDiagnostic[] = [];
  for (const l of lines(text)) {
    const f = l.text.split(':');
    if (f.length !== 4) {
      errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', `line has ${f.length} fields, expected 4 (name:password:gid:members)`, 'recreate the entry with ftpasswd --group'));
      continue;
    }
    const [name, , gid, members] = f as [string, string, string, string];
    const g = idField(gid);
    if (name === '' || g === undefined) {
      errors.push(diag(file, l.line, 'ERR_AUTHFILE_FORMAT', `group '${name}': needs a name and a numeric gid, got '${gid}'`, 'write name:x:1001:member1,member2'));
      continue;
    }
    entries.push({ name, gid: g, members: members.split(',').map((m) => m.trim()).filter(Boolean), line: l.line });
  }
  return { entries, errors };
}

/** The group names of a user: the primary group (by gid) first, then the groups listing the user. */
export function groupsOf(user: Pick<AuthUser, 'name' | 'gid'>, groups: readonly AuthGroup[]): string[] {
  const out: string[] = [];
  const primary = groups.find((g) => g.gid === user.gid);
  if (primary) out.push(primary.name);
  for (const g of groups) if (g.members.includes(user.name) && !out.includes(g.name)) out.push(g.name);
  return out;
}
