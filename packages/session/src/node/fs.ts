/**
 * The local file system backend: a {@link FileSystem} rooted at one host directory
 * (ProFTPD `DefaultRoot ~`: each user gets their own instance).
 *
 * Theory of operation — containment. Virtual paths are normalised again here (`..`
 * never climbs above `/`, NUL is refused) and mapped under the root. Every access then
 * resolves the host path with `realpath` (following symlinks) and checks that the
 * result is the root or below it; a symlink inside the root that points inside it works,
 * one that points outside (or dangles) answers EACCES. Operations on a name itself
 * (DELE, RMD, RNFR/RNTO, MKD, uploads) resolve the parent directory and act on the last
 * component without following it. Files are opened with O_NOFOLLOW on the resolved
 * path, so a symlink swapped in after the check is refused rather than followed. (What
 * remains is a race on an intermediate directory, which needs write access to the tree
 * from outside FTP.)
 *
 * Uploads. With `hiddenStores` (ProFTPD HiddenStores, the default here) a STOR/STOU
 * writes `.in.<name>.` in the target directory and renames it onto the final name when
 * the upload completes, so a half-finished or aborted upload is never visible under its
 * final name; an aborted one is deleted. STOU publishes with link(2), which refuses a
 * name that appeared meanwhile. APPE and REST+STOR extend the existing file in place
 * (the point of a resume is to keep what is already there). Without hidden stores the
 * file is written in place and `deleteAbortedStores` decides whether an upload the
 * client aborted is removed (ProFTPD DeleteAbortedStores). A write the file system
 * refuses (ENOSPC, EDQUOT, EIO) removes a file the upload created or truncated in any
 * case, so a full disk never leaves a half-written file visible.
 *
 * Reads are lazy: `read()` checks the file and returns a source that opens it when
 * iterated, so a source that is never sent holds no descriptor. Its read buffers are
 * recycled by the data channel of ./data.ts (see {@link recycle}). Uploads go through a
 * ring buffer per upload that the data channel reads sockets into, and that reaches the
 * file in large writes while the socket fills the rest (see {@link FileSink}).
 */
