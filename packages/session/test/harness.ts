/**
 * Transcript harness: in-memory ports for FtpSession (file system, data channels the
 * test drives, manual clock, recording control channel) and a `C:`/`S:` transcript runner.
 */
import { expect } from 'vitest';
import { FtpSession } from '../src/index.js';
import type {
  ActiveResult,
  AuthenticatedUser,
  Authenticator,
  ByteSink,
  ByteSource,
  Clock,
  ControlChannel,
  DataChannelFactory,
  DataConnection,
  FileInfo,
  FileSystem,
  PassiveListener,
  PassiveRequest,
  PassiveResult,
  SessionConfig,
  SessionEvent,
  TimerHandle,
} from '../src/index.js';
import { portError } from '../src/index.js';

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** Let every pending promise chain run (in-memory ports resolve in microtasks). */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

// ------------------------------------------------------------------ clock

export class ManualClock implements Clock {
  time: number;
  private timers: { at: number; fn: () => void; seq: number; cancelled: boolean }[] = [];
  private seq = 0;
  constructor(start = Date.UTC(2026, 10, 24, 5, 30, 42)) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.time + ms, fn, seq: this.seq++, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
  /** Move time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.cancelled = true;
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}

// ------------------------------------------------------------------ control channel

export class RecordingControl implements ControlChannel {
  readonly writes: string[] = [];
  closed = false;
  private cursor = 0;
  constructor(
    readonly remoteAddress = '127.0.0.1',
    readonly localAddress = '127.0.0.1',
    readonly remotePort = 40000,
    readonly localPort = 21,
    readonly secure = false,
  ) {}
  write(data: string | Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    // Bytes (Telnet refusals) are recorded as a marker, strings (replies) verbatim.
    this.writes.push(typeof data === 'string' ? data : `<bytes ${[...data].join(',')}>`);
  }
  close(): void {
    this.closed = true;
  }
  /** Reply lines written since the last call. */
  take(): string[] {
    const text = this.writes.slice(this.cursor).join('');
    this.cursor = this.writes.length;
    if (text === '') return [];
    expect(text.endsWith('\r\n')).toBe(true);
    return text.slice(0, -2).split('\r\n');
  }
}

// ------------------------------------------------------------------ file system

type Node =
  | { type: 'file'; data: Uint8Array; mtime: number; mode: number; ino: number }
  | { type: 'dir'; mtime: number; mode: number; ino: number };

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export interface Fault {
  op: 'stat' | 'list' | 'read' | 'write' | 'sink' | 'end' | 'mkdir' | 'rmdir' | 'unlink' | 'rename' | 'chmod' | 'mtime';
  path?: string;
  code: string;
  /** For `sink`: fail once this many bytes were written. */
  afterBytes?: number;
}

export class MemoryFs implements FileSystem {
  readonly nodes = new Map<string, Node>();
  faults: Fault[] = [];
  /** Chunk size of read(). */
  chunkSize = 4;
  /** Sinks whose end() or abort() ran. */
  readonly sinkLog: string[] = [];
  /** Bytes written into sinks so far (before end()). */
  sinkBytes = 0;
  private ino = 1;
  constructor(private readonly clock: Clock) {
    this.nodes.set('/', { type: 'dir', mtime: clock.now(), mode: 0o755, ino: this.ino++ });
  }

  private fault(op: Fault['op'], path: string): void {
    const i = this.faults.findIndex((f) => f.op === op && (f.path === undefined || f.path === path) && f.afterBytes === undefined);
    if (i === -1) return;
    const f = this.faults[i] as Fault;
    this.faults.splice(i, 1);
    throw portError(f.code);
  }

  addFile(path: string, content: string | Uint8Array, mtime = this.clock.now(), mode = 0o644): void {
    this.nodes.set(path, { type: 'file', data: typeof content === 'string' ? enc.encode(content) : content, mtime, mode, ino: this.ino++ });
  }
  addDir(path: string, mtime = this.clock.now(), mode = 0o755): void {
    this.nodes.set(path, { type: 'dir', mtime, mode, ino: this.ino++ });
  }
  text(path: string): string | undefined {
    const n = this.nodes.get(path);
    return n?.type === 'file' ? dec.decode(n.data) : undefined;
  }

