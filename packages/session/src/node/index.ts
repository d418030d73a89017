/**
 * @packageDocumentation
 * `@ftpkit/session/node`: the Node runtime of the FTP session core — a chrooted local
 * file system, data channels on real sockets, the control channel, and
 * `createFtpServer` for embedders.
 *
 * @example
 * ```ts
 * import { localFileSystem } from '@ftpkit/session/node';
 *
 * const fs = localFileSystem({ root: '/srv/ftp/alice' }); // HiddenStores on by default
 * const entries = await fs.list('/');
 * ```
 */
export { localFileSystem } from './fs.js';
export type { LocalFileSystem, LocalFileSystemOptions } from './fs.js';
export { nodeDataChannels, unmapIpv4 } from './data.js';
export type { DataChannelOptions } from './data.js';