import { constants as C, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { access, chmod, link, lstat, mkdir, open, realpath, rename, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { portError } from '../errors.js';
import type { ByteSink, ByteSource, FileInfo, FileSystem, PortError } from '../ports.js';
import { FIELDS, inside, readDirectory } from './dir-reader.js';
import type { PackedListing } from './dir-reader.js';
import { toPortError } from './errors.js';
import { NUMERIC_OWNERS, ownerNames } from './owners.js';
import type { OwnerNames } from './owners.js';

export interface LocalFileSystemOptions {
  /** Host directory that is `/` for this user. Resolved (realpath) once, on first use. */
  root: string;
  /**
   * HiddenStores: `true` (default) uploads to `.in.<name>.` and renames on completion;
   * a string is the prefix to use instead of `.in.`; `false` writes in place.
   */
  hiddenStores?: boolean | string;
  /** DeleteAbortedStores for in-place uploads (hidden ones are always discarded). Default `false`. */
  deleteAbortedStores?: boolean;
  /** fsync(2) each upload before it is published. Default `false`. */
  fsync?: boolean;
  /** Umask for new files (0666 &~ umask) and directories (0777 &~ umask). Default `0o022`. */
  umask?: number;
  /** Owner and group names from /etc/passwd and /etc/group (read once). Default `true`; `false` = numeric. */
  ownerNames?: boolean;
  /** Bytes per read when files are sent. Default 1 MiB (see BufferPool for the measurement). */
  readChunkSize?: number;
  /** Reads in flight ahead of the socket. Default 2. */
  readAhead?: number;
  /**
   * Bytes each upload buffers in front of its file (a ring the data connection reads
   * into; the file gets large writes from it). Default 4 MiB ({@link UPLOAD_BUFFER}), at least 4 KiB.
   */
  uploadBufferSize?: number;
  /**
   * How uploads reach their files: `'inline'` (default) writes from the event loop, 1 MiB
   * at most per call, while the page cache takes the bytes fast, and moves every upload to
   * the thread pool for 30 s once writes are slow (three over 10 ms within a second, one
   * over 100 ms, or more than 2 ms per MiB over 32 MiB); `'pool'` always writes through
   * libuv's thread pool.
   */
  uploadWrites?: 'inline' | 'pool';
}

/** The host-side view, for tests and diagnostics. */
export interface LocalFileSystem extends FileSystem {
  /** The root as configured (absolute). */
  readonly root: string;
}

const DEFAULT_CHUNK = 1024 * 1024;
/** Temporary names of uploads in progress in this process (host paths). */
const uploading = new Set<string>();

/** Splits a virtual path into segments; `..` never climbs above the root. */
export function virtualSegments(path: string): string[] {
  if (typeof path !== 'string' || path.includes('\0')) throw portError('EINVAL');
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return out;
}

function fileType(st: Stats): FileInfo['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return 'other';
}

/** The {@link FileInfo} of stat(2) fields. */
function entryInfo(name: string, type: FileInfo['type'], size: number, mtimeMs: number, mode: number, nlink: number, uid: number, gid: number, dev: number, ino: number, owners: OwnerNames): FileInfo {
  return {
    name,
    type,
    size,
    mtime: Math.floor(mtimeMs),
    mode: mode & 0o7777,
    nlink,
    owner: owners.user(uid),
    group: owners.group(gid),
    uid,
    gid,
    // ProFTPD's MLSx unique fact: device and inode in hex.
    unique: `${dev.toString(16).toUpperCase()}U${ino.toString(16).toUpperCase()}`,
  };
}

function fileInfo(name: string, st: Stats, owners: OwnerNames): FileInfo {
  return entryInfo(name, fileType(st), st.size, st.mtimeMs, st.mode, st.nlink, st.uid, st.gid, st.dev, st.ino, owners);
}

const PACKED_TYPES: readonly FileInfo['type'][] = ['file', 'dir', 'link', 'other'];

/** The entries of a listing read by ./dir-reader.ts. */
function unpack(listing: PackedListing, owners: OwnerNames): FileInfo[] {
  const { names, numbers: n } = listing;
  const out = new Array<FileInfo>(names.length);
  for (let i = 0, at = 0; i < names.length; i++, at += FIELDS) {
    out[i] = entryInfo(names[i] as string, PACKED_TYPES[n[at] as number] ?? 'other', n[at + 1] as number, n[at + 2] as number, n[at + 3] as number, n[at + 4] as number, n[at + 5] as number, n[at + 6] as number, n[at + 7] as number, n[at + 8] as number, owners);
  }
  return out;
}

async function settle<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw toPortError(error);
  }
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// ------------------------------------------------------------------ sources

/**
 * Read buffers of one source. A chunk the source yielded comes back through
 * {@link recycle} once its consumer is done with it (the data connection calls it when
 * the socket has taken the bytes), so a transfer reuses a few buffers instead of
 * allocating one per read: on loopback that is the difference between about 30% and
 * 70% of raw TCP throughput. Chunks never recycled are simply collected.
 */
class BufferPool {
  readonly #free: Buffer[] = [];
  #closed = false;
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const b = this.#free.pop();
    if (b !== undefined) return b;
    const fresh = Buffer.allocUnsafeSlow(this.size);
    pools.set(fresh.buffer, this);
    return fresh;
  }

  give(buffer: ArrayBuffer): void {
    if (!this.#closed && this.#free.length < this.keep) this.#free.push(Buffer.from(buffer));
  }

  close(): void {
    this.#closed = true;
    this.#free.length = 0;
  }
}

const pools = new WeakMap<ArrayBufferLike, BufferPool>();

/**
 * Hands a chunk yielded by a file source back for reuse. Call it only when nothing
 * holds the chunk any more (for a socket: in the write callback). Other chunks are ignored.
 */
export function recycle(chunk: Uint8Array): void {
  const pool = pools.get(chunk.buffer);
  if (pool !== undefined && chunk.byteOffset === 0) pool.give(chunk.buffer as ArrayBuffer);
}

/** True when {@link recycle} would take the chunk back. */
export function isRecyclable(chunk: Uint8Array): boolean {
  return pools.has(chunk.buffer);
}

/**
 * A file to send. Iterating it opens the file (O_NOFOLLOW) and reads `chunkSize` bytes
 * at a time, `readAhead` reads ahead of the consumer, into recycled buffers.
 */
export class FileSource implements AsyncIterable<Uint8Array> {
  constructor(
    readonly hostPath: string,
    readonly start: number,
    readonly chunkSize: number,
    readonly readAhead: number = 2,
  ) {}

  async #open(): Promise<FileHandle> {
    const fh = await settle(open(this.hostPath, C.O_RDONLY | C.O_NOFOLLOW));
    try {
      if (!(await fh.stat()).isFile()) throw portError('EACCES');
    } catch (error) {
      await fh.close();
      throw toPortError(error);
    }
    return fh;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const fh = await this.#open();
    const size = this.chunkSize;
    const pool = new BufferPool(size, this.readAhead + 2);
    let position = this.start;
    let eof = false;
    const reads: Array<Promise<Uint8Array>> = [];
    const readNext = (): void => {
      const at = position;
      position += size;
      const buffer = pool.take();
      const r = fh.read(buffer, 0, size, at).then(({ bytesRead }) => (bytesRead === size ? buffer : buffer.subarray(0, bytesRead)));
      // A failed read-ahead is reported when it is awaited, not as an unhandled rejection.
      r.catch(() => undefined);
      reads.push(r);
    };
    try {
      for (let i = 0; i < this.readAhead; i++) readNext();
      while (reads.length > 0) {
        const chunk = await settle(reads.shift() as Promise<Uint8Array>);
        if (chunk.length < size) eof = true;
        if (!eof) readNext();
        if (chunk.length > 0) yield chunk;
      }
    } finally {
      await Promise.allSettled(reads);
      pool.close();
      await fh.close();
    }
  }
}

