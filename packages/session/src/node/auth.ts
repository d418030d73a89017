/**
 * `simpleAuthenticator`: a fixed list of users, each with a password (plain, compared in
 * constant time, or a verify function such as a crypt(3) or argon2 check) and a root
 * directory (ProFTPD `DefaultRoot ~`: the user sees their root as `/`), plus optional
 * anonymous access (ProFTPD `<Anonymous dir>`; read-only unless `writable`).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthenticatedUser, Authenticator, FileSystem } from '../ports.js';
import { localFileSystem } from './fs.js';

/** Verifies a password; may be asynchronous (a KDF). */
export type PasswordCheck = (password: string, user: string) => boolean | Promise<boolean>;

export interface SimpleUser {
  name: string;
  /** The password in plain text, or a function that checks one. */
  password: string | PasswordCheck;
  /** The host directory this user sees as `/`. */
  root: string;
  /** Groups, primary first. Default: `[name]`. */
  groups?: readonly string[];
  /** Start directory inside the root. Default `/`. */
  home?: string;
  /** Refuse every write with 550. Default `false`. */
  readOnly?: boolean;
}

export interface SimpleAuthenticatorOptions {
  users?: readonly SimpleUser[];
  /** Anonymous logins (`anonymous`/`ftp` with any password) on `root`; none when absent. */
  anonymous?: {
    root: string;
    /** USER names that log in anonymously. Default `anonymous`, `ftp`. */
    users?: readonly string[];
    /** Allow uploads and changes. Default `false`. */
    writable?: boolean;
  };
  /** Builds a user's file system from their root. Default: {@link localFileSystem} with defaults. */
  fileSystem?: (root: string, user: { name: string; anonymous: boolean }) => FileSystem;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of two passwords of any length. */
export function samePassword(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

async function passwordMatches(user: SimpleUser, password: string): Promise<boolean> {
  if (typeof user.password === 'string') return samePassword(password, user.password);
  try {
    return (await user.password(password, user.name)) === true;
  } catch {
    return false;
  }
}

/**
 * An {@link Authenticator} over a fixed list of users. File systems are built once per
 * user, on first login, and shared by that user's sessions.
 *
 * @throws TypeError `ERR_AUTH_OPTION_INVALID` for duplicate or nameless users.
 */
export function simpleAuthenticator(options: SimpleAuthenticatorOptions): Authenticator {
  const users = new Map<string, SimpleUser>();
  for (const u of options.users ?? []) {
    if (typeof u.name !== 'string' || u.name === '' || users.has(u.name)) {
      throw Object.assign(new TypeError(`simpleAuthenticator: user names must be unique and non-empty (${String(u.name)})`), {
        code: 'ERR_AUTH_OPTION_INVALID',
      });
    }
    users.set(u.name, u);
  }
  const anonymous = options.anonymous;
  const anonymousNames = new Set((anonymous?.users ?? ['anonymous', 'ftp']).map((n) => n.toLowerCase()));
  const make = options.fileSystem ?? ((root: string): FileSystem => localFileSystem({ root }));
  const fileSystems = new Map<string, FileSystem>();
  const fsFor = (key: string, root: string, name: string, isAnonymous: boolean): FileSystem => {
    let fs = fileSystems.get(key);
    if (fs === undefined) {
      fs = make(root, { name, anonymous: isAnonymous });
      fileSystems.set(key, fs);
    }
    return fs;
  };
  return {
    async authenticate(request): Promise<AuthenticatedUser | undefined> {
      if (anonymous !== undefined && anonymousNames.has(request.user.toLowerCase())) {
        return {
          name: request.user,
          groups: ['ftp'],
          anonymous: true,
          fileSystem: fsFor('\0anonymous', anonymous.root, request.user, true),
          readOnly: anonymous.writable !== true,
        };
      }
      const user = users.get(request.user);
      if (user === undefined) {
        // Same work as a real check, so timing does not tell which names exist.
        samePassword(request.password, request.user);
        return undefined;
      }
      if (!(await passwordMatches(user, request.password))) return undefined;
      const result: AuthenticatedUser = {
        name: user.name,
        groups: user.groups ?? [user.name],
        anonymous: false,
        fileSystem: fsFor(user.name, user.root, user.name, false),
        readOnly: user.readOnly ?? false,
      };
      if (user.home !== undefined) result.home = user.home;
      return result;
    },
  };
}
