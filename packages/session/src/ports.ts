/**
 * The ports through which the session core talks to the world.
 *
 * Theory of operation: the core owns the FTP dialogue and nothing else. Bytes arrive
 * from the control channel through {@link FtpSession.receive}; replies leave through
 * {@link ControlChannel.write}. Everything with side effects (data sockets, files,
 * credentials, time) is reached through one of the interfaces below, which the
 * `./node` export implements with real sockets and a chrooted file system, and tests
 * implement in memory so every dialogue can be checked as a transcript.
 *
 * All paths handed to a {@link FileSystem} are virtual, absolute and normalised by the
 * core (`/dir/file`, no `.`/`..`, no NUL, no trailing slash except `/`). The file system
 * maps them under its own root and must not let anything (symlinks included) escape it.
 */
import type { PortAllocator } from '@ftpkit/port-allocator';

/** An error raised by a port. `code` follows POSIX errno names so replies map 1:1. */
export interface PortError extends Error {
  code:
    | 'ENOENT'
    | 'EEXIST'
    | 'EACCES'
    | 'EPERM'
    | 'ENOTDIR'
    | 'EISDIR'
    | 'ENOTEMPTY'
    | 'ENOSPC'
    | 'EDQUOT'
    | 'EINVAL'
    | 'ENAMETOOLONG'
    | 'EXDEV'
    | 'EBUSY'
    | 'EIO'
    | 'ECONNRESET'
    | 'ETIMEDOUT'
    | 'EABORTED'
    | string;
}

/** The client's command connection. */
export interface ControlChannel {
  /** Address the client connected to (as the socket reports it, e.g. `::ffff:127.0.0.1`). */
  readonly localAddress: string;
  readonly localPort: number;
  /** The client's address (after PROXY protocol, the real client's). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** True once the control connection is protected by TLS (after AUTH TLS, or implicit FTPS). */
  readonly secure: boolean;
  /**
   * The control connection's TLS session while {@link secure}: what the core hands to
   * {@link DataChannelFactory.secure} so a protected data connection can be tied to it.
   * Opaque to the core apart from the fields of {@link TlsInfo}.
   */
  readonly tls?: TlsInfo | undefined;
  /**
   * The address the client connected to when a PROXY-protocol proxy sits in front (its
   * destination address); optional. The masquerade resolver prefers it.
   */
  readonly proxiedDestination?: string;
  /** Queue bytes for the client. The core batches the replies of one received chunk into one write. */
  write(data: string | Uint8Array): void;
  /** Flush what was written, then close the connection. */
  close(): void;
  /**
   * Start TLS as the server on this connection (AUTH TLS, RFC 4217 §4). The core calls
   * it after the `234` reply was written, and feeds no more plaintext: bytes already
   * received after the AUTH command are discarded (RFC 4217 §4, command injection).
   * While the handshake runs, bytes from the peer belong to TLS, not to `receive()`.
   * Resolves when the handshake finished; without this method AUTH gets `431`.
   */
  upgradeTls?(): Promise<TlsUpgradeResult>;
  /**
   * End TLS on the control connection and go on in plaintext (CCC, RFC 4217 §6): called
   * after the `200` reply was written. Optional: without it CCC is refused with `534`.
   */
  clearTls?(): Promise<TlsUpgradeResult>;
}

/** What the core knows of a TLS session (control or data connection). */
export interface TlsInfo {
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  readonly protocol: string;
  /** Negotiated cipher suite, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** The server name the client asked for (SNI), if any; HOST is checked against it. */
  readonly servername?: string | undefined;
}

/** Outcome of a control-connection TLS handshake (or of leaving TLS). */
export type TlsUpgradeResult = { ok: true; info: TlsInfo } | { ok: false; message: string };

/** What {@link DataChannelFactory.secure} needs to protect one data connection (PROT P). */
export interface SecureDataRequest {
  /** The control connection's TLS session ({@link ControlChannel.tls}); the data session should resume it. */
  readonly control: TlsInfo;
}

/**
 * Outcome of protecting a data connection. `resumed` says whether the data connection's
 * TLS session resumed the control connection's session (not merely any session): the
 * core refuses the connection when it did not and session reuse is required.
 */
export type SecureDataResult =
  | { ok: true; connection: DataConnection; info: TlsInfo; resumed: boolean }
  | { ok: false; reason: 'handshake' | 'timeout' | 'closed'; message: string };

/** One data connection (passive accepted or active connected). */
export interface DataConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Send everything `source` yields, honouring backpressure, then finish the stream
   * (FIN). Resolves with the number of bytes sent; rejects with a {@link PortError}
   * (`ECONNRESET`, `EABORTED` after {@link destroy}, or the source's own error).
   * A Node implementation may recognise its own file sources and stream them natively.
   */
  send(source: ByteSource): Promise<number>;
  /**
   * Copy everything the client sends into `sink` until end of stream, honouring
   * backpressure (never buffering a whole file). Resolves with the number of bytes
   * received; the caller then ends or aborts the sink.
   */
  receive(sink: ByteSink): Promise<number>;
  /** Abort now (ABOR, timeout, session end): pending send/receive reject with `EABORTED`. */
  destroy(): void;
}

/** A stream of bytes (file contents, a generated listing). */
export type ByteSource = AsyncIterable<Uint8Array>;

/** Where received bytes go (an upload). */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void> | void;
  /** Complete the upload: make it visible under its final name (HiddenStores), fsync if configured. */
  end(): Promise<void>;
  /** Discard the upload (ABOR, connection lost): nothing half-written stays visible under the final name. */
  abort(): Promise<void>;
}