  private parent(path: string): string {
    const i = path.lastIndexOf('/');
    return i <= 0 ? '/' : path.slice(0, i);
  }
  private requireDir(path: string): void {
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    if (n.type !== 'dir') throw portError('ENOTDIR');
  }
  private check(path: string): void {
    expect(path.startsWith('/')).toBe(true);
    expect(path.includes('\0')).toBe(false);
    expect(path === '/' || !path.endsWith('/')).toBe(true);
    expect(path.split('/').includes('..')).toBe(false);
  }
  private info(path: string, n: Node): FileInfo {
    return {
      name: path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1),
      type: n.type,
      size: n.type === 'file' ? n.data.length : 4096,
      mtime: n.mtime,
      mode: n.mode,
      nlink: n.type === 'dir' ? 2 : 1,
      owner: 'ftp',
      group: 'ftp',
      uid: 1000,
      gid: 1000,
      unique: `801U${n.ino}`,
    };
  }

  async stat(path: string): Promise<FileInfo> {
    this.check(path);
    this.fault('stat', path);
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    return this.info(path, n);
  }
  async list(path: string): Promise<FileInfo[]> {
    this.check(path);
    this.fault('list', path);
    this.requireDir(path);
    const out: FileInfo[] = [];
    for (const [p, n] of this.nodes) if (p !== '/' && this.parent(p) === path) out.push(this.info(p, n));
    return out.reverse();
  }
  async read(path: string, options: { start: number }): Promise<ByteSource> {
    this.check(path);
    this.fault('read', path);
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    if (n.type !== 'file') throw portError('EISDIR');
    const data = n.data.subarray(options.start);
    const size = this.chunkSize;
    const faults = this.faults;
    return (async function* () {
      for (let i = 0; i < data.length; i += size) {
        const f = faults.findIndex((x) => x.op === 'read' && x.afterBytes !== undefined && i >= x.afterBytes);
        if (f !== -1) {
          const code = (faults[f] as Fault).code;
          faults.splice(f, 1);
          throw portError(code);
        }
        yield data.subarray(i, i + size);
      }
    })();
  }
  async write(path: string, options: { mode: 'create' | 'append' | 'offset'; start: number; unique?: boolean }): Promise<ByteSink> {
    this.check(path);
    this.fault('write', path);
    this.requireDir(this.parent(path));
    const existing = this.nodes.get(path);
    if (existing?.type === 'dir') throw portError('EISDIR');
    if (options.unique === true && existing !== undefined) throw portError('EEXIST');
    let data: Uint8Array =
      options.mode === 'append' && existing?.type === 'file'
        ? existing.data
        : options.mode === 'offset' && existing?.type === 'file'
          ? existing.data.subarray(0, options.start)
          : new Uint8Array(0);
    let written = 0;
    let done = false;
    const faults = this.faults;
    return {
      write: async (chunk: Uint8Array): Promise<void> => {
        if (done) throw new Error('write after end');
        written += chunk.length;
        const f = faults.findIndex((x) => x.op === 'sink' && (x.path === undefined || x.path === path) && written > (x.afterBytes ?? 0));
        if (f !== -1) {
          const code = (faults[f] as Fault).code;
          faults.splice(f, 1);
          throw portError(code);
        }
        data = concat(data, chunk);
        this.sinkBytes += chunk.length;
      },
      end: async (): Promise<void> => {
        done = true;
        this.sinkLog.push(`end ${path}`);
        this.fault('end', path);
        this.nodes.set(path, { type: 'file', data, mtime: this.clock.now(), mode: 0o644, ino: this.ino++ });
      },
      abort: async (): Promise<void> => {
        done = true;
        this.sinkLog.push(`abort ${path}`);
      },
    };
  }
  async mkdir(path: string): Promise<void> {
    this.check(path);
    this.fault('mkdir', path);
    this.requireDir(this.parent(path));
    if (this.nodes.has(path)) throw portError('EEXIST');
    this.addDir(path);
  }
  async rmdir(path: string): Promise<void> {
    this.check(path);
    this.fault('rmdir', path);
    this.requireDir(path);
    for (const p of this.nodes.keys()) if (p !== path && this.parent(p) === path) throw portError('ENOTEMPTY');
    this.nodes.delete(path);
  }
  async unlink(path: string): Promise<void> {
    this.check(path);
    this.fault('unlink', path);
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    if (n.type === 'dir') throw portError('EISDIR');
    this.nodes.delete(path);
  }
  async rename(from: string, to: string): Promise<void> {
    this.check(from);
    this.check(to);
    this.fault('rename', to);
    const n = this.nodes.get(from);
    if (n === undefined) throw portError('ENOENT');
    this.requireDir(this.parent(to));
    for (const [p, node] of [...this.nodes]) {
      if (p === from || p.startsWith(from + '/')) {
        this.nodes.delete(p);
        this.nodes.set(to + p.slice(from.length), node);
      }
    }
  }
  async chmod(path: string, mode: number): Promise<void> {
    this.check(path);
    this.fault('chmod', path);
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    n.mode = mode;
  }
  async setModificationTime(path: string, mtime: number): Promise<void> {
    this.check(path);
    this.fault('mtime', path);
    const n = this.nodes.get(path);
    if (n === undefined) throw portError('ENOENT');
    n.mtime = mtime;
  }
}

