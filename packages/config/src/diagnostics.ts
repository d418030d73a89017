/** Configuration diagnostics: every one names `file:line`, what is wrong and the fix. */

/** One error, warning or note about the configuration. */
export interface ConfigDiagnostic {
  readonly severity: 'error' | 'warning' | 'note';
  /** Stable code, e.g. `ERR_CONFIG_UNKNOWN_DIRECTIVE`. */
  readonly code: string;
  readonly file: string;
  readonly line: number;
  readonly directive?: string;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix?: string;
}

/** Error codes of the configuration parser (see the README). */
export const CONFIG_CODES: readonly string[] = [
  'ERR_CONFIG_SYNTAX',
  'ERR_CONFIG_SECTION',
  'ERR_CONFIG_UNKNOWN_DIRECTIVE',
  'ERR_CONFIG_NOT_IMPLEMENTED',
  'ERR_CONFIG_CONTEXT',
  'ERR_CONFIG_ARGS',
  'ERR_CONFIG_VALUE',
  'ERR_CONFIG_DUPLICATE',
  'ERR_CONFIG_INCLUDE',
  'ERR_CONFIG_REFERENCE',
  'NOTE_CONFIG_NOT_APPLICABLE',
];

/**
 * `proftpd.conf:12: PassivePorts 60000 60000: min port must be less than max port —
 * PassivePorts needs two ports 1024–65535, min below max`. Warnings and notes say so
 * after the location.
 */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const kind = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${d.file}:${d.line}: ${kind}${d.message}${d.fix !== undefined ? ` — ${d.fix}` : ''}`;
}

/** Levenshtein distance, case-insensitive, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, i) => i);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[t.length] as number;
}

/** The closest candidate within a distance that grows with the length, or undefined. */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
