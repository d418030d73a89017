/**
 * FTPS (RFC 4217, on the RFC 2228 security extensions): AUTH, PBSZ, PROT and CCC, and
 * the TLSRequired gate the dispatcher runs before every command, with ProFTPD mod_tls's
 * replies and log lines. The handshakes themselves are the ports' work
 * (`ControlChannel.upgradeTls`, `DataChannelFactory.secure`); the states are
 * PROTECTION_MACHINE (states.ts).
 */
import type { Session } from '../core.js';
import type { TlsRequirement } from '../config.js';
import type { TlsInfo, TlsUpgradeResult } from '../ports.js';
import { protectionTransition } from '../states.js';
import type { Cmd } from './table.js';

/** Commands TLSRequired never refuses (mod_tls `tls_any`): they carry no secret and lead to AUTH. */
const NEVER_GATED: ReadonlySet<string> = new Set(['AUTH', 'FEAT', 'SYST', 'QUIT']);

/** What `TLSRequired auth` protects. */
const LOGIN_VERBS: ReadonlySet<string> = new Set(['USER', 'PASS', 'ACCT']);

/** AUTH mechanisms (RFC 4217 §4; `SSL` and `TLS-P` are the pre-RFC names that also imply PROT P). */
const MECHANISMS: Readonly<Record<string, { prot: 'C' | 'P' }>> = {
  TLS: { prot: 'C' },
  'TLS-C': { prot: 'C' },
  SSL: { prot: 'P' },
  'TLS-P': { prot: 'P' },
};

const NOTHING_REQUIRED: Readonly<Required<TlsRequirement>> = Object.freeze({ control: 'optional', data: 'optional', authOnly: false });

/**
 * The TLSRequired that applies now: nothing when TLS is not offered or the session is
 * an exempt anonymous one (`exemptAnonymous`: the USER name, then the logged-in user).
 * `user` is the name a USER command is about to set.
 */
export function tlsRequirement(s: Session, user?: string): Readonly<Required<TlsRequirement>> {
  const tls = s.cfg.tls;
  if (tls === undefined) return NOTHING_REQUIRED;
  if (tls.exemptAnonymous) {
    const anonymous = s.user !== undefined ? s.user.anonymous : s.cfg.anonymousUsers.has((user ?? s.userName ?? '').toLowerCase());
    if (anonymous) return NOTHING_REQUIRED;
  }
  return tls.required;
}

function tlsEvent(
  s: Session,
  level: 'debug' | 'info' | 'notice' | 'warn',
  channel: 'control' | 'data',
  outcome: 'established' | 'failed' | 'not-resumed' | 'refused' | 'discarded' | 'cleared',
  message: string,
  extra: { info?: TlsInfo; resumed?: boolean; verb?: string } = {},
): void {
  s.emit?.({
    type: 'tls',
    level,
    message,
    channel,
    outcome,
    protocol: extra.info?.protocol,
    cipher: extra.info?.cipher,
    resumed: extra.resumed,
    verb: extra.verb,
  });
}

/**
 * TLSRequired, checked before the login check (mod_tls runs it as a PRE_CMD handler):
 * `550 SSL/TLS required on the control channel` for a command on an unprotected control
 * connection, `522 SSL/TLS required on the data channel` for a transfer under PROT C.
 * Returns true when it refused (the reply is queued).
 */
export function tlsRefused(s: Session, verb: string, arg: string | undefined, transfer: boolean): boolean {
  if (s.cfg.tls === undefined || NEVER_GATED.has(verb)) return false;
  const req = tlsRequirement(s, verb === 'USER' ? arg : undefined);
  if (req.control === 'required' && !s.control.secure && (!req.authOnly || LOGIN_VERBS.has(verb))) {
    tlsEvent(
      s,
      'notice',
      'control',
      'refused',
      req.authOnly
        ? `SSL/TLS required but absent for authentication, denying ${verb} command`
        : `SSL/TLS required but absent on control channel, denying ${verb} command`,
      { verb },
    );
    s.reply(550, 'SSL/TLS required on the control channel');
    return true;
  }
  if (transfer && req.data === 'required' && s.prot !== 'P') {
    tlsEvent(s, 'notice', 'data', 'refused', `SSL/TLS required but absent on data channel, denying ${verb} command`, { verb });
    s.reply(522, 'SSL/TLS required on the data channel');
    return true;
  }
  return false;
}

/**
 * After PASS: an anonymous exemption granted on the USER name holds only if the account
 * really is anonymous; otherwise the login is refused (the control connection is clear).
 */
export function tlsLoginRefused(s: Session, anonymous: boolean): boolean {
  const tls = s.cfg.tls;
  if (tls === undefined || anonymous || s.control.secure) return false;
  const req = tls.required;
  return req.control === 'required';
}

