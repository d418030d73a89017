/**
 * Data channel set-up: PASV (RFC 959 §4.1.2), EPSV and EPRT (RFC 2428 §2-§4), PORT,
 * with ProFTPD's check order, replies and log lines (reference §3), and the deliberate
 * differences of DESIGN.md: PASV on IPv6 with no IPv4 answer is a 522 pointing to EPSV,
 * and an RFC 1918 PORT/EPRT address from a public client is refused (rewritten only
 * with `allowPortRewrite`).
 */
import { parseEprtArg, parseEpsvArg, parsePortArg, type AddressFamily } from '@ftpkit/command';
import { REFUSAL_TEXT } from '@ftpkit/masquerade';
import { fallbackMessage } from '@ftpkit/port-allocator';
import { formatEpsv, formatPasv } from '@ftpkit/reply';
import { canonicalAddress, ipv4Of, isNativeIpv6, isRfc1918 } from '../address.js';
import type { Session } from '../core.js';
import { DATA_CHANNEL_MACHINE } from '../states.js';
import type { Cmd } from './table.js';

/** The IPv4 address to advertise in 227, or the refusal to send (§2.3, §2.4). */
function pasvAddress(s: Session): { address: string } | { code: number; text: string } {
  const resolver = s.cfg.masquerade;
  if (resolver === undefined) {
    const v4 = ipv4Of(s.control.localAddress);
    if (v4 !== undefined) return { address: v4 };
    return { code: 522, text: REFUSAL_TEXT.ipv6 };
  }
  const answer = resolver.resolve(s.masqueradeContext());
  if (s.emit !== undefined) {
    for (const warning of answer.warnings) s.emit({ type: 'log', level: 'info', message: warning });
    s.emit({
      type: 'masquerade',
      level: 'debug',
      message: answer.ok ? `PASV address ${answer.address} (${answer.rule}: ${answer.reason})` : `PASV refused (${answer.rule}: ${answer.reason})`,
      ok: answer.ok,
      address: answer.ok ? answer.address : undefined,
      rule: answer.rule,
      reason: answer.reason,
    });
  }
  return answer.ok ? { address: answer.address } : { code: answer.replyCode, text: answer.text };
}

/** PASV (§3.1): EPSV ALL, arguments and `<Limit>` were checked by the dispatcher. */
export function pasv(s: Session): void | Promise<void> {
  s.closeDataChannel();
  const target = pasvAddress(s);
  if ('code' in target) {
    s.reply(target.code, target.text);
    return;
  }
  return listen(s, 'PASV', target.address);
}

const IPV4_ONLY: readonly AddressFamily[] = [1];
const BOTH_FAMILIES: readonly AddressFamily[] = [1, 2];

/** The network protocols EPSV and EPRT accept (UseIPv6). */
function families(s: Session): readonly AddressFamily[] {
  return s.cfg.ipv6 ? BOTH_FAMILIES : IPV4_ONLY;
}

/** EPSV [1|2|ALL] (§3.2, RFC 2428 §3-§4). */
export function epsv(s: Session, c: Cmd): void | Promise<void> {
  const parsed = parseEpsvArg(c.arg, { families: families(s) });
  if (!parsed.ok) {
    s.reply(parsed.error.replyCode, parsed.error.message);
    return;
  }
  if (parsed.value.kind === 'all') {
    // HEAD semantics (Issue #2255): EPSV ALL lasts for the rest of the session.
    s.epsvAll = true;
    s.reply(200, 'EPSV ALL command successful');
    return;
  }
  // The requested family does not choose the bind address (ProFTPD; RFC 2428 §3).
  s.closeDataChannel();
  return listen(s, 'EPSV', undefined);
}

async function listen(s: Session, verb: 'PASV' | 'EPSV', address: string | undefined): Promise<void> {
  const ports = s.cfg.passivePorts;
  const result = await s.dataPorts.listen({
    owner: canonicalAddress(s.control.remoteAddress),
    localAddress: s.control.localAddress,
    ports,
    // Strangers are dropped as they connect, so they never fill the accept queue (RFC 2577 §5).
    accept: (remoteAddress) => s.peerAllowed(remoteAddress),
    onRejected: (remoteAddress) => s.passiveRejected(remoteAddress),
  });
  if (s.isClosed) {
    if (result.ok) result.listener.close();
    return;
  }
  if (!result.ok) {
    s.emit?.({ type: 'log', level: 'warn', message: `${verb}: ${result.message}` });
    s.reply(425, `Unable to build data connection: ${result.message}`);
    return;
  }
  const listener = result.listener;
  s.listener = listener;
  s.listenerAt = s.clock.now();
  s.dataState = DATA_CHANNEL_MACHINE[verb];
  if (listener.fallback && ports !== undefined) {
    s.emit?.({ type: 'fallback', level: 'warn', message: fallbackMessage(ports.ranges), verb, port: listener.port });
  }
  const text = address === undefined ? formatEpsv(listener.exposedPort) : formatPasv(address, listener.exposedPort);
  s.emit?.({ type: 'passive', level: 'debug', message: text, verb, address, port: listener.port, exposedPort: listener.exposedPort });
  s.reply(verb === 'PASV' ? 227 : 229, text);
  s.schedule(true);
}

