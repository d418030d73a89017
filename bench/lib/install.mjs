// Getting the peer servers onto this machine without installing them system-wide: the
// Debian packages (which conflict with each other as packages) are fetched with
// `apt-get download` and unpacked with `dpkg-deb -x` into bench/.cache/debs/<server>/root,
// together with any shared library they need that the machine lacks; ftp-srv is installed
// from npm into bench/.cache/ftp-srv. Every failure becomes a reason string, never a throw
// out of the harness.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export const BENCH_DIR = path.dirname(path.dirname(new URL(import.meta.url).pathname));
export const CACHE_DIR = path.join(BENCH_DIR, '.cache');

/** Runs a command synchronously; returns { ok, out } with stdout+stderr. */
export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error.message) : ''}`;
  return { ok: r.status === 0 && !r.error, out, stdout: r.stdout ?? '' };
}

function lastLine(text) {
  const lines = text.trim().split('\n').filter((l) => !/^W: /.test(l));
  return (lines[lines.length - 1] ?? '').slice(0, 160);
}

function installed(pkg) {
  const r = sh('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', pkg]);
  return r.ok && r.stdout.startsWith('ii');
}

let aptUpdated = false;
function aptDownload(pkg, dir) {
  let r = sh('apt-get', ['download', '-q', pkg], { cwd: dir });
  if (!r.ok && !aptUpdated) {
    aptUpdated = true;
    sh('apt-get', ['update', '-qq']);
    r = sh('apt-get', ['download', '-q', pkg], { cwd: dir });
  }
  if (!r.ok) throw new Error(`apt-get download ${pkg}: ${lastLine(r.out)}`);
  const deb = fs.readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg}: no .deb`);
  return path.join(dir, deb);
}

/** Library packages named in a .deb's Depends that are not installed on this machine. */
function missingLibraries(deb) {
  const r = sh('dpkg-deb', ['-f', deb, 'Depends']);
  if (!r.ok) return [];
  const out = [];
  for (const group of r.stdout.split(',')) {
    const alts = group.split('|').map((a) => a.trim().split(/[\s(:]/)[0]).filter(Boolean);
    if (alts.some(installed)) continue;
    const lib = alts.find((a) => a.startsWith('lib'));
    if (lib) out.push(lib);
  }
  return out;
}

/**
 * Downloads and unpacks `packages` (and the libraries they need that are missing here)
 * into bench/.cache/debs/<name>/root. Returns the root; throws Error(reason).
 */
export function ensureDebs(name, packages) {
  const base = path.join(CACHE_DIR, 'debs', name);
  const root = path.join(base, 'root');
  const marker = path.join(base, 'unpacked');
  if (fs.existsSync(marker)) return root;
  if (!fs.existsSync('/usr/bin/apt-get') || !fs.existsSync('/usr/bin/dpkg-deb')) throw new Error('apt-get/dpkg-deb not available');
  const dl = path.join(base, 'deb');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(dl, { recursive: true });
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(dl, 0o777); // apt-get download drops to _apt when it can
  const seen = new Set();
  const todo = [...packages];
  while (todo.length > 0) {
    const pkg = todo.shift();
    if (seen.has(pkg)) continue;
    seen.add(pkg);
    const deb = aptDownload(pkg, dl);
    const x = sh('dpkg-deb', ['-x', deb, root]);
    if (!x.ok) throw new Error(`dpkg-deb -x ${path.basename(deb)}: ${lastLine(x.out)}`);
    for (const lib of missingLibraries(deb)) if (!seen.has(lib)) todo.push(lib);
  }
  fs.writeFileSync(marker, [...seen].join('\n') + '\n');
  return root;
}

/** LD_LIBRARY_PATH for binaries unpacked under `root`. */
export function libraryPath(root) {
  const dirs = [];
  for (const d of ['lib', 'usr/lib']) {
    const full = path.join(root, d);
    if (!fs.existsSync(full)) continue;
    for (const e of fs.readdirSync(full)) if (/-linux-gnu$/.test(e)) dirs.push(path.join(full, e));
    dirs.push(full);
  }
  return dirs.join(':');
}

/** Installs ftp-srv@4 into bench/.cache/ftp-srv (not a repository dependency). */
export function ensureFtpSrv() {
  const dir = path.join(CACHE_DIR, 'ftp-srv');
  const pkg = path.join(dir, 'node_modules', 'ftp-srv', 'package.json');
  if (fs.existsSync(pkg)) return dir;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true, "description": "ftp-srv for the benchmark harness" }\n');
  const r = sh('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-package-lock', 'ftp-srv@4'], { cwd: dir });
  if (!r.ok || !fs.existsSync(pkg)) throw new Error(`npm install ftp-srv@4: ${lastLine(r.out)}`);
  return dir;
}