// ------------------------------------------------------------------ data channels

/** A data connection the test drives. */
export class FakeConnection implements DataConnection {
  /** Bytes the server sent (RETR, listings). */
  readonly sent: Uint8Array[] = [];
  destroyed = false;
  ended = false;
  /** While held, send() waits before pulling the next chunk (lets a test ABOR mid-transfer). */
  private holdGate: { promise: Promise<void>; release: () => void } | undefined;
  private uploadQueue: Uint8Array[] = [];
  private uploadEnd: 'fin' | 'reset' | undefined;
  private wake: (() => void) | undefined;
  private abortWaiters: ((e: Error) => void)[] = [];

  constructor(
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  text(): string {
    return dec.decode(this.sent.reduce(concat, new Uint8Array(0)));
  }
  hold(): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.holdGate = { promise, release };
  }
  release(): void {
    const g = this.holdGate;
    this.holdGate = undefined;
    g?.release();
  }
  /** Client sends upload bytes. */
  upload(data: string | Uint8Array): void {
    this.uploadQueue.push(typeof data === 'string' ? enc.encode(data) : data);
    this.poke();
  }
  /** Client closes its side (end of upload). */
  finish(): void {
    this.uploadEnd = 'fin';
    this.poke();
  }
  /** Connection reset by the client. */
  reset(): void {
    this.uploadEnd = 'reset';
    this.poke();
  }
  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  private aborted(): Promise<never> {
    return new Promise<never>((_, reject) => this.abortWaiters.push(reject));
  }

  async send(source: ByteSource): Promise<number> {
    let total = 0;
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        if (this.destroyed) throw portError('EABORTED');
        if (this.holdGate !== undefined) await Promise.race([this.holdGate.promise, this.aborted()]);
        if (this.uploadEnd === 'reset') throw portError('ECONNRESET');
        const r = await it.next();
        if (r.done === true) break;
        if (this.destroyed) throw portError('EABORTED');
        this.sent.push(r.value.slice());
        total += r.value.length;
      }
    } catch (error) {
      await it.return?.();
      throw error;
    }
    this.ended = true;
    return total;
  }

  async receive(sink: ByteSink): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.destroyed) throw portError('EABORTED');
      const chunk = this.uploadQueue.shift();
      if (chunk !== undefined) {
        total += chunk.length;
        await sink.write(chunk);
        continue;
      }
      if (this.uploadEnd === 'fin') return total;
      if (this.uploadEnd === 'reset') throw portError('ECONNRESET');
      await Promise.race([new Promise<void>((r) => (this.wake = r)), this.aborted()]);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const reject of this.abortWaiters.splice(0)) reject(portError('EABORTED'));
    this.poke();
  }
}

