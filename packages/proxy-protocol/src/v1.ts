/**
 * Version 1: the human-readable line (proxy-protocol.txt §2.1).
 *
 *   PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n
 *   PROXY TCP6 2001:db8::1 2001:db8::2 56324 21\r\n
 *   PROXY UNKNOWN[ anything]\r\n
 *
 * Exactly one space between fields, addresses in the family's canonical text (no heading
 * zeroes in IPv4), ports 0..65535 without heading zeroes, CRLF within the first 107 bytes.
 * For UNKNOWN the receiver "must ignore anything presented before the CRLF".
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './address.js';
import { ProxyProtocolError, type ProxyProblem } from './errors.js';
import { printable } from './text.js';
import type { ProxyAddress, ProxyHeader, ProxyHeaderInit } from './types.js';

/** §2.1: the longest line a receiver must accept, CRLF included ("PROXY UNKNOWN" worst case). */
export const V1_MAX_LINE: number = 107;

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

const syntax = (message: string): ProxyProblem => ({ code: 'ERR_PROXY_V1_SYNTAX', message });

/**
 * Parses one v1 line without its CRLF. `byteLength` is what the line took on the wire.
 * Returns the header or the problem; never throws.
 */
export function parseV1Line(line: Uint8Array, byteLength: number): ProxyHeader | ProxyProblem {
  const s = String.fromCharCode(...line);
  if (!s.startsWith('PROXY ')) return syntax(`expected "PROXY " at the start of the line, got "${printable(s.slice(0, 6))}"`);
  const rest = s.slice(6);
  if (rest === 'UNKNOWN' || rest.startsWith('UNKNOWN ')) {
    return { version: 1, command: 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [], byteLength };
  }
  const fields = rest.split(' ');
  const proto = fields[0]!;
  if (proto !== 'TCP4' && proto !== 'TCP6') return syntax(`unknown protocol "${printable(proto)}": expected TCP4, TCP6 or UNKNOWN`);
  if (fields.length !== 5) {
    return syntax(`expected "PROXY ${proto} <source> <destination> <source port> <destination port>" with single spaces, got "${printable(s)}"`);
  }
  const [, src, dst, sport, dport] = fields as [string, string, string, string, string];
  const parse = proto === 'TCP4' ? parseIPv4 : parseIPv6;
  const format = proto === 'TCP4' ? formatIPv4 : formatIPv6;
  const what = proto === 'TCP4' ? 'IPv4' : 'IPv6';
  const srcBytes = parse(src);
  if (srcBytes === undefined) return syntax(`source "${printable(src)}" is not a canonical ${what} address`);
  const dstBytes = parse(dst);
  if (dstBytes === undefined) return syntax(`destination "${printable(dst)}" is not a canonical ${what} address`);
  const sp = port(sport);
  if (sp === undefined) return syntax(`source port "${printable(sport)}" is not 0..65535 without heading zeroes`);
  const dp = port(dport);
  if (dp === undefined) return syntax(`destination port "${printable(dport)}" is not 0..65535 without heading zeroes`);
  return {
    version: 1,
    command: 'PROXY',
    family: proto === 'TCP4' ? 'tcp4' : 'tcp6',
    transport: 'stream',
    source: { address: format(srcBytes), port: sp },
    destination: { address: format(dstBytes), port: dp },
    tlvs: [],
    byteLength,
  };
}

function port(s: string): number | undefined {
  if (!PORT.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

const invalid = (message: string): ProxyProtocolError => new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', message);

/** Checks an endpoint for an encoder and returns its address bytes. Throws ERR_PROXY_ENCODE_INVALID. */
export function endpointBytes(what: string, ep: ProxyAddress | undefined, family: 'tcp4' | 'tcp6', checkPort = true): Uint8Array {
  if (ep === undefined) throw invalid(`family ${family} needs a ${what}`);
  const bytes = family === 'tcp4' ? parseIPv4(ep.address) : parseIPv6(ep.address);
  if (bytes === undefined) throw invalid(`${what} address "${ep.address}" is not ${family === 'tcp4' ? 'an IPv4' : 'an IPv6'} address`);
  if (checkPort && (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535)) throw invalid(`${what} port ${ep.port} is not 0..65535`);
  return bytes;
}

/**
 * Encodes a v1 line (CRLF included). v1 carries TCP over IPv4 or IPv6, or UNKNOWN: a LOCAL
 * command, the `unix` family, a `dgram` transport or TLVs throw ERR_PROXY_ENCODE_INVALID.
 */
export function encodeV1(header: ProxyHeaderInit): Uint8Array {
  if ((header.command ?? 'PROXY') !== 'PROXY') throw invalid('v1 has no LOCAL command: send "PROXY UNKNOWN" (family unknown) instead');
  if (header.tlvs !== undefined && header.tlvs.length > 0) throw invalid('v1 cannot carry TLVs');
  let line: string;
  if (header.family === 'unknown') {
    line = 'PROXY UNKNOWN';
  } else if (header.family === 'tcp4' || header.family === 'tcp6') {
    if (header.transport !== undefined && header.transport !== 'stream') throw invalid(`v1 carries TCP only, not ${header.transport}`);
    const format = header.family === 'tcp4' ? formatIPv4 : formatIPv6;
    const src = format(endpointBytes('source', header.source, header.family));
    const dst = format(endpointBytes('destination', header.destination, header.family));
    line = `PROXY ${header.family === 'tcp4' ? 'TCP4' : 'TCP6'} ${src} ${dst} ${header.source!.port} ${header.destination!.port}`;
  } else {
    throw invalid(`v1 cannot carry family ${String(header.family)}`);
  }
  return Uint8Array.from(`${line}\r\n`, (c) => c.charCodeAt(0));
}
