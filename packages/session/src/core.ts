/**
 * The session engine: command intake and ordering, reply batching, timers, the data
 * channel and the transfer in progress. Command semantics live in `commands/`, which
 * operate on this class; {@link FtpSession} is the public face.
 *
 * Theory of operation (see also states.ts):
 * - `receive(chunk)` feeds the CommandDecoder and handles each complete line in order.
 *   A handler either finishes synchronously (its reply is appended to `out`) or returns
 *   a promise; while that promise runs, `busy` is set and later lines wait in `queue`.
 *   When the chunk is done (or the promise settles and the queue drained as far as it
 *   can synchronously), everything in `out` leaves in one `control.write`.
 * - While a transfer runs (`transfer` set, `busy` too), ABOR and QUIT act at once and
 *   STAT/NOOP are answered at once when nothing waits before them (DURING_TRANSFER).
 * - Timers: one clock timer at a time, armed for the earliest deadline (login, idle,
 *   no-transfer, stalled, passive accept). Activity only moves deadlines later, so a
 *   command costs one `clock.now()` and no timer churn; when the timer fires, the
 *   deadlines are re-evaluated and the timer re-armed for the next one.
 */
import { CommandDecoder, lookupCommand, parseCommand } from '@ftpkit/command';
import type { CommandEvent, CommandSpec } from '@ftpkit/command';
import type { MasqueradeContext } from '@ftpkit/masquerade';
import { encodeReply } from '@ftpkit/reply';
import { addressAllowed, canonicalAddress } from './address.js';
import { HANDLERS } from './commands/table.js';
import type { CommandHandler, Cmd } from './commands/table.js';
import { effectiveConfig } from './config.js';
import type { EffectiveConfig, LimitContext, SessionConfig } from './config.js';
import type { SessionEvent, SessionEventListener, TransferEndReason, TransferRecord } from './events.js';
import { DEFAULT_MLST_FACTS } from './listing.js';
import { resolvePath } from './path.js';
import type {
  Authenticator,
  AuthenticatedUser,
  Clock,
  ControlChannel,
  DataChannelFactory,
  DataConnection,
  FileSystem,
  PassiveListener,
  SecureDataResult,
  TimerHandle,
  TlsInfo,
} from './ports.js';
import type { FtpSessionOptions } from './session.js';
import { DURING_TRANSFER, MAX_QUEUED_COMMANDS } from './states.js';
import type { DataChannelState, DataProtection, LoginState, ProtectionState, TransferPhase } from './states.js';
import { tlsRefused } from './commands/security.js';

/** Why a transfer was cut short by something other than its own IO. */
export type AbortCause = 'abor' | 'quit' | 'timeout' | 'closed';

/** The transfer in progress (one at a time). */
export interface Transfer {
  readonly verb: string;
  /** Normalised virtual path (the directory for listings; STOU sets the chosen name). */
  path: string;
  /** xferlog direction for file transfers; `l` for listings (not logged). */
  readonly direction: 'o' | 'i' | 'l';
  readonly offset: number;
  readonly startedAt: number;
  phase: TransferPhase;
  lastProgressAt: number;
  /** File bytes moved so far. */
  bytes: number;
  /** Expected size (RETR), for STAT. */
  size: number | undefined;
  conn: DataConnection | undefined;
  aborted: AbortCause | undefined;
  /** Set when the file side (source or sink) failed, to tell 451/452 from 426. */
  fileError: unknown;
}


/** Why a data connection could not be used: the reply to send instead of `150`/`226`. */
export interface DataFailure {
  readonly code: number;
  readonly text: string;
}

type QueueItem = CommandEvent;

const INFINITY = Number.POSITIVE_INFINITY;

/**
 * Commands whose missing argument ProFTPD's mod_xfer answers `500 '<CMD>' not understood`
 * rather than the core's `501 Invalid number of parameters`.
 */
const XFER_ARGUMENT: ReadonlySet<string> = new Set(['RETR', 'STOR', 'APPE', 'REST']);

/** Commands that may come between RNFR and RNTO (ProFTPD mod_core, Bug#3829). */
const BETWEEN_RNFR_AND_RNTO: ReadonlySet<string> = new Set(['HELP', 'NOOP', 'QUIT', 'STAT']);
/** RFC 2228 commands, also allowed there once a security mechanism was negotiated. */
const RFC2228_COMMANDS: ReadonlySet<string> = new Set(['CCC', 'CONF', 'ENC', 'MIC', 'PBSZ', 'PROT']);

