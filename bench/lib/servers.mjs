// The servers under test, each started by the harness on 127.0.0.1 with its own config
// file in a temp dir: the same user (benchftp, one SHA-512 crypt hash from
// `openssl passwd -6`), the same chrooted root, a passive range of its own, transfer logs
// off, connection limits high enough for 5 000 sessions, otherwise the defaults an
// operator gets. `prepare()` throws Error(reason) when a server cannot be had here; the
// harness then reports "n/a (reason)" in its column.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ensureDebs, ensureFtpSrv, libraryPath, sh, BENCH_DIR } from './install.mjs';
import { processTree, startTime } from './procfs.mjs';

const REPO_DIR = path.dirname(BENCH_DIR);
const MAX_SESSIONS = 10_000;

function write(file, text, mode = 0o644) {
  fs.writeFileSync(file, text, { mode });
  return file;
}

function needFile(file, what) {
  if (!fs.existsSync(file)) throw new Error(`${what} not found (${path.relative(REPO_DIR, file) || file})`);
  return file;
}

/**
 * The proftpd.conf lines every loopback ProFTPD here shares: standalone on 127.0.0.1, the
 * passive range, users from `dir`/passwd and `dir`/group under `DefaultRoot ~`, state and
 * logs in `dir`. Callers append their own sections.
 */
export function proftpdConf({ name, dir, port, pasvMin, pasvMax, modulePath }) {
  return `ServerName "${name}"
ServerType standalone
DefaultServer on
${modulePath ? `ModulePath ${modulePath}\n` : ''}DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
Port ${port}
PassivePorts ${pasvMin} ${pasvMax}
User nobody
Group nogroup
Umask 022
AllowOverwrite on
UseReverseDNS off
PidFile ${dir}/proftpd.pid
ScoreboardFile ${dir}/proftpd.scoreboard
DelayTable ${dir}/proftpd.delay
WtmpLog off
TransferLog none
SystemLog ${dir}/proftpd.log
AuthUserFile ${dir}/passwd
AuthGroupFile ${dir}/group
AuthOrder mod_auth_file.c
RequireValidShell off
DefaultRoot ~
`;
}

/** @type {Record<string, {prepare(ctx): any, command(prep, ctx, inst): {cmd: string, args: string[], env?: object}}>} */
export const SERVERS = {
  ftpkit: {
    describe: 'apps/server/dist/cli.js serve (this build, with the node flags of its #! line)',
    prepare() {
      const cli = needFile(path.join(REPO_DIR, 'apps/server/dist/cli.js'), 'apps/server/dist/cli.js');
      // Run it as the `ftpkit` command runs: the node flags its #! line gives, with this node.
      const shebang = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)\n/.exec(fs.readFileSync(cli, 'utf8').slice(0, 200));
      return { cli, flags: shebang ? shebang[1].trim().split(/\s+/).filter(Boolean) : [] };
    },
    command(prep, ctx, inst) {
      return {
        cmd: process.execPath,
        args: [...prep.flags, ...inst.nodeFlags, prep.cli, 'serve', '--root', ctx.root, '--listen', '127.0.0.1', '--port', String(inst.port),
          '--passive-ports', `${inst.pasvMin}-${inst.pasvMax}`, '--user', `${ctx.user}:${ctx.pass}`],
      };
    },
  },

  proftpd: {
    describe: 'Debian proftpd-basic 1.3.8, standalone (fork per session)',
    prepare() {
      const root = ensureDebs('proftpd', ['proftpd-core', 'proftpd-basic']);
      return { root, bin: needFile(path.join(root, 'usr/sbin/proftpd'), 'proftpd binary'), env: { LD_LIBRARY_PATH: libraryPath(root) } };
    },
    command(prep, ctx, inst) {
      const d = inst.dir;
      write(path.join(d, 'passwd'), `${ctx.user}:${ctx.hash}:${ctx.uid}:${ctx.gid}::${ctx.root}:/usr/sbin/nologin\n`, 0o600);
      write(path.join(d, 'group'), `${ctx.user}:x:${ctx.gid}:\n`, 0o600);
      const conf = write(path.join(d, 'proftpd.conf'), `${proftpdConf({ name: 'bench', dir: d, port: inst.port, pasvMin: inst.pasvMin, pasvMax: inst.pasvMax, modulePath: path.join(prep.root, 'usr/lib/proftpd') })}MaxInstances ${MAX_SESSIONS}
<IfModule mod_ctrls.c>
  ControlsEngine off
</IfModule>
`);
      return { cmd: prep.bin, args: ['-n', '-q', '-c', conf], env: prep.env };
    },
  },

  vsftpd: {
    describe: 'Debian vsftpd 3.0.3, listen=YES (two processes per session)',
    prepare(ctx) {
      const root = ensureDebs('vsftpd', ['vsftpd']);
      if (!ctx.pamService) throw new Error(ctx.pamError ?? 'no PAM service');
      return { root, bin: needFile(path.join(root, 'usr/sbin/vsftpd'), 'vsftpd binary'), env: { LD_LIBRARY_PATH: libraryPath(root) } };
    },
    command(prep, ctx, inst) {
      const d = inst.dir;
      const empty = path.join(d, 'empty');
      fs.mkdirSync(empty, { mode: 0o555 });
      const conf = write(path.join(d, 'vsftpd.conf'), `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=${inst.port}
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
dirmessage_enable=YES
use_localtime=YES
xferlog_enable=NO
vsftpd_log_file=${d}/vsftpd.log
connect_from_port_20=NO
chroot_local_user=YES
allow_writeable_chroot=YES
local_root=${ctx.root}
pasv_enable=YES
pasv_min_port=${inst.pasvMin}
pasv_max_port=${inst.pasvMax}
max_clients=0
max_per_ip=0
pam_service_name=${ctx.pamService}
secure_chroot_dir=${empty}
seccomp_sandbox=NO
`, 0o600);
      return { cmd: prep.bin, args: [conf], env: prep.env };
    },
  },

  'pure-ftpd': {
    describe: 'Debian pure-ftpd 1.0.50, PureDB user (one process per session)',
    prepare() {
      const root = ensureDebs('pure-ftpd', ['pure-ftpd', 'pure-ftpd-common']);
      return {
        root,
        bin: needFile(path.join(root, 'usr/sbin/pure-ftpd'), 'pure-ftpd binary'),
        pw: needFile(path.join(root, 'usr/bin/pure-pw'), 'pure-pw binary'),
        env: { LD_LIBRARY_PATH: libraryPath(root) },
      };
    },
    command(prep, ctx, inst) {
      const d = inst.dir;
      const passwd = write(path.join(d, 'pureftpd.passwd'),
        `${ctx.user}:${ctx.hash}:${ctx.uid}:${ctx.gid}::${ctx.root}/./::::::::::::\n`, 0o600);
      const pdb = path.join(d, 'pureftpd.pdb');
      inst.pre = { cmd: prep.pw, args: ['mkdb', pdb, '-f', passwd], env: prep.env };
      return {
        cmd: prep.bin,
        args: ['-S', `127.0.0.1,${inst.port}`, '-p', `${inst.pasvMin}:${inst.pasvMax}`, '-l', `puredb:${pdb}`,
          '-A', '-E', '-H', '-c', String(MAX_SESSIONS), '-C', String(MAX_SESSIONS)],
        env: prep.env,
      };
    },
  },

  'ftp-srv': {
    describe: 'ftp-srv 4 from npm (Node, one process)',
    prepare() {
      const dir = ensureFtpSrv();
      return { dir, script: needFile(path.join(BENCH_DIR, 'ftp-srv-server.cjs'), 'bench/ftp-srv-server.cjs') };
    },
    command(prep, ctx, inst) {
      return {
        cmd: process.execPath,
        args: [...inst.nodeFlags, prep.script],
        env: {
          FTP_SRV_DIR: prep.dir, BENCH_PORT: String(inst.port), BENCH_PASV: `${inst.pasvMin}-${inst.pasvMax}`,
          BENCH_ROOT: ctx.root, BENCH_USER: ctx.user, BENCH_PASS: ctx.pass,
        },
      };
    },
  },
};

