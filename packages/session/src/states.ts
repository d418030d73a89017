/**
 * The session's state machines, as data.
 *
 * Theory of operation. A session is three small machines that move independently:
 *
 * 1. **Login** (RFC 959 §5.4 USER/PASS sequence): `awaitUser` → USER → `awaitPass` →
 *    PASS accepted → `loggedIn`. A rejected PASS returns to `awaitUser`; the
 *    MaxLoginAttempts-th rejection, QUIT, a timeout or the peer closing end in `closed`.
 *    REIN (RFC 959 §4.1.1) returns any live state to `awaitUser`. Commands the machine
 *    does not accept in a state get the reply in {@link LOGIN_REFUSALS}.
 *
 * 2. **Data channel** (RFC 959 §3.2, RFC 2428): `none` → PASV/EPSV → `passive`
 *    (a listener is open) or PORT/EPRT → `active` (an address is remembered). A
 *    transfer command consumes the channel (`none` again); so do REIN, a failed
 *    PASV/EPSV and the passive-accept timeout. A new PASV/EPSV/PORT/EPRT replaces
 *    the previous channel, closing a listener first.
 *
 * 3. **Transfer** (one at a time): `opening` (file opened / listing read) →
 *    `connecting` (accepting or connecting the data connection) → `flowing` (150 sent,
 *    bytes move with backpressure) → `done` (226, or 425/426/451/452/552, or ABOR).
 *    While a transfer runs, the control connection keeps being read: the commands in
 *    {@link DURING_TRANSFER} are answered at once; any other command waits in the
 *    session's queue and runs, in order, after the transfer (ProFTPD 1.3.8 answers some of
 *    them with `450 <CMD>: data transfer in progress` instead; queueing keeps pipelining
 *    clients working and replies in order).
 *
 * 4. **Protection** (RFC 4217): the control connection is `plain` → AUTH TLS →
 *    `handshake` (the `234` is out; the port runs TLS; plaintext received after AUTH is
 *    discarded) → `secure`, or `closed` when the handshake fails. Implicit FTPS starts
 *    `secure`. CCC (when allowed) leaves `secure` for `cleared`, which accepts no second
 *    AUTH. Data protection is a separate level, `C` (clear, the default) or `P`
 *    (private), set by PROT after PBSZ on a secure control connection; AUTH SSL (and
 *    TLS-P) sets it to `P` at once, as ProFTPD does. Under `P` every data connection
 *    runs a TLS handshake (which must resume the control session unless relaxed)
 *    before the `150`.
 *
 * Commands are otherwise processed strictly in order: every complete line of a received
 * chunk runs synchronously unless it needs IO (a port call); then the following lines
 * wait in the queue until it finishes. Replies produced while handling one chunk leave in
 * one `control.write`.
 */

export type LoginState = 'awaitUser' | 'awaitPass' | 'loggedIn' | 'closed';

export type LoginInput =
  | 'USER'
  | 'PASS_OK'
  | 'PASS_BAD'
  | 'PASS_LAST_BAD'
  | 'REIN'
  | 'QUIT'
  | 'TIMEOUT'
  | 'PEER_CLOSED';

/** Login transitions. A missing entry means "refused": see {@link LOGIN_REFUSALS}. */
export const LOGIN_MACHINE: Readonly<Record<LoginState, Readonly<Partial<Record<LoginInput, LoginState>>>>> = {
  awaitUser: { USER: 'awaitPass', REIN: 'awaitUser', QUIT: 'closed', TIMEOUT: 'closed', PEER_CLOSED: 'closed' },
  awaitPass: {
    USER: 'awaitPass',
    PASS_OK: 'loggedIn',
    PASS_BAD: 'awaitUser',
    PASS_LAST_BAD: 'closed',
    REIN: 'awaitUser',
    QUIT: 'closed',
    TIMEOUT: 'closed',
    PEER_CLOSED: 'closed',
  },
  loggedIn: { REIN: 'awaitUser', QUIT: 'closed', TIMEOUT: 'closed', PEER_CLOSED: 'closed' },
  closed: {},
};

/** Replies for login commands a state does not accept (ProFTPD mod_auth texts). */
export const LOGIN_REFUSALS: Readonly<Record<LoginState, Readonly<Partial<Record<'USER' | 'PASS', readonly [number, string]>>>>> = {
  awaitUser: { PASS: [503, 'Login with USER first'] },
  awaitPass: {},
  loggedIn: { USER: [501, 'Reauthentication not supported'], PASS: [503, 'You are already logged in'] },
  closed: {},
};

/** Next login state, or undefined when the input is refused in `state`. */
export function loginTransition(state: LoginState, input: LoginInput): LoginState | undefined {
  return LOGIN_MACHINE[state][input];
}

export type DataChannelState = 'none' | 'passive' | 'active';

export type DataChannelInput = 'PASV' | 'EPSV' | 'PORT' | 'EPRT' | 'TRANSFER' | 'REIN' | 'FAILED' | 'ACCEPT_TIMEOUT' | 'ABOR';

/** Data-channel transitions; every input is accepted in every state. */
export const DATA_CHANNEL_MACHINE: Readonly<Record<DataChannelInput, DataChannelState>> = {
  PASV: 'passive',
  EPSV: 'passive',
  PORT: 'active',
  EPRT: 'active',
  TRANSFER: 'none',
  REIN: 'none',
  FAILED: 'none',
  ACCEPT_TIMEOUT: 'none',
  ABOR: 'none',
};

export type TransferPhase = 'opening' | 'connecting' | 'flowing' | 'done';

/** Transfer phase order; a transfer only moves forward (any phase may jump to `done`). */
export const TRANSFER_PHASES: readonly TransferPhase[] = ['opening', 'connecting', 'flowing', 'done'];

/**
 * What happens to a command that arrives while a transfer runs:
 * - `now`: handled immediately, even if other commands are waiting (ABOR, QUIT);
 * - `first`: handled immediately when no command is waiting before it (so replies stay
 *   in order), otherwise queued (STAT, NOOP);
 * - anything else is queued until the transfer ends.
 */
export const DURING_TRANSFER: Readonly<Record<string, 'now' | 'first'>> = {
  ABOR: 'now',
  QUIT: 'now',
  STAT: 'first',
  NOOP: 'first',
};

/** At most this many commands wait for a running transfer; more closes the session (421). */
export const MAX_QUEUED_COMMANDS = 64;

export type ProtectionState = 'plain' | 'handshake' | 'secure' | 'cleared' | 'closed';

export type ProtectionInput = 'AUTH' | 'HANDSHAKE_OK' | 'HANDSHAKE_FAILED' | 'CCC';

/** Control-connection protection transitions (RFC 4217 §4, §6). A missing entry means "refused". */
export const PROTECTION_MACHINE: Readonly<Record<ProtectionState, Readonly<Partial<Record<ProtectionInput, ProtectionState>>>>> = {
  plain: { AUTH: 'handshake' },
  handshake: { HANDSHAKE_OK: 'secure', HANDSHAKE_FAILED: 'closed' },
  secure: { CCC: 'cleared' },
  cleared: {},
  closed: {},
};

/** Next protection state, or undefined when the input is refused in `state`. */
export function protectionTransition(state: ProtectionState, input: ProtectionInput): ProtectionState | undefined {
  return PROTECTION_MACHINE[state][input];
}

/** Data protection level (RFC 2228 §3 PROT): clear or private. */
export type DataProtection = 'C' | 'P';
