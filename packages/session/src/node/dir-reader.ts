/**
 * Directory listings off the event loop.
 *
 * Theory of operation. A listing needs one lstat(2) per entry. Done as one async call
 * each, a directory of 1 000 entries costs the event loop 1 000 promise and threadpool
 * round trips (about 20 ms of main-thread CPU, against about 4 ms for the system calls
 * themselves), and a handful of clients listing at once floods the libuv threadpool
 * every other file operation shares. Instead, one request goes to a worker thread that
 * reads the whole directory with synchronous calls — readdir, then lstat of each entry
 * (and realpath + stat for a symlink that stays inside the root) — and answers with the
 * names and one packed `Float64Array` of numbers ({@link FIELDS} per entry), transferred,
 * not copied. The event loop only turns those numbers into entries.
 *
 * Workers start on first use (or at {@link warmDirectoryReaders}), at most
 * {@link MAX_WORKERS}, a new one only when every running one is busy, and they keep the
 * process alive only while they have work. A request whose worker dies is read on the
 * calling thread with the same {@link readDirectorySync} (so both ways give the same
 * entries), and so is every request where worker threads cannot run at all.
 *
 * The packed form is computed fresh for every request: nothing is cached, so a listing
 * always shows the sizes and times of the moment it is read.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** Numbers per entry: type, size, mtime (ms), mode, nlink, uid, gid, dev, ino. */
export const FIELDS = 9;
/** Type codes of the first field. */
export const TYPE_FILE = 0;
export const TYPE_DIR = 1;
export const TYPE_LINK = 2;
export const TYPE_OTHER = 3;

/** The entries of one directory: `names[i]` has the numbers at `numbers[i * FIELDS …]`. */
export interface PackedListing {
  names: string[];
  numbers: Float64Array<ArrayBuffer>;
}

/** Worker threads at most. Each one lists one directory at a time. */
const MAX_WORKERS = 2;

function typeCode(st: Stats): number {
  if (st.isFile()) return TYPE_FILE;
  if (st.isDirectory()) return TYPE_DIR;
  if (st.isSymbolicLink()) return TYPE_LINK;
  return TYPE_OTHER;
}

/** `real` is the root or below it (both resolved). */
export function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root === sep ? root : root + sep);
}

/** What an entry shows: a symlink that resolves inside the root as its target, any other as itself. */
function entryStats(full: string, root: string): Stats | undefined {
  const st = lstatSync(full, { throwIfNoEntry: false });
  if (st === undefined || !st.isSymbolicLink()) return st;
  try {
    const real = realpathSync(full);
    if (inside(root, real)) return statSync(real);
  } catch {
    // dangling (or unreadable): shown as the link itself
  }
  return st;
}

/**
 * Reads directory `dir` (a resolved host path inside `root`, itself resolved) with
 * synchronous calls. An entry that vanishes between readdir and lstat is left out; an
 * error reading the directory itself is thrown (with its errno `code`).
 */
export function readDirectorySync(dir: string, root: string): PackedListing {
  const all = readdirSync(dir);
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const names: string[] = [];
  const numbers = new Float64Array(all.length * FIELDS);
  let at = 0;
  for (const name of all) {
    let st: Stats | undefined;
    try {
      st = entryStats(prefix + name, root);
    } catch {
      st = undefined; // unreadable between readdir and lstat: left out, like a vanished one
    }
    if (st === undefined) continue;
    names.push(name);
    numbers[at] = typeCode(st);
    numbers[at + 1] = st.size;
    numbers[at + 2] = st.mtimeMs;
    numbers[at + 3] = st.mode;
    numbers[at + 4] = st.nlink;
    numbers[at + 5] = st.uid;
    numbers[at + 6] = st.gid;
    numbers[at + 7] = st.dev;
    numbers[at + 8] = st.ino;
    at += FIELDS;
  }
  return { names, numbers };
}

/** A request to a worker, and its answer. */
export interface ReadRequest {
  id: number;
  dir: string;
  root: string;
}
export type ReadAnswer = { id: number; names: string[]; numbers: Float64Array<ArrayBuffer> } | { id: number; error: { code?: string; message: string } };

