// Broken configurations, each ending with the exact errors expected (`# expect: file:line: message — fix`).
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../src/index.js';
import { loadConfigFile } from '../src/node/index.js';
import { fixture } from './helpers.js';

const dir = fixture('bad/');
const files = readdirSync(dir).filter((f) => f.endsWith('.conf')).sort();

describe('bad configurations', () => {
  it('the corpus has at least 30 files', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
  });
  it.each(files)('%s', (file) => {
    const expected = readFileSync(dir + file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => l.slice('# expect: '.length));
    expect(expected.length).toBeGreaterThan(0);
    const r = loadConfigFile(dir + file, { env: {} });
    expect(r.ok).toBe(false);
    expect(r.errors.map((e) => formatDiagnostic(e).replace(dir, ''))).toEqual(expected);
    for (const e of r.errors) expect(e.fix, `${file}: every error says how to fix it`).toBeTruthy();
  });
});
