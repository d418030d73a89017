/**
 * The command catalogue: every verb of RFC 959, RFC 775 (the X* aliases), RFC 2228,
 * RFC 2389, RFC 2428, RFC 2640, RFC 3659 and RFC 7151, plus the few widely used drafts
 * ProFTPD implements (MFMT, MFF, CLNT). For each: whether it needs a login, whether its
 * argument is required, optional or forbidden, its FEAT line, its ProFTPD `<Limit>` group
 * and its HELP text. The session and FEAT read this one table.
 *
 * `<Limit>` groups (ProFTPD include/ftp.h and the module command tables; reference §6.1):
 * `READ`, `WRITE` and `DIRS` are ProFTPD's groups; `LOGIN` marks the login sequence; `MISC`
 * is everything else that `<Limit ALL>` covers; `NONE` is what `<Limit ALL>` skips and only a
 * `<Limit>` naming the command limits: PASV, EPSV, PORT, EPRT, PROT and OPTS
 * (dirtree.c `dir_check_full`).
 *
 * `needsLogin` follows ProFTPD's `requires_auth` (530 before login; TYPE is accepted
 * before login, as mod_xfer's table says); `implemented` says
 * whether ftpkit's session implements the verb (a known but unimplemented verb gets 502,
 * RFC 959 §4.2; an unknown one 500).
 */
import { asciiUpper } from './parse.js';

/** ProFTPD `<Limit>` group of a command (see the module comment). */
export type CommandGroup = 'READ' | 'WRITE' | 'DIRS' | 'LOGIN' | 'MISC' | 'NONE';

/** Whether a command takes an argument (RFC 959 §5.3.1 syntax). */
export type ArgumentRule = 'required' | 'optional' | 'none';

/** What the catalogue knows about one verb. */
export interface CommandSpec {
  /** Canonical verb, upper case (`PWD`, never `XPWD`). */
  verb: string;
  /** Refused with `530 Please login with USER and PASS` before login. */
  needsLogin: boolean;
  /** `required`: 501 without one; `none`: 501 with one; `optional`: either. */
  arg: ArgumentRule;
  /** ftpkit's session implements it; otherwise the answer is 502. */
  implemented: boolean;
  /** The FEAT line (RFC 2389 §3.2) without its leading space, when the verb advertises one. */
  feat?: string;
  group: CommandGroup;
  /** Other verbs for the same command (RFC 775: `XPWD` for `PWD`, …). */
  aliases?: string[];
  /** Where it is specified, e.g. `RFC 959 §4.1.1`. */
  rfc: string;
  /** HELP text: the syntax, as `214 Syntax: <help>` shows it. */
  help: string;
}

type Row = [
  verb: string,
  needsLogin: boolean,
  arg: ArgumentRule,
  implemented: boolean,
  group: CommandGroup,
  rfc: string,
  help: string,
  feat?: string | undefined,
  aliases?: string[],
];

const T = true;
const F = false;

