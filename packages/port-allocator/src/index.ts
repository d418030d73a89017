/**
 * @packageDocumentation
 * Protocol-agnostic port allocator, sans-IO: leases ports from firewall-approved ranges
 * (FTP `PassivePorts`, RTP/SIP media, TURN relays, game servers) in O(1) whatever the
 * range size, with uniform random choice, cooldown of released ports, ports the OS
 * refused set aside, per-owner quotas, an explicit exhaustion policy (`refuse` or
 * `kernel`, always reported), exposed/listened port mapping, share mode and
 * partitioning. Time and randomness are inputs. `@ftpkit/port-allocator/node` binds TCP
 * listeners and UDP sockets with it.
 *
 * @example
 * ```ts
 * import { PortAllocator } from '@ftpkit/port-allocator';
 *
 * const ports = new PortAllocator({ ranges: '60000-60099', random: Math.random, maxPerOwner: 2 });
 * ports.on('exhausted', (e) => console.warn(e.message));
 * const r = ports.lease('session-1', Date.now());
 * if (r.ok) {
 *   // bind r.lease.port, advertise r.lease.exposedPort … then:
 *   ports.release(r.lease, Date.now()); // the port cools down for 2 s
 * }
 * ```
 */
export { AllocatorError } from './errors.js';
export type { AllocatorErrorCode } from './errors.js';
export { countPorts, formatPortRanges, parsePortRanges, partitionRanges } from './ranges.js';
export type { PortRange } from './ranges.js';
export { PORT_STATES, PortAllocator, fallbackMessage, refuseMessage } from './allocator.js';
export type {
  AllocatorEvent,
  AllocatorEventType,
  AllocatorOptions,
  AllocatorStats,
  CoolingReuse,
  ExhaustionPolicy,
  Lease,
  LeaseOptions,
  LeaseResult,
  PortMapping,
  PortState,
  ReleaseOptions,
} from './allocator.js';
