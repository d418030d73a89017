/**
 * The bind loop shared by TCP, UDP and the shared TCP pool: lease, bind, and when the
 * OS refuses the port (EADDRINUSE: another process holds it; EACCES: privileged or
 * forbidden by policy) mark it busy and lease another, until the allocator answers
 * exhausted; then its policy applies (refuse, or bind port 0 for a kernel fallback).
 * There is no probe: the socket that binds is the socket the caller gets, so no other
 * process can slip in between (ftp-srv's probe-close-listen race).
 */
import type { Lease, PortAllocator } from '../index.js';

/** Why a port could not be given: the allocator's answer, or an OS error on the bind. */
export interface BindFailure {
  ok: false;
  reason: 'exhausted' | 'quota' | 'error';
  message: string;
  /** The errno code (`EADDRNOTAVAIL`, …) when reason is `'error'`. */
  code?: string;
}

/** What every successful bind gives, besides the socket itself. */
export interface PortLease {
  ok: true;
  /** The bound port. */
  port: number;
  /** The port to advertise (the mapping's, or the bound port for a kernel fallback). */
  exposedPort: number;
  /** True when the range was exhausted and the kernel chose a port outside it. */
  fallback: boolean;
  lease: Lease;
  /** Closes the socket (or stops waiting) and returns the lease now. Idempotent. */
  close(): void;
}

/** Options every bind takes. */
export interface BindOptions {
  /** Address to bind, IPv4 or IPv6: for FTP, the control connection's local address. */
  host: string;
  owner: string;
  /** Peer key, required when the allocator shares ports. */
  peer?: string;
  /** Clock for the allocator, the same one the rest of the app gives it. Default `Date.now`. */
  now?: () => number;
}

/** The `PortLease` fields for a lease bound on `boundPort` (differs from the lease's for a kernel fallback). */
export function portLease(lease: Lease, boundPort: number, close: () => void): PortLease {
  const fallback = lease.fallback === true;
  return { ok: true, port: boundPort, exposedPort: fallback ? boundPort : lease.exposedPort, fallback, lease, close };
}

export interface Bound<H> {
  ok: true;
  handle: H;
  lease: Lease;
}

export type Done = (err: NodeJS.ErrnoException | null) => void;
/** Starts binding `port` and returns the socket; calls `done` once with the outcome. */
export type Opener<H> = (port: number, done: Done) => H;

/** Errors that mean "this port, not this request": try another port. */
export function isPortRefused(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EADDRINUSE' || err.code === 'EACCES';
}

export function bindFailure(err: NodeJS.ErrnoException, what: string): BindFailure {
  return err.code === undefined
    ? { ok: false, reason: 'error', message: `${what}: ${err.message}` }
    : { ok: false, reason: 'error', message: `${what}: ${err.message}`, code: err.code };
}

/** Takes the lease to bind from a lease result: the leased port, or the kernel fallback lease. */
export function leaseToBind(allocator: PortAllocator, owner: string, now: number, peer: string | undefined): Lease | BindFailure {
  const r = allocator.lease(owner, now, peer === undefined ? undefined : { peer });
  if (r.ok) return r.lease;
  if (r.fallback !== undefined) return r.fallback;
  return { ok: false, reason: r.reason, message: r.message };
}

export function bindInRange<H>(
  allocator: PortAllocator,
  owner: string,
  peer: string | undefined,
  now: () => number,
  open: Opener<H>,
  finish: (r: Bound<H> | BindFailure) => void,
): void {
  const attempt = (): void => {
    const lease = leaseToBind(allocator, owner, now(), peer);
    if ('ok' in lease) {
      finish(lease);
      return;
    }
    let sync = true;
    const after = (err: NodeJS.ErrnoException | null): void => {
      if (err === null) finish({ ok: true, handle, lease });
      else if (lease.fallback !== true && isPortRefused(err)) {
        allocator.markBusy(lease, now());
        attempt();
      } else {
        allocator.release(lease, now());
        finish(bindFailure(err, `bind port ${lease.port}`));
      }
    };
    // Node reports listen/bind results asynchronously; an opener that answers at once is
    // deferred so that `handle` is assigned first.
    const handle = open(lease.port, (err) => (sync ? queueMicrotask(() => after(err)) : after(err)));
    sync = false;
  };
  attempt();
}
