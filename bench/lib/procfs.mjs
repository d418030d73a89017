// What the kernel says about a server: its process tree (forking servers run one or two
// processes per session), the memory of that tree (PSS from /proc/<pid>/smaps_rollup, so
// pages shared between sessions count once in total), and the TCP listeners on a range
// of ports (to see whether a server leaves passive listeners open).
import fs from 'node:fs';

function readOr(path, fallback) {
  try { return fs.readFileSync(path, 'utf8'); } catch { return fallback; }
}

function statFields(pid) {
  const stat = readOr(`/proc/${pid}/stat`, undefined);
  // comm may contain spaces and parentheses: the fields after the last ')' are fixed.
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : undefined;
}

/** The start time of a process (clock ticks since boot), or undefined once it is gone. */
export function startTime(pid) {
  return statFields(pid)?.[19];
}

/** The pid and every descendant of it (from the ppid field of /proc/<pid>/stat). */
export function processTree(rootPid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const rest = statFields(name);
    if (!rest) continue;
    const ppid = Number(rest[1]);
    let list = children.get(ppid);
    if (!list) children.set(ppid, (list = []));
    list.push(Number(name));
  }
  const out = [];
  const todo = [rootPid];
  while (todo.length > 0) {
    const pid = todo.pop();
    if (!fs.existsSync(`/proc/${pid}`)) continue;
    out.push(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/**
 * CPU time (ms) the process tree of `rootPid` has used: user + system of each process
 * and of its reaped children (a forking server's finished sessions count in its master).
 */
export function treeCpuMs(rootPid) {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    const f = statFields(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

function field(text, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Sum of PSS and RSS (KiB) over the process tree of `rootPid`. */
export function treeMemory(rootPid) {
  const pids = processTree(rootPid);
  let pssKiB = 0;
  let rssKiB = 0;
  for (const pid of pids) {
    const text = readOr(`/proc/${pid}/smaps_rollup`, '');
    pssKiB += field(text, 'Pss');
    rssKiB += field(text, 'Rss');
  }
  return { processes: pids.length, pssKiB, rssKiB };
}

/** Local ports in [min, max] with a socket in LISTEN state (IPv4 and IPv6). */
export function listenersInRange(min, max) {
  const ports = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = readOr(file, '').split('\n').slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue;
      const port = parseInt(cols[1].split(':')[1], 16);
      if (port >= min && port <= max) ports.push(port);
    }
  }
  return ports;
}
