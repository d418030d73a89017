#!/usr/bin/env node
// Enforces the structural rule of DESIGN.md: a package's root export is sans-IO.
// The build already fails on node:* imports, Buffer, timers and process (the core
// tsconfig has no Node types); this check also catches what type-checking cannot:
// ambient randomness and clocks, dynamic requires, and imports of another
// package's ./node export from pure code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const rules = [
  [/\bfrom\s+['"](node:|fs|net|tls|dns|dgram|os|child_process|crypto|path)['"/]/, 'imports a Node module'],
  [/\bimport\(\s*['"]node:/, 'imports a Node module dynamically'],
  [/\brequire\s*\(/, 'calls require()'],
  [/\bBuffer\b/, 'uses Buffer (use Uint8Array)'],
  [/\bprocess\s*\./, 'reads process (take the value as an input)'],
  [/\b(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|queueMicrotask)\s*\(/, 'uses a timer (take `now` as an input)'],
  [/\bMath\.random\s*\(/, 'uses Math.random (take a random source as an input)'],
  [/\bDate\.now\s*\(|\bnew Date\(\s*\)/, 'reads the clock (take `now` as an input)'],
  [/\bperformance\.now\s*\(/, 'reads the clock (take `now` as an input)'],
  [/['"]@ftpkit\/[a-z-]+\/node['"]/, "imports another package's ./node export"],
];

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) yield* walk(full);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield full;
  }
}

const problems = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const src = join(root, 'packages', pkg, 'src');
  let files;
  try { files = [...walk(src)]; } catch { continue; }
  for (const file of files) {
    if (relative(src, file).split('/')[0] === 'node') continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (/^\s*(\*|\/\*)/.test(code)) return; // doc comments may show examples
      for (const [re, what] of rules) {
        if (re.test(code)) problems.push(`${relative(root, file)}:${i + 1}: ${what}; only src/node/ may do IO (DESIGN.md, "pure core, IO at the edge")`);
      }
    });
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\nlint-sans-io: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log('lint-sans-io: every package root export is sans-IO');
