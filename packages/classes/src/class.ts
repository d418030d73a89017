/**
 * `<Class name>` … `</Class>` (ProFTPD src/class.c, mod_core `add_class`, `add_from`,
 * `set_satisfy`).
 *
 * Theory of operation: classes are global and kept in definition order. A session gets
 * at most one class, computed once at connect: the first class, in definition order,
 * whose rules the client's address satisfies (`pr_class_match_addr`). `Satisfy any`
 * (the default) needs one rule answering 1 (a matching `!rule` does not veto);
 * `Satisfy all` needs every rule to answer 1.
 */
import { matchNetAcl, parseNetAclList, type NetAclContext, type NetAclRule } from './netacl.js';
import { ClassesError, fail, ok, type Result } from './result.js';

/** One `<Class>`: its name, its `From` rules in order and its `Satisfy` mode. */
export interface ClassDefinition {
  readonly name: string;
  readonly rules: readonly NetAclRule[];
  readonly satisfy: 'any' | 'all';
}

/** The input of `defineClass`: `from` takes the tokens of one or more `From` lines. */
export interface ClassInput {
  readonly name: string;
  readonly from: string | readonly string[];
  readonly satisfy?: 'any' | 'all';
}

/** Parses `Satisfy any|all` (ProFTPD `set_satisfy`). */
export function parseSatisfy(arg: string): Result<'any' | 'all'> {
  const v = arg.toLowerCase();
  if (v === 'any' || v === 'all') return ok(v);
  return fail('ERR_CLASS_SATISFY', `invalid parameter: '${arg}' (use any or all)`);
}

/**
 * Builds a class from strings; throws `ERR_CLASS_INVALID` (caller misuse) when a rule
 * does not parse. Config files go through `parseNetAclList`, which returns errors.
 */
export function defineClass(input: ClassInput): ClassDefinition {
  if (input.name === '') throw new ClassesError('ERR_CLASS_INVALID', 'a class needs a name');
  const lines = typeof input.from === 'string' ? [input.from] : input.from;
  const rules: NetAclRule[] = [];
  for (const line of lines) {
    const r = parseNetAclList(line.split(/\s+/), 'from');
    if (!r.ok) throw new ClassesError('ERR_CLASS_INVALID', `<Class ${input.name}>: ${r.error.message}`);
    rules.push(...r.value);
  }
  return { name: input.name, rules, satisfy: input.satisfy ?? 'any' };
}

/** `pr_class_satisfied`: does the client satisfy this class? A class with no rules never matches. */
export function classSatisfied(def: ClassDefinition, ctx: NetAclContext): boolean {
  if (def.rules.length === 0) return false;
  if (def.satisfy === 'all') return def.rules.every((r) => matchNetAcl(r, ctx) === 1);
  return def.rules.some((r) => matchNetAcl(r, ctx) === 1);
}

/**
 * The session's class: the first class in definition order that the client satisfies,
 * or undefined (the client is in no class).
 */
export function matchClass(classes: readonly ClassDefinition[], ctx: NetAclContext): string | undefined {
  for (const def of classes) if (classSatisfied(def, ctx)) return def.name;
  return undefined;
}

/** The global list of classes, in definition order, with lookups by name. */
export class ClassRegistry {
  readonly #classes: ClassDefinition[] = [];

  constructor(classes: readonly (ClassDefinition | ClassInput)[] = []) {
    for (const c of classes) this.add(c);
  }

  /** Adds a class at the end. A duplicate name is kept, but lookups by name find the first (as ProFTPD). */
  add(def: ClassDefinition | ClassInput): this {
    this.#classes.push('rules' in def ? def : defineClass(def));
    return this;
  }

  /** All classes in definition order. */
  get classes(): readonly ClassDefinition[] {
    return this.#classes;
  }

  /** The first class with this name (case-sensitive, like `pr_class_find`). */
  get(name: string): ClassDefinition | undefined {
    return this.#classes.find((c) => c.name === name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The session's class at connect (first match in definition order). */
  matchClass(ctx: NetAclContext): string | undefined {
    return matchClass(this.#classes, ctx);
  }

  /**
   * Does the client satisfy the named class? Used where a class is tested on its own,
   * such as `AllowForeignAddress <class>`. Unknown classes answer false.
   */
  satisfies(name: string, ctx: NetAclContext): boolean {
    const def = this.get(name);
    return def !== undefined && classSatisfied(def, ctx);
  }
}
