/**
 * Shared pieces of the NAT suite: fixtures on disk, the ftpkit server started inside the
 * server namespace, and the real clients run inside a client namespace.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Topology } from './topology.js';

export const REPO = new URL('../../', import.meta.url).pathname;
export const CLI = join(REPO, 'apps/server/dist/cli.js');
export const CLIENTS = new URL('./clients/', import.meta.url).pathname;
export const USER = 'alice';
export const PASSWORD = 'n4t-Secret';

export interface Fixtures {
  dir: string;
  home: string;
  passwd: string;
  /** A large file in the user's home and its sha256. */
  big: { name: string; sha256: string; size: number };
  /** A 4 MiB file for the parallel-transfer scenario. */
  par: { name: string; sha256: string };
  /** A file to upload (outside the FTP root) and its sha256. */
  upload: { path: string; sha256: string; size: number };
  cleanup(): void;
}

export function makeFixtures(bigMiB = 48, uploadMiB = 24): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), 'ftpkit-nat-'));
  chmodSync(dir, 0o755);
  const home = join(dir, 'home', USER);
  mkdirSync(home, { recursive: true });
  const bigData = randomBytes(bigMiB << 20);
  writeFileSync(join(home, 'big.bin'), bigData);
  writeFileSync(join(home, 'small.txt'), 'hello through the NAT\n');
  const parData = randomBytes(4 << 20);
  writeFileSync(join(home, 'par.bin'), parData);
  const upData = randomBytes(uploadMiB << 20);
  const upPath = join(dir, 'upload.bin');
  writeFileSync(upPath, upData);
  const hash = execFileSync('openssl', ['passwd', '-6', PASSWORD], { encoding: 'utf8' }).trim();
  const passwd = join(dir, 'ftpd.passwd');
  writeFileSync(passwd, `${USER}:${hash}:65534:65534:NAT test user:${home}:/bin/sh\n`);
  for (const p of [join(dir, 'home'), home, join(home, 'big.bin'), join(home, 'small.txt'), join(home, 'par.bin')]) chownSync(p, 65534, 65534);
  return {
    dir, home, passwd,
    big: { name: 'big.bin', sha256: sha256(bigData), size: bigData.length },
    par: { name: 'par.bin', sha256: sha256(parData) },
    upload: { path: upPath, sha256: sha256(upData), size: upData.length },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
export const sha256File = (path: string): string => sha256(readFileSync(path));

export interface RunningServer {
  child: ChildProcess;
  /** Everything the server logged so far (stdout + stderr). */
  log(): string;
  /** Wait until the log matches (the server's output is read while the test awaits). */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Start `ftpkit serve` inside the server namespace and wait until it accepts connections. */
export async function startServer(t: Topology, confText: string, fx: Fixtures, extraArgs: string[] = [], probeAddress = '127.0.0.1'): Promise<RunningServer> {
  return startServerWith(t, confText, fx, { args: extraArgs, probeAddress });
}

export interface StartOptions {
  /** Extra `ftpkit serve` arguments. */
  args?: string[];
  /** The namespace to run in. Default the server namespace. */
  ns?: string;
  /** Extra environment variables (for `%{env:NAME}` in the configuration). */
  env?: NodeJS.ProcessEnv;
  /** Where the readiness probe connects (inside the server namespace). Default 127.0.0.1. */
  probeAddress?: string;
  /** The control port the probe connects to. Default 2121. */
  probePort?: number;
  /** Bytes the probe sends before reading the banner (a PROXY header for a server that wants one). */
  probeSend?: string;
  /** Log lines the server must have written before it counts as started (e.g. one per cluster worker). */
  readyLog?: RegExp;
  /** How long the server may take to start. Default 15 s. */
  startTimeoutMs?: number;
}

/** {@link startServer} with options. */
export async function startServerWith(t: Topology, confText: string, fx: Fixtures, opts: StartOptions = {}): Promise<RunningServer> {
  const conf = join(fx.dir, `proftpd-${Date.now()}-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(conf, confText);
  const ns = opts.ns ?? t.ns.srv;
  const child = t.spawn(ns, process.execPath, [CLI, 'serve', '--config', conf, ...(opts.args ?? [])], { env: { ...process.env, NO_COLOR: '1', ...opts.env } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const probeAddress = opts.probeAddress ?? '127.0.0.1';
  const send = opts.probeSend === undefined ? '' : `s.sendall(${JSON.stringify(opts.probeSend)}.encode()); `;
  const probe = `import socket; s=socket.create_connection(("${probeAddress}",${opts.probePort ?? 2121}),timeout=1); ${send}print(s.recv(200).decode())`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ftpkit serve exited with ${child.exitCode}:\n${out}`);
    try {
      const r = t.exec(ns, 'python3', ['-c', probe], { timeoutMs: 3000 });
      if (r.startsWith('220') && (opts.readyLog === undefined || opts.readyLog.test(out))) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`ftpkit serve did not start:\n${out}`); }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    child,
    log: () => out,
    waitForLog: async (pattern, timeoutMs = 5000) => {
      const hit = (): boolean => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      const until = Date.now() + timeoutMs;
      while (!hit() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return out;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface DialogEntry { cmd?: string; code?: number; lines?: string[]; pasv?: [string, number]; epsv?: number; ms?: number; data?: string; bytes?: number; accept?: string; peer?: string; banner?: { code: number; lines: string[] }; closed?: boolean }

/** A raw FTP dialogue from a namespace (see clients/dialog.py). */
export function dialog(t: Topology, ns: string, host: string, script: string[], port = 2121): DialogEntry[] {
  const out = t.exec(ns, 'python3', [join(CLIENTS, 'dialog.py'), host, String(port)], { input: script.join('\n') + '\n', timeoutMs: 60_000 });
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as DialogEntry);
}

export const login = [`USER ${USER}`, `PASS ${PASSWORD}`];

export type ClientName = 'curl' | 'lftp' | 'ftplib' | 'basic-ftp';
export const ALL_CLIENTS: ClientName[] = ['curl', 'lftp', 'ftplib', 'basic-ftp'];

export interface ClientResult { advertised?: [string, number] | undefined; epsvPort?: number | undefined; retrSha256: string; uploaded: string; listed: boolean }

/**
 * One real client: download big.bin, upload the upload file as `uploadName`, list the
 * directory. `mode` pasv forces PASV (227) and checks the advertised address is used
 * as-is; `epsv` uses EPSV (229).
 */
export function runClient(t: Topology, ns: string, client: ClientName, host: string, fx: Fixtures, mode: 'pasv' | 'epsv', uploadName: string): ClientResult {
  const outFile = join(fx.dir, `down-${client}-${mode}-${Math.random().toString(36).slice(2)}`);
  const url = `ftp://${USER}:${PASSWORD}@${host}:2121`;
  switch (client) {
    case 'curl': {
      const modeArgs = mode === 'pasv' ? ['--disable-epsv'] : ['--disable-eprt'];
      const common = ['-sS', '-v', '--connect-timeout', '10', '--max-time', '120', ...modeArgs];
      const v1 = t.exec(ns, 'sh', ['-c', `curl ${common.join(' ')} -o '${outFile}' '${url}/${fx.big.name}' 2>&1`]);
      t.exec(ns, 'curl', [...common, '-T', fx.upload.path, `${url}/${uploadName}`]);
      const listing = t.exec(ns, 'curl', [...common.filter((a) => a !== '-v'), `${url}/`]);
      const m = /227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(v1);
      const e = /229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)/.exec(v1);
      return {
        advertised: m ? [`${m[1]}.${m[2]}.${m[3]}.${m[4]}`, Number(m[5]) * 256 + Number(m[6])] : undefined,
        epsvPort: e ? Number(e[1]) : undefined,
        retrSha256: sha256File(outFile), uploaded: uploadName, listed: listing.includes(fx.big.name),
      };
    }
    case 'lftp': {
      const settings = [
        'set ftp:passive-mode on', `set ftp:prefer-epsv ${mode === 'epsv' ? 'yes' : 'no'}`,
        'set ftp:fix-pasv-address no', 'set net:max-retries 1', 'set net:timeout 15', 'set ftp:ssl-allow no',
      ];
      const cmds = [...settings, `open -u ${USER},${PASSWORD} -p 2121 ${host}`, `get ${fx.big.name} -o ${outFile}`, `put ${fx.upload.path} -o ${uploadName}`, 'cls -1'];
      const out = t.exec(ns, 'sh', ['-c', `lftp -d -c '${cmds.join('; ')}' 2>&1`]);
      const m = /227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(out);
      const e = /229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)/.exec(out);
      return {
        advertised: m ? [`${m[1]}.${m[2]}.${m[3]}.${m[4]}`, Number(m[5]) * 256 + Number(m[6])] : undefined,
        epsvPort: e ? Number(e[1]) : undefined,
        retrSha256: sha256File(outFile), uploaded: uploadName, listed: out.includes(fx.big.name),
      };
    }
    case 'ftplib': {
      const out = t.exec(ns, 'python3', [join(CLIENTS, 'ftplib_client.py'), host, '2121', USER, PASSWORD, fx.big.name, fx.upload.path, uploadName, mode]);
      const r = JSON.parse(out) as { pasv?: [string, number]; epsv?: string; retr_sha256: string; list: string[] };
      const e = r.epsv ? /\|\|\|(\d+)\|/.exec(r.epsv) : null;
      return { advertised: r.pasv, epsvPort: e ? Number(e[1]) : undefined, retrSha256: r.retr_sha256, uploaded: uploadName, listed: r.list.includes(fx.big.name) };
    }
    case 'basic-ftp': {
      const out = t.exec(ns, process.execPath, [join(CLIENTS, 'basicftp_client.mjs'), host, '2121', USER, PASSWORD, fx.big.name, fx.upload.path, uploadName, mode], { timeoutMs: 120_000 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { replies: string[]; retr_sha256: string; list: string[] };
      const m = r.replies.map((x) => /227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(x)).find(Boolean);
      const e = r.replies.map((x) => /\(\|\|\|(\d+)\|\)/.exec(x)).find(Boolean);
      return {
        advertised: m ? [`${m[1]}.${m[2]}.${m[3]}.${m[4]}`, Number(m[5]) * 256 + Number(m[6])] : undefined,
        epsvPort: e ? Number(e[1]) : undefined,
        retrSha256: r.retr_sha256, uploaded: uploadName, listed: r.list.includes(fx.big.name),
      };
    }
  }
}

/** The fenced block that follows `<!-- snippet: name -->` in docs/deployment.md (the guide's files, used as written). */
export function snippet(name: string): string {
  const text = readFileSync(join(REPO, 'docs/deployment.md'), 'utf8');
  const marker = `<!-- snippet: ${name} -->\n`;
  const at = text.indexOf(marker);
  if (at === -1) throw new Error(`docs/deployment.md has no snippet '${name}'`);
  const m = /^```[\w-]*\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (m === null) throw new Error(`docs/deployment.md: the snippet '${name}' is not followed by a fenced block`);
  return `${m[1]}\n`;
}