export class Session {
  readonly control: ControlChannel;
  readonly dataPorts: DataChannelFactory;
  readonly authenticator: Authenticator;
  readonly clock: Clock;
  readonly random: (() => number) | undefined;
  readonly emit: SessionEventListener | undefined;
  private readonly maxLineLength: number | undefined;

  /** Configuration before login (restored by REIN). */
  base: EffectiveConfig;
  /** Configuration in force (after login: from `onLogin`). */
  cfg: EffectiveConfig;

  state: LoginState = 'awaitUser';
  userName: string | undefined = undefined;
  user: AuthenticatedUser | undefined = undefined;
  fs: FileSystem | undefined = undefined;
  cwd = '/';
  home = '/';
  failedLogins = 0;
  /** TYPE A (default, RFC 959 §3.1.1.1) or I. */
  ascii = true;
  /** Data bytes of the session's ended transfers and listings (STAT). */
  bytesTransferred = 0;
  restOffset = 0;
  renameFrom: string | undefined = undefined;
  epsvAll = false;
  mlstFacts: readonly string[] = DEFAULT_MLST_FACTS;

  /** Control-connection protection (PROTECTION_MACHINE). */
  protection: ProtectionState;
  /** The control connection's TLS session (kept after CCC: PROT P data still resumes it). */
  controlTls: TlsInfo | undefined;
  /** PBSZ was accepted (RFC 4217 §8; a prerequisite of PROT). */
  pbsz = false;
  /** Data protection level (PROT, RFC 4217 §9). */
  prot: DataProtection = 'C';

  dataState: DataChannelState = 'none';
  listener: PassiveListener | undefined = undefined;
  listenerAt = 0;
  activeHost: string | undefined = undefined;
  activePort = 0;
  transfer: Transfer | undefined = undefined;

  private decoder: CommandDecoder | undefined = undefined;
  /** Lines dropped by the last {@link discardPlaintext}, counted until it reports them. */
  private discarded = 0;
  private out = '';
  private queue: QueueItem[] | undefined = undefined;
  private busy = false;

  private timer: TimerHandle | undefined = undefined;
  private timerAt = INFINITY;
  loginStartedAt = 0;
  lastCommandAt = 0;
  lastTransferAt = 0;

  private closedPromise: Promise<void> | undefined = undefined;
  private resolveClosed: (() => void) | undefined = undefined;
  private readonly onTimer = (): void => this.timerFired();

  constructor(options: FtpSessionOptions) {
    this.control = options.control;
    this.dataPorts = options.data;
    this.authenticator = options.authenticator;
    this.clock = options.clock;
    this.random = options.random;
    const onEvent = options.onEvent;
    this.emit =
      onEvent === undefined
        ? undefined
        : (event: SessionEvent): void => {
            try {
              onEvent(event);
            } catch {
              // A listener's failure must not break the protocol.
            }
          };
    this.maxLineLength = options.maxLineLength;
    this.base = effectiveConfig(options.config);
    this.cfg = this.base;
    // Implicit FTPS: the connection is protected before the first byte.
    this.protection = this.control.secure ? 'secure' : 'plain';
    this.controlTls = this.control.secure ? this.control.tls : undefined;
  }

  /** FTPS is configured and the control channel can be (or already is) protected. */
  get tlsOffered(): boolean {
    return this.cfg.tls !== undefined && (this.control.secure || this.control.upgradeTls !== undefined);
  }

  // ---------------------------------------------------------------- lifecycle