/** Resolves once `host:port` answers with a 220 greeting line. */
function greeting(port, timeoutMs) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const t = setTimeout(() => { s.destroy(); resolve(false); }, timeoutMs);
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (/^220[ -]/m.test(buf) && buf.includes('\n')) { clearTimeout(t); s.end(); resolve(true); }
    });
    s.on('error', () => { clearTimeout(t); resolve(false); });
    s.on('close', () => { clearTimeout(t); resolve(/^220/m.test(buf)); });
  });
}

/** The telling line of a log: the first that speaks of an error, else the last. */
function tail(file) {
  let lines;
  try { lines = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean); } catch { return ''; }
  const line = lines.find((l) => /error|fatal|oops|unable|cannot|failed|denied|refus/i.test(l)) ?? lines[lines.length - 1] ?? '';
  return line.trim().slice(0, 240);
}

/**
 * Starts a server and waits until it greets. Returns { pid, stop() }; throws Error(reason).
 * inst: { port, pasvMin, pasvMax, dir, nodeFlags }.
 */
export async function startServer(name, prep, ctx, inst) {
  const spec = SERVERS[name].command(prep, ctx, inst);
  const logFile = path.join(inst.dir, 'server.log');
  const env = { ...process.env, ...(spec.env ?? {}) };
  if (inst.pre) {
    const r = sh(inst.pre.cmd, inst.pre.args, { env: { ...process.env, ...inst.pre.env } });
    if (!r.ok) throw new Error(`${path.basename(inst.pre.cmd)}: ${r.out.trim().slice(0, 200)}`);
  }
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(spec.cmd, spec.args, { env, cwd: inst.dir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let exited;
  child.on('exit', (code, sig) => { exited = `exited ${sig ?? code}`; });
  child.on('error', (err) => { exited = err.message; });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !exited) {
    if (await greeting(inst.port, 1000)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = () => stopTree(child);
  if (exited || Date.now() >= deadline) {
    await stop();
    const why = exited ?? 'no 220 greeting within 15 s';
    const logs = [tail(logFile), ...fs.readdirSync(inst.dir).filter((f) => f.endsWith('.log') && f !== 'server.log').map((f) => tail(path.join(inst.dir, f)))];
    throw new Error(`${why}${logs.filter(Boolean).length ? `: ${logs.filter(Boolean).join(' | ')}` : ''}`);
  }
  return { pid: child.pid, child, stop, logFile };
}

/** Signals the server and every process below it (SIGTERM); SIGKILL what is left after graceMs. */
export async function stopTree(child, first = 'SIGTERM', graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const procs = processTree(child.pid).map((pid) => ({ pid, start: startTime(pid) }));
  const signal = (sig) => {
    for (const p of procs) {
      if (startTime(p.pid) !== p.start) continue; // gone (or the pid was reused)
      try { process.kill(p.pid, sig); } catch { /* gone */ }
    }
  };
  const gone = new Promise((r) => child.once('exit', r));
  signal(first);
  await Promise.race([gone, new Promise((r) => setTimeout(r, graceMs))]);
  signal('SIGKILL');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 1000))]);
}
