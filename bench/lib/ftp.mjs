// A minimal raw FTP client for the load generator: one control connection, replies parsed
// as RFC 959 §4.2 says (single line "ddd text", multi-line "ddd-" ... "ddd text"), passive
// data connections read into one reused buffer (no allocation per chunk). The same code
// talks to every server, so its overhead is the same in every column.
import net from 'node:net';

const CRLF = '\r\n';

/** Parses the host and port out of a 227 reply (RFC 959 §4.1.2, PASV). */
export function parsePasvReply(text) {
  const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(text);
  if (!m) return undefined;
  const n = m.slice(1).map(Number);
  return { host: `${n[0]}.${n[1]}.${n[2]}.${n[3]}`, port: n[4] * 256 + n[5] };
}

export class FtpError extends Error {
  constructor(message, reply) {
    super(message);
    this.code = 'ERR_BENCH_FTP';
    this.reply = reply;
  }
}

/**
 * A control connection. Replies arrive in order; `read()` returns the next one, `cmd()`
 * writes a command and returns its reply. For pipelining, `send()` writes without waiting
 * and `onReply` (when set) receives every reply instead of the queue.
 */
export class Control {
  constructor(socket) {
    this.socket = socket;
    this.buf = '';
    this.multi = undefined; // code of the multi-line reply being read
    this.lines = [];
    this.queue = [];
    this.waiters = [];
    this.onReply = undefined;
    this.closed = false;
    this.error = undefined;
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (s) => this.#onData(s));
    socket.on('error', (err) => { this.error = err; });
    socket.on('close', () => {
      this.closed = true;
      const err = this.error ?? new FtpError('control connection closed');
      for (const w of this.waiters.splice(0)) w.reject(err);
    });
  }

  /** Connects and reads the greeting (220). */
  static connect(host, port, timeoutMs = 30_000) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => { socket.destroy(); reject(new FtpError(`connect timeout ${host}:${port}`)); }, timeoutMs);
      socket.once('error', (err) => { clearTimeout(timer); reject(err); });
      socket.once('connect', () => {
        const c = new Control(socket);
        c.read().then((r) => {
          clearTimeout(timer);
          if (r.code !== 220) { socket.destroy(); reject(new FtpError(`greeting ${r.code} ${r.text}`, r)); } else resolve(c);
        }, (err) => { clearTimeout(timer); reject(err); });
      });
    });
  }

  #onData(s) {
    this.buf += s;
    let i;
    while ((i = this.buf.indexOf('\n')) !== -1) {
      let line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.#onLine(line);
    }
  }

  #onLine(line) {
    const code = line.length >= 3 ? Number(line.slice(0, 3)) : NaN;
    if (this.multi === undefined) {
      if (Number.isInteger(code) && line[3] === '-') { this.multi = code; this.lines = [line]; return; }
      this.#deliver({ code: Number.isInteger(code) ? code : 0, text: line });
      return;
    }
    this.lines.push(line);
    if (code === this.multi && line[3] === ' ') {
      const text = this.lines.join('\n');
      this.multi = undefined;
      this.lines = [];
      this.#deliver({ code, text });
    }
  }

  #deliver(reply) {
    if (this.onReply) { this.onReply(reply); return; }
    const w = this.waiters.shift();
    if (w) w.resolve(reply); else this.queue.push(reply);
  }

  read() {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.reject(this.error ?? new FtpError('control connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  send(line) { this.socket.write(line + CRLF); }

  cmd(line) { this.send(line); return this.read(); }

  /** Sends a command and fails unless the reply code is one of `codes`. */
  async expect(line, ...codes) {
    const r = await this.cmd(line);
    if (!codes.includes(r.code)) throw new FtpError(`${line.split(' ')[0]} -> ${r.code} ${r.text}`, r);
    return r;
  }

  async login(user, pass) {
    const r = await this.cmd(`USER ${user}`);
    if (r.code === 230) return;
    if (r.code !== 331) throw new FtpError(`USER -> ${r.code} ${r.text}`, r);
    await this.expect(`PASS ${pass}`, 230);
  }

  /** Sends PASV and returns the advertised address, or throws with the reply. */
  async pasv() {
    const r = await this.cmd('PASV');
    const addr = r.code === 227 ? parsePasvReply(r.text) : undefined;
    if (!addr) throw new FtpError(`PASV -> ${r.code} ${r.text}`, r);
    return addr;
  }

  async quit() {
    if (this.closed) return;
    try { await this.cmd('QUIT'); } catch { /* closed already */ }
    this.socket.end();
  }

  destroy() { this.socket.destroy(); }
}

/** Opens a control connection and logs in. */
export async function session(host, port, user, pass) {
  const c = await Control.connect(host, port);
  try { await c.login(user, pass); } catch (err) { c.destroy(); throw err; }
  return c;
}

const READ_BUFFER_BYTES = 1 << 20;

/**
 * Connects a data socket that counts and discards what it receives into one reused
 * buffer. Resolves `{ socket, done }` once connected; `done` resolves with the byte count
 * when the peer closes.
 */
export function connectSink(host, port) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let finish;
    let fail;
    const done = new Promise((res, rej) => { finish = res; fail = rej; });
    done.catch(() => {});
    const socket = net.connect({
      host, port,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (n) => { bytes += n; return true; } },
    });
    socket.once('connect', () => resolve({ socket, done }));
    socket.once('error', (err) => { reject(err); fail(err); });
    socket.once('end', () => socket.end());
    socket.once('close', () => finish(bytes));
  });
}

/** Connects a data socket for sending. */
export function connectSource(host, port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `total` bytes from `chunk` repeatedly, respecting backpressure, then ends. */
export function pump(socket, chunk, total) {
  return new Promise((resolve, reject) => {
    let left = total;
    socket.once('error', reject);
    const more = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        const ok = socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (!ok) { socket.once('drain', more); return; }
      }
      socket.end(() => resolve(total));
    };
    more();
  });
}
