/**
 * Building the configuration in code (`defineConfig`): the same `FtpkitConfig` a file
 * produces, from typed objects. Conditions, ACLs and `<Limit>` rules are written as
 * they are in a file (`'!internal'`, `'10.0.0.0/8, 192.168.1.5'`), and parsed by the
 * same code. Mistakes are caller misuse: they throw `ERR_CONFIG_INVALID` with every
 * problem listed.
 */
import { defineClass, parseNameExpr, parseNetAclList, type ClassInput, type Layer, type LayerKind, type NameExpr } from '@ftpkit/classes';
import { LIMIT_COMMANDS, LIMIT_GROUPS, pairedCommands } from './commands.js';
import {
  DEFAULT_DAEMON,
  type AnonymousConfig,
  type DaemonSettings,
  type FtpkitConfig,
  type LimitSection,
  type ServerConfig,
  type SettingsLayer,
  type UserAlias,
} from './model.js';
import { passivePorts } from './values.js';

/** A `<Limit>` section in code. Each string of `allow`/`deny` is one Allow/Deny line. */
export interface LimitInput {
  readonly commands: string | readonly string[];
  readonly order?: 'allow,deny' | 'deny,allow';
  readonly allowAll?: boolean;
  readonly denyAll?: boolean;
  readonly allow?: string | readonly string[];
  readonly deny?: string | readonly string[];
  readonly allowUser?: string | readonly string[];
  readonly denyUser?: string | readonly string[];
  readonly allowGroup?: string | readonly string[];
  readonly denyGroup?: string | readonly string[];
  readonly allowClass?: string | readonly string[];
  readonly denyClass?: string | readonly string[];
}

/** Settings of one context in code, with its `<Limit>` sections (in definition order). */
export interface ScopeInput {
  readonly settings?: Omit<SettingsLayer, 'limits'>;
  readonly limits?: readonly LimitInput[];
}

/** A conditional section in code: exactly one of `ifClass`, `ifUser`, `ifGroup`, `ifAuthenticated`. */
export interface LayerInput extends ScopeInput {
  readonly ifClass?: string;
  readonly ifUser?: string;
  readonly ifGroup?: string;
  readonly ifAuthenticated?: true;
}

export interface AnonymousInput extends ScopeInput {
  readonly dir: string;
  readonly user: string;
  readonly group?: string;
  readonly userAliases?: readonly UserAlias[];
  readonly requirePassword?: boolean;
}

export interface ServerInput extends ScopeInput {
  readonly addresses?: readonly string[];
  readonly port?: number;
  readonly aliases?: readonly string[];
  readonly defaultServer?: boolean;
  readonly layers?: readonly LayerInput[];
  readonly anonymous?: readonly AnonymousInput[];
  readonly userAliases?: readonly UserAlias[];
}

/** The whole configuration in code. */
export interface ConfigInput {
  readonly server?: ServerInput;
  readonly global?: Omit<ServerInput, 'addresses' | 'port' | 'aliases' | 'defaultServer'>;
  readonly virtualHosts?: readonly (ServerInput & { readonly addresses: readonly string[] })[];
  readonly classes?: readonly ClassInput[];
  readonly daemon?: Partial<DaemonSettings>;
}

/** Thrown by `defineConfig`; `problems` lists every mistake. */
export class ConfigError extends Error {
  readonly code: string;
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.code = 'ERR_CONFIG_INVALID';
    this.problems = problems;
  }
}

const list = (v: string | readonly string[] | undefined): readonly string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

