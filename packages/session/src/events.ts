/**
 * Events a session reports for the app's logs and metrics (the library itself never
 * logs). Every event has a `level` and a `message`; where ProFTPD writes a log line for
 * the same situation, `message` is that exact text, so operators can grep the same
 * strings (reference §3.3, §7).
 */

export type SessionEventLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error';

/** The fields of an xferlog(5) line (ProFTPD TransferLog). */
export interface TransferRecord {
  verb: 'RETR' | 'STOR' | 'APPE' | 'STOU';
  /** Virtual path of the file. */
  path: string;
  /** xferlog direction: `o` outgoing (download), `i` incoming (upload). */
  direction: 'o' | 'i';
  /** xferlog transfer type: `a` ASCII, `b` binary. */
  transferType: 'a' | 'b';
  /** REST offset the transfer started from. */
  offset: number;
  user: string;
  anonymous: boolean;
  /** xferlog access mode: `a` anonymous, `r` real user. */
  accessMode: 'a' | 'r';
  remoteAddress: string;
}

export type TransferEndReason = 'complete' | 'aborted' | 'data-error' | 'file-error' | 'connect-failed' | 'timeout' | 'closed';

export type SessionEvent =
  | { type: 'open'; level: 'info'; message: string; remoteAddress: string; localAddress: string }
  | {
      type: 'close';
      level: 'info';
      message: string;
      reason: 'quit' | 'peer' | 'timeout' | 'login-attempts' | 'queue-overflow' | 'host' | 'tls';
    }
  | { type: 'login'; level: 'info'; message: string; user: string; anonymous: boolean }
  | {
      type: 'login-failed';
      level: 'notice';
      message: string;
      user: string;
      reason: 'password' | 'limit' | 'max-attempts' | 'error' | 'tls';
      attempts: number;
    }
  | { type: 'denied'; level: 'debug'; message: string; verb: string; argument: string | undefined; path: string }
  | {
      type: 'port-refused';
      level: 'warn';
      message: string;
      verb: 'PORT' | 'EPRT';
      argument: string;
      reason: 'address-mismatch' | 'family-mismatch' | 'low-port' | 'private-address';
    }
  | { type: 'port-rewritten'; level: 'debug'; message: string; verb: 'PORT' | 'EPRT'; from: string; to: string }
  | {
      type: 'passive';
      level: 'debug';
      message: string;
      verb: 'PASV' | 'EPSV';
      address: string | undefined;
      port: number;
      exposedPort: number;
    }
  | { type: 'passive-rejected'; level: 'notice'; message: string; remoteAddress: string; clientAddress: string }
  | { type: 'fallback'; level: 'warn'; message: string; verb: 'PASV' | 'EPSV'; port: number }
  | {
      type: 'masquerade';
      level: 'debug';
      message: string;
      ok: boolean;
      address: string | undefined;
      rule: string;
      reason: string;
    }
  | {
      type: 'data-open';
      level: 'debug';
      message: string;
      mode: 'passive' | 'active';
      remoteAddress: string;
      remotePort: number;
    }
  | ({ type: 'transfer-start'; level: 'debug'; message: string } & TransferRecord)
  | ({
      type: 'transfer-end';
      level: 'info';
      message: string;
      bytes: number;
      durationMs: number;
      /** xferlog completion status: `c` complete, `i` incomplete. */
      completion: 'c' | 'i';
      reason: TransferEndReason;
    } & TransferRecord)
  | {
      type: 'timeout';
      level: 'info' | 'notice';
      message: string;
      kind: 'login' | 'idle' | 'noTransfer' | 'stalled' | 'passiveAccept';
      seconds: number;
      /** Extra lines ProFTPD logs before the message (TimeoutNoTransfer in passive mode). */
      notices: readonly string[];
    }
  | {
      /**
       * FTPS (RFC 4217): `established` — a TLS handshake completed (control, or a data
       * connection under PROT P, with `resumed`); `failed` — a handshake failed;
       * `not-resumed` — a data connection did not resume the control session and was
       * refused; `refused` — a command refused by TLSRequired (`verb`); `discarded` —
       * plaintext sent after AUTH TLS was dropped; `cleared` — CCC ended TLS on the
       * control connection.
       */
      type: 'tls';
      level: 'debug' | 'info' | 'notice' | 'warn';
      message: string;
      channel: 'control' | 'data';
      outcome: 'established' | 'failed' | 'not-resumed' | 'refused' | 'discarded' | 'cleared';
      protocol: string | undefined;
      cipher: string | undefined;
      resumed: boolean | undefined;
      verb: string | undefined;
    }
  | { type: 'log'; level: SessionEventLevel; message: string }
  | { type: 'error'; level: 'error'; message: string; error: unknown; verb: string | undefined };

export type SessionEventListener = (event: SessionEvent) => void;
