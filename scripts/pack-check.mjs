#!/usr/bin/env node
// Every package installs and works alone: pack each one, install the tarball into an
// empty project with only its declared dependencies (its @ftpkit dependencies from
// their own tarballs, everything else from the registry), then import each export
// from ESM and through require(). Also runs publint on every package.
//   node scripts/pack-check.mjs [--publint-only] [package-name…]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const publintOnly = args.includes('--publint-only');
const only = args.filter((a) => !a.startsWith('--'));

const dirs = ['packages', 'apps'].flatMap((top) =>
  readdirSync(join(root, top)).map((d) => join(root, top, d)).filter((d) => existsSync(join(d, 'package.json'))));
const pkgs = new Map(dirs.map((dir) => {
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return [pj.name, { dir, pj }];
}));
let failed = 0;

for (const [name, { dir, pj }] of pkgs) {
  if (only.length && !only.includes(name)) continue;
  const { messages } = await publint({ pkgDir: dir, strict: true, level: 'warning' });
  for (const m of messages) console.error(`publint ${name}: ${formatMessage(m, pj)}`);
  if (messages.length) failed++;
}
if (publintOnly) finish();

const tmp = mkdtempSync(join(tmpdir(), 'ftpkit-pack-'));
const tarballs = new Map();
for (const [name, { dir }] of pkgs) {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: dir, encoding: 'utf8' });
  tarballs.set(name, join(tmp, out.trim().split('\n').pop()));
}
const closure = (name, seen = new Set()) => {
  for (const dep of Object.keys(pkgs.get(name).pj.dependencies ?? {})) {
    if (pkgs.has(dep) && !seen.has(dep)) { seen.add(dep); closure(dep, seen); }
  }
  return seen;
};

for (const [name, { pj }] of pkgs) {
  if (only.length && !only.includes(name)) continue;
  const proj = join(tmp, `try-${name.replace(/[@/]/g, '_')}`);
  execFileSync('mkdir', ['-p', proj]);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'try', private: true, version: '0.0.0' }));
  const local = [name, ...closure(name)].map((n) => tarballs.get(n));
  try {
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--omit=dev', ...local], { cwd: proj, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    console.error(`pack-check ${name}: npm install of the tarball failed`); failed++; continue;
  }
  const subpaths = Object.keys(pj.exports ?? { '.': 1 }).filter((s) => s !== './package.json');
  for (const sub of subpaths) {
    const spec = sub === '.' ? name : `${name}/${sub.slice(2)}`;
    const esm = `const m = await import(${JSON.stringify(spec)}); if (Object.keys(m).length === 0) throw new Error('no exports');`;
    const cjs = `const m = require(${JSON.stringify(spec)}); if (Object.keys(m).length === 0) throw new Error('no exports');`;
    for (const [how, argv] of [['import', ['--input-type=module', '-e', esm]], ['require', ['-e', cjs]]]) {
      try {
        execFileSync(process.execPath, argv, { cwd: proj, stdio: ['ignore', 'ignore', 'pipe'] });
        console.log(`pack-check ${spec}: ${how} ok`);
      } catch (e) {
        console.error(`pack-check ${spec}: ${how} failed\n${String(e.stderr).trim().split('\n').slice(0, 6).join('\n')}`);
        failed++;
      }
    }
  }
}
rmSync(tmp, { recursive: true, force: true });
finish();

function finish() {
  if (failed) { console.error(`pack-check: ${failed} problem(s)`); process.exit(1); }
  console.log(publintOnly ? 'publint: every package is clean' : 'pack-check: every package installs and imports alone');
  process.exit(0);
}
