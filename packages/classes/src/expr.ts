/**
 * Name expressions of mod_ifsession (`<IfClass>`, `<IfUser>`, `<IfGroup>`) and of the
 * `<Limit>` directives `AllowUser`/`DenyUser`/`AllowGroup`/`DenyGroup`/`AllowClass`/
 * `DenyClass` (ProFTPD src/expr.c, contrib/mod_ifsession.c `start_ifctxt`).
 *
 * Forms: `name[,name…]` with optional `!` per name, an optional first keyword `AND` or
 * `OR`, or `regex <POSIX ERE>`. The default operator is OR for users and classes and
 * AND for groups. In mod_ifsession the keywords are recognised only as the first
 * argument and only in upper/lower case exactly as written (`strcmp`): `<IfClass !a AND
 * !b>` is the OR-list `!a`, `AND`, `!b`, as in ProFTPD. The `<Limit>` directives accept
 * them in any case.
 */
import { fail, ok, type Result } from './result.js';

/** One name of a list, possibly negated with `!`. */
export interface NameTerm {
  readonly name: string;
  readonly negated: boolean;
}

/** A parsed expression. `text` is the expression as written, for messages. */
export type NameExpr =
  | { readonly op: 'or' | 'and'; readonly terms: readonly NameTerm[]; readonly text: string }
  | { readonly op: 'regex'; readonly pattern: string; readonly text: string };

/** Options of `parseNameExpr`. */
export interface NameExprOptions {
  /** Operator when no keyword is given: OR for users and classes, AND for groups. */
  readonly defaultOp: 'or' | 'and';
  /** Accept `and`/`or`/`regex` in any case (the `<Limit>` directives); mod_ifsession needs exact `AND`/`OR`/`regex`. */
  readonly caseInsensitiveKeywords?: boolean;
}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\r\\n\\v\\f',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

/**
 * Compiles a POSIX extended regular expression (as regcomp(REG_EXTENDED)) into a
 * JavaScript RegExp: the syntaxes agree except for bracket classes such as
 * `[[:alpha:]]`, which are translated. Returns an error for an invalid pattern.
 */
export function compilePosixRegex(pattern: string, flags = ''): Result<RegExp> {
  let translated = pattern.replace(/\[:([a-z]+):\]/g, (whole, name: string) => POSIX_CLASSES[name] ?? whole);
  if (translated === '') translated = '(?:)';
  try {
    return ok(new RegExp(translated, flags));
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return fail('ERR_REGEX_INVALID', `invalid regular expression '${pattern}': ${why}`);
  }
}

function keyword(arg: string | undefined, ci: boolean): 'and' | 'or' | 'regex' | undefined {
  if (arg === undefined) return undefined;
  if (ci) {
    const k = arg.toLowerCase();
    return k === 'and' || k === 'or' || k === 'regex' ? k : undefined;
  }
  if (arg === 'AND') return 'and';
  if (arg === 'OR') return 'or';
  return arg === 'regex' ? 'regex' : undefined;
}

/** Parses the arguments of `<IfUser …>`, `AllowGroup …` and friends into an expression. */
export function parseNameExpr(args: readonly string[], opts: NameExprOptions): Result<NameExpr> {
  const text = args.join(' ');
  if (args.length === 0) return fail('ERR_EXPR_INVALID', 'needs at least one name or a regex');
  const kw = keyword(args[0], opts.caseInsensitiveKeywords ?? false);
  if (kw === 'regex') {
    if (args.length !== 2) return fail('ERR_EXPR_INVALID', `regex takes exactly one pattern, got ${args.length - 1}`);
    const re = compilePosixRegex(args[1] as string);
    if (!re.ok) return re;
    return ok({ op: 'regex', pattern: args[1] as string, text });
  }
  const rest = kw === undefined ? args : args.slice(1);
  const terms: NameTerm[] = [];
  for (const token of rest.flatMap((a) => a.split(','))) {
    const t = token.trim();
    if (t === '') continue;
    const negated = t.startsWith('!');
    const name = negated ? t.slice(1) : t;
    if (name === '') return fail('ERR_EXPR_INVALID', `'${t}' names nothing`);
    terms.push({ name, negated });
  }
  if (terms.length === 0) return fail('ERR_EXPR_INVALID', 'needs at least one name');
  return ok({ op: kw ?? opts.defaultOp, terms, text });
}

function regexTest(pattern: string, value: string): boolean {
  const re = compilePosixRegex(pattern);
  return re.ok && re.value.test(value);
}

/**
 * `<IfClass>` / `AllowClass` evaluation against the session's one class (src/expr.c
 * `pr_expr_eval_class_or/and`). With no class, OR answers for the first term only
 * (true only if it is negated); AND holds only if every term is negated.
 */
export function evalClassExpr(expr: NameExpr, className: string | undefined): boolean {
  if (expr.op === 'regex') return className !== undefined && regexTest(expr.pattern, className);
  if (expr.op === 'or') {
    for (const term of expr.terms) {
      if (className === undefined) return term.negated;
      if ((term.name === className) !== term.negated) return true;
    }
    return false;
  }
  return expr.terms.every((term) => (className !== undefined && term.name === className) !== term.negated);
}

/** `<IfUser>` / `AllowUser` evaluation (`pr_expr_eval_user_or/and`). */
export function evalUserExpr(expr: NameExpr, user: string): boolean {
  if (expr.op === 'regex') return regexTest(expr.pattern, user);
  const hit = (t: NameTerm): boolean => (t.name === user) !== t.negated;
  return expr.op === 'or' ? expr.terms.some(hit) : expr.terms.every(hit);
}

/**
 * `<IfGroup>` / `AllowGroup` evaluation against the primary and supplementary group
 * names (`pr_expr_eval_group_or/and`); a regex matches if any group matches.
 */
export function evalGroupExpr(expr: NameExpr, groups: readonly string[]): boolean {
  if (expr.op === 'regex') return groups.some((g) => regexTest(expr.pattern, g));
  const hit = (t: NameTerm): boolean => groups.includes(t.name) !== t.negated;
  return expr.op === 'or' ? expr.terms.some(hit) : expr.terms.every(hit);
}