/** A listener waiting for the client's passive data connection. */
export interface PassiveListener {
  /** The port the listener is bound to. */
  readonly port: number;
  /** The port to advertise in 227/229 (differs when the allocator maps exposed ↔ listened ports). */
  readonly exposedPort: number;
  /** True when the range was exhausted and the kernel chose a port outside it. */
  readonly fallback: boolean;
  /**
   * The next incoming connection (connections that arrived earlier are queued), or
   * `undefined` once the listener is closed. The core checks the peer address and may
   * destroy a stranger's connection and call `accept()` again.
   */
  accept(): Promise<DataConnection | undefined>;
  /** Stop listening and return the port to the allocator. Idempotent. */
  close(): void;
}

export type PassiveResult =
  | { ok: true; listener: PassiveListener }
  | { ok: false; reason: 'exhausted' | 'quota' | 'error'; message: string };

export type ActiveResult =
  | { ok: true; connection: DataConnection }
  | { ok: false; message: string /* strerror text, e.g. 'Connection refused' */ };

/** What {@link DataChannelFactory.listen} needs to open one passive listener. */
export interface PassiveRequest {
  /** Who holds the lease (the client's canonical address): the allocator's per-owner cap. */
  owner: string;
  localAddress: string;
  /** The session's PassivePorts allocator; undefined = kernel-chosen port. */
  ports: PortAllocator | undefined;
  /**
   * Whether a connection from `remoteAddress` may be the client's data connection
   * (AllowForeignAddress, RFC 2577 §5). A listener that honours it drops any other peer
   * as soon as it connects, so strangers never take the place of the client in the
   * accept queue; it then calls {@link onRejected} once for that peer. Optional for
   * implementations: the core checks every accepted peer again.
   */
  accept?: (remoteAddress: string) => boolean;
  /** Called once for each peer the listener dropped because `accept` refused it. */
  onRejected?: (remoteAddress: string) => void;
}

/** Opens data connections. Allocation policy and binding live behind this port. */
export interface DataChannelFactory {
  /**
   * Listen for a passive connection on `localAddress` (the control connection's local
   * address) with a port from `ports` (the session's PassivePorts allocator), or from the
   * kernel when `ports` is undefined.
   */
  listen(request: PassiveRequest): Promise<PassiveResult>;
  /** Connect to the client for an active transfer (PORT/EPRT), from `localAddress`. */
  connect(request: { host: string; port: number; localAddress: string }): Promise<ActiveResult>;
  /**
   * PROT P (RFC 4217 §9): run the TLS server handshake on an accepted or connected data
   * connection and resolve the protected connection. The core calls it after the peer
   * check and before `150`; `connection` is not used afterwards (destroy it on failure).
   * Optional: without it `PROT P` is refused with `534` and data stays in the clear.
   */
  secure?(connection: DataConnection, request: SecureDataRequest): Promise<SecureDataResult>;
}

/** What a file system reports about one entry. Times are milliseconds since the epoch. */
export interface FileInfo {
  name: string;
  type: 'file' | 'dir' | 'link' | 'other';
  size: number;
  mtime: number;
  /** POSIX mode bits (permission part), e.g. 0o644. */
  mode: number;
  nlink?: number;
  owner?: string;
  group?: string;
  uid?: number;
  gid?: number;
  /** For MLSx `unique`. */
  unique?: string;
}

/** A user's view of files. Paths are virtual and normalised (see the module comment). */
export interface FileSystem {
  stat(path: string): Promise<FileInfo>;
  /** Entries of a directory (not `.`/`..`). */
  list(path: string): Promise<FileInfo[]>;
  /** Read a file from byte `start`. */
  read(path: string, options: { start: number }): Promise<ByteSource>;
  /**
   * Open an upload. `mode`: `create` (truncate or create), `append` (APPE), `offset`
   * (REST + STOR: keep the first `start` bytes, write from there). `unique` refuses an
   * existing name with EEXIST (STOU). The bytes become visible under `path` only when
   * the sink ends, when the file system does atomic uploads.
   */
  write(path: string, options: { mode: 'create' | 'append' | 'offset'; start: number; unique?: boolean }): Promise<ByteSink>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  /** MFMT (draft-somers-ftp-mfxx). */
  setModificationTime(path: string, mtime: number): Promise<void>;
  /**
   * CWD/CDUP: may the user change into directory `path`? Resolves when it may (as
   * chdir(2) would: a directory with search permission); rejects with ENOENT, ENOTDIR,
   * EACCES… otherwise. Optional: without it the core only checks that `stat` says `dir`.
   */
  enter?(path: string): Promise<void>;
}

export interface AuthenticatedUser {
  name: string;
  /** Primary group first. */
  groups: readonly string[];
  anonymous: boolean;
  /** The user's file system, rooted at their root (DefaultRoot, <Anonymous dir>). */
  fileSystem: FileSystem;
  /** Start directory inside that file system (default `/`). */
  home?: string;
  /** Writes refused with 550 (anonymous is read-only by default). */
  readOnly?: boolean;
}

export interface Authenticator {
  /**
   * Check a login. `user` is what USER sent; anonymous logins (`anonymous`/`ftp`) are the
   * authenticator's decision. Resolve `undefined` for a bad login (the core answers 530).
   */
  authenticate(request: {
    user: string;
    password: string;
    remoteAddress: string;
    localAddress: string;
  }): Promise<AuthenticatedUser | undefined>;
  /** Whether USER alone is enough to know no password is needed (never true by default). */
}

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Call `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}
