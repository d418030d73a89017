/**
 * fnmatch(3)-style globs, as ProFTPD uses them for `From *.example.com`, IP globs
 * such as `10.1.*` and `ServerAlias *.example.org`: `*`, `?`, `[a-z]`, `[!a-z]`
 * and the `{a,b}` alternation of GNU fnmatch/glob.
 */

const cache = new Map<string, RegExp>();

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

/** Translates a glob into an anchored regular expression (case-insensitive when asked). */
export function globToRegExp(pattern: string, caseInsensitive = false): RegExp {
  const key = `${caseInsensitive ? 'i' : 's'}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      let neg = '';
      if (body.startsWith('!') || body.startsWith('^')) {
        neg = '^';
        body = body.slice(1);
      }
      out += `[${neg}${body.replace(/[\\\]]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else if (ch === '{') {
      braces++;
      out += '(?:';
    } else if (ch === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (ch === ',' && braces > 0) out += '|';
    else if (ch === '\\' && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1] as string);
      i++;
    } else out += escapeRegExp(ch);
  }
  out += ')'.repeat(braces);
  const re = new RegExp(`^${out}$`, caseInsensitive ? 'i' : '');
  if (cache.size > 1000) cache.clear();
  cache.set(key, re);
  return re;
}

/** True when the text contains a glob metacharacter (`{[*?`, as ProFTPD's netacl checks). */
export function isGlob(text: string): boolean {
  return /[{[*?]/.test(text);
}

/** fnmatch: does `text` match the glob `pattern`? */
export function globMatch(pattern: string, text: string, caseInsensitive = false): boolean {
  return globToRegExp(pattern, caseInsensitive).test(text);
}
