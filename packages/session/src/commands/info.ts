/**
 * Informational and miscellaneous commands: FEAT (RFC 2389), OPTS (RFC 2389 §4, RFC 2640
 * §3.3 UTF8, RFC 3659 §7.9 MLST), HELP, SYST, NOOP, ALLO, STAT (RFC 959 §4.1.3),
 * SITE CHMOD/HELP, CLNT and HOST (RFC 7151). Replies are ProFTPD's.
 */
import {
  COMMANDS,
  SITE_COMMANDS,
  formatMlstFeat,
  formatMlstOptsReply,
  lookupCommand,
  parseAlloArg,
  parseHostArg,
  parseMlstOptions,
  parseOptsArg,
  parseUtf8Option,
  selectMlstFacts,
} from '@ftpkit/command';
import { canonicalAddress, ipv4Of, isNativeIpv6 } from '../address.js';
import type { Session } from '../core.js';
import { PATH_LOOKUP_ERRORS, errorCode, strerror } from '../errors.js';
import { MLST_FACTS } from '../listing.js';
import { statusListing } from './list.js';
import { fail, userFs } from './nav.js';
import { HANDLERS, type Cmd } from './table.js';

export function noop(s: Session): void {
  s.reply(200, s.transfer === undefined ? 'NOOP command successful' : 'NOOP: data transfer in progress');
}

export function syst(s: Session): void {
  s.reply(215, 'UNIX Type: L8');
}

/** ALLO (RFC 959 §4.1.3): nothing to reserve; the argument is checked as ProFTPD's mod_xfer does. */
export function allo(s: Session, c: Cmd): void {
  const parsed = parseAlloArg(c.arg);
  if (!parsed.ok) {
    s.reply(parsed.error.replyCode, parsed.error.message);
    return;
  }
  s.reply(202, 'No storage allocation necessary');
}

export function clnt(s: Session): void {
  s.reply(200, 'OK');
}

/**
 * FEAT (RFC 2389 §3): the catalogue's feature lines of the commands this session
 * implements, minus those `<Limit>` hides (featHidden), sorted as ProFTPD lists them.
 */
export function feat(s: Session): void {
  const hidden = s.cfg.featHidden;
  const lines = new Set<string>();
  for (const spec of COMMANDS.values()) {
    if (spec.feat === undefined || hidden.has(spec.verb) || !s.implemented(spec.verb)) continue;
    if (spec.verb === 'MLST') lines.add(formatMlstFeat(MLST_FACTS, s.mlstFacts));
    else if (spec.feat !== 'UTF8' || s.cfg.useUtf8) lines.add(spec.feat);
  }
  lines.add('TVFS'); // RFC 3659 §6: virtual paths are '/'-separated from one root.
  // RFC 4217 §6: CCC is announced only where it is accepted.
  if (s.implemented('CCC') && s.cfg.tls?.allowCcc === true && s.control.clearTls !== undefined) lines.add('CCC');
  s.reply(211, ['Features:', ...[...lines].sort(), 'End']);
}

/** OPTS UTF8 ON|OFF (RFC 2640 §3.3, draft-ietf-ftpext-utf-8-option), OPTS MLST (RFC 3659 §7.9). */
export function opts(s: Session, c: Cmd): void {
  const parsed = parseOptsArg(c.arg);
  if (!parsed.ok) {
    s.reply(parsed.error.replyCode, parsed.error.message);
    return;
  }
  const { command, options } = parsed.value;
  if (command === 'UTF8' && s.cfg.useUtf8) {
    const on = parseUtf8Option(options);
    if (!on.ok) {
      s.reply(on.error.replyCode, on.error.message);
      return;
    }
    // Names are always UTF-8 on the wire (RFC 2640 §2.2); the option is acknowledged.
    s.reply(200, `UTF8 set to ${on.value ? 'on' : 'off'}`);
    return;
  }
  if (command === 'MLST') {
    const requested = parseMlstOptions(options);
    s.mlstFacts = selectMlstFacts(requested, MLST_FACTS);
    // ProFTPD echoes the facts in the order asked for (entries keep its own order); with
    // a fact list that selects nothing it keeps the space after `OPTS`, without one it does not.
    const text = formatMlstOptsReply(orderAsked(requested, s.mlstFacts));
    s.reply(200, options === undefined ? text.trimEnd() : text);
    return;
  }
  s.reply(500, `OPTS ${command} not understood`);
}

/** The `selected` facts in the order of `requested` (case-insensitive names), once each. */
function orderAsked(requested: readonly string[], selected: readonly string[]): string[] {
  const byLower = new Map(selected.map((f) => [f.toLowerCase(), f]));
  const out = new Set<string>();
  for (const r of requested) {
    const f = byLower.get(r.toLowerCase());
    if (f !== undefined) out.add(f);
  }
  return [...out];
}

