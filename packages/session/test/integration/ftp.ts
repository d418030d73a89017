/**
 * Test fixtures: a server on 127.0.0.1 with a temporary root, and a raw FTP client that
 * speaks exact bytes (for ABOR, strangers, PORT refusals, traversal attempts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { ReplyDecoder, parseEpsv, parsePasv } from '@ftpkit/reply';
import type { DecodedReply } from '@ftpkit/reply';
import { createFtpServer, simpleAuthenticator } from '../../src/node/index.js';
import type { FtpServer, FtpServerOptions, ServerSessionEvent } from '../../src/node/index.js';
import { HOST, connect } from './helpers.js';

export const USER = 'alice';
export const PASSWORD = 'secret word';

export interface Fixture {
  server: FtpServer;
  port: number;
  root: string;
  events: ServerSessionEvent[];
}

/** A server for `alice` on `root`/home (plus anonymous read-only on `root`/pub). */
export async function startServer(root: string, options: Partial<FtpServerOptions> = {}): Promise<Fixture> {
  mkdirSync(join(root, 'home'), { recursive: true });
  mkdirSync(join(root, 'pub'), { recursive: true });
  writeFileSync(join(root, 'pub', 'readme.txt'), 'public\n');
  const server = createFtpServer({
    listen: { host: HOST, port: 0 },
    authenticator: simpleAuthenticator({
      users: [{ name: USER, password: PASSWORD, root: join(root, 'home') }],
      anonymous: { root: join(root, 'pub') },
    }),
    dataChannels: { lingerMs: 1000 },
    ...options,
  });
  const events: ServerSessionEvent[] = [];
  server.on('event', (e) => events.push(e));
  const [bound] = await server.listen();
  return { server, port: bound!.port, root: join(root, 'home'), events };
}

export type Reply = Extract<DecodedReply, { ok: true }>;

/** A raw FTP client: exact commands, replies one at a time. */
export class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new ReplyDecoder();
  readonly #replies: Reply[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      for (const r of this.#decoder.push(d)) if (r.ok) this.#replies.push(r);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawClient> {
    const c = new RawClient(await connect(port));
    await c.reply(); // 220
    return c;
  }

  /** The next reply (rejects if the connection closes first, or after `ms`). */
  async reply(ms = 5000): Promise<Reply> {
    const until = Date.now() + ms;
    for (;;) {
      const r = this.#replies.shift();
      if (r !== undefined) return r;
      if (this.#closed) throw new Error('control connection closed');
      if (Date.now() > until) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
      this.#wake = undefined;
    }
  }

  /** Whether the server closed the connection (waits up to `ms`). */
  async closed(ms = 3000): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.#closed && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.#closed;
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends a command and returns its reply as `code text`. */
  async cmd(line: string): Promise<string> {
    this.send(line);
    const r = await this.reply();
    return `${r.code} ${r.text}`;
  }

  async login(user = USER, password = PASSWORD): Promise<void> {
    await this.cmd(`USER ${user}`);
    const r = await this.cmd(`PASS ${password}`);
    if (!r.startsWith('230')) throw new Error(`login failed: ${r}`);
  }

  /** PASV, then connects the data socket. */
  async pasv(): Promise<{ port: number; data: () => Promise<net.Socket> }> {
    const r = await this.cmd('PASV');
    const parsed = parsePasv(r);
    if (!parsed.ok) throw new Error(`bad PASV reply: ${r}`);
    return { port: parsed.value.port, data: () => connect(parsed.value.port) };
  }

  async epsv(): Promise<{ port: number; data: () => Promise<net.Socket> }> {
    const r = await this.cmd('EPSV');
    const parsed = parseEpsv(r);
    if (!parsed.ok) throw new Error(`bad EPSV reply: ${r}`);
    return { port: parsed.value.port, data: () => connect(parsed.value.port) };
  }

  /** AUTH TLS, then a client over the TLS socket (use it instead of this one). */
  async startTls(options: tls.ConnectionOptions = {}): Promise<RawClient> {
    const r = await this.cmd('AUTH TLS');
    if (!r.startsWith('234')) throw new Error(`AUTH TLS refused: ${r}`);
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    return new RawClient(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