// ------------------------------------------------------------------ sinks

/**
 * Bytes an upload holds between the data connection and the file. Measured on loopback
 * into tmpfs: large writes are what makes an upload fast (one `write(2)` of megabytes
 * instead of one per socket read), and a ring lets the socket fill one part while the
 * file takes another.
 */
export const UPLOAD_BUFFER: number = 4 * 1024 * 1024;

/** The smallest free span {@link UploadRing.reserve} offers for a socket read. */
const MIN_RESERVE = 64 * 1024;

/** The largest inline write: one call blocks the event loop for a fraction of a millisecond. */
const INLINE_MAX_WRITE = 1024 * 1024;
/** How long uploads stay on the thread pool once inline writes were found slow. */
const POOL_AFTER_SLOW_MS = 30_000;

/**
 * Process-wide state of inline upload writes (one event loop, usually one disk). Uploads
 * go to the thread pool until `poolUntil` (`Date.now()`) when inline writes stop being
 * cheap: `strikes` writes slower than `slowMs` within a second, one slower than
 * `stallMs`, or most of the last `windowBytes` written at more than `msPerMiB` per MiB.
 * A file system slower than 200 MB/s would otherwise hold the event loop most of the
 * time; a page cache takes a MiB in well under a millisecond, and in a few when several
 * uploads and their clients share two cores. A slow or throttled disk makes most writes
 * slow, while the machine's other work preempting the process makes a few slow among
 * fast ones: an average over the window mistook the second for the first. Exported for
 * tests, not from the package.
 */
export const inlineWrites: {
  slowMs: number;
  strikes: number;
  stallMs: number;
  msPerMiB: number;
  windowBytes: number;
  poolUntil: number;
  recent: number[];
  /** Bytes of the window written at more than `msPerMiB`. */
  windowSlow: number;
  windowWritten: number;
} = { slowMs: 10, strikes: 3, stallMs: 100, msPerMiB: 5, windowBytes: 32 * 1024 * 1024, poolUntil: 0, recent: [], windowSlow: 0, windowWritten: 0 };

/**
 * Notes an inline write of `bytes` that took `took` ms; true when uploads should go to the
 * thread pool. Exported for tests, not from the package.
 */
export function inlineTooSlow(bytes: number, took: number): boolean {
  const w = inlineWrites;
  if (took / (bytes / (1024 * 1024)) > w.msPerMiB) w.windowSlow += bytes;
  w.windowWritten += bytes;
  if (w.windowWritten >= w.windowBytes) {
    const slow = w.windowSlow * 2 > w.windowWritten;
    w.windowSlow = 0;
    w.windowWritten = 0;
    if (slow) return true;
  }
  if (took <= w.slowMs) return false;
  if (took > w.stallMs) return true;
  const now = Date.now();
  w.recent = w.recent.filter((t) => now - t < 1000);
  w.recent.push(now);
  return w.recent.length >= w.strikes;
}

/**
 * The write side of one upload: a ring buffer in front of a file handle. `push()` copies
 * a chunk in (or, for a chunk read straight into the span `reserve()` offered, only
 * takes note of it), then the buffered bytes go to the file in order, one write at a time:
 *
 * - inline (the default): `writeSync` right away, from the ring memory the socket just
 *   filled, as ProFTPD and pure-ftpd do (read, write, read…). On this project's 2-core
 *   loopback benchmark that costs 35-40% less CPU per byte than handing each write to
 *   libuv's thread pool and waking the event loop when it is done, because the page
 *   cache takes a megabyte in well under a millisecond. Writes that take longer
 *   ({@link inlineWrites}: dirty-page throttling, a slow or network file system) would
 *   stall every session, so they send this upload and, for {@link POOL_AFTER_SLOW_MS},
 *   every new one to the thread pool.
 * - through the pool: a write loop sends each contiguous span (at most a quarter of the
 *   ring) while the socket fills the rest. When the ring is full the rest of a chunk is
 *   kept (copied) and `push()` returns a promise that resolves once it is in: that is the
 *   upload's backpressure.
 *
 * The ring is never reused for another upload: a socket may still hold a pointer into
 * the span it was offered (see ./data.ts), so that memory belongs to this upload until
 * it is collected.
 */
