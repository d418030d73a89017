/**
 * `<Limit>` evaluation (ProFTPD src/dirtree.c `check_limit_allow`, `check_limit_deny`,
 * `check_limit`, `dir_check_limits`, `dir_check_full`, `login_check_limits`).
 *
 * Theory of operation:
 * - One section answers allow, deny, implicit allow or implicit deny. `Order
 *   allow,deny` (the default): an allow rule that matches allows; else a deny rule that
 *   matches denies; else implicit allow. `Order deny,allow`: deny first (it wins even if
 *   an allow rule also matches), then allow, else implicit deny.
 * - Allow rules, in order: AllowUser (before login its mere presence allows), AllowGroup
 *   (the same before groups are known), AllowClass (only when the session has a class),
 *   Allow (addresses), AllowAll. Deny rules: DenyAll, DenyUser, DenyGroup (after login),
 *   DenyClass, Deny.
 * - A command is checked under its own name, then its group (READ, WRITE, DIRS), then
 *   ALL (which does not cover EPRT, EPSV, PASV, PORT, PROT and OPTS). For each name the
 *   levels are walked from the `<Directory>` section that matches the command's path,
 *   through its parent `<Directory>` sections and the `<Anonymous>` section, up to the
 *   server (`dir_check_limits`; directory.ts finds the sections); within a level,
 *   sections in check order (merged ones first, then the last-defined); the first
 *   allow, deny or implicit deny decides. Nothing decides: allowed.
 * - LOGIN at connect: denied only if some `<Limit LOGIN>` (server or any `<Anonymous>`)
 *   denies and none allows. LOGIN at PASS: every `<Limit LOGIN>` must not deny.
 * - ftpkit addition: anonymous sessions are read-only. A WRITE-group command is denied
 *   unless a `<Limit>` inside the `<Anonymous>` section (or one of its `<Directory>`
 *   sections) allows it.
 */
import { evalClassExpr, evalGroupExpr, evalUserExpr, matchNetAclList } from '@ftpkit/classes';
import { ALL_EXCLUDED, commandGroup, normalizeVerb } from './commands.js';
import { directoryTree, matchDirectory, type DirectoryTree } from './directory.js';
import type { DirectorySection, LimitSection } from './model.js';
import type { EffectiveConfig } from './resolve.js';

/** Who is asking, for a `<Limit>` check. User and groups default to the effective config's. */
export interface LimitContext {
  readonly address: string;
  readonly reverseDns?: string | undefined;
  readonly user?: string | undefined;
  readonly groups?: readonly string[] | undefined;
  /** For LOGIN: at connect (OR semantics) or at PASS (AND semantics). Default: PASS once authenticated. */
  readonly phase?: 'connect' | 'pass' | undefined;
  /**
   * The absolute path the command acts on, for `<Directory>` sections: the file's for
   * file commands (RETR, STOR, DELE, RNFR, SIZE…), the directory's for directory
   * commands (CWD, MKD, RMD, LIST of a directory), the working directory otherwise.
   * Without it only the `<Anonymous>` and server levels apply.
   */
  readonly path?: string | undefined;
  /**
   * The session's `<Directory>` sections with their paths resolved (`directoryTree`);
   * needed for `~`, `~user` and `%u` paths. Default: built from `effective` (relative
   * paths under the `<Anonymous>` root; `~` forms match nothing).
   */
  readonly directories?: DirectoryTree | undefined;
}

/** The answer of `checkLimit`: allowed or not, the deciding section and why. */
export interface LimitDecision {
  readonly allowed: boolean;
  readonly reason: string;
  /** Label of the deciding `<Limit>` section, e.g. `<Limit EPSV PASV> (proftpd.conf:12)`. */
  readonly section?: string;
  /** Label of the `<Directory>` section that matched the path, if any. */
  readonly directory?: string;
}

type SectionAnswer = 'allow' | 'deny' | 'implicit-allow' | 'implicit-deny';