interface Pending {
  request: ReadRequest;
  resolve: (listing: PackedListing) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** The thread booted (a worker that dies before that would die again: no more are started). */
  online: boolean;
  /** Stopped by {@link DirReaders.close}, not lost. */
  closed: boolean;
}

function rebuildError(e: { code?: string; message: string }): Error {
  return Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });
}

function readHere(request: ReadRequest): Promise<PackedListing> {
  try {
    return Promise.resolve(readDirectorySync(request.dir, request.root));
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** Worker threads that read directories (one set serves every local file system of the process). */
export class DirReaders {
  readonly #slots: Slot[] = [];
  readonly #pending = new Map<number, Pending & { slot: Slot }>();
  #nextId = 1;
  #broken = false;
  readonly #script: URL = new URL('./dir-reader-worker.js', import.meta.url);

  read(dir: string, root: string): Promise<PackedListing> {
    const request: ReadRequest = { id: this.#nextId++, dir, root };
    const slot = this.#pick();
    if (slot === undefined) return readHere(request);
    // A worker keeps the process alive only while it has work (a pending listing).
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(request.id, { request, resolve, reject, slot });
      slot.worker.postMessage(request);
    });
  }

  /** Starts the workers now (all of them), so the first listings do not wait for a thread to boot. */
  warm(): void {
    while (!this.#broken && this.#slots.length < MAX_WORKERS) if (this.#start() === undefined) return;
  }

  /** Stops the workers; what they had is read on the calling thread, later reads start new ones. */
  async close(): Promise<void> {
    await Promise.all(
      this.#slots.map((s) => {
        s.closed = true;
        return s.worker.terminate();
      }),
    );
  }

  /** Worker threads running now. */
  get workers(): number {
    return this.#slots.length;
  }

  #pick(): Slot | undefined {
    if (this.#broken) return undefined;
    let best: Slot | undefined;
    for (const s of this.#slots) if (best === undefined || s.busy < best.busy) best = s;
    if ((best === undefined || best.busy > 0) && this.#slots.length < MAX_WORKERS) {
      const fresh = this.#start();
      if (fresh !== undefined) return fresh;
    }
    return best;
  }

  #start(): Slot | undefined {
    // Run from the TypeScript sources (tests), there is no compiled worker: read here.
    if (this.#slots.length === 0 && !existsSync(fileURLToPath(this.#script))) {
      this.#broken = true;
      return undefined;
    }
    let worker: Worker;
    try {
      worker = new Worker(this.#script);
    } catch {
      this.#broken = this.#slots.length === 0;
      return undefined;
    }
    const slot: Slot = { worker, busy: 0, online: false, closed: false };
    worker.once('online', () => {
      slot.online = true;
    });
    worker.on('message', (m: ReadAnswer) => this.#answer(m));
    worker.on('error', () => this.#lost(slot));
    worker.on('exit', () => this.#lost(slot));
    // After the listeners (adding a 'message' listener refs the worker again).
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }

  #answer(m: ReadAnswer): void {
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    if (--p.slot.busy === 0) p.slot.worker.unref();
    if ('error' in m) p.reject(rebuildError(m.error));
    else p.resolve({ names: m.names, numbers: m.numbers });
  }

  /**
   * A worker died: what it had is read here. A worker that had booted is replaced when
   * needed; one that never booted means workers cannot run here, so none is started again.
   */
  #lost(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i === -1) return;
    this.#slots.splice(i, 1);
    if (!slot.online && !slot.closed) this.#broken = true;
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(id);
      readHere(p.request).then(p.resolve, p.reject);
    }
  }
}

let readers: DirReaders | undefined;

/** Reads `dir` (resolved, inside the resolved `root`) in a worker thread when one is available. */
export function readDirectory(dir: string, root: string): Promise<PackedListing> {
  readers ??= new DirReaders();
  return readers.read(dir, root);
}

/**
 * Starts the directory-reading worker threads now rather than at the first listing
 * (booting a thread takes 50-500 ms, depending on the machine's load). Idle workers
 * never keep the process alive.
 */
export function warmDirectoryReaders(): void {
  readers ??= new DirReaders();
  readers.warm();
}

/** How many directory-reading worker threads run now (0 before the first listing, or without workers). */
export function dirReaderWorkers(): number {
  return readers?.workers ?? 0;
}
