/**
 * From the syntax tree to the typed configuration: checks every directive against the
 * catalogue (schema.ts), its context and its arguments, and collects diagnostics with
 * `file:line`, what is wrong and the fix.
 *
 * Theory of operation: a walk over the tree with a stack of scopes. A scope is the
 * main server, `<Global>`, a `<VirtualHost>`, an `<Anonymous>`, a conditional layer
 * (`<IfClass>`…, which keeps its parent's context), a `<Directory>` (its `<Limit>`
 * sections and per-directory settings apply to its path), a `<Limit>` or a `<Class>`. Each
 * directive is looked up once: setting, process, per-server, limit rule, class rule,
 * note, not implemented, or unknown (with a suggestion). Cross references (classes
 * named by `<IfClass>`, `AllowClass`, `AllowForeignAddress`; vhosts bound twice) are
 * checked after the walk.
 */
import {
  parseNameExpr,
  parseNetAclList,
  parseSatisfy,
  type ClassDefinition,
  type Layer,
  type LayerKind,
  type NameExpr,
  type NetAclRule,
} from '@ftpkit/classes';
import { LIMIT_COMMANDS, LIMIT_GROUPS, pairedCommands } from './commands.js';
import { suggest, type ConfigDiagnostic } from './diagnostics.js';
import {
  DEFAULT_DAEMON,
  type AnonymousConfig,
  type DirectorySection,
  type DirectorySettings,
  type FtpkitConfig,
  type LimitSection,
  type DaemonSettings,
  type DelayRule,
  type ServerConfig,
  type SettingsLayer,
  type SourceLocation,
  type UserAlias,
} from './model.js';
import {
  CLASS_DIRECTIVES,
  DIRECTORY_SETTINGS,
  LIMIT_DIRECTIVES,
  PER_DIRECTORY_SETTINGS,
  NOTE_DIRECTIVES,
  DAEMON_BY_NAME,
  SECTIONS,
  SERVER_DIRECTIVES,
  SETTING_BY_NAME,
  UNSUPPORTED_SECTIONS,
  knownDirectiveNames,
  unsupportedDirective,
  type Context,
} from './schema.js';
import { LOADED_MODULES, normalizeModuleName, type ConfigNode, type DirectiveNode, type SectionNode } from './syntax.js';
import { address, bool, integer, text, type Check } from './values.js';

/** Options of `buildConfig`. */
export interface BuildOptions {
  /** Report directives ftpkit does not implement as warnings instead of errors. */
  readonly lenient?: boolean | undefined;
  readonly files?: readonly string[] | undefined;
}

interface Scope {
  readonly ctx: Context;
  readonly label: string;
  readonly inLayer: boolean;
  readonly settings: Record<string, unknown>;
  readonly seen: Map<string, SourceLocation>;
  readonly limits: LimitSection[];
  readonly directories: DirectorySection[];
  readonly layers: Layer<SettingsLayer>[];
  readonly anonymous: AnonymousConfig[];
  readonly userAliases: UserAlias[];
  /** The server fields, for server and vhost scopes. */
  readonly server?: MutableServer;
  readonly anon?: { user?: string; group?: string; requirePassword: boolean };
}

interface MutableServer {
  addresses: string[];
  port: number | undefined;
  aliases: string[];
  defaultServer: boolean;
  readonly source?: SourceLocation;
  readonly label: string;
}

interface MutableLimit {
  commands: string[];
  order: 'allow,deny' | 'deny,allow';
  allowAll: boolean;
  denyAll: boolean;
  allow: NetAclRule[][];
  deny: NetAclRule[][];
  allowUser: NameExpr[];
  denyUser: NameExpr[];
  allowGroup: NameExpr[];
  denyGroup: NameExpr[];
  allowClass: NameExpr[];
  denyClass: NameExpr[];
}

const CONTEXT_WORDS: Readonly<Record<Context, string>> = {
  server: 'the server config',
  vhost: '<VirtualHost>',
  global: '<Global>',
  anon: '<Anonymous>',
  dir: '<Directory>',
  limit: '<Limit>',
  class: '<Class>',
};

function where(ctx: Context, inLayer: boolean): string {
  if (ctx === 'server') return inLayer ? 'inside a conditional section' : 'in the server config';
  return `inside ${CONTEXT_WORDS[ctx]}`;
}