/**
 * The HELP listing in ProFTPD 1.3.8's order (its modules' command tables: mod_core, the
 * RFC 2228 stubs, mod_xfer, mod_auth, mod_ls, mod_site, mod_facts). Verbs ProFTPD does not
 * list there (MFMT, MFF, LANG, ADAT) still answer `HELP <verb>`.
 */
const HELP_ORDER: readonly string[] = [
  'CWD', 'XCWD', 'CDUP', 'XCUP', 'SMNT', 'QUIT', 'PORT', 'PASV', 'EPRT', 'EPSV', 'ALLO', 'RNFR', 'RNTO', 'DELE',
  'MDTM', 'RMD', 'XRMD', 'MKD', 'XMKD', 'PWD', 'XPWD', 'SIZE', 'SYST', 'HELP', 'NOOP', 'FEAT', 'OPTS', 'HOST',
  'CLNT', 'AUTH', 'CCC', 'CONF', 'ENC', 'MIC', 'PBSZ', 'PROT', 'TYPE', 'STRU', 'MODE', 'RETR', 'STOR', 'STOU',
  'APPE', 'REST', 'ABOR', 'RANG', 'USER', 'PASS', 'ACCT', 'REIN', 'LIST', 'NLST', 'STAT', 'SITE', 'MLSD', 'MLST',
];

/** The SITE commands as SITE HELP and HELP SITE list them, `*` for unimplemented. */
function siteNames(): string[] {
  return [...SITE_COMMANDS.keys()].map((name) => (SITE_IMPLEMENTED.has(name) ? name : `${name}*`));
}

/**
 * HELP [verb] (ProFTPD `core_help`): the commands eight a row, each padded to eight
 * columns (trailing spaces kept, as ProFTPD sends them), `*` for unimplemented;
 * `HELP SITE` lists the SITE commands; `HELP <verb>` gives its syntax.
 */
export function help(s: Session, c: Cmd): void {
  if (c.arg !== undefined) {
    const verb = c.arg.trim().toUpperCase();
    if (verb === 'SITE') {
      s.reply(214, siteNames());
      return;
    }
    const spec = lookupCommand(verb);
    if (spec === undefined) {
      s.reply(502, `Unknown command '${verb}'`);
      return;
    }
    s.reply(214, `Syntax: ${spec.help}`);
    return;
  }
  const names = HELP_ORDER.map((verb) => {
    const spec = lookupCommand(verb);
    return spec !== undefined && s.implemented(spec.verb) && HANDLERS[spec.verb]?.stub !== true ? verb : `${verb}*`;
  });
  const rows: string[] = ["The following commands are recognized (* =>'s unimplemented):"];
  for (let i = 0; i < names.length; i += 8) rows.push(names.slice(i, i + 8).map((n) => n.padEnd(8)).join(''));
  rows.push(`Direct comments to ${s.cfg.serverAdmin}`);
  s.reply(214, rows);
}

/**
 * STAT (RFC 959 §4.1.3): during a transfer, its progress; with a path, the listing on
 * the control connection (`212-Status of <path>:` … `212 End of status`); alone, the
 * session's status (`211-`).
 */
export function stat(s: Session, c: Cmd): void | Promise<void> {
  const t = s.transfer;
  if (t !== undefined) {
    s.reply(
      213,
      t.size === undefined ? `Status: ${t.bytes} bytes transferred` : `Status: ${t.bytes} of ${t.size} bytes transferred`,
    );
    return;
  }
  if (c.arg !== undefined) return statusListing(s, c);
  const remote = canonicalAddress(s.control.remoteAddress);
  const lines = [`Status of '${s.cfg.serverName}'`, `Connected from ${remote} (${remote})`];
  // STAT needs a login (catalogue), so the session is logged in here.
  lines.push(`Logged in as ${s.user?.name ?? ''}`);
  lines.push(`TYPE: ${s.ascii ? 'ASCII' : 'BINARY'}, STRUcture: File, Mode: Stream`);
  // As ProFTPD: the total once there is one, and no data connection between transfers
  // (a passive listener or a PORT address is not a connection yet).
  if (s.bytesTransferred > 0) lines.push(`Total bytes transferred for session: ${s.bytesTransferred}`);
  lines.push('No data connection');
  lines.push('End of status');
  s.reply(211, lines);
}

const SITE_IMPLEMENTED: ReadonlySet<string> = new Set(['CHMOD', 'HELP']);

