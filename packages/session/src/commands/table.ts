/**
 * The command table: for each canonical verb of the @ftpkit/command catalogue that the
 * session implements, its handler and how the generic checks treat it. A verb the
 * catalogue knows but this table lacks is answered `502 <VERB> command not implemented`.
 *
 * Generic checks, in ProFTPD's order (reference §3.1-§3.4): TLSRequired (550/522, before
 * everything else as mod_tls's PRE_CMD handler), login (530), EPSV ALL (500,
 * PASV/PORT/EPRT only), argument count (501), path normalisation (501 for NUL),
 * `<Limit>` (§6.4 reply form per handler), read-only users (550), then the handler.
 */
import type { CommandSpec } from '@ftpkit/command';
import type { Session } from '../core.js';
import { eprt, epsv, pasv, port } from './data.js';
import { allo, clnt, feat, help, host, noop, opts, site, stat, syst } from './info.js';
import { notImplemented, pass, quit, user } from './login.js';
import { list, mlsd, mlst, nlst } from './list.js';
import { auth, ccc, pbsz, prot } from './security.js';
import { cdup, cwd, dele, mdtm, mfmt, mkd, pwd, rmd, rnfr, rnto, size } from './nav.js';
import { abor, appe, mode, rest, retr, stor, stou, stru, type } from './transfer.js';

/** One command as the handler sees it. */
export interface Cmd {
  /** Canonical verb (`PWD` for `XPWD`). */
  readonly verb: string;
  /** The verb as sent (upper-cased), used where ProFTPD echoes `cmd->argv[0]`. */
  readonly raw: string;
  /** Argument after one space, verbatim; undefined when absent or empty. */
  readonly arg: string | undefined;
  /** Normalised path of the argument (handlers with `path: true`), else the working directory. */
  readonly path: string;
  readonly spec: CommandSpec;
  /** The path of a preceding RNFR (only RNTO uses it). */
  readonly renameFrom: string | undefined;
}

export interface CommandHandler {
  readonly run: (s: Session, c: Cmd) => void | Promise<void>;
  /** The argument is a path: normalise it into `Cmd.path`. */
  readonly path?: boolean;
  /** Changes the file system: refused for read-only users. */
  readonly write?: boolean;
  /**
   * Reply form when `<Limit>` denies (§6.4): `data` → `501 <CMD>: Operation not
   * permitted`; `eacces` → `550 <arg|CMD>: Permission denied`; `host` → `504 <arg>:
   * Permission denied`; `eperm` (default) → `550 [<arg>: ]Operation not permitted`.
   */
  readonly denied?: 'data' | 'eacces' | 'host' | 'eperm';
  /** Refused first after `EPSV ALL` (RFC 2428 §4). */
  readonly epsvAll?: boolean;
  /** Not checked against `<Limit>` by the dispatcher (login sequence, QUIT, ABOR; or checked inside). */
  readonly noLimit?: boolean;
  /** FTPS command: `502` unless TLS is offered (SessionConfig.tls and a TLS-capable control channel). */
  readonly tls?: boolean;
  /** Opens a data connection: TLSRequired on data refuses it under PROT C (`522`). */
  readonly transfer?: boolean;
  /**
   * Known but not implemented, as in ProFTPD (ACCT, REIN): the handler answers 502 after
   * the generic checks, and HELP marks the verb with `*`.
   */
  readonly stub?: boolean;
}

export const HANDLERS: Readonly<Record<string, CommandHandler>> = {
  // RFC 959 §4.1.1 access control
  USER: { run: user, noLimit: true },
  PASS: { run: pass, noLimit: true },
  ACCT: { run: notImplemented, noLimit: true, stub: true },
  CWD: { run: cwd, path: true, denied: 'eacces' },
  CDUP: { run: cdup, denied: 'eacces' },
  REIN: { run: notImplemented, noLimit: true, stub: true },
  QUIT: { run: quit, noLimit: true },
  // RFC 959 §4.1.2 transfer parameters, RFC 2428
  PORT: { run: port, epsvAll: true, denied: 'data' },
  PASV: { run: pasv, epsvAll: true, denied: 'data' },
  EPRT: { run: eprt, epsvAll: true, denied: 'data' },
  EPSV: { run: epsv, denied: 'data' },
  TYPE: { run: type },
  STRU: { run: stru },
  MODE: { run: mode },
  // RFC 959 §4.1.3 service commands, RFC 3659
  RETR: { run: retr, transfer: true, path: true },
  STOR: { run: stor, transfer: true, path: true, write: true },
  STOU: { run: stou, transfer: true, write: true },
  APPE: { run: appe, transfer: true, path: true, write: true },
  ALLO: { run: allo },
  REST: { run: rest },
  RNFR: { run: rnfr, path: true, write: true },
  RNTO: { run: rnto, path: true, write: true },
  ABOR: { run: abor, noLimit: true },
  DELE: { run: dele, path: true, write: true },
  RMD: { run: rmd, path: true, write: true, denied: 'eacces' },
  MKD: { run: mkd, path: true, write: true, denied: 'eacces' },
  PWD: { run: pwd, denied: 'eacces' },
  LIST: { run: list, transfer: true },
  NLST: { run: nlst, transfer: true },
  MLSD: { run: mlsd, transfer: true, path: true },
  MLST: { run: mlst, path: true },
  SIZE: { run: size, path: true },
  MDTM: { run: mdtm, path: true },
  MFMT: { run: mfmt, write: true, noLimit: true }, // <Limit> checked on the path inside
  SITE: { run: site, noLimit: true }, // <Limit SITE_CHMOD> checked inside, on the path
  SYST: { run: syst },
  STAT: { run: stat },
  HELP: { run: help },
  NOOP: { run: noop },
  FEAT: { run: feat },
  OPTS: { run: opts },
  HOST: { run: host, noLimit: true }, // before login: <Limit HOST> checked inside
  CLNT: { run: clnt },
  // RFC 2228 §3 security extensions, RFC 4217 (FTPS)
  AUTH: { run: auth, tls: true, noLimit: true },
  PBSZ: { run: pbsz, tls: true },
  PROT: { run: prot, tls: true },
  CCC: { run: ccc, tls: true },
};
