/**
 * The `proftpd.conf` syntax (ProFTPD src/parser.c, src/str.c `pr_str_get_word`):
 * lines, `\` continuations, `#` comments (a whole line, or from a word that starts
 * with `#`), words with `"double quotes"` (`\"` inside), `<Section args>` … `</Section>`,
 * and the parse-time directives `Include`, `Define`, `<IfModule [!]mod_x.c>`,
 * `<IfDefine [!]NAME>` and `%{env:NAME}` substitution.
 *
 * Theory of operation: each file is read line by line into a tree of directive and
 * section nodes. Conditional sections are decided as they are met and vanish from the
 * tree: a false one is skipped up to its matching close (counting nested sections of
 * the same kind, as ProFTPD does) without looking at its contents. `Include` asks the
 * injected `include` callback for the files a pattern names and parses them in place,
 * inside the current section. Nothing here knows what a directive means; that is
 * build.ts.
 */
import type { ConfigDiagnostic } from './diagnostics.js';

/** A directive line: its name as written, its arguments, where it is. */
export interface DirectiveNode {
  readonly type: 'directive';
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
}

/** A `<Section args>` … `</Section>` block. */
export interface SectionNode {
  readonly type: 'section';
  readonly name: string;
  readonly args: readonly string[];
  readonly children: ConfigNode[];
  readonly file: string;
  readonly line: number;
}

export type ConfigNode = DirectiveNode | SectionNode;

/** A file returned by the include callback. */
export interface IncludedFile {
  readonly file: string;
  readonly text: string;
}

/**
 * Reads the files an `Include` pattern names (a file, a directory = every file in it,
 * or a glob), relative paths being relative to `fromFile`'s directory. Returns them in
 * the order to parse (sorted), or an error message.
 */
export type IncludeCallback = (
  pattern: string,
  fromFile: string,
) => readonly IncludedFile[] | { readonly ok: true; readonly files: readonly IncludedFile[] } | { readonly ok: false; readonly message: string };

/** Options of `parseSyntax`. */
export interface SyntaxOptions {
  /** Name used in diagnostics for the text given. */
  readonly file: string;
  readonly include?: IncludeCallback | undefined;
  /** `-D NAME` of the command line, for `<IfDefine>`. */
  readonly defines?: readonly string[] | undefined;
  /** Values for `%{env:NAME}`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Modules that count as loaded for `<IfModule>` (default: LOADED_MODULES). */
  readonly modules?: readonly string[] | undefined;
}

/**
 * The ProFTPD modules whose behaviour ftpkit implements; `<IfModule>` treats them as
 * loaded. Modules not listed (mod_quotatab, mod_sql, mod_ident, mod_ratio, mod_ctrls,
 * mod_unixpw, mod_auth_unix…) count as not loaded, so their sections are skipped.
 */
export const LOADED_MODULES: readonly string[] = [
  'mod_core.c',
  'mod_xfer.c',
  'mod_auth.c',
  'mod_auth_file.c',
  'mod_ls.c',
  'mod_log.c',
  'mod_facts.c',
  'mod_site.c',
  'mod_ifsession.c',
  'mod_dynmasq.c',
  'mod_tls.c',
  'mod_proxy_protocol.c',
  'mod_delay.c',
];

/** `mod_tls` → `mod_tls.c`. */
export function normalizeModuleName(name: string): string {
  return name.endsWith('.c') ? name : `${name}.c`;
}

/** The result of `parseSyntax`. */
export interface SyntaxResult {
  readonly nodes: ConfigNode[];
  readonly diagnostics: ConfigDiagnostic[];
  readonly files: string[];
}

interface Line {
  readonly words: string[];
  readonly line: number;
}

const MAX_INCLUDE_DEPTH = 16;

/** Splits a logical line into words; `undefined` marks an unterminated quote. */
export function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    if (text[i] === '#') break;
    let word = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i] as string;
        if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          word += text[i + 1];
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        word += ch;
        i++;
      }
      if (!closed) return undefined;
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) word += text[i++];
    }
    words.push(word);
  }
  return words;
}