// prettier-ignore
const ROWS: Row[] = [
  // RFC 959 §4.1.1 access control commands. Where ProFTPD's handler answers a missing
  // argument itself (USER, TYPE, STRU, MODE, ALLO, SITE: `500 USER: command requires a
  // parameter`, `500 'TYPE' not understood`, …), the rule is `optional` and the handler
  // (or its argument parser) gives that reply. NOOP ignores an argument, as ProFTPD does.
  ['USER', F, 'optional', T, 'LOGIN', 'RFC 959 §4.1.1', 'USER <sp> username'],
  // An empty password is legal for anonymous logins; PASS alone is accepted.
  ['PASS', F, 'optional', T, 'LOGIN', 'RFC 959 §4.1.1', 'PASS <sp> password'],
  ['ACCT', F, 'optional', T, 'LOGIN', 'RFC 959 §4.1.1', 'ACCT <sp> account'],
  ['CWD', T, 'required', T, 'DIRS', 'RFC 959 §4.1.1', 'CWD <sp> pathname', undefined, ['XCWD']],
  ['CDUP', T, 'none', T, 'DIRS', 'RFC 959 §4.1.1', 'CDUP (up one directory)', undefined, ['XCUP']],
  ['SMNT', T, 'required', F, 'MISC', 'RFC 959 §4.1.1', 'SMNT <sp> pathname'],
  ['REIN', F, 'none', T, 'MISC', 'RFC 959 §4.1.1', 'REIN (reinitialize server state)'],
  ['QUIT', F, 'none', T, 'MISC', 'RFC 959 §4.1.1', 'QUIT (close control connection)'],
  // RFC 959 §4.1.2 transfer parameter commands; RFC 2428
  ['PORT', T, 'required', T, 'NONE', 'RFC 959 §4.1.2', 'PORT <sp> h1,h2,h3,h4,p1,p2'],
  ['PASV', T, 'none', T, 'NONE', 'RFC 959 §4.1.2', 'PASV (returns address/port)'],
  ['EPRT', T, 'required', T, 'NONE', 'RFC 2428 §2', 'EPRT <sp> |proto|addr|port|', 'EPRT'],
  ['EPSV', T, 'optional', T, 'NONE', 'RFC 2428 §3', 'EPSV [<sp> proto|ALL] (returns port |||port|)', 'EPSV'],
  ['TYPE', F, 'optional', T, 'MISC', 'RFC 959 §4.1.2', 'TYPE <sp> type-code (A, I, L 8)'],
  ['STRU', T, 'optional', T, 'MISC', 'RFC 959 §4.1.2', 'STRU <sp> F (only F is supported)'],
  ['MODE', T, 'optional', T, 'MISC', 'RFC 959 §4.1.2', 'MODE <sp> S (only S is supported)'],
  // RFC 959 §4.1.3 service commands
  ['RETR', T, 'required', T, 'READ', 'RFC 959 §4.1.3', 'RETR <sp> pathname'],
  ['STOR', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'STOR <sp> pathname'],
  ['STOU', T, 'optional', T, 'WRITE', 'RFC 959 §4.1.3', 'STOU (store unique filename)'],
  ['APPE', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'APPE <sp> pathname'],
  ['ALLO', T, 'optional', T, 'MISC', 'RFC 959 §4.1.3', 'ALLO <sp> size [<sp> R <sp> size]'],
  ['REST', T, 'required', T, 'MISC', 'RFC 959 §4.1.3, RFC 3659 §5', 'REST <sp> byte-count', 'REST STREAM'],
  ['RNFR', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'RNFR <sp> pathname'],
  ['RNTO', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'RNTO <sp> pathname'],
  ['ABOR', T, 'none', T, 'MISC', 'RFC 959 §4.1.3', 'ABOR (abort current operation)'],
  ['DELE', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'DELE <sp> pathname'],
  ['RMD', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'RMD <sp> pathname', undefined, ['XRMD']],
  ['MKD', T, 'required', T, 'WRITE', 'RFC 959 §4.1.3', 'MKD <sp> pathname', undefined, ['XMKD']],
  ['PWD', T, 'none', T, 'DIRS', 'RFC 959 §4.1.3', 'PWD (returns current working directory)', undefined, ['XPWD']],
  ['LIST', T, 'optional', T, 'DIRS', 'RFC 959 §4.1.3', 'LIST [<sp> pathname]'],
  ['NLST', T, 'optional', T, 'DIRS', 'RFC 959 §4.1.3', 'NLST [<sp> pathname]'],
  ['SITE', T, 'optional', T, 'MISC', 'RFC 959 §4.1.3', 'SITE <sp> string'],
  ['SYST', F, 'none', T, 'MISC', 'RFC 959 §4.1.3', 'SYST (returns system type)'],
  ['STAT', T, 'optional', T, 'DIRS', 'RFC 959 §4.1.3', 'STAT [<sp> pathname]'],
  ['HELP', F, 'optional', T, 'MISC', 'RFC 959 §4.1.3', 'HELP [<sp> command]'],
  ['NOOP', F, 'optional', T, 'MISC', 'RFC 959 §4.1.3', 'NOOP (no operation)'],
  // RFC 2228 security extensions
  ['AUTH', F, 'required', F, 'MISC', 'RFC 2228 §3', 'AUTH <sp> mechanism-name', 'AUTH TLS'],
  ['ADAT', F, 'required', F, 'MISC', 'RFC 2228 §3', 'ADAT <sp> base64-data'],
  ['PBSZ', F, 'required', F, 'MISC', 'RFC 2228 §3', 'PBSZ <sp> protection-buffer-size', 'PBSZ'],
  ['PROT', F, 'required', F, 'NONE', 'RFC 2228 §3', 'PROT <sp> protection-code', 'PROT'],
  ['CCC', F, 'none', F, 'MISC', 'RFC 2228 §3', 'CCC (clear command channel)'],
  ['MIC', F, 'required', F, 'MISC', 'RFC 2228 §3', 'MIC <sp> base64-data'],
  ['CONF', F, 'required', F, 'MISC', 'RFC 2228 §3', 'CONF <sp> base64-data'],
  ['ENC', F, 'required', F, 'MISC', 'RFC 2228 §3', 'ENC <sp> base64-data'],
  // RFC 2389 feature negotiation. FEAT and OPTS are not listed in FEAT (RFC 2389 §3.2); the
  // UTF8 feature of RFC 2640 §3.2 is switched with OPTS UTF8, so it rides on OPTS.
  ['FEAT', F, 'none', T, 'MISC', 'RFC 2389 §3', 'FEAT (list extended features)'],
  ['OPTS', F, 'required', T, 'NONE', 'RFC 2389 §4', 'OPTS <sp> command [<sp> options]', 'UTF8'],
  // RFC 2640 internationalization
  ['LANG', F, 'optional', F, 'MISC', 'RFC 2640 §4.1', 'LANG [<sp> language-tag]', 'LANG EN*'],
  // RFC 3659 extensions
  ['MDTM', T, 'required', T, 'DIRS', 'RFC 3659 §3', 'MDTM <sp> pathname', 'MDTM'],
  ['SIZE', T, 'required', T, 'READ', 'RFC 3659 §4', 'SIZE <sp> pathname', 'SIZE'],
  ['MLST', T, 'optional', T, 'DIRS', 'RFC 3659 §7', 'MLST [<sp> pathname]', 'MLST type*;size*;modify*;perm*;'],
  ['MLSD', T, 'optional', T, 'DIRS', 'RFC 3659 §7', 'MLSD [<sp> pathname]'],
  // RFC 7151 virtual hosts
  ['HOST', F, 'required', T, 'MISC', 'RFC 7151 §3', 'HOST <sp> hostname', 'HOST'],
  // Drafts ProFTPD implements
  ['MFMT', T, 'required', T, 'WRITE', 'draft-somers-ftp-mfxx §3', 'MFMT <sp> YYYYMMDDHHMMSS <sp> pathname', 'MFMT'],
  ['MFF', T, 'required', F, 'WRITE', 'draft-somers-ftp-mfxx §5', 'MFF <sp> fact=value; <sp> pathname', 'MFF modify;'],
  ['CLNT', F, 'required', T, 'MISC', 'ProFTPD mod_core', 'CLNT <sp> client-name', 'CLNT'],
];