class UploadRing {
  /** Bytes the file took. */
  bytes = 0;
  /** The file system refused a write (ENOSPC, EDQUOT, EIO…): a server-side failure, not the client's. */
  writeFailed = false;
  readonly #fh: FileHandle;
  readonly #size: number;
  /** The largest single write: the socket keeps room in the ring while one is in flight. */
  readonly #maxWrite: number;
  #position: number | null;
  #ring: Buffer | undefined;
  /** Bytes written to the file (a running count; `% size` is the ring offset). */
  #head = 0;
  /** Bytes buffered (running count). */
  #tail = 0;
  #error: PortError | undefined;
  #stopped = false;
  #inline: boolean;
  #loop: Promise<void> | undefined;
  /** The part of a chunk that did not fit, waiting for room. */
  #held: { rest: Uint8Array; resolve: () => void; reject: (error: PortError) => void } | undefined;
  #roomWaiter: { bytes: number; resolve: () => void } | undefined;

  constructor(fh: FileHandle, position: number | null, size: number, inline: boolean) {
    this.#fh = fh;
    this.#position = position;
    this.#size = size;
    this.#maxWrite = Math.max(MIN_RESERVE, Math.floor(size / 4));
    this.#inline = inline;
  }

  get error(): PortError | undefined {
    return this.#error;
  }