/** The subject of a `<Limit>` check. */
export interface LimitSubject {
  readonly address: string;
  readonly reverseDns: string | undefined;
  readonly user: string | undefined;
  readonly groups: readonly string[] | undefined;
  readonly className: string | undefined;
}

function allows(s: LimitSection, who: LimitSubject): string | undefined {
  if (s.allowUser.length > 0 && (who.user === undefined || s.allowUser.some((e) => evalUserExpr(e, who.user as string)))) return 'AllowUser';
  if (s.allowGroup.length > 0 && (who.groups === undefined || s.allowGroup.some((e) => evalGroupExpr(e, who.groups ?? [])))) return 'AllowGroup';
  if (who.className !== undefined && s.allowClass.some((e) => evalClassExpr(e, who.className))) return 'AllowClass';
  if (s.allow.some((rules) => matchNetAclList(rules, who))) return 'Allow';
  if (s.allowAll) return 'AllowAll';
  return undefined;
}

function denies(s: LimitSection, who: LimitSubject): string | undefined {
  if (s.denyAll) return 'DenyAll';
  if (who.user !== undefined && s.denyUser.some((e) => evalUserExpr(e, who.user as string))) return 'DenyUser';
  if (who.groups !== undefined && s.denyGroup.some((e) => evalGroupExpr(e, who.groups ?? []))) return 'DenyGroup';
  if (who.className !== undefined && s.denyClass.some((e) => evalClassExpr(e, who.className))) return 'DenyClass';
  if (s.deny.some((rules) => matchNetAclList(rules, who))) return 'Deny';
  return undefined;
}

/** One section's answer, with the rule that gave it. */
export function checkLimitSection(s: LimitSection, who: LimitSubject): { readonly answer: SectionAnswer; readonly rule: string } {
  if (s.order === 'deny,allow') {
    const d = denies(s, who);
    if (d) return { answer: 'deny', rule: d };
    const a = allows(s, who);
    if (a) return { answer: 'allow', rule: a };
    return { answer: 'implicit-deny', rule: 'Order deny,allow' };
  }
  const a = allows(s, who);
  if (a) return { answer: 'allow', rule: a };
  const d = denies(s, who);
  if (d) return { answer: 'deny', rule: d };
  return { answer: 'implicit-allow', rule: 'Order allow,deny' };
}

function decision(allowed: boolean, s: LimitSection, rule: string, name: string, dir?: DirectorySection): LimitDecision {
  const how = rule.startsWith('Order') ? `nothing matched under ${rule}` : `${rule} matched`;
  const within = dir === undefined ? '' : ` (path in ${dir.label})`;
  return { allowed, reason: `${s.label} for ${name}: ${how}${within}`, section: s.label, ...(dir === undefined ? {} : { directory: dir.label }) };
}

const defaultTrees = new WeakMap<EffectiveConfig, DirectoryTree>();

/** The `<Directory>` tree of an effective configuration without per-user paths (cached). */
function defaultTree(effective: EffectiveConfig): DirectoryTree {
  let tree = defaultTrees.get(effective);
  if (tree === undefined) {
    tree = directoryTree(effective.settings.directories, { anonymousRoot: effective.anonymous?.dir, user: effective.user });
    defaultTrees.set(effective, tree);
  }
  return tree;
}

/**
 * Is `verb` (`PASV`, `STOR`, `SITE CHMOD`, or `LOGIN`) allowed for this session?
 * `effective` carries the class, the user and the limits in check order.
 */
