/**
 * `@ftpkit/proxy-protocol/node`: reads the PROXY protocol header from an accepted
 * `net.Socket` before the application protocol starts. Only peers in the trusted list may
 * send one (§5); a trusted peer must send one (§2: the receiver "MUST not try to guess
 * whether the protocol header is present or not"); the header must arrive within
 * `timeoutMs` (§2: "a short timeout … at least 3 seconds to cover a TCP retransmit").
 * The socket is destroyed on a timeout, a bad header, an early close or a refused peer.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:net';
 * import { acceptProxied } from '@ftpkit/proxy-protocol/node';
 *
 * createServer(async (socket) => {
 *   const conn = await acceptProxied(socket, { trusted: ['10.0.0.0/8'], timeoutMs: 5000 });
 *   if (!conn.ok) return log.warn(`PROXY header refused from ${conn.peerAddress}: ${conn.message}`);
 *   // conn.remoteAddress is the client's (from the header when conn.proxied), conn.localAddress
 *   // the address it connected to; conn.rest holds the first FTP bytes already read.
 *   startSession(socket, conn);
 * }).listen(21);
 * ```
 *
 * @packageDocumentation
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import {
  type ProxyHeader,
  type ProxyHeaderDecoderOptions,
  type ProxyProblem,
  type TrustedList,
  ProxyHeaderDecoder,
  ProxyProtocolError,
  parseTrusted,
  trusted,
} from '../index.js';

/** Options of {@link acceptProxied}. */
export interface AcceptProxiedOptions extends ProxyHeaderDecoderOptions {
  /** Peers allowed to send a header: addresses and CIDR blocks, or a list from `parseTrusted`. */
  trusted: readonly string[] | TrustedList;
  /** How long a trusted peer has to send the whole header, in milliseconds. */
  timeoutMs: number;
  /** Refuse peers that are not trusted (every connection must come through a proxy). Default false. */
  required?: boolean;
}

/** The connection's endpoints, as the application should see them. */
export interface ProxiedConnection {
  ok: true;
  /** The client: the header's source when `proxied`, otherwise the socket's peer. */
  remoteAddress: string;
  remotePort: number;
  /** What the client connected to: the header's destination when `proxied`, otherwise the socket's local end. */
  localAddress: string;
  localPort: number;
  /**
   * The endpoints come from a PROXY header: a PROXY command with TCP over IPv4 or IPv6.
   * False for an untrusted peer (no header read) and for headers whose addresses the spec
   * says to ignore (v1 UNKNOWN, v2 LOCAL, UNSPEC) or that are not TCP/IP (UNIX, UDP).
   */
  proxied: boolean;
  /** The header, whenever one was read. */
  header?: ProxyHeader;
  /** Bytes read after the header: the first bytes of the application protocol. Handle them before reading the socket. */
  rest: Uint8Array;
  /** The socket's peer (the proxy, when proxied). */
  peerAddress: string;
  peerPort: number;
}

/** Why a connection was refused. The socket has been destroyed. */
export type AcceptProxiedFailure = {
  ok: false;
  /**
   * `untrusted`: not in the trusted list and `required`; `timeout`: no complete header in
   * `timeoutMs`; `bad-header`: the decoder rejected it (see `error`); `closed`: the peer
   * closed first (`error` is ERR_PROXY_TRUNCATED when it had sent part of a header);
   * `error`: a socket error.
   */
  reason: 'untrusted' | 'timeout' | 'bad-header' | 'closed' | 'error';
  /** A line to log. */
  message: string;
  error?: ProxyProblem;
  peerAddress?: string;
  peerPort?: number;
};

/** What {@link acceptProxied} resolves to. */
export type AcceptProxiedResult = ProxiedConnection | AcceptProxiedFailure;

const EMPTY = new Uint8Array(0);

/**
 * The `node:diagnostics_channel` channel on which every outcome of {@link acceptProxied} is
 * published (the {@link AcceptProxiedResult}), for logs and metrics without a logging dependency.
 */
export const PROXY_PROTOCOL_CHANNEL = 'ftpkit:proxy-protocol';
const channel = diagnosticsChannel.channel(PROXY_PROTOCOL_CHANNEL);