  #buffer(): Buffer {
    this.#ring ??= Buffer.allocUnsafeSlow(this.#size);
    return this.#ring;
  }

  /**
   * The free span at the write end of the ring (at least {@link MIN_RESERVE} bytes), for
   * a socket to read into; `push()` of a prefix of it then copies nothing. Undefined when
   * the ring has less room or the upload stopped.
   */
  reserve(): Buffer | undefined {
    if (this.#stopped || this.#error !== undefined || this.#held !== undefined) return undefined;
    const at = this.#tail % this.#size;
    const free = this.#size - (this.#tail - this.#head);
    const span = Math.min(free, this.#size - at);
    if (span < MIN_RESERVE) return undefined;
    return this.#buffer().subarray(at, at + span);
  }

  /** Bytes the ring can take now without holding any back. */
  free(): number {
    return this.#stopped || this.#held !== undefined ? 0 : this.#size - (this.#tail - this.#head);
  }

  /**
   * Undefined when the ring can take `bytes` now; otherwise a promise that resolves once
   * it can (or the upload stopped: the next push reports why).
   */
  room(bytes: number): Promise<void> | undefined {
    const want = Math.min(bytes, this.#size);
    if (this.free() >= want || this.#stopped || this.#error !== undefined) return undefined;
    return new Promise<void>((resolve) => {
      this.#roomWaiter = { bytes: want, resolve };
    });
  }

  #wakeRoom(): void {
    const w = this.#roomWaiter;
    if (w !== undefined && (this.free() >= w.bytes || this.#stopped || this.#error !== undefined)) {
      this.#roomWaiter = undefined;
      w.resolve();
    }
  }

  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#error !== undefined) throw this.#error;
    if (this.#held !== undefined) throw portError('EBUSY', 'write before the previous one was taken');
    const ring = this.#buffer();
    const at = this.#tail % this.#size;
    if (chunk.buffer === ring.buffer && chunk.byteOffset === ring.byteOffset + at && chunk.length <= this.#size - (this.#tail - this.#head)) {
      this.#tail += chunk.length; // read in place, in the span reserve() offered
      this.#run();
      if (this.#error !== undefined) throw this.#error;
      return undefined;
    }
    let taken = this.#copyIn(chunk);
    this.#run();
    // Inline writes empty the ring at once: a chunk larger than the ring goes in piece by piece.
    while (taken < chunk.length && this.#loop === undefined && this.#error === undefined && this.#tail === this.#head) {
      taken += this.#copyIn(chunk.subarray(taken));
      this.#run();
    }
    if (this.#error !== undefined) throw this.#error;
    if (taken === chunk.length) return undefined;
    // The caller may reuse its buffer once we return: keep a copy of the rest.
    const rest = Buffer.from(chunk.subarray(taken));
    return new Promise<void>((resolve, reject) => {
      this.#held = { rest, resolve, reject };
    });
  }

  /** Copies as much of `chunk` as fits at the write end of the ring; returns the bytes taken. */
  #copyIn(chunk: Uint8Array): number {
    const ring = this.#buffer();
    let taken = 0;
    while (taken < chunk.length) {
      const free = this.#size - (this.#tail - this.#head);
      if (free === 0) break;
      const at = this.#tail % this.#size;
      const n = Math.min(chunk.length - taken, free, this.#size - at);
      ring.set(chunk.subarray(taken, taken + n), at);
      taken += n;
      this.#tail += n;
    }
    return taken;
  }

  /** Admits the held rest of a chunk as room appears. */
  #admit(): void {
    const held = this.#held;
    if (held === undefined) return;
    const taken = this.#copyIn(held.rest);
    if (taken < held.rest.length) {
      held.rest = held.rest.subarray(taken);
      return;
    }
    this.#held = undefined;
    held.resolve();
  }

  #run(): void {
    if (this.#loop !== undefined || this.#tail === this.#head || this.#stopped || this.#error !== undefined) return;
    if (this.#inline && Date.now() >= inlineWrites.poolUntil) {
      this.#writeInline();
      if (this.#tail === this.#head || this.#error !== undefined) return;
    }
    this.#loop = this.#writeLoop();
  }

  /** The next span to write: contiguous in the ring, at most `max` bytes. */
  #span(max: number): { at: number; length: number } {
    const at = this.#head % this.#size;
    return { at, length: Math.min(this.#tail - this.#head, this.#size - at, max) };
  }

  #wrote(n: number): void {
    if (n === 0) throw portError('EIO');
    this.#head += n;
    this.bytes += n;
    if (this.#position !== null) this.#position += n;
  }

  #failed(error: unknown): void {
    this.writeFailed = true;
    this.#error = toPortError(error);
    const held = this.#held;
    this.#held = undefined;
    held?.reject(this.#error);
  }

  /** Writes what is buffered now, from the event loop; a slow write hands over to the pool. */
  #writeInline(): void {
    const ring = this.#buffer();
    try {
      while (this.#tail > this.#head) {
        const { at, length } = this.#span(INLINE_MAX_WRITE);
        const started = performance.now();
        const n = writeSync(this.#fh.fd, ring, at, length, this.#position);
        this.#wrote(n);
        if (inlineTooSlow(n, performance.now() - started)) {
          this.#inline = false;
          inlineWrites.poolUntil = Date.now() + POOL_AFTER_SLOW_MS;
          inlineWrites.recent = [];
          inlineWrites.windowSlow = 0;
          inlineWrites.windowWritten = 0;
          return;
        }
      }
    } catch (error) {
      this.#failed(error);
    }
  }

  async #writeLoop(): Promise<void> {
    const ring = this.#buffer();
    try {
      while (this.#tail > this.#head && !this.#stopped) {
        const { at, length } = this.#span(this.#maxWrite);
        const { bytesWritten } = await this.#fh.write(ring, at, length, this.#position);
        this.#wrote(bytesWritten);
        this.#admit();
        this.#wakeRoom();
      }
    } catch (error) {
      this.#failed(error);
    } finally {
      this.#loop = undefined;
      this.#wakeRoom();
    }
  }

  /** Resolves when everything pushed is in the file; rejects with the write error. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#loop !== undefined) await this.#loop;
      else if (this.#tail > this.#head && !this.#stopped) this.#run();
      else return;
    }
  }

  /** Stops writing (what is still buffered is dropped) once the write in progress is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const held = this.#held;
    this.#held = undefined;
    held?.reject(portError('EABORTED'));
    this.#wakeRoom();
    await this.#loop;
  }
}

interface SinkPlan {
  fh: FileHandle;
  /** Where the bytes go now. */
  path: string;
  /** Where they must end up (differs for hidden stores). */
  finalPath: string;
  hidden: boolean;
  unique: boolean;
  fsync: boolean;
  /** Remove `path` when aborted. */
  deleteOnAbort: boolean;
  /**
   * Remove `path` when the upload fails on the server's side (a refused write: ENOSPC,
   * EDQUOT, EIO): the file was created or truncated by this upload, so what is left is
   * only a half-written file. False for APPE/REST+STOR onto an existing file (its earlier
   * bytes stay).
   */
  deleteOnWriteError: boolean;
  position: number | null;
}

/** Whether a linked data connection saw the upload's end of stream. */
export type SinkCompletion = 'unknown' | 'receiving' | 'complete' | 'incomplete';

/**
 * The data connection whose `sink.write()` call is on the stack. A sink reached through
 * wrappers (the core counts bytes and converts TYPE A) still learns which connection
 * feeds it: the connection writes one empty chunk inside {@link feeding}, and the
 * wrappers forward it synchronously.
 */
let currentFeeder: ((sink: FileSink) => void) | undefined;

/** Runs `fn` with `feeder` told about any sink of this module written to meanwhile. */
export function feeding<T>(feeder: (sink: FileSink) => void, fn: () => T): T {
  const previous = currentFeeder;
  currentFeeder = feeder;
  try {
    return fn();
  } finally {
    currentFeeder = previous;
  }
}

/**
 * An upload in progress. Chunks go through a ring buffer ({@link UploadRing}) in front of
 * the file; the data channel of ./data.ts reads sockets straight into the ring's free
 * span ({@link FileSink.reserve}) when it feeds this sink. When it fed this sink it also
 * reports whether the stream ended cleanly ({@link FileSink.completion}), and `end()` of
 * a hidden store cut short then discards instead of publishing (ProFTPD discards an
 * aborted HiddenStores upload).
 */
export class FileSink implements ByteSink {
  completion: SinkCompletion = 'unknown';
  readonly #ring: UploadRing;
  readonly #plan: SinkPlan;
  #state: 'open' | 'ended' | 'aborted' = 'open';

  constructor(plan: SinkPlan, bufferSize: number = UPLOAD_BUFFER, inline = true) {
    this.#plan = plan;
    this.#ring = new UploadRing(plan.fh, plan.position, bufferSize, inline);
    if (plan.hidden) uploading.add(plan.path);
  }

  /** Bytes written to the file so far. */
  get bytes(): number {
    return this.#ring.bytes;
  }

  /**
   * Where the next bytes of this upload may be read to without a copy: a `write()` of a
   * prefix of this span (same memory, same offset) only takes note of it. Undefined when
   * there is no room; anything else written is copied.
   */
  reserve(): Buffer | undefined {
    return this.#state === 'open' ? this.#ring.reserve() : undefined;
  }

  /** Bytes a `write()` can hand over now without waiting. */
  free(): number {
    return this.#state === 'open' ? this.#ring.free() : 0;
  }

  /** Undefined when `bytes` fit now; otherwise resolves once they do (or the upload stopped). */
  room(bytes: number): Promise<void> | undefined {
    return this.#state === 'open' ? this.#ring.room(bytes) : undefined;
  }

  /**
   * Takes `chunk` (copied, unless read into {@link reserve}'s span: the caller may reuse
   * its buffer at once). Returns a promise when the buffer is full: write again only
   * after it resolved.
   */
  write(chunk: Uint8Array): Promise<void> | void {
    currentFeeder?.(this);
    if (this.#ring.error !== undefined) throw this.#ring.error;
    if (this.#state !== 'open') throw portError('EINVAL', 'write after end');
    if (chunk.length === 0) return;
    return this.#ring.push(chunk);
  }

  async end(): Promise<void> {
    if (this.#state !== 'open') {
      if (this.#state === 'ended') return;
      throw portError('EABORTED');
    }
    const p = this.#plan;
    if (this.completion === 'receiving' || this.completion === 'incomplete') {
      // Cut short (the caller keeps partial uploads): a hidden store is discarded, an
      // in-place one kept unless deleteAbortedStores.
      await this.abort();
      return;
    }
    this.#state = 'ended';
    try {
      await this.#ring.flush();
      if (p.fsync) await p.fh.sync();
      await p.fh.close();
      if (p.hidden) {
        if (p.unique) {
          // link(2) fails with EEXIST if the name appeared meanwhile (STOU must not replace).
          await link(p.path, p.finalPath);
          await unlink(p.path);
        } else {
          await rename(p.path, p.finalPath);
        }
      }
    } catch (error) {
      await this.#discard(p.deleteOnAbort || p.deleteOnWriteError);
      throw toPortError(error);
    } finally {
      uploading.delete(p.path);
    }
  }

  /**
   * Discards the upload. A client's abort keeps an in-place partial file unless
   * `deleteOnAbort`; after a refused write (disk full) a file this upload created or
   * truncated is removed, so nothing half-written stays visible.
   */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    const p = this.#plan;
    await this.#discard(p.deleteOnAbort || (this.#ring.writeFailed && p.deleteOnWriteError));
    uploading.delete(p.path);
  }

  /** Closes the file; `remove` deletes it, otherwise what was received is flushed first (a partial kept for resume). */
  async #discard(remove: boolean): Promise<void> {
    const p = this.#plan;
    if (remove) await this.#ring.stop();
    else await this.#ring.flush().catch(() => this.#ring.stop());
    await p.fh.close().catch(() => undefined);
    if (remove) await unlink(p.path).catch(() => undefined);
  }
}

// ------------------------------------------------------------------ the file system

class LocalFs implements LocalFileSystem {
  readonly root: string;
  readonly #hiddenPrefix: string | undefined;
  readonly #deleteAborted: boolean;
  readonly #fsync: boolean;
  readonly #fileMode: number;
  readonly #dirMode: number;
  readonly #umaskSet: boolean;
  readonly #owners: boolean;
  readonly #chunk: number;
  readonly #readAhead: number;
  readonly #uploadBuffer: number;
  readonly #inlineWrites: boolean;
  #rootReal: Promise<string> | undefined;

  constructor(options: LocalFileSystemOptions) {
    if (typeof options.root !== 'string' || options.root === '' || options.root.includes('\0')) {
      throw Object.assign(new TypeError('localFileSystem: root must be a directory path'), { code: 'ERR_FS_ROOT_INVALID' });
    }
    this.root = resolve(options.root);
    const hidden = options.hiddenStores ?? true;
    if (typeof hidden === 'string' && (hidden === '' || hidden.includes('/') || hidden.includes('\0'))) {
      throw Object.assign(new TypeError('localFileSystem: hiddenStores prefix must be a non-empty file name part'), {
        code: 'ERR_FS_OPTION_INVALID',
      });
    }
    this.#hiddenPrefix = hidden === true ? '.in.' : hidden === false ? undefined : hidden;
    this.#deleteAborted = options.deleteAbortedStores ?? false;
    this.#fsync = options.fsync ?? false;
    const umask = (options.umask ?? 0o022) & 0o777;
    this.#umaskSet = options.umask !== undefined;
    this.#fileMode = 0o666 & ~umask;
    this.#dirMode = 0o777 & ~umask;
    this.#owners = options.ownerNames ?? true;
    this.#chunk = Math.max(4096, Math.floor(options.readChunkSize ?? DEFAULT_CHUNK));
    this.#readAhead = Math.min(16, Math.max(1, Math.floor(options.readAhead ?? 2)));
    this.#uploadBuffer = Math.max(4096, Math.floor(options.uploadBufferSize ?? UPLOAD_BUFFER));
    this.#inlineWrites = (options.uploadWrites ?? 'inline') === 'inline';
  }

  #realRoot(): Promise<string> {
    if (this.#rootReal === undefined) {
      const r = realpath(this.root);
      this.#rootReal = r;
      r.catch(() => {
        if (this.#rootReal === r) this.#rootReal = undefined;
      });
    }
    return this.#rootReal;
  }

  #names(): Promise<OwnerNames> {
    return this.#owners ? ownerNames() : Promise.resolve(NUMERIC_OWNERS);
  }

  /** `real` is the root or below it. */
  async #contained(real: string): Promise<boolean> {
    return inside(await this.#realRoot(), real);
  }

  /** The host path of `path` with every symlink resolved; EACCES if that leaves the root. */
  async #resolve(path: string): Promise<string> {
    const root = await this.#realRoot();
    const real = await realpath(join(root, ...virtualSegments(path)));
    if (!(await this.#contained(real))) throw portError('EACCES');
    return real;
  }

  /** The resolved parent directory and the last name of `path` (not followed). */
  async #parent(path: string): Promise<{ dir: string; name: string }> {
    const segments = virtualSegments(path);
    const name = segments.pop();
    if (name === undefined) throw portError('EACCES'); // the root itself
    const root = await this.#realRoot();
    const dir = await realpath(join(root, ...segments));
    if (!(await this.#contained(dir))) throw portError('EACCES');
    return { dir, name };
  }

  /** Where an upload to `path` goes: a symlink inside the root is followed, anything else refused. */
  async #uploadTarget(path: string): Promise<{ target: string; existing: Stats | undefined }> {
    const { dir, name } = await this.#parent(path);
    let target = join(dir, name);
    let existing = await lstatOrUndefined(target);
    if (existing?.isSymbolicLink() === true) {
      let real: string;
      try {
        real = await realpath(target);
      } catch {
        throw portError('EACCES'); // dangling
      }
      if (!(await this.#contained(real))) throw portError('EACCES');
      target = real;
      existing = await lstat(real);
    }
    if (existing?.isDirectory() === true) throw portError('EISDIR');
    if (existing !== undefined && !existing.isFile()) throw portError('EACCES');
    return { target, existing };
  }

  stat(path: string): Promise<FileInfo> {
    return settle(
      (async () => {
        const real = await this.#resolve(path);
        const [st, owners] = await Promise.all([stat(real), this.#names()]);
        const segments = virtualSegments(path);
        return fileInfo(segments[segments.length - 1] ?? '/', st, owners);
      })(),
    );
  }

  /** A directory's entries, read in a worker thread (./dir-reader.ts): no stat storm on the event loop. */
  list(path: string): Promise<FileInfo[]> {
    return settle(
      (async () => {
        const dir = await this.#resolve(path);
        const [listing, owners] = await Promise.all([readDirectory(dir, await this.#realRoot()), this.#names()]);
        return unpack(listing, owners);
      })(),
    );
  }

  read(path: string, options: { start: number }): Promise<ByteSource> {
    return settle(
      (async () => {
        const real = await this.#resolve(path);
        const st = await stat(real);
        if (st.isDirectory()) throw portError('EISDIR');
        if (!st.isFile()) throw portError('EACCES');
        await access(real, C.R_OK);
        const start = Number.isSafeInteger(options.start) && options.start > 0 ? options.start : 0;
        return new FileSource(real, start, this.#chunk, this.#readAhead);
      })(),
    );
  }

  write(path: string, options: { mode: 'create' | 'append' | 'offset'; start: number; unique?: boolean }): Promise<ByteSink> {
    return settle(this.#write(path, options));
  }

  async #write(path: string, options: { mode: 'create' | 'append' | 'offset'; start: number; unique?: boolean }): Promise<FileSink> {
    const unique = options.unique === true;
    const { target, existing } = await this.#uploadTarget(path);
    if (unique && existing !== undefined) throw portError('EEXIST');
    const hidden = this.#hiddenPrefix !== undefined && options.mode === 'create';
    const base = C.O_WRONLY | C.O_NOFOLLOW;
    if (hidden) {
      const temp = join(dirname(target), `${this.#hiddenPrefix}${basename(target)}.`);
      const fh = await this.#openHidden(temp, base);
      return new FileSink({ fh, path: temp, finalPath: target, hidden, unique, fsync: this.#fsync, deleteOnAbort: true, deleteOnWriteError: true, position: 0 }, this.#uploadBuffer, this.#inlineWrites);
    }
    let flags = base | C.O_CREAT;
    if (options.mode === 'create') flags |= C.O_TRUNC | (unique ? C.O_EXCL : 0);
    if (options.mode === 'append') flags |= C.O_APPEND;
    const fh = await open(target, flags, this.#fileMode);
    let position: number | null = options.mode === 'append' ? null : 0;
    try {
      if (existing === undefined) await this.#applyUmask(fh);
      if (options.mode === 'offset') {
        const start = Math.max(0, Math.floor(options.start));
        if ((await fh.stat()).size > start) await fh.truncate(start);
        position = start;
      }
    } catch (error) {
      await fh.close();
      throw error;
    }
    return new FileSink({
      fh,
      path: target,
      finalPath: target,
      hidden: false,
      unique,
      fsync: this.#fsync,
      deleteOnAbort: this.#deleteAborted && options.mode === 'create',
      deleteOnWriteError: options.mode === 'create' || existing === undefined,
      position,
    }, this.#uploadBuffer, this.#inlineWrites);
  }

  /** Opens a hidden store exclusively; a leftover from a crashed process is replaced, a live one is EBUSY. */
  async #openHidden(temp: string, base: number): Promise<FileHandle> {
    if (uploading.has(temp)) throw portError('EBUSY');
    const flags = base | C.O_CREAT | C.O_EXCL;
    let fh: FileHandle;
    try {
      fh = await open(temp, flags, this.#fileMode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const st = await lstat(temp);
      if (!st.isFile()) throw portError('EACCES');
      await unlink(temp);
      fh = await open(temp, flags, this.#fileMode);
    }
    try {
      await this.#applyUmask(fh);
    } catch (error) {
      await fh.close();
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return fh;
  }

  /** The process umask also applies at creation; an explicit `umask` option is made exact. */
  async #applyUmask(fh: FileHandle): Promise<void> {
    if (this.#umaskSet) await fh.chmod(this.#fileMode);
  }

  mkdir(path: string): Promise<void> {
    return settle(
      (async () => {
        const { dir, name } = await this.#parent(path);
        const full = join(dir, name);
        await mkdir(full, this.#dirMode);
        if (this.#umaskSet) await chmod(full, this.#dirMode);
      })(),
    );
  }

  rmdir(path: string): Promise<void> {
    return settle(
      (async () => {
        const { dir, name } = await this.#parent(path);
        await rmdir(join(dir, name));
      })(),
    );
  }

  unlink(path: string): Promise<void> {
    return settle(
      (async () => {
        const { dir, name } = await this.#parent(path);
        const full = join(dir, name);
        if ((await lstat(full)).isDirectory()) throw portError('EISDIR');
        await unlink(full);
      })(),
    );
  }

  rename(from: string, to: string): Promise<void> {
    return settle(
      (async () => {
        const [a, b] = await Promise.all([this.#parent(from), this.#parent(to)]);
        await rename(join(a.dir, a.name), join(b.dir, b.name));
      })(),
    );
  }

  /** CWD/CDUP: a directory inside the root that the server process may search (chdir(2) needs X_OK). */
  enter(path: string): Promise<void> {
    return settle(
      (async () => {
        const real = await this.#resolve(path);
        if (!(await stat(real)).isDirectory()) throw portError('ENOTDIR');
        await access(real, C.X_OK);
      })(),
    );
  }

  chmod(path: string, mode: number): Promise<void> {
    return settle(
      (async () => {
        if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw portError('EINVAL');
        await chmod(await this.#resolve(path), mode);
      })(),
    );
  }

  setModificationTime(path: string, mtime: number): Promise<void> {
    return settle(
      (async () => {
        if (!Number.isFinite(mtime)) throw portError('EINVAL');
        const real = await this.#resolve(path);
        const st = await stat(real);
        await utimes(real, st.atime, new Date(mtime));
      })(),
    );
  }
}

/**
 * A {@link FileSystem} on a host directory that nothing (`..`, absolute paths, NUL,
 * symlinks) can escape. See the module comment for uploads and containment.
 *
 * @throws TypeError `ERR_FS_ROOT_INVALID`, `ERR_FS_OPTION_INVALID` for bad options.
 */
export function localFileSystem(options: LocalFileSystemOptions): LocalFileSystem {
  return new LocalFs(options);
}

/** True for sinks made by {@link localFileSystem} (the data channel pipes sockets into them). */
export function isFileSink(sink: unknown): sink is FileSink {
  return sink instanceof FileSink;
}