/** Builds and checks a configuration from typed objects. Throws `ERR_CONFIG_INVALID` on mistakes. */
export function defineConfig(input: ConfigInput): FtpkitConfig {
  const problems: string[] = [];
  const expr = (args: string, defaultOp: 'or' | 'and', where: string): NameExpr | undefined => {
    const r = parseNameExpr(args.split(/\s+/).filter(Boolean), { defaultOp, caseInsensitiveKeywords: true });
    if (!r.ok) problems.push(`${where}: ${r.error.message}`);
    return r.ok ? r.value : undefined;
  };
  const limit = (l: LimitInput, where: string): LimitSection => {
    const commands: string[] = [];
    for (const c of list(l.commands).flatMap((x) => x.split(/[\s,]+/)).filter(Boolean).map((x) => x.toUpperCase())) {
      if (!LIMIT_GROUPS.includes(c) && !LIMIT_COMMANDS.has(c)) problems.push(`${where}: unknown command or group '${c}'`);
      else for (const p of pairedCommands(c)) if (!commands.includes(p)) commands.push(p);
    }
    const acl = (lines: string | readonly string[] | undefined) =>
      list(lines).flatMap((line) => {
        const r = parseNetAclList(line.split(/\s+/), 'allow');
        if (!r.ok) problems.push(`${where}: ${r.error.message}`);
        return r.ok ? [r.value] : [];
      });
    const names = (v: string | readonly string[] | undefined, op: 'or' | 'and') => list(v).flatMap((s) => expr(s, op, where) ?? []);
    return {
      commands,
      order: l.order ?? 'allow,deny',
      allowAll: l.allowAll ?? false,
      denyAll: l.denyAll ?? false,
      allow: acl(l.allow),
      deny: acl(l.deny),
      allowUser: names(l.allowUser, 'or'),
      denyUser: names(l.denyUser, 'or'),
      allowGroup: names(l.allowGroup, 'and'),
      denyGroup: names(l.denyGroup, 'and'),
      allowClass: names(l.allowClass, 'or'),
      denyClass: names(l.denyClass, 'or'),
      label: `<Limit ${commands.join(' ')}> (${where})`,
    };
  };
  const settings = (s: ScopeInput, where: string): SettingsLayer => {
    const out: Record<string, unknown> = { ...(s.settings ?? {}) };
    const pp = s.settings?.passivePorts;
    if (pp) {
      const r = passivePorts([String(pp.min), String(pp.max)], 'PassivePorts');
      if (!r.ok) problems.push(`${where}: ${r.message} (${r.fix ?? ''})`);
    }
    if (s.limits && s.limits.length > 0) out['limits'] = s.limits.map((l, i) => limit(l, `${where} limits[${i}]`)).reverse();
    return out as SettingsLayer;
  };
  const layers = (ls: readonly LayerInput[] | undefined, where: string): Layer<SettingsLayer>[] =>
    (ls ?? []).map((l, i) => {
      const w = `${where} layers[${i}]`;
      const kinds = [l.ifClass !== undefined, l.ifUser !== undefined, l.ifGroup !== undefined, l.ifAuthenticated === true].filter(Boolean).length;
      if (kinds !== 1) problems.push(`${w}: give exactly one of ifClass, ifUser, ifGroup, ifAuthenticated`);
      const kind: LayerKind = l.ifClass !== undefined ? 'class' : l.ifUser !== undefined ? 'user' : l.ifGroup !== undefined ? 'group' : 'authenticated';
      const text = l.ifClass ?? l.ifUser ?? l.ifGroup;
      const r = text === undefined ? undefined : parseNameExpr(text.split(/\s+/).filter(Boolean), { defaultOp: kind === 'group' ? 'and' : 'or' });
      if (r && !r.ok) problems.push(`${w}: ${r.error.message}`);
      const tag = kind === 'class' ? 'IfClass' : kind === 'user' ? 'IfUser' : kind === 'group' ? 'IfGroup' : 'IfAuthenticated';
      return { kind, condition: r?.ok ? r.value : undefined, content: settings(l, w), label: `<${tag}${text ? ` ${text}` : ''}> (${w})` };
    });
  const anonymous = (as: readonly AnonymousInput[] | undefined, where: string): AnonymousConfig[] =>
    (as ?? []).map((a, i) => ({
      dir: a.dir,
      user: a.user,
      ...(a.group !== undefined ? { group: a.group } : {}),
      userAliases: a.userAliases ?? [],
      requirePassword: a.requirePassword ?? false,
      settings: settings(a, `${where} anonymous[${i}]`),
      label: `<Anonymous ${a.dir}> (${where} anonymous[${i}])`,
    }));
  const server = (s: ServerInput, id: number, mainPort: number): ServerConfig => {
    const where = id === 0 ? 'server' : `virtualHosts[${id - 1}]`;
    return {
      id,
      kind: id === 0 ? 'main' : 'vhost',
      label: id === 0 ? 'main server' : `<VirtualHost ${(s.addresses ?? []).join(' ')}> (${where})`,
      addresses: s.addresses ?? [],
      port: s.port ?? mainPort,
      aliases: s.aliases ?? [],
      defaultServer: s.defaultServer ?? false,
      settings: settings(s, where),
      layers: layers(s.layers, where),
      anonymous: anonymous(s.anonymous, where),
      userAliases: s.userAliases ?? [],
    };
  };

  const classes = (input.classes ?? []).flatMap((c) => {
    try {
      return [defineClass(c)];
    } catch (e) {
      problems.push((e as Error).message);
      return [];
    }
  });
  const mainPort = input.server?.port ?? 21;
  const main = server(input.server ?? {}, 0, mainPort);
  const virtualHosts = (input.virtualHosts ?? []).map((v, i) => server(v, i + 1, mainPort));
  const g = input.global ?? {};
  const config: FtpkitConfig = {
    main,
    virtualHosts,
    global: { settings: settings(g, 'global'), layers: layers(g.layers, 'global'), anonymous: anonymous(g.anonymous, 'global'), userAliases: g.userAliases ?? [] },
    classes,
    daemon: { ...DEFAULT_DAEMON, ...(input.daemon ?? {}) },
    files: [],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