/** AUTH TLS | TLS-C | SSL | TLS-P (RFC 4217 §4, mod_tls `tls_auth`). */
export function auth(s: Session, c: Cmd): void | Promise<void> {
  if (protectionTransition(s.protection, 'AUTH') === undefined) {
    tlsEvent(s, 'notice', 'control', 'refused', 'Unwilling to accept AUTH after AUTH for this session', { verb: 'AUTH' });
    s.reply(503, 'Unwilling to accept second AUTH');
    return;
  }
  const mechanism = (c.arg ?? '').toUpperCase();
  const mech = MECHANISMS[mechanism];
  const upgrade = s.control.upgradeTls;
  if (mech === undefined || upgrade === undefined) {
    s.emit?.({ type: 'log', level: 'debug', message: `AUTH ${c.arg ?? ''} unsupported, declining` });
    s.reply(504, `AUTH ${c.arg ?? ''} unsupported`);
    return;
  }
  s.protection = 'handshake';
  s.reply(234, `AUTH ${mechanism} successful`);
  s.flush();
  // RFC 4217 §4 / CVE-2011-1575: nothing sent in the clear after AUTH may run as a command.
  s.discardPlaintext('AUTH');
  s.emit?.({ type: 'log', level: 'debug', message: `${mechanism === 'TLS' || mechanism === 'TLS-C' ? 'TLS/TLS-C' : 'SSL/TLS-P'} requested, starting TLS handshake` });
  return handshake(s, () => upgrade.call(s.control), mech.prot);
}

/**
 * Wait for the port to switch the control connection's protection. On failure the
 * session ends: the peer speaks TLS (or garbage) now, so a plaintext reply would not help.
 */
async function switched(s: Session, run: () => Promise<TlsUpgradeResult>, failure: string): Promise<TlsInfo | undefined> {
  let result: TlsUpgradeResult;
  try {
    result = await run();
  } catch (error) {
    result = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (s.isClosed) return undefined;
  if (result.ok) return result.info;
  tlsEvent(s, 'warn', 'control', 'failed', `${failure}: ${result.message}`);
  s.shutdown('tls');
  return undefined;
}

async function handshake(s: Session, run: () => Promise<TlsUpgradeResult>, prot: 'C' | 'P'): Promise<void> {
  const info = await switched(s, run, 'TLS/TLS-C negotiation failed on control channel');
  if (info === undefined) {
    s.protection = protectionTransition(s.protection, 'HANDSHAKE_FAILED') ?? 'closed';
    return;
  }
  s.protection = protectionTransition(s.protection, 'HANDSHAKE_OK') ?? 'secure';
  s.controlTls = info;
  if (prot === 'P') {
    s.pbsz = true;
    s.prot = 'P';
  }
  tlsEvent(s, 'info', 'control', 'established', `${info.protocol} connection accepted, using cipher ${info.cipher}`, { info });
}

/** PBSZ (RFC 2228 §3, RFC 4217 §8): TLS needs no buffer, so the only size is 0. */
export function pbsz(s: Session, c: Cmd): void {
  if (!s.control.secure) {
    s.reply(503, 'PBSZ not allowed on insecure control connection');
    return;
  }
  const arg = c.arg ?? '';
  if (!/^[0-9]+$/.test(arg)) {
    s.reply(501, `PBSZ ${arg}: protection buffer size must be a decimal number`);
    return;
  }
  s.pbsz = true;
  // RFC 4217 §8: a larger size is answered with the size in force, `PBSZ=0`.
  s.reply(200, arg === '0' ? 'PBSZ 0 successful' : 'PBSZ=0 successful');
}

/** PROT C | P (RFC 2228 §3, RFC 4217 §9); S and E have no TLS meaning (536). */
export function prot(s: Session, c: Cmd): void {
  if (!s.control.secure) {
    s.reply(503, 'PROT not allowed on insecure control connection');
    return;
  }
  if (!s.pbsz) {
    s.reply(503, 'You must issue the PBSZ command prior to PROT');
    return;
  }
  const level = (c.arg ?? '').toUpperCase();
  const data = tlsRequirement(s).data;
  switch (level) {
    case 'C':
      if (data === 'required') break;
      s.prot = 'C';
      s.reply(200, 'Protection set to Clear');
      return;
    case 'P':
      if (data === 'forbidden' || s.dataPorts.secure === undefined) break;
      s.prot = 'P';
      s.reply(200, 'Protection set to Private');
      return;
    case 'S':
    case 'E':
      s.reply(536, `PROT ${level} unsupported`);
      return;
    default:
      s.reply(504, `PROT ${c.arg ?? ''} unsupported`);
      return;
  }
  tlsEvent(s, 'notice', 'data', 'refused', `PROT ${level}: unwilling to accept security parameters (TLSRequired)`, { verb: 'PROT' });
  s.reply(534, 'Unwilling to accept security parameters');
}

/** CCC (RFC 4217 §6): back to a clear control connection, when allowed. */
export function ccc(s: Session): void | Promise<void> {
  if (!s.control.secure) {
    s.reply(533, 'CCC not allowed on insecure control connection');
    return;
  }
  const clear = s.control.clearTls;
  if (s.cfg.tls?.allowCcc !== true || tlsRequirement(s).control === 'required' || clear === undefined) {
    tlsEvent(s, 'notice', 'control', 'refused', 'CCC: unwilling to accept security parameters: the control channel must stay protected', { verb: 'CCC' });
    s.reply(534, 'Unwilling to accept security parameters');
    return;
  }
  s.reply(200, 'Clearing control channel protection');
  s.flush();
  s.discardPlaintext('CCC');
  return cleared(s, () => clear.call(s.control));
}

async function cleared(s: Session, run: () => Promise<TlsUpgradeResult>): Promise<void> {
  if ((await switched(s, run, 'CCC: ending TLS on the control channel failed')) === undefined) return;
  s.protection = protectionTransition(s.protection, 'CCC') ?? 'cleared';
  tlsEvent(s, 'info', 'control', 'cleared', 'Control channel protection cleared (CCC)');
}