/** SITE CHMOD mode path, SITE HELP (ProFTPD mod_site). */
export function site(s: Session, c: Cmd): void | Promise<void> {
  if (c.arg === undefined) {
    s.reply(500, "'SITE' requires parameters");
    return;
  }
  const arg = c.arg;
  const space = arg.indexOf(' ');
  const sub = (space === -1 ? arg : arg.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : arg.slice(space + 1);
  if (sub === 'HELP') {
    s.reply(214, ["The following SITE commands are recognized (* =>'s unimplemented)", ...siteNames(), `Direct comments to ${s.cfg.serverAdmin}`]);
    return;
  }
  if (sub === 'CHMOD') return chmod(s, c, rest);
  if (sub === 'CHGRP' && words(rest) < 2) {
    missingSiteArgs(s, sub, rest);
    return;
  }
  s.reply(500, `'SITE ${sub}' not understood`);
}

/** How many words `text` has, split at spaces as ProFTPD splits a command line. */
function words(text: string): number {
  return text.split(' ').filter((w) => w !== '').length;
}

/** ProFTPD mod_site's answer to a known SITE command without its arguments. */
function missingSiteArgs(s: Session, sub: string, rest: string): void {
  const line = rest.trim() === '' ? `SITE ${sub}` : `SITE ${sub} ${rest.trim()}`;
  s.reply(500, [`'${line}' not understood`, 'SITE not understood']);
}

async function chmod(s: Session, c: Cmd, rest: string): Promise<void> {
  const space = rest.indexOf(' ');
  if (space <= 0 || space === rest.length - 1) {
    missingSiteArgs(s, 'CHMOD', rest);
    return;
  }
  const modeText = rest.slice(0, space);
  const pathArg = rest.slice(space + 1);
  if (!/^[0-7]{1,4}$/.test(modeText)) {
    s.reply(550, `'${modeText}': invalid mode`);
    return;
  }
  const path = s.resolve(pathArg);
  if (path === undefined) return;
  if (s.user?.readOnly === true) {
    s.reply(550, `${pathArg}: Permission denied`);
    return;
  }
  // ProFTPD mod_site names the whole SITE argument when the change itself is refused:
  // `550 CHMOD 777 f: Permission denied`, `550 CHMOD 644 f: Operation not permitted`.
  if (!s.allowed(SITE_COMMANDS.get('CHMOD')?.limitName ?? 'SITE_CHMOD', { ...c, path })) {
    s.reply(550, `CHMOD ${rest}: ${strerror('EACCES')}`);
    return;
  }
  try {
    await userFs(s).chmod(path, Number.parseInt(modeText, 8));
  } catch (error) {
    // A path that does not resolve is named alone, as ProFTPD's path lookup does.
    if (PATH_LOOKUP_ERRORS.has(errorCode(error))) fail(s, pathArg, error);
    else s.reply(550, `CHMOD ${rest}: ${strerror(error)}`);
    return;
  }
  s.reply(200, 'SITE CHMOD command successful');
}

/** HOST (RFC 7151; ProFTPD `core_host`, reference §5.2). */
export function host(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  if (s.state !== 'awaitUser') {
    s.reply(503, 'Bad sequence of commands');
    return;
  }
  const limit = s.cfg.limit;
  if (limit !== undefined && limit('HOST', s.limitContext(c, '/')) === 'deny') {
    s.reply(504, `${arg}: Permission denied`);
    return;
  }
  // After AUTH (or on implicit FTPS) the TLS server name chose the host (RFC 7151 §3.2):
  // without SNI, HOST comes too late; with it, only that name is accepted.
  const sni = s.protection === 'plain' ? undefined : (s.controlTls?.servername ?? null);
  if (sni === null) {
    s.reply(503, 'Bad sequence of commands');
    return;
  }
  const parsed = parseHostArg(arg);
  if (!parsed.ok) {
    // ProFTPD names the IPv6 case separately (UseIPv6 on).
    if (arg.startsWith('[')) s.reply(501, `${arg}: Invalid IPv6 address provided`);
    else s.reply(parsed.error.replyCode, parsed.error.message);
    return;
  }
  const local = s.control.localAddress;
  const { kind, host: name } = parsed.value;
  if (kind !== 'name') {
    // A literal must be the address the client connected to; an IPv6 literal on an IPv4
    // connection is accepted as is (reference §5.2).
    const mismatch = kind === 'ipv4' ? ipv4Of(local) !== name : isNativeIpv6(local) && canonicalAddress(name) !== canonicalAddress(local);
    if (mismatch) {
      s.reply(504, `${arg}: Unknown hostname provided`);
      return;
    }
    s.reply(220, 'HOST command successful');
    return;
  }
  const config = sni !== undefined && sni.toLowerCase() !== name.toLowerCase() ? undefined : s.base.source.onHost?.(name);
  if (config === undefined) {
    s.reply(504, `${arg}: Unknown hostname provided`);
    return;
  }
  s.switchHost(config);
  s.reply(220, s.bannerText());
}
