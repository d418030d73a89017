/**
 * @packageDocumentation
 * The IO side of `@ftpkit/port-allocator`: binds TCP listeners and UDP sockets on ports
 * of a `PortAllocator`'s ranges, with no probe-then-listen race, retrying another
 * port when the OS refuses one, applying the exhaustion policy, and always returning the
 * lease when the socket closes.
 *
 * @example
 * ```ts
 * import { PortAllocator } from '@ftpkit/port-allocator';
 * import { listenTcp } from '@ftpkit/port-allocator/node';
 *
 * const ports = new PortAllocator({ ranges: '60000-60099', random: Math.random, exhaustion: 'kernel' });
 * ports.on('fallback', (e) => logger.warn(e.message)); // ProFTPD's exact line
 * const r = await listenTcp(ports, { host: controlSocket.localAddress!, owner: sessionId, acceptTimeoutMs: 30_000, once: true });
 * if (!r.ok) reply(425, "Can't open data connection");
 * else r.server.on('connection', (data) => transfer(data)); // advertise r.exposedPort
 * ```
 */
export type { BindFailure, BindOptions, PortLease } from './bind.js';
export { listenTcp } from './tcp.js';
export type { ListenTcpOptions, TcpLeaseResult } from './tcp.js';
export { bindUdp } from './udp.js';
export type { BindUdpOptions, UdpLeaseResult } from './udp.js';
export { SharedTcpPool, peerKey } from './shared.js';
export type { ExpectOptions, ExpectResult, RejectedConnection, SharedTcpPoolOptions } from './shared.js';