function toSpec([verb, needsLogin, arg, implemented, group, rfc, help, feat, aliases]: Row): CommandSpec {
  const spec: CommandSpec = { verb, needsLogin, arg, implemented, group, rfc, help };
  if (feat !== undefined) spec.feat = feat;
  if (aliases !== undefined) spec.aliases = aliases;
  return Object.freeze(spec);
}

/** The catalogue, keyed by canonical verb, in RFC order. Aliases are in `spec.aliases`. */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(ROWS.map((r) => [r[0], toSpec(r)]));

const BY_NAME = new Map<string, CommandSpec>();
for (const spec of COMMANDS.values()) {
  BY_NAME.set(spec.verb, spec);
  for (const alias of spec.aliases ?? []) BY_NAME.set(alias, spec);
}

/**
 * The spec of a verb or alias, in any case: `lookupCommand('xpwd')` is the `PWD` spec.
 * `undefined` for a verb the catalogue does not know (answer `500 <VERB> not understood`).
 */
export function lookupCommand(verb: string): CommandSpec | undefined {
  return BY_NAME.get(verb) ?? BY_NAME.get(asciiUpper(verb));
}

/**
 * The FEAT lines (RFC 2389 §3.2, without the leading space) of the catalogue's commands
 * that `include` accepts (default: the implemented ones), sorted and without duplicates,
 * ready for `encodeReply(211, ['Features:', ...lines, 'End'])`.
 */
export function featLines(include: (spec: CommandSpec) => boolean = (s) => s.implemented): string[] {
  const lines = new Set<string>();
  for (const spec of COMMANDS.values()) if (spec.feat !== undefined && include(spec)) lines.add(spec.feat);
  return [...lines].sort();
}

/** A SITE subcommand (RFC 959 §4.1.3 leaves them to the server; these are ProFTPD's). */
export interface SiteCommandSpec {
  /** Subcommand, upper case. */
  name: string;
  /** The name `<Limit>` uses for it (`SITE_CHMOD`). */
  limitName: string;
  group: CommandGroup;
  arg: ArgumentRule;
  help: string;
}

/** ProFTPD's core SITE subcommands (mod_site). */
export const SITE_COMMANDS: ReadonlyMap<string, SiteCommandSpec> = new Map(
  (
    [
      ['CHMOD', 'WRITE', 'required', 'SITE CHMOD <sp> mode <sp> pathname'],
      ['CHGRP', 'WRITE', 'required', 'SITE CHGRP <sp> group <sp> pathname'],
      ['HELP', 'MISC', 'optional', 'SITE HELP [<sp> site-command]'],
    ] as const
  ).map(([name, group, arg, help]) => [name, Object.freeze({ name, limitName: `SITE_${name}`, group, arg, help })]),
);