/** PORT h1,h2,h3,h4,p1,p2 (§3.3). */
export function port(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  if (arg.includes(' ')) {
    s.reply(501, 'Invalid number of parameters');
    return;
  }
  const parsed = parsePortArg(arg);
  if (!parsed.ok) {
    s.emit?.({
      type: 'log',
      level: 'debug',
      message: /syntax/i.test(parsed.error.code) ? `PORT '${arg}' is not syntactically valid` : `PORT '${arg}' has invalid value(s)`,
    });
    s.reply(501, 'Illegal PORT command');
    return;
  }
  const host = activeTarget(s, 'PORT', arg, parsed.value.host, parsed.value.port);
  if (host === undefined) return;
  setActive(s, 'PORT', host, parsed.value.port);
}

/** EPRT |af|addr|port| (§3.4, RFC 2428 §2). */
export function eprt(s: Session, c: Cmd): void {
  const arg = c.arg ?? '';
  if (arg.includes(' ')) {
    s.reply(501, 'Invalid number of parameters');
    return;
  }
  const parsed = parseEprtArg(arg, { families: families(s) });
  if (!parsed.ok) {
    // ProFTPD takes port 0 and refuses it later as an address mismatch (§3.4 step 7).
    if (parsed.error.code === 'ERR_EPRT_PORT' && arg.split(arg[0] as string)[3] === '0') {
      refusePort(s, 'EPRT', arg, 'address-mismatch', 'address mismatch', 'Illegal EPRT command');
      return;
    }
    if (parsed.error.replyCode === 522) {
      s.reply(522, parsed.error.message);
    } else {
      s.emit?.({ type: 'log', level: 'debug', message: `badly formatted EPRT argument: '${arg}'` });
      s.reply(501, 'Illegal EPRT command');
    }
    return;
  }
  const host = activeTarget(s, 'EPRT', arg, parsed.value.host, parsed.value.port);
  if (host === undefined) return;
  setActive(s, 'EPRT', host, parsed.value.port);
}

function setActive(s: Session, verb: 'PORT' | 'EPRT', host: string, portNumber: number): void {
  s.closeDataChannel();
  s.activeHost = host;
  s.activePort = portNumber;
  s.dataState = DATA_CHANNEL_MACHINE[verb];
  s.reply(200, `${verb} command successful`);
}

function refusePort(
  s: Session,
  verb: 'PORT' | 'EPRT',
  arg: string,
  reason: 'address-mismatch' | 'family-mismatch' | 'low-port' | 'private-address',
  detail: string,
  reply: string,
): undefined {
  s.emit?.({ type: 'port-refused', level: 'warn', message: `Refused ${verb} ${arg} (${detail})`, verb, argument: arg, reason });
  s.reply(500, reply);
  return undefined;
}

/**
 * The checks of an active data address, in ProFTPD's order (§3.3 rows 8-11, §3.4 steps
 * 6-8), all before any connection is attempted. Returns the address to connect to.
 */
function activeTarget(s: Session, verb: 'PORT' | 'EPRT', arg: string, host: string, portNumber: number): string | undefined {
  const client = s.control.remoteAddress;
  let target = host;
  // Row 8: an RFC 1918 address from a public client, while we are public ourselves.
  if (isRfc1918(host) && !isRfc1918(client) && !isRfc1918(listenAddress(s))) {
    const clientV4 = ipv4Of(client);
    if (!s.cfg.allowPortRewrite || clientV4 === undefined) {
      return refusePort(
        s,
        verb,
        arg,
        'private-address',
        `private address ${canonicalAddress(host)} from public client ${canonicalAddress(client)}`,
        `Illegal ${verb} command: private address ${canonicalAddress(host)} from public client; use passive mode (PASV/EPSV)`,
      );
    }
    s.emit?.({
      type: 'port-rewritten',
      level: 'debug',
      message: `client sent RFC1918 address '${canonicalAddress(host)}' in ${verb} command, ignoring it and using '${clientV4}'`,
      verb,
      from: host,
      to: clientV4,
    });
    target = clientV4;
  }
  // Rows 9-10 (EPRT step 7: port 0 is reported as an address mismatch too).
  if (!s.peerAllowed(target) || (verb === 'EPRT' && portNumber === 0)) {
    if (verb === 'PORT' && isNativeIpv6(client) && !s.peerAllowed(target)) {
      return refusePort(s, verb, arg, 'family-mismatch', 'IPv4/IPv6 address mismatch', `Illegal ${verb} command`);
    }
    return refusePort(s, verb, arg, 'address-mismatch', 'address mismatch', `Illegal ${verb} command`);
  }
  // Row 11: bounce attacks (RFC 2577 §3).
  if (portNumber < 1024) {
    return refusePort(s, verb, arg, 'low-port', `port ${portNumber} below 1024, possible bounce attack`, `Illegal ${verb} command`);
  }
  return target;
}

/** ProFTPD's "listen address" of the RFC 1918 rule: the masquerade address, else the local one. */
function listenAddress(s: Session): string {
  const resolver = s.cfg.masquerade;
  if (resolver !== undefined) {
    const answer = resolver.resolve(s.masqueradeContext());
    if (answer.ok) return answer.address;
  }
  return s.control.localAddress;
}