function logicalLines(text: string): { text: string; line: number }[] {
  const physical = text.split(/\r?\n/);
  const out: { text: string; line: number }[] = [];
  let buf = '';
  let start = 0;
  for (let i = 0; i < physical.length; i++) {
    const raw = (physical[i] as string).replace(/\s+$/, '');
    if (buf === '') start = i + 1;
    if (raw.endsWith('\\') && !/^\s*#/.test(buf === '' ? raw : buf)) {
      buf += `${raw.slice(0, -1)} `;
      continue;
    }
    buf += raw;
    out.push({ text: buf, line: start });
    buf = '';
  }
  if (buf !== '') out.push({ text: buf, line: start });
  return out;
}

/** Parses configuration text into a tree, deciding the conditional sections. */
export function parseSyntax(text: string, opts: SyntaxOptions): SyntaxResult {
  const diagnostics: ConfigDiagnostic[] = [];
  const files: string[] = [];
  const defines = new Set(opts.defines ?? []);
  const modules = new Set((opts.modules ?? LOADED_MODULES).map(normalizeModuleName));
  const env = opts.env ?? {};
  const root: ConfigNode[] = [];

  const error = (file: string, line: number, code: string, message: string, fix?: string, directive?: string): void => {
    diagnostics.push({
      severity: 'error',
      code,
      file,
      line,
      message,
      ...(fix !== undefined ? { fix } : {}),
      ...(directive !== undefined ? { directive } : {}),
    });
  };

  const substitute = (word: string, file: string, line: number): string =>
    word.replace(/%\{env:([^}]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined) {
        diagnostics.push({
          severity: 'warning',
          code: 'ERR_CONFIG_VALUE',
          file,
          line,
          message: `environment variable ${name} is not set; %{env:${name}} is empty`,
          fix: `set ${name} in the environment of the server, or write the value in the file`,
        });
        return '';
      }
      return v;
    });

  const parseFile = (fileText: string, file: string, into: ConfigNode[], stack: readonly string[]): void => {
    files.push(file);
    const lines: Line[] = [];
    for (const l of logicalLines(fileText)) {
      const trimmed = l.text.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const words = splitWords(trimmed);
      if (words === undefined) {
        error(file, l.line, 'ERR_CONFIG_SYNTAX', 'unterminated quoted string', 'close the " on the same line (or end the line with \\ to continue it)');
        continue;
      }
      if (words.length === 0) continue;
      lines.push({ words: words.map((w) => substitute(w, file, l.line)), line: l.line });
    }

    // Stack of open sections in this file; conditional ones are transparent.
    interface Open {
      readonly name: string;
      readonly line: number;
      readonly children: ConfigNode[];
      readonly transparent: boolean;
    }
    const open: Open[] = [];
    const target = (): ConfigNode[] => (open.length > 0 ? (open[open.length - 1] as Open).children : into);

    for (let i = 0; i < lines.length; i++) {
      const { words, line } = lines[i] as Line;
      const first = words[0] as string;
      if (first.startsWith('</')) {
        const name = first.replace(/^<\//, '').replace(/>$/, '');
        const top = open[open.length - 1];
        if (!first.endsWith('>') || words.length > 1) {
          error(file, line, 'ERR_CONFIG_SECTION', `malformed closing tag '${words.join(' ')}'`, `write </${name}> alone on the line`);
        }
        if (!top) {
          error(file, line, 'ERR_CONFIG_SECTION', `</${name}> without a matching <${name}>`, `remove it, or add <${name} …> before it`);
          continue;
        }
        if (top.name.toLowerCase() !== name.toLowerCase()) {
          error(file, line, 'ERR_CONFIG_SECTION', `</${name}> closes <${top.name}> opened at line ${top.line}`, `close <${top.name}> with </${top.name}> first`);
        }
        open.pop();
        continue;
      }
      if (first.startsWith('<')) {
        const all = [...words];
        const last = all[all.length - 1] as string;
        if (!last.endsWith('>')) {
          // Report, then read it as if the '>' were there so that its contents parse.
          error(file, line, 'ERR_CONFIG_SECTION', `section ${first} is missing its closing '>'`, `write ${all.join(' ')}>`);
        } else {
          all[all.length - 1] = last.slice(0, -1);
        }
        const name = (all[0] as string).slice(1);
        const args = all.slice(1).filter((a, idx) => a !== '' || idx < all.length - 2);
        if (name === '') {
          error(file, line, 'ERR_CONFIG_SECTION', `empty section name '${words.join(' ')}'`, 'write <Name arguments>');
          continue;
        }
        const lower = name.toLowerCase();
        if (lower === 'ifmodule' || lower === 'ifdefine') {
          const arg = args[0];
          if (args.length !== 1 || arg === undefined || arg === '' || arg === '!') {
            error(file, line, 'ERR_CONFIG_ARGS', `<${name}> needs exactly one ${lower === 'ifmodule' ? 'module name' : 'define name'}`, lower === 'ifmodule' ? 'write <IfModule mod_tls.c> or <IfModule !mod_tls.c>' : 'write <IfDefine NAME> or <IfDefine !NAME>', `<${name}>`);
          }
          const neg = (arg ?? '').startsWith('!');
          const subject = neg ? (arg as string).slice(1) : (arg ?? '');
          const holds = lower === 'ifmodule' ? modules.has(normalizeModuleName(subject)) : defines.has(subject);
          if (holds !== neg) {
            open.push({ name, line, children: target(), transparent: true });
            continue;
          }
          // Skip to the matching close, counting nested sections of the same kind.
          let depth = 1;
          let j = i + 1;
          for (; j < lines.length; j++) {
            const w = ((lines[j] as Line).words[0] as string).toLowerCase();
            if (w === `<${lower}` || w.startsWith(`<${lower}>`)) depth++;
            else if (w === `</${lower}>`) {
              depth--;
              if (depth === 0) break;
            }
          }
          if (j >= lines.length) {
            error(file, line, 'ERR_CONFIG_SECTION', `<${name} ${arg ?? ''}> opened here is never closed`, `add </${name}> in the same file`);
          }
          i = j;
          continue;
        }
        const node: SectionNode = { type: 'section', name, args, children: [], file, line };
        target().push(node);
        open.push({ name, line, children: node.children, transparent: false });
        continue;
      }
      const lower = first.toLowerCase();
      const args = words.slice(1);
      if (lower === 'define') {
        if (args.length !== 1) error(file, line, 'ERR_CONFIG_ARGS', `Define takes one name, got ${args.length}`, 'write Define NAME', 'Define');
        else defines.add(args[0] as string);
        continue;
      }
      if (lower === 'include') {
        if (args.length !== 1) {
          error(file, line, 'ERR_CONFIG_ARGS', `Include takes one path or pattern, got ${args.length}`, 'write Include /etc/proftpd/conf.d/*.conf', 'Include');
          continue;
        }
        const pattern = args[0] as string;
        if (!opts.include) {
          error(file, line, 'ERR_CONFIG_INCLUDE', `Include ${pattern}: no file access here`, 'load the file with loadConfigFile from @ftpkit/config/node, or pass an include callback to parseConfig', 'Include');
          continue;
        }
        if (stack.length >= MAX_INCLUDE_DEPTH) {
          error(file, line, 'ERR_CONFIG_INCLUDE', `Include ${pattern}: includes nested more than ${MAX_INCLUDE_DEPTH} deep`, 'check for files that include each other', 'Include');
          continue;
        }
        const raw = opts.include(pattern, file);
        const got = Array.isArray(raw) ? { ok: true as const, files: raw as readonly IncludedFile[] } : (raw as Exclude<typeof raw, readonly IncludedFile[]>);
        if (!got.ok) {
          error(file, line, 'ERR_CONFIG_INCLUDE', `Include ${pattern}: ${got.message}`, 'fix the path, or remove the Include', 'Include');
          continue;
        }
        for (const inc of got.files) {
          if (stack.includes(inc.file)) {
            error(file, line, 'ERR_CONFIG_INCLUDE', `Include ${pattern}: ${inc.file} includes itself (${[...stack, inc.file].join(' → ')})`, 'remove the Include that closes the loop', 'Include');
            continue;
          }
          parseFile(inc.text, inc.file, target(), [...stack, inc.file]);
        }
        continue;
      }
      target().push({ type: 'directive', name: first, args, file, line });
    }
    for (const o of open) {
      error(file, o.line, 'ERR_CONFIG_SECTION', `<${o.name}> opened here is never closed`, `add </${o.name}> in the same file`);
    }
  };

  parseFile(text, opts.file, root, [opts.file]);
  return { nodes: root, diagnostics, files };
}
