/**
 * @packageDocumentation
 * `@ftpkit/session`: the FTP server protocol of one control connection, sans-IO. Login,
 * navigation, listings (LIST/NLST/MLSD/MLST), transfers with REST and TYPE A, FEAT/OPTS/
 * HELP/STAT/SITE, PASV/EPSV/PORT/EPRT through a passive-port allocator and a masquerade
 * resolver, AllowForeignAddress and the passive-peer check, `<Limit>`, timeouts,
 * ABOR/STAT/QUIT during transfers, and FTPS (AUTH TLS, PBSZ, PROT, CCC, TLSRequired,
 * data connections bound to the control connection's TLS session) — with ProFTPD's
 * replies and log lines. It talks to
 * the world only through the ports in `ports.ts`; `@ftpkit/session/node` provides real
 * sockets, a chrooted file system and `createFtpServer`.
 *
 * @example
 * ```ts
 * import { FtpSession } from '@ftpkit/session';
 *
 * const session = new FtpSession({
 *   control,        // ControlChannel: write(), close(), addresses
 *   data,           // DataChannelFactory: listen() for PASV/EPSV, connect() for PORT/EPRT
 *   authenticator,  // authenticate({ user, password, … }) → AuthenticatedUser | undefined
 *   clock,          // now(), setTimer()
 *   config: { serverName: 'example', timeouts: { idle: 300 } },
 *   onEvent: (e) => log[e.level](e.message),
 * });
 * session.start();                       // 220 ftpkit Server (example) [203.0.113.7]
 * session.receive(bytesFromTheSocket);   // replies go to control.write()
 * ```
 */
export { FtpSession } from './session.js';
export type { FtpSessionOptions } from './session.js';
export { DEFAULT_TIMEOUTS, effectiveConfig } from './config.js';
export type {
  EffectiveConfig,
  EffectiveTlsConfig,
  LimitChecker,
  LimitContext,
  LimitDecision,
  SessionConfig,
  SessionTimeouts,
  SessionTlsConfig,
  TlsRequirement,
} from './config.js';
export type {
  SessionEvent,
  SessionEventLevel,
  SessionEventListener,
  TransferEndReason,
  TransferRecord,
} from './events.js';
export type {
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
  PortError,
  SecureDataRequest,
  SecureDataResult,
  TimerHandle,
  TlsInfo,
  TlsUpgradeResult,
} from './ports.js';
export { mapAccepted } from './channels.js';
export { errorCode, fileErrorReply, portError, strerror, transferErrorReply } from './errors.js';
export type { ReplySpec, TransferFailureSide } from './errors.js';
export { baseName, joinPath, parentPath, resolvePath } from './path.js';
export type { PathResult } from './path.js';
export {
  DEFAULT_MLST_FACTS,
  MLST_FACTS,
  formatListLine,
  formatMlsxEntry,
  globMatch,
  hasGlob,
  lsTime,
  modeString,
  parseListArgs,
  permFact,
} from './listing.js';
export type { ListArgs } from './listing.js';
export { FromCrlf, ToCrlf } from './ascii.js';
export { addressAllowed, canonicalAddress, ipv4Of, isNativeIpv6, isRfc1918, sameAddress } from './address.js';
export {
  DATA_CHANNEL_MACHINE,
  DURING_TRANSFER,
  LOGIN_MACHINE,
  LOGIN_REFUSALS,
  MAX_QUEUED_COMMANDS,
  PROTECTION_MACHINE,
  TRANSFER_PHASES,
  loginTransition,
  protectionTransition,
} from './states.js';
export type {
  DataChannelInput,
  DataChannelState,
  DataProtection,
  LoginInput,
  LoginState,
  ProtectionInput,
  ProtectionState,
  TransferPhase,
} from './states.js';
