/**
 * @packageDocumentation
 * `@ftpkit/session/node`: the Node runtime of the FTP session core — `createFtpServer`
 * for embedders, a chrooted local file system with atomic uploads, data channels on
 * real sockets (PassivePorts through `@ftpkit/port-allocator/node`), the control
 * channel, a simple authenticator and the system clock.
 *
 * @example
 * ```ts
 * import { createFtpServer, simpleAuthenticator } from '@ftpkit/session/node';
 *
 * const server = createFtpServer({
 *   listen: { host: '0.0.0.0', port: 2121 },
 *   passivePorts: '60000-60100',
 *   authenticator: simpleAuthenticator({
 *     users: [{ name: 'alice', password: 's3cret', root: '/srv/ftp/alice' }],
 *     anonymous: { root: '/srv/ftp/pub' },
 *   }),
 * });
 * server.on('transfer', (e) => console.log(e.message, e.bytes));
 * console.log(await server.listen()); // [{ address: '0.0.0.0', family: 'IPv4', port: 2121 }]
 * ```
 */
export { createFtpServer, FtpServer } from './server.js';
export type {
  BoundAddress,
  ConnectionContext,
  FtpServerEvents,
  FtpServerOptions,
  ListenAddress,
  RefusedConnection,
  ServerSessionEvent,
  SessionInfo,
} from './server.js';
export { simpleAuthenticator, samePassword } from './auth.js';
export type { PasswordCheck, SimpleAuthenticatorOptions, SimpleUser } from './auth.js';
export { localFileSystem } from './fs.js';
export { warmDirectoryReaders } from './dir-reader.js';
export type { LocalFileSystem, LocalFileSystemOptions } from './fs.js';
export { nodeDataChannels, unmapIpv4, SocketDataConnection, WRITE_BUFFER } from './data.js';
export type { DataChannelOptions } from './data.js';
export { CONTROL_BUFFER, SocketControlChannel, acceptImplicitTls } from './control.js';
export type { ControlChannelOptions, ControlHandlers } from './control.js';
export { MODERN_CIPHERS, SessionTls, checkFtpsOptions } from './tls.js';
export type { FtpsOptions } from './tls.js';
export { selfSignedCertificate } from './x509.js';
export type { PemCertificate, SelfSignedOptions } from './x509.js';
export { systemClock } from './clock.js';