export class FakeListener implements PassiveListener {
  closed = false;
  private pending: FakeConnection[] = [];
  private waiter: ((c: DataConnection | undefined) => void) | undefined;
  accepts = 0;
  constructor(
    readonly port: number,
    readonly exposedPort: number,
    readonly fallback: boolean,
    private readonly onClose: () => void,
  ) {}

  /** A peer connects to this listener. */
  connect(remoteAddress = '127.0.0.1', remotePort = 50000): FakeConnection {
    if (this.closed) throw new Error('connect to a closed listener');
    const conn = new FakeConnection(remoteAddress, remotePort);
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(conn);
    } else this.pending.push(conn);
    return conn;
  }
  accept(): Promise<DataConnection | undefined> {
    this.accepts++;
    if (this.closed) return Promise.resolve(undefined);
    const next = this.pending.shift();
    if (next !== undefined) return Promise.resolve(next);
    return new Promise((resolve) => (this.waiter = resolve));
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.pending) c.destroy();
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
    this.onClose();
  }
}

export class FakeData implements DataChannelFactory {
  readonly listeners: FakeListener[] = [];
  readonly listenRequests: PassiveRequest[] = [];
  readonly connectRequests: { host: string; port: number; localAddress: string }[] = [];
  readonly connections: FakeConnection[] = [];
  nextPort = 60000;
  /** Next listen() answers this instead of a listener. */
  listenFailure: { reason: 'exhausted' | 'quota' | 'error'; message: string } | undefined;
  /** Next listen() reports a kernel fallback port. */
  fallbackNext = false;
  /** Next connect() fails with this message. */
  connectFailure: string | undefined;
  /** Port offset advertised (exposed = port + offset). */
  exposeOffset = 0;

  get last(): FakeListener {
    const l = this.listeners[this.listeners.length - 1];
    if (l === undefined) throw new Error('no listener');
    return l;
  }
  get open(): FakeListener[] {
    return this.listeners.filter((l) => !l.closed);
  }
  get lastConnection(): FakeConnection {
    const c = this.connections[this.connections.length - 1];
    if (c === undefined) throw new Error('no active connection');
    return c;
  }

  async listen(request: PassiveRequest): Promise<PassiveResult> {
    this.listenRequests.push(request);
    if (this.listenFailure !== undefined) {
      const f = this.listenFailure;
      this.listenFailure = undefined;
      return { ok: false, ...f };
    }
    const fallback = this.fallbackNext;
    this.fallbackNext = false;
    const port = fallback ? 42187 : this.nextPort++;
    const listener = new FakeListener(port, port + this.exposeOffset, fallback, () => {});
    this.listeners.push(listener);
    return { ok: true, listener };
  }
  async connect(request: { host: string; port: number; localAddress: string }): Promise<ActiveResult> {
    this.connectRequests.push(request);
    if (this.connectFailure !== undefined) {
      const message = this.connectFailure;
      this.connectFailure = undefined;
      return { ok: false, message };
    }
    const connection = new FakeConnection(request.host, request.port);
    this.connections.push(connection);
    return { ok: true, connection };
  }
}

// ------------------------------------------------------------------ authenticator

export interface TestUser {
  password: string;
  groups?: string[];
  anonymous?: boolean;
  readOnly?: boolean;
  home?: string;
}

export class TestAuth implements Authenticator {
  calls = 0;
  throwNext = false;
  constructor(
    private readonly users: Record<string, TestUser>,
    private readonly fs: FileSystem,
  ) {}
  async authenticate(request: { user: string; password: string }): Promise<AuthenticatedUser | undefined> {
    this.calls++;
    if (this.throwNext) {
      this.throwNext = false;
      throw new Error('directory down');
    }
    const u = this.users[request.user];
    if (u === undefined) return undefined;
    if (!u.anonymous && u.password !== request.password) return undefined;
    const user: AuthenticatedUser = {
      name: request.user,
      groups: u.groups ?? [request.user],
      anonymous: u.anonymous ?? false,
      fileSystem: this.fs,
    };
    if (u.readOnly !== undefined) user.readOnly = u.readOnly;
    if (u.home !== undefined) user.home = u.home;
    return user;
  }
}