function publish(result: AcceptProxiedResult): AcceptProxiedResult {
  if (channel.hasSubscribers) channel.publish(result);
  return result;
}

/**
 * Reads the PROXY header from `socket` when its peer is trusted; an untrusted peer's bytes
 * are left unread (or the peer is refused when `required`). Never rejects; throws
 * synchronously only for bad options (ERR_PROXY_OPTION_INVALID, ERR_PROXY_TRUSTED_INVALID).
 */
export function acceptProxied(socket: Socket, options: AcceptProxiedOptions): Promise<AcceptProxiedResult> {
  const { timeoutMs } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ProxyProtocolError('ERR_PROXY_OPTION_INVALID', `timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  }
  const list = Array.isArray(options.trusted) ? parseTrusted(options.trusted) : (options.trusted as TrustedList);
  const decoder = new ProxyHeaderDecoder(options);
  const peerAddress = socket.remoteAddress;
  const peerPort = socket.remotePort;
  const refuse = (reason: AcceptProxiedFailure['reason'], message: string, error?: ProxyProblem): AcceptProxiedFailure => {
    socket.destroy();
    const out: AcceptProxiedFailure = { ok: false, reason, message };
    if (error !== undefined) out.error = error;
    if (peerAddress !== undefined) out.peerAddress = peerAddress;
    if (peerPort !== undefined) out.peerPort = peerPort;
    return out;
  };
  if (peerAddress === undefined || peerPort === undefined || socket.destroyed) {
    return Promise.resolve(publish(refuse('closed', 'the connection was closed before its PROXY header was read')));
  }
  if (!trusted(peerAddress, list)) {
    if (options.required === true) return Promise.resolve(publish(refuse('untrusted', `${peerAddress} is not a trusted proxy and a PROXY header is required`)));
    return Promise.resolve(publish(connection(socket, peerAddress, peerPort, undefined, EMPTY)));
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: AcceptProxiedResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onClose);
      resolve(publish(result));
    };
    const problem = (error: ProxyProblem): void => {
      const closed = error.code === 'ERR_PROXY_TRUNCATED';
      finish(refuse(closed ? 'closed' : 'bad-header', `${closed ? 'connection closed inside' : 'bad'} PROXY header from ${peerAddress}: ${error.message} (${error.code})`, error));
    };
    const onReadable = (): void => {
      let chunk: Uint8Array | null;
      while (!settled && (chunk = socket.read() as Uint8Array | null) !== null) {
        const r = decoder.push(chunk);
        if (r.state === 'done') finish(connection(socket, peerAddress, peerPort, r.header, r.rest));
        else if (r.state === 'error') problem(r.error);
      }
    };
    const onEnd = (): void => {
      const r = decoder.end();
      if (r.state === 'error') problem(r.error);
    };
    const onError = (err: Error): void => finish(refuse('error', `socket error before the PROXY header from ${peerAddress}: ${err.message}`));
    const onClose = (): void => finish(refuse('closed', `connection from ${peerAddress} closed before its PROXY header`));
    const timer = setTimeout(() => finish(refuse('timeout', `no complete PROXY header from ${peerAddress} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

function connection(socket: Socket, peerAddress: string, peerPort: number, header: ProxyHeader | undefined, rest: Uint8Array): ProxiedConnection {
  const proxied =
    header !== undefined &&
    header.command === 'PROXY' &&
    (header.family === 'tcp4' || header.family === 'tcp6') &&
    header.transport === 'stream' &&
    header.source !== undefined &&
    header.destination !== undefined;
  const out: ProxiedConnection = {
    ok: true,
    remoteAddress: proxied ? header.source!.address : peerAddress,
    remotePort: proxied ? header.source!.port : peerPort,
    localAddress: proxied ? header.destination!.address : (socket.localAddress ?? ''),
    localPort: proxied ? header.destination!.port : (socket.localPort ?? 0),
    proxied,
    rest,
    peerAddress,
    peerPort,
  };
  if (header !== undefined) out.header = header;
  return out;
}
