/**
 * A raw FTP client for hostile dialogues: it sends exactly the bytes it is told to, reads
 * replies with @ftpkit/reply's decoder, and never waits without a deadline. Data
 * connections are plain sockets. Everything opened here is destroyed by `closeAll()`.
 */
import net from 'node:net';
import { ReplyDecoder, parseEpsv, parsePasv } from '@ftpkit/reply';

export interface Reply {
  code: number;
  text: string;
  lines: string[];
}

const open = new Set<net.Socket>();

/** Destroys every socket these helpers opened (afterEach). */
export function closeAll(): void {
  for (const s of open) s.destroy();
  open.clear();
}

function track(s: net.Socket): net.Socket {
  open.add(s);
  s.once('close', () => open.delete(s));
  return s;
}

export function connectSocket(port: number, opts: { host?: string; localAddress?: string; timeoutMs?: number } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = track(net.connect({ port, host: opts.host ?? '127.0.0.1', ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }) }));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${port} timed out`));
    }, opts.timeoutMs ?? 5000);
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}

export class FtpClient {
  readonly socket: net.Socket;
  /** Everything received, as text (Latin-1), for assertions on raw bytes. */
  received = '';
  private readonly queue: Reply[] = [];
  private waiter: (() => void) | undefined;
  private readonly decoder = new ReplyDecoder({ maxReplyBytes: 1 << 20 });
  private ended = false;
  /** Telnet state of the reply stream: 0 data, 1 after IAC, 2 after IAC WILL/WONT/DO/DONT. */
  private telnet = 0;
  /** Resolves when the server closed the connection (FIN or reset). */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      for (const r of this.decoder.push(this.stripTelnet(chunk))) {
        if (r.ok) this.queue.push({ code: r.code, text: r.text, lines: r.lines });
        else this.queue.push({ code: 0, text: `undecodable: ${r.error.message}`, lines: [] });
      }
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.wake();
        resolve();
      });
      socket.once('end', () => {
        this.ended = true;
        this.wake();
      });
    });
  }

  /** Drops the server's Telnet answers (IAC DONT/WONT x) from the reply stream (RFC 854). */
  private stripTelnet(chunk: Buffer): Uint8Array {
    if (this.telnet === 0 && !chunk.includes(255)) return new Uint8Array(chunk);
    const out: number[] = [];
    for (const b of chunk) {
      if (this.telnet === 2) this.telnet = 0;
      else if (this.telnet === 1) {
        if (b === 255) out.push(255);
        this.telnet = b >= 251 && b <= 254 ? 2 : 0;
      } else if (b === 255) this.telnet = 1;
      else out.push(b);
    }
    return Uint8Array.from(out);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Connects and reads the banner. */
  static async connect(port: number, opts: { host?: string; localAddress?: string; timeoutMs?: number } = {}): Promise<FtpClient> {
    const c = new FtpClient(await connectSocket(port, opts));
    c.banner = await c.reply(opts.timeoutMs ?? 5000);
    return c;
  }

  /** Connects without reading anything. */
  static async raw(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<FtpClient> {
    return new FtpClient(await connectSocket(port, opts));
  }

  banner: Reply = { code: 0, text: '', lines: [] };

  get isClosed(): boolean {
    return this.ended;
  }

  /** The next reply; rejects when the connection ends first or after `timeoutMs`. */
  async reply(timeoutMs = 5000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.queue.shift();
      if (r !== undefined) return r;
      if (this.ended) throw new Error(`connection closed while waiting for a reply; received so far: ${JSON.stringify(this.received.slice(-300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; received so far: ${JSON.stringify(this.received.slice(-300))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** The next reply, or `undefined` when the connection ended (or nothing came within `timeoutMs`). */
  async replyOrEnd(timeoutMs = 5000): Promise<Reply | undefined> {
    try {
      return await this.reply(timeoutMs);
    } catch {
      return undefined;
    }
  }

  /** Replies already received and not read yet. */
  pending(): Reply[] {
    return this.queue.splice(0);
  }

  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  send(line: string): void {
    this.write(`${line}\r\n`);
  }

  async cmd(line: string, timeoutMs = 5000): Promise<Reply> {
    this.send(line);
    return this.reply(timeoutMs);
  }

  async login(user: string, password: string): Promise<Reply> {
    const r = await this.cmd(`USER ${user}`);
    if (r.code !== 331) return r;
    return this.cmd(`PASS ${password}`);
  }

  async pasv(): Promise<{ reply: Reply; host: string; port: number }> {
    const reply = await this.cmd('PASV');
    const p = parsePasv(reply.text);
    if (reply.code !== 227 || !p.ok) throw new Error(`PASV: ${reply.code} ${reply.text}`);
    return { reply, host: p.value.host, port: p.value.port };
  }

  async epsv(): Promise<{ reply: Reply; port: number }> {
    const reply = await this.cmd('EPSV');
    const p = parseEpsv(reply.text);
    if (reply.code !== 229 || !p.ok) throw new Error(`EPSV: ${reply.code} ${reply.text}`);
    return { reply, port: p.value.port };
  }

  async quit(): Promise<void> {
    if (this.ended) return;
    this.send('QUIT');
    await this.replyOrEnd(2000);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Collects what a data socket receives until it closes. */
export function collect(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** PASV (or EPSV) + a data connection; returns the connected data socket. */
export async function passiveData(c: FtpClient, opts: { epsv?: boolean; localAddress?: string } = {}): Promise<net.Socket> {
  const port = opts.epsv === true ? (await c.epsv()).port : (await c.pasv()).port;
  // From the control connection's own address: anything else is a foreign peer the server rejects.
  const localAddress = opts.localAddress ?? c.socket.localAddress;
  return connectSocket(port, localAddress === undefined ? {} : { localAddress });
}

/** RETR through a passive connection: the replies and the bytes. */
export async function retr(c: FtpClient, path: string): Promise<{ first: Reply; final: Reply | undefined; data: Buffer }> {
  const d = await passiveData(c);
  const done = collect(d);
  const first = await c.cmd(`RETR ${path}`);
  if (first.code !== 150 && first.code !== 125) {
    d.destroy();
    return { first, final: undefined, data: await done };
  }
  const data = await done;
  return { first, final: await c.reply(15_000), data };
}

/** STOR through a passive connection. */
export async function stor(c: FtpClient, path: string, data: Uint8Array, verb = 'STOR'): Promise<{ first: Reply; final: Reply | undefined }> {
  const d = await passiveData(c);
  const first = await c.cmd(`${verb} ${path}`);
  if (first.code !== 150 && first.code !== 125) {
    d.destroy();
    return { first, final: undefined };
  }
  // The final reply, not the write callback: a server that stops reading (disk full) never lets it finish.
  d.end(data);
  const final = await c.reply(15_000);
  d.destroy();
  return { first, final };
}

/** LIST/NLST/MLSD through a passive connection. */
export async function list(c: FtpClient, line: string): Promise<{ first: Reply; final: Reply | undefined; text: string }> {
  const d = await passiveData(c);
  const done = collect(d);
  const first = await c.cmd(line);
  if (first.code !== 150 && first.code !== 125) {
    d.destroy();
    return { first, final: undefined, text: '' };
  }
  const text = (await done).toString('utf8');
  return { first, final: await c.reply(15_000), text };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A one-shot listener for active mode (PORT/EPRT): the bytes of the first connection. */
export async function activeTarget(host = '127.0.0.1'): Promise<{ port: number; got: Promise<Buffer>; accepted: Promise<net.Socket>; close(): void }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', (s) => resolve(track(s))));
  return { port, accepted, got: accepted.then(collect), close: () => server.close() };
}
