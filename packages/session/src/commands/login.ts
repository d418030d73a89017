/**
 * Login sequence (RFC 959 §4.1.1 USER, PASS, ACCT, REIN, QUIT) with ProFTPD's mod_auth
 * replies and log lines. Transitions follow LOGIN_MACHINE (states.ts).
 *
 * A failed PASS is answered no sooner than `loginFailureDelay` ms after it arrived
 * (ProFTPD mod_delay `DelayOnEvent FailedLogin`): the wait is a timer of the session's
 * clock, so nothing else waits but this session's later commands, and it is cancelled
 * when the session closes.
 */
import type { Session } from '../core.js';
import { resolvePath } from '../path.js';
import type { AuthenticatedUser, TimerHandle } from '../ports.js';
import { LOGIN_REFUSALS, loginTransition } from '../states.js';
import { tlsLoginRefused } from './security.js';
import type { Cmd } from './table.js';

/**
 * Reply with the state's refusal for USER/PASS; true when refused. A refused PASS forgets
 * the USER name of the login (ProFTPD `auth_err_pass` drops `mod_auth.orig-user`).
 */
function refused(s: Session, verb: 'USER' | 'PASS'): boolean {
  const refusal = LOGIN_REFUSALS[s.state][verb];
  if (refusal === undefined) return false;
  if (verb === 'PASS') s.userName = undefined;
  s.reply(refusal[0], refusal[1]);
  return true;
}

export function user(s: Session, c: Cmd): void {
  if (c.arg === undefined) {
    // ProFTPD mod_auth answers a missing name itself, before any state check.
    s.reply(500, 'USER: command requires a parameter');
    return;
  }
  // Logged in, USER with the name of this login is accepted again (ProFTPD Bug#4217).
  if (s.state === 'loggedIn' && s.userName !== undefined && c.arg === s.userName) {
    s.reply(230, `User ${s.userName} logged in`);
    return;
  }
  if (refused(s, 'USER')) return;
  const name = c.arg;
  s.userName = name;
  s.state = loginTransition(s.state, 'USER') ?? s.state;
  if (s.cfg.anonymousUsers.has(name.toLowerCase())) {
    s.reply(331, 'Anonymous login ok, send your complete email address as your password');
  } else {
    s.reply(331, `Password required for ${name}`);
  }
}

/** The failed-login wait in progress of each session, cancelled when the session closes. */
const waiting = new WeakMap<Session, { timer: TimerHandle; done: () => void } | undefined>();

/** Resolves `ms` after `since` (the session's clock), or as soon as the session closes. */
function waitUntil(s: Session, since: number, ms: number): Promise<void> | undefined {
  const wait = since + ms - s.clock.now();
  if (!(wait > 0) || s.isClosed) return undefined;
  const watched = waiting.has(s);
  return new Promise<void>((resolve) => {
    const done = (): void => {
      waiting.set(s, undefined);
      resolve();
    };
    waiting.set(s, { timer: s.clock.setTimer(wait, done), done });
    // One close watcher per session, however many logins fail.
    if (!watched) {
      void s.closed.then(() => {
        const w = waiting.get(s);
        w?.timer.cancel();
        w?.done();
        waiting.delete(s);
      });
    }
  });
}