// ------------------------------------------------------------------ harness

export interface HarnessOptions {
  config?: SessionConfig;
  /** A control channel of the test's own (e.g. one that can start TLS). */
  control?: RecordingControl;
  /** Data channels of the test's own (e.g. ones that can protect connections). */
  data?: FakeData;
  remoteAddress?: string;
  localAddress?: string;
  users?: Record<string, TestUser>;
  random?: () => number;
  maxLineLength?: number;
}

export class Harness {
  readonly clock = new ManualClock();
  readonly fs = new MemoryFs(this.clock);
  readonly data: FakeData;
  readonly control: RecordingControl;
  readonly auth: TestAuth;
  readonly events: SessionEvent[] = [];
  readonly session: FtpSession;

  constructor(options: HarnessOptions = {}) {
    this.control = options.control ?? new RecordingControl(options.remoteAddress ?? '127.0.0.1', options.localAddress ?? '127.0.0.1');
    this.data = options.data ?? new FakeData();
    this.auth = new TestAuth(
      options.users ?? {
        ftptest: { password: 'secret' },
        anonymous: { password: '', anonymous: true, readOnly: true },
        reader: { password: 'pw', readOnly: true },
      },
      this.fs,
    );
    const sessionOptions: ConstructorParameters<typeof FtpSession>[0] = {
      control: this.control,
      data: this.data,
      authenticator: this.auth,
      clock: this.clock,
      config: options.config ?? {},
      onEvent: (e) => this.events.push(e),
    };
    if (options.random !== undefined) sessionOptions.random = options.random;
    if (options.maxLineLength !== undefined) sessionOptions.maxLineLength = options.maxLineLength;
    this.session = new FtpSession(sessionOptions);
  }

  start(): string[] {
    this.session.start();
    return this.control.take();
  }

  /** Send raw bytes (no settle). */
  raw(text: string | Uint8Array): void {
    this.session.receive(typeof text === 'string' ? enc.encode(text) : text);
  }

  /** Send one command line and return the replies after everything settled. */
  async send(line: string): Promise<string[]> {
    this.raw(`${line}\r\n`);
    await settle();
    return this.control.take();
  }

  /**
   * Run a transcript: `C: <line>` sends, `S: <line>` expects that exact reply line,
   * `S~ <regex>` a reply line matching the regex. Replies are compared after each
   * command has settled.
   */
  async transcript(text: string): Promise<void> {
    const steps = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    let expected: string[] = [];
    let pendingCommand: string | undefined;
    const check = async (): Promise<void> => {
      if (pendingCommand === undefined) return;
      const got = await this.send(pendingCommand);
      expect(got.length, `replies to ${pendingCommand}: ${JSON.stringify(got)}`).toBe(expected.length);
      expected.forEach((want, i) => {
        const line = got[i] as string;
        if (want.startsWith('~')) expect(line, `reply to ${pendingCommand}`).toMatch(new RegExp(want.slice(1)));
        else expect(line, `reply to ${pendingCommand}`).toBe(want);
      });
      expected = [];
      pendingCommand = undefined;
    };
    for (const step of steps) {
      if (step.startsWith('C: ')) {
        await check();
        pendingCommand = step.slice(3);
      } else if (step.startsWith('S: ')) expected.push(step.slice(3));
      else if (step.startsWith('S~ ')) expected.push('~' + step.slice(3));
      else throw new Error(`bad transcript line: ${step}`);
    }
    await check();
  }

  async login(user = 'ftptest', password = 'secret'): Promise<void> {
    this.start();
    expect(await this.send(`USER ${user}`)).toHaveLength(1);
    const reply = await this.send(`PASS ${password}`);
    expect(reply[0]).toMatch(/^230 /);
  }

  eventsOf<T extends SessionEvent['type']>(type: T): Extract<SessionEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type);
  }
}

/** A logged-in session in TYPE I with `/hello.txt`. */
export async function readyBinary(options: HarnessOptions = {}): Promise<Harness> {
  const h = new Harness(options);
  h.fs.addFile('/hello.txt', 'hello\n');
  await h.login();
  await h.send('TYPE I');
  return h;
}
