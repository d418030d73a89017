/**
 * FTP commands as `<Limit>` sees them (ProFTPD cmdtab groups, include/ftp.h): the
 * group of each command, the X-variants paired with their RFC 959 names, and the
 * commands `<Limit ALL>` does not cover (src/dirtree.c `dir_check_full`).
 */

/** `<Limit>` group names. `LOGIN` is the connection and the login, not a command. */
export const LIMIT_GROUPS: readonly string[] = ['READ', 'WRITE', 'DIRS', 'ALL', 'LOGIN'];

const GROUP_OF: Readonly<Record<string, 'READ' | 'WRITE' | 'DIRS'>> = {
  RETR: 'READ',
  SIZE: 'READ',
  SITE_CPFR: 'READ',
  APPE: 'WRITE',
  DELE: 'WRITE',
  MKD: 'WRITE',
  XMKD: 'WRITE',
  RMD: 'WRITE',
  XRMD: 'WRITE',
  // Reference §6.1: RNFR is WRITE in 1.3.8 (`<Limit WRITE> DenyAll` refuses it; old cmdtabs said DIRS).
  RNFR: 'WRITE',
  RNTO: 'WRITE',
  STOR: 'WRITE',
  STOU: 'WRITE',
  MFMT: 'WRITE',
  MFF: 'WRITE',
  SITE_CHMOD: 'WRITE',
  SITE_CHGRP: 'WRITE',
  SITE_MKDIR: 'WRITE',
  SITE_RMDIR: 'WRITE',
  SITE_SYMLINK: 'WRITE',
  SITE_UTIME: 'WRITE',
  SITE_CPTO: 'WRITE',
  CDUP: 'DIRS',
  XCUP: 'DIRS',
  CWD: 'DIRS',
  XCWD: 'DIRS',
  LIST: 'DIRS',
  MDTM: 'DIRS',
  MLSD: 'DIRS',
  MLST: 'DIRS',
  NLST: 'DIRS',
  PWD: 'DIRS',
  XPWD: 'DIRS',
  STAT: 'DIRS',
};

/** Commands `<Limit>` may name besides those with a group. */
const OTHER_COMMANDS = `ABOR ACCT ALLO AUTH CCC CLNT CSID EPRT EPSV FEAT HELP HOST LANG MODE NOOP OPTS PASS PASV PBSZ
PORT PROT QUIT RANG REIN REST SITE SMNT STRU SYST TYPE USER ADAT CONF ENC MIC`;

/** Every command name a `<Limit>` may list. */
export const LIMIT_COMMANDS: ReadonlySet<string> = new Set([...Object.keys(GROUP_OF), ...OTHER_COMMANDS.split(/\s+/).filter(Boolean)]);

/** Not covered by `<Limit ALL>`: they can be limited only by naming them. */
export const ALL_EXCLUDED: ReadonlySet<string> = new Set(['EPRT', 'EPSV', 'PASV', 'PORT', 'PROT', 'OPTS']);

const PAIRS: readonly (readonly [string, string])[] = [
  ['CDUP', 'XCUP'],
  ['CWD', 'XCWD'],
  ['MKD', 'XMKD'],
  ['PWD', 'XPWD'],
  ['RMD', 'XRMD'],
];

/** The command and its X-variant (or RFC 959 name), as `<Limit>` pairs them. */
export function pairedCommands(cmd: string): string[] {
  for (const [a, b] of PAIRS) if (cmd === a || cmd === b) return [a, b];
  return [cmd];
}

/** The `<Limit>` group of a command, if it has one. */
export function commandGroup(cmd: string): 'READ' | 'WRITE' | 'DIRS' | undefined {
  return GROUP_OF[cmd];
}

/** `SITE CHMOD` / `site chmod` → `SITE_CHMOD`; other verbs upper-cased. */
export function normalizeVerb(verb: string): string {
  return verb.trim().toUpperCase().replace(/\s+/g, '_');
}