function contextList(contexts: readonly Context[]): string {
  const words = contexts.map((c) => CONTEXT_WORDS[c]);
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

const UNSET_WHEN_FALSE: ReadonlySet<string> = new Set(['hiddenStores', 'maxClients', 'maxClientsPerHost', 'maxConnectionsPerHost']);

function loc(n: ConfigNode): SourceLocation {
  return { file: n.file, line: n.line };
}

/** `line 3` within the same file, `other.conf:3` across files. */
function at(first: SourceLocation, current: string): string {
  return first.file === current ? `line ${first.line}` : `${first.file}:${first.line}`;
}

function newScope(ctx: Context, label: string, extra: Partial<Pick<Scope, 'server' | 'anon' | 'inLayer'>> = {}): Scope {
  return {
    ctx,
    label,
    inLayer: extra.inLayer ?? false,
    settings: {},
    seen: new Map(),
    limits: [],
    directories: [],
    layers: [],
    anonymous: [],
    userAliases: [],
    ...(extra.server ? { server: extra.server } : {}),
    ...(extra.anon ? { anon: extra.anon } : {}),
  };
}

/** Turns a scope's collected values into a settings layer (limits and directories in check order: last-defined first). */
function toLayer(scope: Scope): SettingsLayer {
  const out: Record<string, unknown> = { ...scope.settings };
  if (scope.limits.length > 0) out['limits'] = [...scope.limits].reverse();
  if (scope.directories.length > 0) out['directories'] = [...scope.directories].reverse();
  return out as SettingsLayer;
}

/** The result of `buildConfig`. */
export interface BuildResult {
  readonly config: FtpkitConfig;
  readonly diagnostics: ConfigDiagnostic[];
}

/** Builds the typed configuration from a syntax tree. Never throws on bad input. */
export function buildConfig(nodes: readonly ConfigNode[], opts: BuildOptions = {}): BuildResult {
  const diagnostics: ConfigDiagnostic[] = [];
  const lenient = opts.lenient ?? false;
  const classes: { def: ClassDefinition; source: SourceLocation }[] = [];
  const classRefs: { name: string; source: SourceLocation; what: string }[] = [];
  const daemon: Record<string, unknown> = { ...DEFAULT_DAEMON };
  const daemonSeen = new Map<string, SourceLocation>();

  const push = (severity: ConfigDiagnostic['severity'], code: string, n: ConfigNode, message: string, fix?: string, directive?: string): void => {
    diagnostics.push({
      severity,
      code,
      file: n.file,
      line: n.line,
      ...(directive !== undefined ? { directive } : {}),
      message,
      ...(fix !== undefined ? { fix } : {}),
    });
  };
  const error = (code: string, n: ConfigNode, message: string, fix?: string): void => push('error', code, n, message, fix, n.name);
  const fromCheck = <T>(n: ConfigNode, c: Check<T>): T | undefined => {
    if (c.ok) return c.value;
    error(c.message.includes('takes') || c.message.includes('needs') ? 'ERR_CONFIG_ARGS' : 'ERR_CONFIG_VALUE', n, c.message, c.fix);
    return undefined;
  };
  const duplicate = (seen: Map<string, SourceLocation>, key: string, n: ConfigNode, name: string): boolean => {
    const first = seen.get(key);
    if (first) {
      error('ERR_CONFIG_DUPLICATE', n, `${name} is set twice here (first at ${at(first, n.file)})`, `keep one ${name} line in this context`);
      return true;
    }
    seen.set(key, loc(n));
    return false;
  };
  const notImplemented = (n: ConfigNode, name: string, module: string, section: boolean): void => {
    const what = section ? `<${name}> sections (${module})` : `${name} (${module})`;
    const message = `${what} ${section ? 'are' : 'is'} not implemented by ftpkit${section ? '; the section is skipped' : ''}`;
    const fix = lenient ? 'remove it to silence this warning' : 'remove it, or load the configuration in lenient mode to ignore it';
    push(lenient ? 'warning' : 'error', 'ERR_CONFIG_NOT_IMPLEMENTED', n, message, fix, section ? `<${name}>` : name);
  };
  const notPerDirectory = (n: ConfigNode, name: string, scope: Scope): void => {
    const message = `${name} inside <Directory> is not implemented by ftpkit: only <Limit> sections and ${PER_DIRECTORY_SETTINGS.join(', ')} apply per directory${lenient ? `; ${name} is not applied to ${scope.label.replace(/ \(.*$/, '')}` : ''}`;
    const fix = `move ${name} out of the <Directory> section (it then applies to the whole server or <Anonymous> section)`;
    push(lenient ? 'warning' : 'error', 'ERR_CONFIG_NOT_IMPLEMENTED', n, message, fix, name);
  };
  const unknown = (n: ConfigNode, name: string, section: boolean): void => {
    const candidates = section ? SECTIONS : knownDirectiveNames();
    const hint = suggest(name, candidates);
    const shown = section ? `<${name}>` : name;
    const fix = hint !== undefined ? `did you mean ${section ? `<${hint}>` : hint}?` : 'check the spelling; the directives ftpkit knows are listed in the @ftpkit/config README';
    push('error', 'ERR_CONFIG_UNKNOWN_DIRECTIVE', n, `unknown ${section ? 'section' : 'directive'} ${shown}`, fix, shown);
  };
  const contextError = (n: ConfigNode, name: string, scope: Scope, allowed: readonly Context[]): void => {
    error('ERR_CONFIG_CONTEXT', n, `${name} is not allowed ${where(scope.ctx, scope.inLayer)}`, `move it to ${contextList(allowed)}`);
  };

  const mainServer: MutableServer = { addresses: [], port: undefined, aliases: [], defaultServer: false, label: 'main server' };
  const main = newScope('server', 'main server', { server: mainServer });
  const global = newScope('global', '<Global>');
  const vhosts: Scope[] = [];

  const walk = (children: readonly ConfigNode[], scope: Scope): void => {
    for (const n of children) {
      if (n.type === 'section') section(n, scope);
      else if (scope.ctx === 'limit') limitDirective(n, scope);
      else if (scope.ctx === 'class') classDirective(n);
      else directive(n, scope);
    }
  };

  // ---- <Class> ----
  let currentClass: { rules: NetAclRule[]; satisfy: 'any' | 'all'; seenSatisfy: boolean } | undefined;
  const classDirective = (n: DirectiveNode): void => {
    const lower = n.name.toLowerCase();
    if (!currentClass) return;
    if (lower === 'from') {
      if (n.args.length === 0) return error('ERR_CONFIG_ARGS', n, 'From needs at least one address, network or host name', 'write From 10.0.0.0/8, 192.168.0.0/16');
      const r = parseNetAclList(n.args, 'from');
      if (!r.ok) return error('ERR_CONFIG_VALUE', n, `From: ${r.error.message}`, 'use an address (10.1.2.3), a network (10.0.0.0/8 or 10.0.0.0/255.0.0.0), a host name or glob (*.example.com), each optionally negated with !');
      currentClass.rules.push(...r.value);
      return;
    }
    if (lower === 'satisfy') {
      if (n.args.length !== 1) return error('ERR_CONFIG_ARGS', n, `Satisfy takes 1 argument, got ${n.args.length}`, 'write Satisfy any or Satisfy all');
      const r = parseSatisfy(n.args[0] as string);
      if (!r.ok) return error('ERR_CONFIG_VALUE', n, `Satisfy: ${r.error.message}`, 'write Satisfy any or Satisfy all');
      if (currentClass.seenSatisfy) return error('ERR_CONFIG_DUPLICATE', n, 'Satisfy is set twice in this <Class>', 'keep one Satisfy line');
      currentClass.seenSatisfy = true;
      currentClass.satisfy = r.value;
      return;
    }
    if (isKnown(lower)) return error('ERR_CONFIG_CONTEXT', n, `${n.name} is not allowed inside <Class>`, 'a <Class> holds only From and Satisfy lines; move it out of the section');
    unknown(n, n.name, false);
  };

  const isKnown = (lower: string): boolean =>
    knownDirectiveNames().some((k) => k.toLowerCase() === lower) || unsupportedDirective(lower) !== undefined;

  // ---- <Limit> ----
  let currentLimit: MutableLimit | undefined;
  const limitDirective = (n: DirectiveNode, scope: Scope): void => {
    const lim = currentLimit;
    if (!lim) return;
    const lower = n.name.toLowerCase();
    const name = LIMIT_DIRECTIVES.find((d) => d.toLowerCase() === lower);
    if (!name) {
      const unsupported = unsupportedDirective(n.name);
      if (unsupported) return notImplemented(n, unsupported.name, unsupported.module, false);
      if (isKnown(lower)) return contextError(n, n.name, scope, ['server', 'vhost', 'global', 'anon']);
      return unknown(n, n.name, false);
    }
    if (name === 'AllowAll' || name === 'DenyAll') {
      if (n.args.length !== 0) return error('ERR_CONFIG_ARGS', n, `${name} takes no arguments, got ${n.args.length}`, `write ${name} alone on the line`);
      if (name === 'AllowAll') lim.allowAll = true;
      else lim.denyAll = true;
      return;
    }
    if (name === 'Order') {
      const joined = n.args.join('').toLowerCase().replace(/\s+/g, '');
      if (joined !== 'allow,deny' && joined !== 'deny,allow') return error('ERR_CONFIG_VALUE', n, `Order '${n.args.join(' ')}' is neither allow,deny nor deny,allow`, 'write Order allow,deny (the default) or Order deny,allow');
      lim.order = joined;
      return;
    }
    if (name === 'Allow' || name === 'Deny') {
      const r = parseNetAclList(n.args, 'allow');
      if (!r.ok) return error('ERR_CONFIG_VALUE', n, `${name}: ${r.error.message}`, `write ${name} from 10.0.0.0/8, 192.168.1.5 or ${name} from all`);
      (name === 'Allow' ? lim.allow : lim.deny).push(r.value);
      return;
    }
    const isGroup = name.endsWith('Group');
    const r = parseNameExpr(n.args, { defaultOp: isGroup ? 'and' : 'or', caseInsensitiveKeywords: true });
    if (!r.ok) return error('ERR_CONFIG_ARGS', n, `${name}: ${r.error.message}`, `write ${name} name1,name2 (or ${name} regex ^pattern)`);
    const key = (name.charAt(0).toLowerCase() + name.slice(1)) as 'allowUser' | 'denyUser' | 'allowGroup' | 'denyGroup' | 'allowClass' | 'denyClass';
    lim[key].push(r.value);
    if (name.endsWith('Class')) noteClassRefs(r.value, n, name);
  };

  const noteClassRefs = (expr: NameExpr, n: ConfigNode, what: string): void => {
    if (expr.op === 'regex') return;
    for (const t of expr.terms) classRefs.push({ name: t.name, source: loc(n), what });
  };

  // ---- directives ----
  const directive = (n: DirectiveNode, scope: Scope): void => {
    const lower = n.name.toLowerCase();
    const setting = SETTING_BY_NAME.get(lower);
    if (setting) {
      if (scope.ctx === 'dir' && DIRECTORY_SETTINGS.includes(setting.name)) return notPerDirectory(n, setting.name, scope);
      if (!setting.contexts.includes(scope.ctx)) return contextError(n, setting.name, scope, setting.contexts);
      const value = fromCheck(n, setting.parse(n.args, setting.name));
      if (value === undefined) return;
      if (setting.multi) {
        const prev = scope.settings[setting.key];
        if (setting.key === 'tlsOptions' || setting.key === 'proxyProtocolOptions') {
          scope.settings[setting.key] = [...new Set([...((prev as string[] | undefined) ?? []), ...(value as string[])])];
        } else {
          scope.settings[setting.key] = [...((prev as unknown[] | undefined) ?? []), value];
        }
        if (setting.key === 'delayOnEvent' && (value as DelayRule).event !== 'FailedLogin') {
          push('warning', 'ERR_CONFIG_VALUE', n, `${setting.name} ${(value as DelayRule).event}: ftpkit delays failed logins only (DelayOnEvent FailedLogin); this line is not applied`, `use ${setting.name} FailedLogin 1000ms`, setting.name);
        }
        return;
      }
      if (duplicate(scope.seen, setting.key, n, setting.name)) return;
      // `HiddenStores off`, `MaxClients none`: the setting stays unset (its default);
      // inside <Directory>, `HiddenStores off` turns off what the levels above set.
      if (value === false && UNSET_WHEN_FALSE.has(setting.key) && scope.ctx !== 'dir') return;
      scope.settings[setting.key] = value;
      if ((setting.key === 'masqueradeAddress' || setting.key === 'tlsMasqueradeAddress') && (value as { kind: string }).kind === 'ipv6') {
        push('warning', 'ERR_CONFIG_VALUE', n, `${setting.name} ${n.args[0] ?? ''} is an IPv6 address, but PASV replies carry IPv4 only: PASV gets 522 (use EPSV)`, `give ${setting.name} the public IPv4 address`, setting.name);
      }
      if (setting.key === 'allowForeignAddress' && typeof value === 'object') {
        classRefs.push({ name: (value as { className: string }).className, source: loc(n), what: 'AllowForeignAddress' });
      }
      return;
    }
    if (scope.ctx === 'anon' && (lower === 'user' || lower === 'group')) {
      const val = fromCheck(n, text(n.args, n.name));
      if (val === undefined || !scope.anon) return;
      if (duplicate(scope.seen, lower, n, n.name)) return;
      if (lower === 'user') scope.anon.user = val;
      else scope.anon.group = val;
      return;
    }
    const proc = DAEMON_BY_NAME.get(lower);
    if (proc) {
      if (scope.ctx !== 'server' || scope.inLayer) {
        const allowed: Context[] = proc.key === 'user' || proc.key === 'group' ? ['server', 'anon'] : ['server'];
        return contextError(n, proc.name, scope, allowed);
      }
      const value = fromCheck(n, proc.parse(n.args, proc.name));
      if (value === undefined) return;
      if (duplicate(daemonSeen, proc.key, n, proc.name)) return;
      daemon[proc.key] = value;
      return;
    }
    const serverSpec = SERVER_DIRECTIVES.find((d) => d.name.toLowerCase() === lower);
    if (serverSpec) {
      if (!serverSpec.contexts.includes(scope.ctx) || (scope.inLayer && serverSpec.name !== 'UserAlias')) {
        return contextError(n, serverSpec.name, scope, serverSpec.contexts);
      }
      return serverDirective(n, serverSpec.name, scope);
    }
    const noteName = Object.keys(NOTE_DIRECTIVES).find((k) => k.toLowerCase() === lower);
    if (noteName !== undefined) return noteDirective(n, noteName, scope);
    const unsupported = unsupportedDirective(n.name);
    if (unsupported) return notImplemented(n, unsupported.name, unsupported.module, false);
    if (LIMIT_DIRECTIVES.some((d) => d.toLowerCase() === lower)) {
      return error('ERR_CONFIG_CONTEXT', n, `${n.name} is allowed only inside <Limit>`, `wrap it: <Limit LOGIN> … ${n.name} … </Limit> (name the commands to limit)`);
    }
    if (CLASS_DIRECTIVES.some((d) => d.toLowerCase() === lower)) {
      return error('ERR_CONFIG_CONTEXT', n, `${n.name} is allowed only inside <Class>`, `wrap it: <Class name> … ${n.name} … </Class>`);
    }
    unknown(n, n.name, false);
  };

  const noteDirective = (n: DirectiveNode, name: string, scope: Scope): void => {
    if (name === 'ServerType') {
      if (scope.ctx !== 'server' || scope.inLayer) return contextError(n, name, scope, ['server']);
      const v = (n.args[0] ?? '').toLowerCase();
      if (n.args.length !== 1 || (v !== 'standalone' && v !== 'inetd')) {
        return error('ERR_CONFIG_VALUE', n, `ServerType expects standalone or inetd, got '${n.args.join(' ')}'`, 'write ServerType standalone');
      }
      if (v === 'inetd') {
        return error('ERR_CONFIG_VALUE', n, 'ServerType inetd: ftpkit runs only as a standalone daemon', 'write ServerType standalone and stop the inetd/xinetd/systemd socket that serves this port');
      }
      push('note', 'NOTE_CONFIG_NOT_APPLICABLE', n, 'ServerType standalone: ftpkit always runs standalone', undefined, name);
      return;
    }
    if (name === 'LoadModule') {
      const mod = normalizeModuleName(n.args[0] ?? '');
      const msg = LOADED_MODULES.includes(mod)
        ? `LoadModule ${mod}: built into ftpkit`
        : `LoadModule ${mod}: not available in ftpkit; <IfModule ${mod}> sections are skipped`;
      push('note', 'NOTE_CONFIG_NOT_APPLICABLE', n, msg, undefined, name);
      return;
    }
    push('note', 'NOTE_CONFIG_NOT_APPLICABLE', n, `${name}: ${NOTE_DIRECTIVES[name] ?? 'ignored'}`, undefined, name);
  };

  const serverDirective = (n: DirectiveNode, name: string, scope: Scope): void => {
    const srv = scope.server;
    switch (name) {
      case 'Port': {
        const port = fromCheck(n, integer(0, 65535, 21)(n.args, name));
        if (port === undefined || !srv || duplicate(scope.seen, 'port', n, name)) return;
        srv.port = port;
        return;
      }
      case 'DefaultAddress': {
        if (n.args.length === 0) return error('ERR_CONFIG_ARGS', n, 'DefaultAddress needs at least one address', 'write DefaultAddress 192.168.0.10');
        if (!srv || duplicate(scope.seen, 'defaultAddress', n, name)) return;
        for (const a of n.args) {
          const r = fromCheck(n, address(a));
          if (r !== undefined) srv.addresses.push(r);
        }
        return;
      }
      case 'ServerAlias': {
        if (n.args.length === 0) return error('ERR_CONFIG_ARGS', n, 'ServerAlias needs at least one name', 'write ServerAlias ftp.example.com *.example.org');
        srv?.aliases.push(...n.args);
        return;
      }
      case 'DefaultServer': {
        const b = fromCheck(n, bool(n.args, name));
        if (b === undefined || !srv || duplicate(scope.seen, 'defaultServer', n, name)) return;
        srv.defaultServer = b;
        return;
      }
      case 'UserAlias': {
        if (n.args.length !== 2) return error('ERR_CONFIG_ARGS', n, `UserAlias takes 2 arguments (alias and real user), got ${n.args.length}`, 'write UserAlias anonymous ftp');
        if (scope.inLayer) return contextError(n, name, scope, ['server', 'vhost', 'global', 'anon']);
        scope.userAliases.push({ alias: n.args[0] as string, user: n.args[1] as string });
        return;
      }
      case 'AnonRequirePassword': {
        const b = fromCheck(n, bool(n.args, name));
        if (b === undefined || !scope.anon || duplicate(scope.seen, 'anonRequirePassword', n, name)) return;
        scope.anon.requirePassword = b;
        return;
      }
      case 'ServerType':
        return noteDirective(n, name, scope);
    }
  };

  // ---- sections ----
  const section = (n: SectionNode, scope: Scope): void => {
    const lower = n.name.toLowerCase();
    const canonical = SECTIONS.find((x) => x.toLowerCase() === lower);
    const label = `<${canonical ?? n.name}${n.args.length ? ` ${n.args.join(' ')}` : ''}> (${n.file}:${n.line})`;
    if (scope.ctx === 'limit' || scope.ctx === 'class') {
      if (canonical === undefined && !UNSUPPORTED_SECTIONS.some((x) => x.toLowerCase() === lower)) return unknown(n, n.name, true);
      return error('ERR_CONFIG_CONTEXT', n, `<${canonical ?? n.name}> cannot be nested ${where(scope.ctx, scope.inLayer)}`, `close the ${CONTEXT_WORDS[scope.ctx]} section first`);
    }
    switch (canonical) {
      case 'Global': {
        if (scope.ctx !== 'server' || scope.inLayer) return error('ERR_CONFIG_CONTEXT', n, `<Global> is not allowed ${where(scope.ctx, scope.inLayer)}`, 'put <Global> at the top level of the configuration');
        if (n.args.length) error('ERR_CONFIG_ARGS', n, '<Global> takes no arguments', 'write <Global>');
        return walk(n.children, global);
      }
      case 'VirtualHost': {
        if (scope.ctx !== 'server' || scope.inLayer) return error('ERR_CONFIG_CONTEXT', n, `<VirtualHost> is not allowed ${where(scope.ctx, scope.inLayer)}`, 'put <VirtualHost> at the top level of the configuration');
        if (n.args.length === 0) return error('ERR_CONFIG_ARGS', n, '<VirtualHost> needs at least one address', 'write <VirtualHost 192.168.0.10>');
        const addresses: string[] = [];
        for (const a of n.args) {
          const r = fromCheck(n, address(a));
          if (r !== undefined) addresses.push(r);
        }
        const srv: MutableServer = { addresses, port: undefined, aliases: [], defaultServer: false, source: loc(n), label };
        const vs = newScope('vhost', label, { server: srv });
        vhosts.push(vs);
        return walk(n.children, vs);
      }
      case 'Anonymous': {
        if (!['server', 'vhost', 'global'].includes(scope.ctx) || scope.inLayer) {
          return error('ERR_CONFIG_CONTEXT', n, `<Anonymous> is not allowed ${where(scope.ctx, scope.inLayer)}`, 'put <Anonymous> in the server config, <VirtualHost> or <Global>');
        }
        if (n.args.length !== 1) return error('ERR_CONFIG_ARGS', n, `<Anonymous> takes one directory, got ${n.args.length}`, 'write <Anonymous ~ftp> or <Anonymous /srv/ftp>');
        const anonState: { user?: string; group?: string; requirePassword: boolean } = { requirePassword: false };
        const as = newScope('anon', label, { anon: anonState });
        walk(n.children, as);
        if (anonState.user === undefined) {
          error('ERR_CONFIG_VALUE', n, `${label.replace(/ \(.*$/, '')} has no User`, 'add User ftp (the account anonymous sessions log in as) inside the section');
        }
        scope.anonymous.push({
          dir: n.args[0] as string,
          ...(anonState.user !== undefined ? { user: anonState.user } : {}),
          ...(anonState.group !== undefined ? { group: anonState.group } : {}),
          userAliases: as.userAliases,
          requirePassword: anonState.requirePassword,
          settings: toLayer(as),
          label,
          source: loc(n),
        });
        return;
      }
      case 'Directory': {
        if (!['server', 'vhost', 'global', 'anon'].includes(scope.ctx)) {
          return error('ERR_CONFIG_CONTEXT', n, `<Directory> is not allowed ${where(scope.ctx, scope.inLayer)}`, 'put <Directory> in the server config, <VirtualHost>, <Global> or <Anonymous> (not nested)');
        }
        if (n.args.length !== 1 || n.args[0] === '') return error('ERR_CONFIG_ARGS', n, `<Directory> takes one path, got ${n.args.length}`, 'write <Directory /srv/ftp/uploads> (inside <Anonymous>: <Directory uploads/*>)');
        const path = n.args[0] as string;
        const relative = !path.startsWith('/') && !path.startsWith('~');
        if (relative && scope.ctx !== 'anon') {
          return error('ERR_CONFIG_VALUE', n, `<Directory ${path}>: relative path not allowed in non-<Anonymous> sections`, `write an absolute path (<Directory /srv/ftp/${path}>), ~/${path} for the user's home, or move the section into <Anonymous>`);
        }
        // `<Directory *>` inside <Anonymous> is the section itself (ProFTPD `_reorder_dirs` moves its contents up).
        if (scope.ctx === 'anon' && path === '*') return walk(n.children, scope);
        const first = scope.seen.get(`<Directory ${path}>`);
        if (first) {
          return error('ERR_CONFIG_DUPLICATE', n, `<Directory> section already configured for '${path}' (first at ${at(first, n.file)})`, 'merge the two sections into one');
        }
        scope.seen.set(`<Directory ${path}>`, loc(n));
        const ds = newScope('dir', label, { inLayer: scope.inLayer });
        walk(n.children, ds);
        for (const lim of ds.limits) {
          if (!lim.commands.includes('LOGIN')) continue;
          push('warning', 'ERR_CONFIG_CONTEXT', n, `${lim.label.replace(/ \(.*$/, '')} inside ${label.replace(/ \(.*$/, '')} has no effect: logins are checked at the server and <Anonymous> level`, 'move the <Limit LOGIN> section out of <Directory>', '<Limit>');
        }
        const settings = Object.keys(ds.settings).length === 0 ? {} : { settings: ds.settings as DirectorySettings };
        scope.directories.push({ path, limits: [...ds.limits].reverse(), ...settings, label, source: loc(n) });
        return;
      }
      case 'Limit': {
        if (n.args.length === 0) return error('ERR_CONFIG_ARGS', n, '<Limit> needs at least one command or group', 'write <Limit STOR DELE> or <Limit WRITE>');
        const commands: string[] = [];
        for (const raw of n.args.flatMap((a) => a.split(',')).filter(Boolean)) {
          const c = raw.toUpperCase();
          if (!LIMIT_GROUPS.includes(c) && !LIMIT_COMMANDS.has(c)) {
            const hint = suggest(c, [...LIMIT_GROUPS, ...LIMIT_COMMANDS]);
            error('ERR_CONFIG_VALUE', n, `<Limit>: unknown command or group '${raw}'`, hint !== undefined ? `did you mean ${hint}?` : 'name FTP commands (PASV, STOR…) or the groups READ, WRITE, DIRS, ALL, LOGIN');
            continue;
          }
          for (const p of pairedCommands(c)) if (!commands.includes(p)) commands.push(p);
        }
        const lim: MutableLimit = {
          commands,
          order: 'allow,deny',
          allowAll: false,
          denyAll: false,
          allow: [],
          deny: [],
          allowUser: [],
          denyUser: [],
          allowGroup: [],
          denyGroup: [],
          allowClass: [],
          denyClass: [],
        };
        const outer = currentLimit;
        currentLimit = lim;
        walk(n.children, newScope('limit', label, { inLayer: scope.inLayer }));
        currentLimit = outer;
        if (commands.length > 0) scope.limits.push({ ...lim, label, source: loc(n) });
        return;
      }
      case 'Class': {
        if (!['server', 'global'].includes(scope.ctx) || scope.inLayer) {
          return error('ERR_CONFIG_CONTEXT', n, `<Class> is not allowed ${where(scope.ctx, scope.inLayer)}`, 'define classes in the server config or <Global> (classes are global)');
        }
        if (n.args.length !== 1 || n.args[0] === '') return error('ERR_CONFIG_ARGS', n, `<Class> takes one name, got ${n.args.length}`, 'write <Class internal>');
        currentClass = { rules: [], satisfy: 'any', seenSatisfy: false };
        walk(n.children, newScope('class', label));
        const def: ClassDefinition = { name: n.args[0] as string, rules: currentClass.rules, satisfy: currentClass.satisfy };
        currentClass = undefined;
        if (def.rules.length === 0) {
          push('warning', 'ERR_CONFIG_VALUE', n, `empty <Class ${def.name}> definition: it is dropped`, 'add From lines, or remove the section', '<Class>');
          return;
        }
        const dup = classes.find((c) => c.def.name === def.name);
        if (dup) {
          push('warning', 'ERR_CONFIG_DUPLICATE', n, `<Class ${def.name}> is defined again (first at ${at(dup.source, n.file)}); lookups by name use the first`, 'give each class its own name', '<Class>');
        }
        classes.push({ def, source: loc(n) });
        return;
      }
      case 'IfClass':
      case 'IfUser':
      case 'IfGroup':
      case 'IfAuthenticated': {
        if (!['server', 'vhost', 'global'].includes(scope.ctx) || scope.inLayer) {
          return error('ERR_CONFIG_CONTEXT', n, `<${canonical}> is not allowed ${where(scope.ctx, scope.inLayer)}`, `put <${canonical}> in the server config, <VirtualHost> or <Global> (not nested)`);
        }
        const kind: LayerKind = canonical === 'IfClass' ? 'class' : canonical === 'IfUser' ? 'user' : canonical === 'IfGroup' ? 'group' : 'authenticated';
        let condition: NameExpr | undefined;
        if (kind === 'authenticated') {
          if (n.args.length) error('ERR_CONFIG_ARGS', n, '<IfAuthenticated> takes no arguments', 'write <IfAuthenticated>');
        } else {
          const r = parseNameExpr(n.args, { defaultOp: kind === 'group' ? 'and' : 'or' });
          if (!r.ok) return error('ERR_CONFIG_ARGS', n, `<${canonical}>: ${r.error.message}`, `write <${canonical} name>, <${canonical} !name>, <${canonical} AND a b> or <${canonical} regex ^pattern>`);
          condition = r.value;
          if (kind === 'class') noteClassRefs(r.value, n, `<IfClass>`);
        }
        const ls = newScope(scope.ctx, label, { inLayer: true });
        walk(n.children, ls);
        scope.layers.push({ kind, condition, content: toLayer(ls), label });
        return;
      }
      case 'IfModule':
      case 'IfDefine':
        return; // decided by the syntax layer
    }
    const unsup = UNSUPPORTED_SECTIONS.find((x) => x.toLowerCase() === lower);
    if (unsup !== undefined) return notImplemented(n, unsup, 'mod_core', true);
    unknown(n, n.name, true);
  };

  walk(nodes, main);

  // ---- cross references ----
  const classNames = new Set(classes.map((c) => c.def.name));
  for (const ref of classRefs) {
    if (classNames.has(ref.name)) continue;
    const hint = suggest(ref.name, classNames);
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_CONFIG_REFERENCE',
      file: ref.source.file,
      line: ref.source.line,
      directive: ref.what,
      message: `${ref.what} names class '${ref.name}', which no <Class> defines; no client is in it`,
      fix: hint !== undefined ? `did you mean ${hint}?` : `add <Class ${ref.name}> with From lines`,
    });
  }

  const mainPort = mainServer.port ?? 21;
  const finishServer = (scope: Scope, id: number): ServerConfig => {
    const srv = scope.server as MutableServer;
    return {
      id,
      kind: id === 0 ? 'main' : 'vhost',
      label: srv.label,
      addresses: srv.addresses,
      port: srv.port ?? mainPort,
      aliases: srv.aliases,
      defaultServer: srv.defaultServer,
      settings: toLayer(scope),
      layers: scope.layers,
      anonymous: scope.anonymous,
      userAliases: scope.userAliases,
      ...(srv.source ? { source: srv.source } : {}),
    };
  };
  const servers = [main, ...vhosts].map((sc, i) => finishServer(sc, i));
  const mainConfig = servers[0] as ServerConfig;
  const virtualHosts = servers.slice(1);

  // Two vhosts on the same address and port need ServerAlias names to tell them apart.
  for (let i = 0; i < virtualHosts.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = virtualHosts[i] as ServerConfig;
      const b = virtualHosts[j] as ServerConfig;
      const shared = a.addresses.find((x) => b.addresses.includes(x));
      if (shared !== undefined && a.port === b.port && (a.aliases.length === 0 || b.aliases.length === 0)) {
        diagnostics.push({
          severity: 'error',
          code: 'ERR_CONFIG_DUPLICATE',
          file: a.source?.file ?? '',
          line: a.source?.line ?? 0,
          directive: '<VirtualHost>',
          message: `${a.label.replace(/ \(.*$/, '')} (${shared}:${a.port}) is already bound to the <VirtualHost> at ${b.source ? at(b.source, a.source?.file ?? '') : 'an earlier line'}`,
          fix: 'give each <VirtualHost> its own address or Port, or ServerAlias names so that HOST can choose',
        });
      }
    }
  }
  if (daemon["socketBindTight"] === true && servers.some((sv) => sv.defaultServer)) {
    const sv = servers.find((x) => x.defaultServer) as ServerConfig;
    diagnostics.push({
      severity: 'warning',
      code: 'ERR_CONFIG_VALUE',
      file: sv.source?.file ?? nodes[0]?.file ?? '',
      line: sv.source?.line ?? 1,
      directive: 'DefaultServer',
      message: 'SocketBindTight in effect, ignoring DefaultServer',
      fix: 'remove DefaultServer, or set SocketBindTight off',
    });
  }

  const config: FtpkitConfig = {
    main: mainConfig,
    virtualHosts,
    global: { settings: toLayer(global), layers: global.layers, anonymous: global.anonymous, userAliases: global.userAliases },
    classes: classes.map((c) => c.def),
    daemon: daemon as unknown as DaemonSettings,
    files: opts.files ?? [],
  };
  return { config, diagnostics };
}