export function checkLimit(effective: EffectiveConfig, verb: string, ctx: LimitContext): LimitDecision {
  const cmd = normalizeVerb(verb);
  const loggedIn = effective.authenticated || ctx.phase === 'pass';
  const who: LimitSubject = {
    address: ctx.address,
    reverseDns: effective.daemon.useReverseDns ? ctx.reverseDns : undefined,
    user: ctx.user ?? (loggedIn ? effective.user : undefined),
    groups: ctx.groups ?? (loggedIn ? effective.groups : undefined),
    className: effective.className,
  };

  if (cmd === 'LOGIN') {
    const phase = ctx.phase ?? (effective.authenticated ? 'pass' : 'connect');
    if (phase === 'connect') {
      const sections = [...effective.settings.limits, ...effective.anonymousSections.flatMap((a) => a.settings.limits ?? [])].filter((s) =>
        s.commands.includes('LOGIN'),
      );
      let denied: LimitDecision | undefined;
      for (const s of sections) {
        const r = checkLimitSection(s, who);
        if (r.answer === 'allow') return decision(true, s, r.rule, 'LOGIN');
        if ((r.answer === 'deny' || r.answer === 'implicit-deny') && !denied) denied = decision(false, s, r.rule, 'LOGIN');
      }
      return denied ?? { allowed: true, reason: 'no <Limit LOGIN> denies the connection' };
    }
    for (const s of [...effective.anonymousLimits, ...effective.settings.limits]) {
      if (!s.commands.includes('LOGIN')) continue;
      const r = checkLimitSection(s, who);
      if (r.answer === 'deny' || r.answer === 'implicit-deny') return decision(false, s, r.rule, 'LOGIN');
    }
    return { allowed: true, reason: 'no <Limit LOGIN> denies the login' };
  }

  const group = commandGroup(cmd);
  const names = [cmd, ...(group ? [group] : []), ...(ALL_EXCLUDED.has(cmd) ? [] : ['ALL'])];
  const anonymousWrite = effective.anonymous !== undefined && group === 'WRITE';
  const dirs = ctx.path === undefined || effective.settings.directories.length === 0 ? [] : matchDirectory(ctx.directories ?? defaultTree(effective), ctx.path);
  const levels = [...dirs.map((d) => d.limits), ...(effective.anonymous ? [effective.anonymousLimits] : []), effective.settings.limits];
  // Levels inside the <Anonymous> section: its <Directory> sections and itself.
  const anonymousLevels = effective.anonymous ? dirs.length + 1 : 0;
  const matched = dirs[0];
  for (const name of names) {
    for (const [i, level] of levels.entries()) {
      if (anonymousWrite && i >= anonymousLevels) continue;
      for (const s of level) {
        if (!s.commands.includes(name)) continue;
        const r = checkLimitSection(s, who);
        if (r.answer === 'allow') return decision(true, s, r.rule, name, matched);
        if (r.answer === 'deny' || r.answer === 'implicit-deny') return decision(false, s, r.rule, name, matched);
      }
    }
  }
  if (anonymousWrite) {
    return { allowed: false, reason: `anonymous sessions are read-only: no <Limit> inside ${effective.anonymous?.label ?? '<Anonymous>'} allows ${cmd}` };
  }
  return { allowed: true, reason: `no <Limit> decides ${cmd}` };
}

/**
 * The reply ProFTPD sends when `<Limit>` denies a command (reference §6.4): PASV, PORT,
 * EPSV, EPRT → `501 <CMD>: Operation not permitted`; HOST → `504 <arg>: Permission
 * denied`; PWD → `550 PWD: Permission denied`; a command with a path argument →
 * `550 <arg>: Operation not permitted`; others → `550 Operation not permitted`.
 */
export function limitDeniedReply(verb: string, arg?: string): { readonly code: number; readonly text: string } {
  const cmd = normalizeVerb(verb);
  if (['PASV', 'PORT', 'EPSV', 'EPRT'].includes(cmd)) return { code: 501, text: `${cmd}: Operation not permitted` };
  if (cmd === 'HOST') return { code: 504, text: `${arg ?? ''}: Permission denied` };
  if (cmd === 'PWD' || cmd === 'XPWD') return { code: 550, text: `${cmd}: Permission denied` };
  if (arg !== undefined && arg !== '') return { code: 550, text: `${arg}: Operation not permitted` };
  return { code: 550, text: 'Operation not permitted' };
}
