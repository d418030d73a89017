// Load generator for the load test, run as its own process (so `ulimit -n` can be raised
// for it): opens N FTP sessions at once, keeps them all open while a share of them run
// mixed commands and transfers for a bounded time, then quits them all.
// argv[2]: JSON { port, sessions, durationMs, uploaders, user, password, files: { name: size },
//                 maxTransfers, verifyPassive? }
// stdout: "connected <n>" once every session is logged in, "done" before quitting them,
// then one JSON line of results.
import { createHash } from 'node:crypto';
import net from 'node:net';

const cfg = JSON.parse(process.argv[2]);
const errors = [];
const stats = { connected: 0, loggedIn: 0, commands: 0, transfers: 0, downloads: 0, uploads: 0, bytes: 0, fallbackPorts: 0 };
const uploads = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (what) => {
  if (errors.length < 50) errors.push(what);
};

class Control {
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.queue = [];
    this.waiter = undefined;
    this.closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (/^\d{3} /.test(line)) this.queue.push(line);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }
  wake() {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
  async reply(ms = 20000) {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      if (this.closed) throw new Error('closed');
      if (Date.now() > deadline) throw new Error('reply timeout');
      await new Promise((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
    }
    return this.queue.shift();
  }
  async cmd(line, ms) {
    this.socket.write(`${line}\r\n`);
    stats.commands++;
    return this.reply(ms);
  }
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

async function dataConnection(c) {
  const r = await c.cmd('PASV');
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r);
  if (!r.startsWith('227') || m === null) throw new Error(`PASV: ${r}`);
  const port = Number(m[5]) * 256 + Number(m[6]);
  if (cfg.range !== undefined && (port < cfg.range.min || port > cfg.range.max)) stats.fallbackPorts++;
  const d = await connect(port);
  d.on('error', () => undefined);
  return d;
}

function drain(d) {
  const hash = createHash('sha256');
  let n = 0;
  return new Promise((resolve) => {
    d.on('data', (b) => {
      n += b.length;
      hash.update(b);
    });
    d.once('close', () => resolve({ n, sha: hash.digest('hex') }));
  });
}

const pattern = (size, seed) => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + seed) & 255;
  return b;
};

let inFlight = 0;
async function transfer(c, uploader, id, k) {
  if (inFlight >= cfg.maxTransfers) {
    await c.cmd('NOOP');
    return;
  }
  inFlight++;
  try {
    const d = await dataConnection(c);
    if (uploader && k % 2 === 0) {
      const name = `up-${id}-${k}.bin`;
      const body = pattern(64 * 1024 + id, id);
      const first = await c.cmd(`STOR ${name}`);
      if (!first.startsWith('150')) throw new Error(`STOR: ${first}`);
      d.end(body);
      const final = await c.reply();
      if (!final.startsWith('226')) throw new Error(`STOR final: ${final}`);
      uploads.push({ name, size: body.length, sha: createHash('sha256').update(body).digest('hex') });
      stats.uploads++;
    } else {
      const names = Object.keys(cfg.files);
      const name = names[k % names.length];
      const done = drain(d);
      const first = await c.cmd(`RETR ${name}`);
      if (!first.startsWith('150')) {
        d.destroy();
        throw new Error(`RETR: ${first}`);
      }
      const got = await done;
      const final = await c.reply();
      if (!final.startsWith('226')) throw new Error(`RETR final: ${final}`);
      if (got.n !== cfg.files[name].size || got.sha !== cfg.files[name].sha) throw new Error(`RETR ${name}: ${got.n} bytes, sha ${got.sha.slice(0, 8)}`);
      stats.downloads++;
      stats.bytes += got.n;
    }
    stats.transfers++;
  } finally {
    inFlight--;
  }
}

async function session(id, startGate) {
  const uploader = id < cfg.uploaders;
  let c;
  try {
    c = new Control(await connect(cfg.port));
    stats.connected++;
    const banner = await c.reply();
    if (!banner.startsWith('220')) throw new Error(`banner: ${banner}`);
    const u = await c.cmd(uploader ? `USER ${cfg.user}` : 'USER anonymous');
    if (!u.startsWith('331')) throw new Error(`USER: ${u}`);
    const p = await c.cmd(uploader ? `PASS ${cfg.password}` : 'PASS load@example.test');
    if (!p.startsWith('230')) throw new Error(`PASS: ${p}`);
    await c.cmd('TYPE I');
    stats.loggedIn++;
  } catch (err) {
    fail(`session ${id} setup: ${err.message}`);
    c?.socket.destroy();
    return undefined;
  }
  if (cfg.pasvOnce) {
    return async () => {
      await startGate;
      try {
        const r = await c.cmd('PASV');
        const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(r);
        if (m === null) throw new Error(`PASV: ${r}`);
        (stats.ports ??= []).push(Number(m[5]) * 256 + Number(m[6]));
      } catch (err) {
        fail(`session ${id}: ${err.message}`);
      }
      return c;
    };
  }
  return async () => {
    await startGate;
    const deadline = Date.now() + cfg.durationMs;
    let k = 0;
    try {
      while (Date.now() < deadline) {
        await sleep(300 + Math.random() * 2500);
        if (Date.now() >= deadline) break;
        const roll = Math.random();
        if (roll < 0.25 || uploader) await transfer(c, uploader, id, k++);
        else if (roll < 0.35 && inFlight < cfg.maxTransfers) {
          const d = await dataConnection(c);
          const done = drain(d);
          const first = await c.cmd('NLST');
          if (!first.startsWith('150')) throw new Error(`NLST: ${first}`);
          await done;
          const final = await c.reply();
          if (!final.startsWith('226')) throw new Error(`NLST final: ${final}`);
        } else {
          const r = await c.cmd(roll < 0.7 ? 'NOOP' : 'PWD');
          if (!/^2\d\d /.test(r)) throw new Error(`NOOP/PWD: ${r}`);
        }
      }
    } catch (err) {
      fail(`session ${id}: ${err.message}`);
    }
    return c;
  };
}

// Connect everyone (at most 300 connects in flight), then run, then quit everyone.
const runners = [];
let release;
const gate = new Promise((r) => (release = r));
for (let i = 0; i < cfg.sessions; i += 300) {
  const batch = await Promise.all(Array.from({ length: Math.min(300, cfg.sessions - i) }, (_, j) => session(i + j, gate)));
  runners.push(...batch.filter(Boolean));
}
console.log(`connected ${stats.loggedIn}`);
await sleep(cfg.holdMs ?? 1000); // all sessions open at once: the parent samples the server here
release();
const controls = await Promise.all(runners.map((r) => r()));
console.log('done');
await Promise.all(
  controls.map(async (c) => {
    if (c === undefined || c.closed) return;
    try {
      await c.cmd('QUIT', 5000);
    } catch {
      /* counted below */
    }
    c.socket.destroy();
  }),
);
console.log(JSON.stringify({ stats, errors, uploads }));
process.exit(0);