  get closed(): Promise<void> {
    if (this.closedPromise === undefined) {
      this.closedPromise =
        this.state === 'closed'
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              this.resolveClosed = resolve;
            });
    }
    return this.closedPromise;
  }

  start(): void {
    const now = this.clock.now();
    this.loginStartedAt = now;
    this.lastCommandAt = now;
    this.lastTransferAt = now;
    this.emit?.({
      type: 'open',
      level: 'info',
      message: 'FTP session opened.',
      remoteAddress: this.control.remoteAddress,
      localAddress: this.control.localAddress,
    });
    this.reply(220, this.bannerText());
    this.flush();
    this.schedule();
  }

  /** The 220 text (ProFTPD `pr_session_send_banner`, ServerIdent). */
  bannerText(): string {
    const ident = this.cfg.banner ?? this.cfg.serverIdent;
    if (typeof ident === 'string') return ident;
    let address = this.control.localAddress;
    const resolver = this.cfg.masquerade;
    if (resolver !== undefined) {
      const answer = resolver.resolve(this.masqueradeContext());
      if (answer.ok) address = answer.address;
    }
    return ident ? `ftpkit Server (${this.cfg.serverName}) [${address}]` : `${address} FTP server ready`;
  }

  masqueradeContext(): MasqueradeContext {
    const ctx: MasqueradeContext = {
      localAddress: this.control.localAddress,
      remoteAddress: this.control.remoteAddress,
      tls: this.control.secure,
      classes: this.cfg.classes,
    };
    const proxied = this.control.proxiedDestination;
    if (proxied !== undefined) ctx.proxiedDestination = proxied;
    return ctx;
  }

  /** The peer closed the control connection (or the embedder ends the session). */
  peerClosed(): void {
    this.finish('peer', false);
  }

  /** Flush, close the control connection and release everything. */
  shutdown(reason: 'quit' | 'timeout' | 'login-attempts' | 'queue-overflow' | 'host' | 'tls'): void {
    this.finish(reason, true);
  }

  private finish(reason: 'quit' | 'timeout' | 'login-attempts' | 'queue-overflow' | 'host' | 'tls' | 'peer', closeControl: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (closeControl) {
      this.flush();
      this.control.close();
    }
    this.out = '';
    this.queue = undefined;
    this.decoder = undefined;
    this.abortTransfer(reason === 'quit' ? 'quit' : reason === 'timeout' ? 'timeout' : 'closed');
    this.closeDataChannel();
    if (this.timer !== undefined) {
      this.timer.cancel();
      this.timer = undefined;
    }
    this.timerAt = INFINITY;
    this.emit?.({ type: 'close', level: 'info', message: 'FTP session closed.', reason });
    if (this.resolveClosed !== undefined) this.resolveClosed();
    else this.closedPromise = Promise.resolve();
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  // ---------------------------------------------------------------- replies

  /** Queue a reply; it leaves with the next {@link flush}. */
  reply(code: number, text: string | readonly string[]): void {
    if (this.state === 'closed') return;
    this.out += encodeReply(code, text);
  }

  /** Write the queued replies in one `control.write`. */
  flush(): void {
    if (this.out === '') return;
    const data = this.out;
    this.out = '';
    this.control.write(data);
  }

  // ---------------------------------------------------------------- intake

  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastCommandAt = this.clock.now();
    if (this.decoder === undefined) {
      this.decoder =
        this.maxLineLength === undefined ? new CommandDecoder() : new CommandDecoder({ maxLineLength: this.maxLineLength });
    }
    const decoder = this.decoder;
    const events = decoder.push(chunk);
    for (let i = 0; i < events.length && !this.isClosed; i++) {
      this.intake(events[i] as CommandEvent);
      if (this.decoder !== decoder) {
        // AUTH/CCC switched the channel's protection: the rest of this chunk was sent
        // before the switch and must not run (RFC 4217 §4).
        this.discarded += events.length - i - 1;
        break;
      }
    }
    this.flush();
  }

  /**
   * The protection of the control connection changes now (AUTH after its 234, CCC after
   * its 200): drop every command received before the switch — queued lines, the rest
   * of the chunk being handled, a partial line — so none of them runs under the new
   * protection. Reports what was dropped.
   */
  discardPlaintext(verb: 'AUTH' | 'CCC'): void {
    const queued = this.queue?.length ?? 0;
    // Emptied in place too: drain() may be iterating this very array.
    if (this.queue !== undefined) this.queue.length = 0;
    this.queue = undefined;
    this.decoder = undefined;
    this.discarded = queued;
    // The receive() loop adds the rest of its chunk synchronously, after the handler returns.
    const report = (): void => {
      const n = this.discarded;
      this.discarded = 0;
      if (n === 0) return;
      this.emit?.({
        type: 'tls',
        level: 'warn',
        message: `discarded ${n} command${n === 1 ? '' : 's'} sent with ${verb} before the ${verb === 'AUTH' ? 'TLS handshake' : 'end of TLS'}`,
        channel: 'control',
        outcome: 'discarded',
        protocol: undefined,
        cipher: undefined,
        resumed: undefined,
        verb,
      });
    };
    void Promise.resolve().then(report);
  }

  private intake(event: CommandEvent): void {
    if (event.kind === 'telnet') {
      // Option negotiation refusals go out in order with the replies.
      this.flush();
      this.control.write(event.response);
      return;
    }
    if (!this.busy) {
      this.execute(event);
      return;
    }
    if (this.transfer !== undefined && event.kind === 'line' && this.duringTransfer(event.line)) return;
    const queue = (this.queue ??= []);
    if (queue.length >= MAX_QUEUED_COMMANDS) {
      this.reply(421, 'Too many commands sent during a transfer, closing control connection');
      this.emit?.({ type: 'log', level: 'notice', message: 'command queue overflow during transfer, disconnected' });
      this.shutdown('queue-overflow');
      return;
    }
    queue.push(event);
  }

  /** ABOR/QUIT/STAT/NOOP while a transfer runs; true when handled (DURING_TRANSFER). */
  private duringTransfer(line: string): boolean {
    const { verb } = parseCommand(line);
    const policy = DURING_TRANSFER[lookupCommand(verb)?.verb ?? verb];
    if (policy === undefined) return false;
    if (policy === 'first' && this.queue !== undefined && this.queue.length > 0) return false;
    this.execute({ kind: 'line', line, urgent: false });
    return true;
  }

  /** Run one decoded event now. */
  private execute(event: CommandEvent): void {
    if (event.kind === 'telnet') return;
    if (event.kind === 'error') {
      this.reply(event.error.replyCode, event.error.message);
      return;
    }
    let result: void | Promise<void>;
    let verb: string | undefined;
    try {
      const parsed = parseCommand(event.line);
      verb = parsed.verb;
      result = this.dispatch(parsed.verb, parsed.arg === '' ? undefined : parsed.arg);
    } catch (error) {
      this.internalError(error, verb);
      return;
    }
    if (result === undefined) return;
    this.busy = true;
    result.then(
      () => this.settled(),
      (error: unknown) => {
        this.internalError(error, verb);
        this.settled();
      },
    );
  }

  private internalError(error: unknown, verb: string | undefined): void {
    this.emit?.({ type: 'error', level: 'error', message: `internal error handling ${verb ?? 'command'}`, error, verb });
    this.reply(451, 'Requested action aborted: local error in processing');
  }

  /** An asynchronous command finished: run what waited, then write. */
  private settled(): void {
    this.busy = false;
    this.drain();
    this.flush();
    this.schedule();
  }

  private drain(): void {
    const queue = this.queue;
    while (queue !== undefined && queue.length > 0 && !this.busy && this.state !== 'closed') {
      this.execute(queue.shift() as QueueItem);
    }
  }

  /** Generic checks (catalogue, login, arguments, EPSV ALL, paths, `<Limit>`, read-only), then the handler. */
  private dispatch(rawVerb: string, arg: string | undefined): void | Promise<void> {
    if (rawVerb === '') {
      this.reply(500, 'Invalid command: try being more creative');
      return;
    }
    const spec = lookupCommand(rawVerb);
    if (spec === undefined) {
      this.reply(500, `${rawVerb} not understood`);
      return;
    }
    const verb = spec.verb;
    const handler: CommandHandler | undefined = HANDLERS[verb];
    // A pending RNFR is for the RNTO that must follow it (RFC 959 §4.1.3). As ProFTPD's
    // mod_core does, HELP, NOOP, QUIT and STAT (and, once AUTH was used, the RFC 2228
    // commands) may come in between; anything else is refused and the RNFR stays pending.
    let renameFrom: string | undefined;
    if (this.renameFrom !== undefined) {
      if (verb === 'RNTO') {
        renameFrom = this.renameFrom;
        this.renameFrom = undefined;
      } else if (!BETWEEN_RNFR_AND_RNTO.has(verb) && !(this.protection !== 'plain' && RFC2228_COMMANDS.has(verb))) {
        this.reply(501, 'Bad sequence of commands');
        return;
      }
    }
    if (handler === undefined) {
      this.reply(502, `${rawVerb} command not implemented`);
      return;
    }
    // Without TLS the RFC 2228 commands are unknown, as they are to ProFTPD without mod_tls
    // or with TLSEngine off.
    if (handler.tls === true && !this.tlsOffered) {
      this.reply(500, `${rawVerb} not understood`);
      return;
    }
    if (tlsRefused(this, verb, arg, handler.transfer === true)) return;
    if (spec.needsLogin && this.state !== 'loggedIn') {
      this.reply(530, 'Please login with USER and PASS');
      return;
    }
    if (handler.epsvAll === true && this.epsvAll) {
      this.reply(500, `Illegal ${verb} command, EPSV ALL in effect`);
      return;
    }
    if (XFER_ARGUMENT.has(verb) && (arg === undefined || arg === '')) {
      this.reply(500, `'${rawVerb}' not understood`);
      return;
    }
    if ((spec.arg === 'required' && arg === undefined) || (spec.arg === 'none' && arg !== undefined)) {
      this.reply(501, 'Invalid number of parameters');
      return;
    }
    let path = this.cwd;
    if (handler.path === true && arg !== undefined) {
      const resolved = this.resolve(arg);
      if (resolved === undefined) return;
      path = resolved;
    }
    const cmd: Cmd = { verb, raw: rawVerb, arg, path, spec, renameFrom };
    if (handler.noLimit !== true && this.state === 'loggedIn' && !this.allowed(verb, cmd)) {
      this.denied(handler, cmd);
      return;
    }
    if (handler.write === true && this.user?.readOnly === true) {
      this.reply(550, `${arg ?? rawVerb}: Permission denied`);
      return;
    }
    return handler.run(this, cmd);
  }

  /** Normalise a path argument; replies 501 and returns undefined for a NUL byte. */
  resolve(arg: string): string | undefined {
    const result = resolvePath(this.cwd, arg, this.home);
    if (result.ok) return result.path;
    this.reply(501, 'Invalid path: NUL byte in file name');
    return undefined;
  }

  // ---------------------------------------------------------------- <Limit>

  limitContext(cmd: Cmd | undefined, path: string): LimitContext {
    return {
      user: this.user?.name ?? this.userName,
      groups: this.user?.groups ?? [],
      class: this.cfg.classes[0],
      classes: this.cfg.classes,
      remoteAddress: this.control.remoteAddress,
      localAddress: this.control.localAddress,
      path,
      argument: cmd?.arg,
      group: cmd?.spec.group,
      anonymous: this.user?.anonymous ?? false,
    };
  }

  /** `<Limit>` check of one command (true = allowed). */
  allowed(verb: string, cmd: Cmd): boolean {
    const limit = this.cfg.limit;
    if (limit === undefined) return true;
    return limit(verb, this.limitContext(cmd, cmd.path)) !== 'deny';
  }

  /** The reply of a command `<Limit>` denies (reference §6.4; it depends on the handler). */
  private denied(handler: CommandHandler, cmd: Cmd): void {
    this.emit?.({
      type: 'denied',
      level: 'debug',
      message: `${cmd.verb} denied by <Limit> configuration`,
      verb: cmd.verb,
      argument: cmd.arg,
      path: cmd.path,
    });
    switch (handler.denied ?? 'eperm') {
      case 'data':
        this.reply(501, `${cmd.verb}: Operation not permitted`);
        return;
      case 'host':
        this.reply(504, `${cmd.arg ?? ''}: Permission denied`);
        return;
      case 'eacces':
        this.reply(550, `${cmd.arg ?? cmd.verb}: Permission denied`);
        return;
      case 'eperm':
        this.reply(550, cmd.arg === undefined ? 'Operation not permitted' : `${cmd.arg}: Operation not permitted`);
        return;
    }
  }

  // ---------------------------------------------------------------- config

  /** Does this session implement `verb` (a canonical catalogue verb)? */
  implemented(verb: string): boolean {
    const handler = HANDLERS[verb];
    return handler !== undefined && (handler.tls !== true || this.tlsOffered);
  }

  /** HOST switched the virtual host: its configuration becomes the pre-login one. */
  switchHost(config: SessionConfig): void {
    this.base = effectiveConfig(config);
    this.cfg = this.base;
    this.schedule(true);
  }

  /** Switch the configuration in force (after login, HOST). */
  useConfig(config: SessionConfig): void {
    this.cfg = effectiveConfig(config);
    this.schedule(true);
  }

  // ---------------------------------------------------------------- data channel

  /** Close a passive listener / forget an active address (a new PASV/EPSV/PORT/EPRT, REIN, ABOR). */
  closeDataChannel(): void {
    const listener = this.listener;
    if (listener !== undefined) {
      this.listener = undefined;
      listener.close();
    }
    this.activeHost = undefined;
    this.activePort = 0;
    this.dataState = 'none';
  }

  /** Is `address` acceptable as the data peer of this client (AllowForeignAddress)? */
  peerAllowed(address: string): boolean {
    return addressAllowed(this.cfg.allowForeignAddress, address, this.control.remoteAddress);
  }

  /** Logs a stranger's passive connection that was dropped (ProFTPD's SECURITY VIOLATION, §7.3). */
  passiveRejected(remoteAddress: string): void {
    this.emit?.({
      type: 'passive-rejected',
      level: 'notice',
      message:
        `SECURITY VIOLATION: Passive connection from foreign IP address ${canonicalAddress(remoteAddress)} ` +
        `rejected (does not match client IP address ${canonicalAddress(this.control.remoteAddress)}).`,
      remoteAddress,
      clientAddress: this.control.remoteAddress,
    });
  }

  /**
   * Open the data connection of `t`: accept on the passive listener (rejecting
   * strangers, §7.3) or connect to the PORT/EPRT address. Returns the connection, the
   * reply to send instead (425), or undefined when the transfer was aborted meanwhile.
   * Under PROT P the connection is protected later, by {@link startData}.
   */
  async openData(t: Transfer): Promise<DataConnection | DataFailure | undefined> {
    const r = await this.connectData(t);
    return r !== undefined && 'error' in r ? { code: 425, text: `Unable to build data connection: ${r.error}` } : r;
  }

  private async connectData(t: Transfer): Promise<DataConnection | { error: string } | undefined> {
    t.phase = 'connecting';
    if (this.dataState === 'passive' && this.listener !== undefined) {
      const listener = this.listener;
      for (;;) {
        const conn = await listener.accept();
        if (t.aborted !== undefined) {
          conn?.destroy();
          return undefined;
        }
        if (conn === undefined) {
          if (this.listener === listener) this.closeDataChannel();
          return { error: 'Connection timed out' };
        }
        // Second line: a listener that ignores `accept` (PassiveRequest) hands strangers here.
        if (!this.peerAllowed(conn.remoteAddress)) {
          this.passiveRejected(conn.remoteAddress);
          conn.destroy();
          continue;
        }
        // The listener is consumed by the accepted connection (ProFTPD data_passive_open).
        if (this.listener === listener) this.closeDataChannel();
        else listener.close();
        this.emit?.({
          type: 'data-open',
          level: 'debug',
          message: `passive data connection opened - remote : ${canonicalAddress(conn.remoteAddress)}:${conn.remotePort}`,
          mode: 'passive',
          remoteAddress: conn.remoteAddress,
          remotePort: conn.remotePort,
        });
        t.conn = conn;
        return conn;
      }
    }
    if (this.dataState === 'active' && this.activeHost !== undefined) {
      const host = this.activeHost;
      const port = this.activePort;
      this.closeDataChannel();
      const result = await this.dataPorts.connect({ host, port, localAddress: this.control.localAddress });
      if (!result.ok) return t.aborted !== undefined ? undefined : { error: result.message };
      if (t.aborted !== undefined) {
        result.connection.destroy();
        return undefined;
      }
      this.emit?.({
        type: 'data-open',
        level: 'debug',
        message: `active data connection opened - remote : ${canonicalAddress(host)}:${port}`,
        mode: 'active',
        remoteAddress: host,
        remotePort: port,
      });
      t.conn = result.connection;
      return result.connection;
    }
    return { error: 'Use PORT or PASV first' };
  }

  // ---------------------------------------------------------------- transfers

  beginTransfer(verb: string, path: string, direction: 'o' | 'i' | 'l'): Transfer {
    const now = this.clock.now();
    const offset = direction === 'l' ? 0 : this.restOffset;
    if (direction !== 'l') this.restOffset = 0;
    const t: Transfer = {
      verb,
      path,
      direction,
      offset,
      startedAt: now,
      phase: 'opening',
      lastProgressAt: now,
      bytes: 0,
      size: undefined,
      conn: undefined,
      aborted: undefined,
      fileError: undefined,
    };
    this.transfer = t;
    this.lastTransferAt = now;
    this.schedule(true);
    return t;
  }

  /**
   * The transfer is over (any outcome): timers restart from now. A transfer refused
   * before its data connection was taken (550, 451, …) still uses up a passive channel,
   * as with ProFTPD: a connection the client made for it, and perhaps closed since, must
   * not be handed to the next transfer command, which would then wait for a connection
   * that never comes. The client sends PASV/EPSV again.
   */
  endTransfer(t: Transfer): void {
    if (t.conn === undefined && t.aborted === undefined && this.dataState === 'passive') this.closeDataChannel();
    t.phase = 'done';
    this.bytesTransferred += t.bytes;
    if (this.transfer === t) this.transfer = undefined;
    const now = this.clock.now();
    this.lastTransferAt = now;
    this.lastCommandAt = now;
  }

  /** Reply for the transfer unless it was aborted (ABOR already answered). */
  transferReply(t: Transfer, code: number, text: string): void {
    if (t.aborted === undefined) this.reply(code, text);
  }

  /** Send the 150 now (the transfer may take long; the client waits for it). */
  preliminary(t: Transfer, text: string): void {
    if (t.aborted !== undefined) return;
    t.phase = 'flowing';
    this.reply(150, text);
    this.flush();
  }

  /**
   * The data connection is open: send the `150`, then, under PROT P, run its TLS
   * handshake (after the 150, as ProFTPD's pr_data_open and vsftpd do: clients such as
   * curl start TLS on the data connection only once they have the 150). Returns the
   * connection to transfer on, or undefined when the transfer ends here (the failure
   * reply is queued, or the transfer was aborted).
   */
  async startData(t: Transfer, conn: DataConnection, text: string): Promise<DataConnection | undefined> {
    this.preliminary(t, text);
    if (t.aborted !== undefined) {
      conn.destroy();
      return undefined;
    }
    if (this.prot !== 'P') return conn;
    const failure = (code: number, reply: string, outcome: 'failed' | 'not-resumed', message: string, result?: SecureDataResult): undefined => {
      this.emit?.({
        type: 'tls',
        level: 'warn',
        message,
        channel: 'data',
        outcome,
        protocol: result?.ok === true ? result.info.protocol : undefined,
        cipher: result?.ok === true ? result.info.cipher : undefined,
        resumed: result?.ok === true ? result.resumed : undefined,
        verb: t.verb,
      });
      this.transferReply(t, code, reply);
      return undefined;
    };
    const secure = this.dataPorts.secure;
    const control = this.controlTls;
    if (secure === undefined || control === undefined) {
      conn.destroy();
      return failure(522, 'Data connection must be protected: TLS is not available', 'failed', 'unable to protect the data connection: no TLS session');
    }
    let result: SecureDataResult;
    try {
      result = await secure.call(this.dataPorts, conn, { control });
    } catch (error) {
      result = { ok: false, reason: 'handshake', message: error instanceof Error ? error.message : String(error) };
    }
    if (t.aborted !== undefined) {
      if (result.ok) result.connection.destroy();
      else conn.destroy();
      return undefined;
    }
    if (!result.ok) {
      conn.destroy();
      return failure(
        522,
        `Data connection must be protected: TLS negotiation failed (${result.message})`,
        'failed',
        `unable to open data connection: TLS negotiation failed (${result.message})`,
      );
    }
    t.conn = result.connection;
    if (!result.resumed && this.cfg.tls?.requireSessionReuse !== false) {
      result.connection.destroy();
      return failure(
        425,
        "Unable to build data connection: TLS session of the control connection not resumed (the operator can relax this with TLSOptions NoSessionReuseRequired)",
        'not-resumed',
        'client did not reuse SSL session, rejecting data connection (see the NoSessionReuseRequired TLSOptions parameter)',
        result,
      );
    }
    this.emit?.({
      type: 'tls',
      level: 'debug',
      message: `${result.info.protocol} data connection accepted, using cipher ${result.info.cipher}${result.resumed ? ' (session resumed)' : ''}`,
      channel: 'data',
      outcome: 'established',
      protocol: result.info.protocol,
      cipher: result.info.cipher,
      resumed: result.resumed,
      verb: t.verb,
    });
    return result.connection;
  }

  /** Cut the transfer short; its handler then ends quietly. */
  abortTransfer(cause: AbortCause): Transfer | undefined {
    const t = this.transfer;
    if (t === undefined || t.aborted !== undefined) return undefined;
    t.aborted = cause;
    t.conn?.destroy();
    // A transfer waiting for its passive connection: closing the listener ends accept().
    if (t.phase === 'connecting') this.closeDataChannel();
    return t;
  }

  /** xferlog record of a file transfer. */
  transferRecord(t: Transfer): TransferRecord {
    const anonymous = this.user?.anonymous ?? false;
    return {
      verb: t.verb as TransferRecord['verb'],
      path: t.path,
      direction: t.direction === 'i' ? 'i' : 'o',
      transferType: this.ascii ? 'a' : 'b',
      offset: t.offset,
      user: this.user?.name ?? this.userName ?? '',
      anonymous,
      accessMode: anonymous ? 'a' : 'r',
      remoteAddress: this.control.remoteAddress,
    };
  }

  /** Report a file transfer's end (xferlog), when its data connection was at least attempted. */
  transferEnded(t: Transfer, reason: TransferEndReason): void {
    if (t.direction === 'l' || t.phase === 'opening' || this.emit === undefined) return;
    const record = this.transferRecord(t);
    const durationMs = this.clock.now() - t.startedAt;
    this.emit({
      type: 'transfer-end',
      level: 'info',
      message: `${record.direction === 'o' ? 'download' : 'upload'} of ${t.path} ${reason === 'complete' ? 'complete' : `incomplete (${reason})`}: ${t.bytes} bytes in ${durationMs} ms`,
      ...record,
      bytes: t.bytes,
      durationMs,
      completion: reason === 'complete' ? 'c' : 'i',
      reason,
    });
  }

  // ---------------------------------------------------------------- timers

  private deadline(seconds: number, from: number): number {
    return seconds > 0 ? from + seconds * 1000 : INFINITY;
  }

  private nextDeadline(): number {
    const t = this.cfg.timeouts;
    let due = INFINITY;
    if (this.state === 'closed') return due;
    if (this.state !== 'loggedIn') due = Math.min(due, this.deadline(t.login, this.loginStartedAt));
    if (this.transfer === undefined) {
      due = Math.min(due, this.deadline(t.idle, this.lastCommandAt));
      if (this.state === 'loggedIn') due = Math.min(due, this.deadline(t.noTransfer, this.lastTransferAt));
    } else {
      due = Math.min(due, this.deadline(t.stalled, this.transfer.lastProgressAt));
    }
    if (this.listener !== undefined) due = Math.min(due, this.deadline(t.passiveAccept, this.listenerAt));
    return due;
  }

  /** Arm the timer for the earliest deadline (`force`: deadlines may have moved earlier). */
  schedule(force = false): void {
    const due = this.nextDeadline();
    if (!force && due >= this.timerAt) return;
    if (due === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) this.timer.cancel();
    this.timer = undefined;
    this.timerAt = due;
    if (due === INFINITY) return;
    this.timer = this.clock.setTimer(Math.max(0, due - this.clock.now()), this.onTimer);
  }

  private timerFired(): void {
    this.timer = undefined;
    this.timerAt = INFINITY;
    if (this.state === 'closed') return;
    const now = this.clock.now();
    const t = this.cfg.timeouts;
    if (this.state !== 'loggedIn' && now >= this.deadline(t.login, this.loginStartedAt)) {
      this.timeout('login', t.login, `Login timeout (${plural(t.login)}): closing control connection`, 'Login timeout exceeded, disconnected');
      return;
    }
    if (this.transfer === undefined) {
      if (now >= this.deadline(t.idle, this.lastCommandAt)) {
        this.timeout('idle', t.idle, `Idle timeout (${plural(t.idle)}): closing control connection`, 'Client session idle timeout, disconnected');
        return;
      }
      if (this.state === 'loggedIn' && now >= this.deadline(t.noTransfer, this.lastTransferAt)) {
        const notices =
          this.dataState === 'passive'
            ? [
                'Passive data transfer failed, possibly due to network issues',
                'Check your PassivePorts and MasqueradeAddress settings,',
                'and any router, NAT, and firewall rules in the network path.',
              ]
            : [];
        this.timeout('noTransfer', t.noTransfer, `No transfer timeout (${plural(t.noTransfer)}): closing control connection`, 'FTP no transfer timeout, disconnected', notices);
        return;
      }
    } else if (now >= this.deadline(t.stalled, this.transfer.lastProgressAt)) {
      this.timeout('stalled', t.stalled, `Data transfer stall timeout (${plural(t.stalled)}): closing control connection`, `Data transfer stall timeout: ${t.stalled} seconds`);
      return;
    }
    if (this.listener !== undefined && now >= this.deadline(t.passiveAccept, this.listenerAt)) {
      const seconds = t.passiveAccept;
      this.emit?.({
        type: 'timeout',
        level: 'info',
        message: `Passive data connection not opened within ${plural(seconds)}, closing the listener`,
        kind: 'passiveAccept',
        seconds,
        notices: [],
      });
      const waiting = this.transfer !== undefined && this.transfer.phase === 'connecting';
      this.closeDataChannel();
      if (waiting) return; // accept() resolves undefined: the transfer answers 425
    }
    this.schedule();
  }

  private timeout(
    kind: 'login' | 'idle' | 'noTransfer' | 'stalled',
    seconds: number,
    reply: string,
    message: string,
    notices: readonly string[] = [],
  ): void {
    this.emit?.({ type: 'timeout', level: kind === 'stalled' || kind === 'noTransfer' ? 'notice' : 'info', message, kind, seconds, notices });
    this.abortTransfer('timeout');
    this.reply(421, reply);
    this.shutdown('timeout');
  }
}

/** `2 seconds` / `1 second` (ProFTPD's timeout replies). */
function plural(seconds: number): string {
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