export async function pass(s: Session, c: Cmd): Promise<void> {
  if (refused(s, 'PASS')) return;
  const receivedAt = s.clock.now();
  const name = s.userName ?? '';
  let account: AuthenticatedUser | undefined;
  let failure: 'password' | 'limit' | 'error' | 'tls' = 'password';
  try {
    account = await s.authenticator.authenticate({
      user: name,
      password: c.arg ?? '',
      remoteAddress: s.control.remoteAddress,
      localAddress: s.control.localAddress,
    });
  } catch (error) {
    failure = 'error';
    s.emit?.({ type: 'error', level: 'error', message: `authentication of ${name} failed`, error, verb: 'PASS' });
  }
  if (s.isClosed) return;
  if (account !== undefined && tlsLoginRefused(s, account.anonymous)) {
    // Exempt as an anonymous USER name, but the account is not anonymous (TLSRequired).
    account = undefined;
    failure = 'tls';
  }
  if (account !== undefined) {
    // mod_ifsession: <IfUser>/<IfGroup> layers apply after a successful PASS (§4.2).
    const layered = s.base.source.onLogin?.(account);
    const previous = s.cfg;
    if (layered !== undefined) s.useConfig(layered);
    // <Limit LOGIN> is checked again at PASS (§6.3).
    const limit = s.cfg.limit;
    const ctx = s.limitContext(undefined, '/');
    ctx.user = account.name;
    ctx.groups = account.groups;
    ctx.anonymous = account.anonymous;
    if (limit !== undefined && limit('LOGIN', ctx) === 'deny') {
      s.cfg = previous;
      account = undefined;
      failure = 'limit';
    }
  }
  if (account === undefined) {
    // Logged at once: a client that hangs up during the delay is still on record.
    const last = loginFailed(s, name, failure);
    const delay = waitUntil(s, receivedAt, s.cfg.loginFailureDelay);
    if (delay !== undefined) await delay;
    if (!s.isClosed) refuseLogin(s, name, last);
    return;
  }
  s.user = account;
  s.fs = account.fileSystem;
  const home = resolvePath('/', account.home ?? '/');
  s.home = home.ok ? home.path : '/';
  s.cwd = s.home;
  s.state = loginTransition(s.state, 'PASS_OK') ?? s.state;
  s.failedLogins = 0;
  s.lastTransferAt = s.clock.now();
  s.schedule(true);
  s.emit?.({
    type: 'login',
    level: 'info',
    message: account.anonymous ? `ANON ${name}: Login successful.` : `USER ${name}: Login successful.`,
    user: account.name,
    anonymous: account.anonymous,
  });
  if (account.anonymous) s.reply(230, 'Anonymous access granted, restrictions apply');
  else s.reply(230, `User ${name} logged in`);
}

const FAILURE_TEXT: Readonly<Record<'password' | 'limit' | 'error' | 'tls', string>> = {
  password: 'Incorrect password',
  error: 'Incorrect password',
  limit: 'Limit access denies login',
  tls: 'SSL/TLS required on the control channel',
};

/** Count and log a failed login; true when it was the last attempt allowed (MaxLoginAttempts). */
function loginFailed(s: Session, name: string, reason: 'password' | 'limit' | 'error' | 'tls'): boolean {
  s.failedLogins++;
  s.emit?.({
    type: 'login-failed',
    level: 'notice',
    message: `USER ${name} (Login failed): ${FAILURE_TEXT[reason]}`,
    user: name,
    reason,
    attempts: s.failedLogins,
  });
  return s.failedLogins >= s.cfg.maxLoginAttempts;
}

/** The 530 of a failed login; after the last attempt allowed, the session ends. */
function refuseLogin(s: Session, name: string, last: boolean): void {
  s.reply(530, 'Login incorrect.');
  if (last) {
    s.emit?.({
      type: 'login-failed',
      level: 'notice',
      message: `Maximum login attempts (${s.cfg.maxLoginAttempts}) exceeded, connection refused`,
      user: name,
      reason: 'max-attempts',
      attempts: s.failedLogins,
    });
    // LOGIN_MACHINE: PASS_LAST_BAD → closed; shutdown() performs that transition.
    s.shutdown('login-attempts');
    return;
  }
  s.userName = undefined;
  s.state = loginTransition(s.state, 'PASS_BAD') ?? 'awaitUser';
}

/**
 * ACCT and REIN: ProFTPD 1.3.8's mod_auth answers both `502 <CMD> command not
 * implemented` (before and after login) and HELP lists them with `*`; the session goes on
 * unchanged.
 */
export function notImplemented(s: Session, c: Cmd): void {
  s.reply(502, `${c.verb} command not implemented`);
}

export function quit(s: Session): void {
  s.abortTransfer('quit');
  s.reply(221, 'Goodbye.');
  s.shutdown('quit');
}
