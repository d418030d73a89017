/**
 * Version 2: the binary header (proxy-protocol.txt §2.2).
 *
 *   bytes 0–11  signature 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
 *   byte 12     version (high nibble, must be 2) and command (0 LOCAL, 1 PROXY)
 *   byte 13     address family (0 UNSPEC, 1 INET, 2 INET6, 3 UNIX) and
 *               transport (0 UNSPEC, 1 STREAM, 2 DGRAM)
 *   bytes 14–15 length of what follows, big-endian
 *   then        the address block (12, 36 or 216 bytes for INET, INET6, UNIX), then TLVs
 *
 * LOCAL: "the receiver must accept this connection as valid and must use the real
 * connection endpoints and discard the protocol block including the family" — so a LOCAL
 * header is never rejected for its family or address block; its TLVs are read when they
 * parse, and a CRC32C among them must still match. PROXY: a family above 3 or a transport
 * above 2 is rejected; a length shorter than the family's address block is rejected; an
 * UNSPEC family or transport gives `unknown` (the receiver "should ignore address
 * information"); the TLVs must end exactly at the end of the header.
 */
import { formatIPv4, formatIPv6 } from './address.js';
import { ProxyProtocolError, type ProxyProblem } from './errors.js';
import { hex } from './text.js';
import { PP2_TYPE, encodeTlvs, interpretTlvs, parseTlvs } from './tlv.js';
import { crc32c } from './crc32c.js';
import type { ProxyAddress, ProxyFamily, ProxyHeader, ProxyHeaderInit, ProxyTransport } from './types.js';
import { endpointBytes } from './v1.js';

/** The 12-byte v2 signature (§2.2). */
export const V2_SIGNATURE: Uint8Array = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);

/** Bytes before the variable part: signature, version/command, family/transport, length. */
export const V2_FIXED: number = 16;

/** The largest v2 header the format allows: 16 + 65535. */
export const V2_MAX_HEADER: number = V2_FIXED + 0xffff;

/** §2.2: address block length by family nibble (UNSPEC, INET, INET6, UNIX). */
const ADDRESS_LENGTH: readonly number[] = [0, 12, 36, 216];
const FAMILIES: readonly ProxyFamily[] = ['unknown', 'tcp4', 'tcp6', 'unix'];
const TRANSPORTS: readonly ProxyTransport[] = ['unspec', 'stream', 'dgram'];
const UNIX_PATH = 108;

/** Byte 12: the version and the command (§2.2). */
export function checkVersionCommand(byte: number): ProxyProblem | undefined {
  if (byte >> 4 !== 2) return { code: 'ERR_PROXY_V2_VERSION', message: `version ${byte >> 4} in byte 13 (0x${hex(byte)}), only 2 is defined` };
  if ((byte & 0x0f) > 1) return { code: 'ERR_PROXY_V2_COMMAND', message: `command ${byte & 0x0f} in byte 13 (0x${hex(byte)}), only 0 (LOCAL) and 1 (PROXY) are defined` };
  return undefined;
}

/** Byte 13: the family and transport; only checked for PROXY (LOCAL ignores it). */
export function checkFamily(verCmd: number, byte: number): ProxyProblem | undefined {
  if ((verCmd & 0x0f) === 0) return undefined;
  if (byte >> 4 > 3 || (byte & 0x0f) > 2) {
    return { code: 'ERR_PROXY_V2_FAMILY', message: `family/transport byte 0x${hex(byte)}: family must be 0–3 and transport 0–2` };
  }
  return undefined;
}

/** Bytes 14–15 against the family's address block and the receiver's limit. */
export function checkLength(verCmd: number, fam: number, length: number, maxHeaderBytes: number): ProxyProblem | undefined {
  if (V2_FIXED + length > maxHeaderBytes) {
    return { code: 'ERR_PROXY_V2_TOO_LARGE', message: `header of ${V2_FIXED + length} bytes is over the limit of ${maxHeaderBytes}` };
  }
  const need = ADDRESS_LENGTH[fam >> 4] ?? 0;
  if ((verCmd & 0x0f) === 1 && length < need) {
    return { code: 'ERR_PROXY_V2_LENGTH', message: `length ${length} is shorter than the ${need}-byte address block of family ${fam >> 4}` };
  }
  return undefined;
}


const UTF8_LOSSY = new TextDecoder('utf-8', { ignoreBOM: true });
const ENCODER = new TextEncoder();

/** A 108-byte sun_path: a path ends at its first NUL; an abstract name starts with NUL (kept as `\0name`). */
function unixPath(b: Uint8Array): string {
  if (b[0] === 0) {
    let end = b.length;
    while (end > 1 && b[end - 1] === 0) end--;
    return end === 1 ? '' : `\0${UTF8_LOSSY.decode(b.subarray(1, end))}`;
  }
  const nul = b.indexOf(0);
  return UTF8_LOSSY.decode(nul < 0 ? b : b.subarray(0, nul));
}

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/**
 * Parses a whole v2 header (exactly 16 + length bytes, starting with the signature).
 * Returns the header or the problem; never throws.
 */
export function parseV2(raw: Uint8Array): ProxyHeader | ProxyProblem {
  if (raw.length < V2_FIXED || V2_SIGNATURE.some((b, i) => raw[i] !== b)) return { code: 'ERR_PROXY_SIGNATURE', message: 'not a v2 signature' };
  const verCmd = raw[12]!;
  const fam = raw[13]!;
  const length = u16(raw, 14);
  const bad = checkVersionCommand(verCmd) ?? checkFamily(verCmd, fam) ?? checkLength(verCmd, fam, length, V2_MAX_HEADER);
  if (bad) return bad;
  if (raw.length !== V2_FIXED + length) return { code: 'ERR_PROXY_TRUNCATED', message: `v2 header says ${V2_FIXED + length} bytes, got ${raw.length}` };
  const local = (verCmd & 0x0f) === 0;
  const header: ProxyHeader = { version: 2, command: local ? 'LOCAL' : 'PROXY', family: 'unknown', transport: 'unspec', tlvs: [], byteLength: raw.length };
  const addressLength = ADDRESS_LENGTH[fam >> 4] ?? 0;
  const tlvStart = V2_FIXED + addressLength;
  if (local) {
    // §2.2: LOCAL discards the protocol block; TLVs are read only when they parse.
    if (tlvStart > raw.length) return header;
    const tlvs = parseTlvs(raw, tlvStart, raw.length);
    if (!Array.isArray(tlvs)) return header;
    const withTlvs: ProxyHeader = { ...header, tlvs };
    const problem = interpretTlvs(withTlvs, raw, offsets(tlvs, tlvStart));
    if (problem?.code === 'ERR_PROXY_V2_CRC32C') return problem;
    return problem ? header : withTlvs;
  }
  const family = FAMILIES[fam >> 4]!;
  const transport = TRANSPORTS[fam & 0x0f]!;
  header.transport = transport;
  if (family !== 'unknown' && transport !== 'unspec') {
    header.family = family;
    const a = V2_FIXED;
    if (family === 'unix') {
      header.source = { address: unixPath(raw.subarray(a, a + UNIX_PATH)), port: 0 };
      header.destination = { address: unixPath(raw.subarray(a + UNIX_PATH, a + 2 * UNIX_PATH)), port: 0 };
    } else {
      const n = family === 'tcp4' ? 4 : 16;
      const format = family === 'tcp4' ? formatIPv4 : formatIPv6;
      header.source = { address: format(raw.subarray(a, a + n)), port: u16(raw, a + 2 * n) };
      header.destination = { address: format(raw.subarray(a + n, a + 2 * n)), port: u16(raw, a + 2 * n + 2) };
    }
  }
  const tlvs = parseTlvs(raw, tlvStart, raw.length);
  if (!Array.isArray(tlvs)) return tlvs;
  header.tlvs = tlvs;
  return interpretTlvs(header, raw, offsets(tlvs, tlvStart)) ?? header;
}

function offsets(tlvs: readonly { value: Uint8Array }[], start: number): number[] {
  const out: number[] = [];
  let at = start;
  for (const t of tlvs) {
    out.push(at);
    at += 3 + t.value.length;
  }
  return out;
}

const invalid = (message: string): ProxyProtocolError => new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', message);

function unixBytes(what: string, ep: ProxyAddress | undefined): Uint8Array {
  if (ep === undefined) throw invalid(`family unix needs a ${what}`);
  const abstract = ep.address.startsWith('\0');
  const name = ENCODER.encode(abstract ? ep.address.slice(1) : ep.address);
  if (name.length + (abstract ? 1 : 0) > UNIX_PATH) throw invalid(`${what} path is ${name.length} bytes, a sun_path holds ${UNIX_PATH}`);
  const out = new Uint8Array(UNIX_PATH);
  out.set(name, abstract ? 1 : 0);
  return out;
}

/** Options of {@link encodeV2}. */
export interface EncodeV2Options {
  /** Append a PP2_TYPE_CRC32C TLV when the header has none (§2.2.3). A CRC32C TLV already there is always filled in. */
  crc32c?: boolean;
}

/**
 * Encodes a v2 header. The address block follows the family (`unknown`: none); TLVs are
 * written in order, and a CRC32C TLV is filled in over the finished header. Throws
 * ERR_PROXY_ENCODE_INVALID for a missing or wrong-family address, a bad port, a path over
 * 108 bytes or a header over 65535 bytes after the fixed part.
 */
export function encodeV2(header: ProxyHeaderInit, options: EncodeV2Options = {}): Uint8Array {
  const command = header.command ?? 'PROXY';
  if (command !== 'PROXY' && command !== 'LOCAL') throw invalid(`unknown command ${String(command)}`);
  const famIndex = FAMILIES.indexOf(header.family);
  if (famIndex < 0) throw invalid(`unknown family ${String(header.family)}`);
  const transport = header.transport ?? (header.family === 'unknown' ? 'unspec' : 'stream');
  const protoIndex = TRANSPORTS.indexOf(transport);
  if (protoIndex < 0) throw invalid(`unknown transport ${String(transport)}`);

  let address: Uint8Array;
  if (header.family === 'unknown') {
    address = new Uint8Array(0);
  } else if (header.family === 'unix') {
    address = new Uint8Array(2 * UNIX_PATH);
    address.set(unixBytes('source', header.source), 0);
    address.set(unixBytes('destination', header.destination), UNIX_PATH);
  } else {
    const src = endpointBytes('source', header.source, header.family);
    const dst = endpointBytes('destination', header.destination, header.family);
    const n = src.length;
    address = new Uint8Array(2 * n + 4);
    address.set(src, 0);
    address.set(dst, n);
    const sp = header.source!.port;
    const dp = header.destination!.port;
    address.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff], 2 * n);
  }

  const tlvs = [...(header.tlvs ?? [])];
  let crcIndex = tlvs.findIndex((t) => t.type === PP2_TYPE.CRC32C);
  if (crcIndex >= 0 && tlvs[crcIndex]!.value.length !== 4) throw invalid('a CRC32C TLV holds exactly 4 bytes');
  if (crcIndex < 0 && options.crc32c === true) {
    crcIndex = tlvs.length;
    tlvs.push({ type: PP2_TYPE.CRC32C, value: new Uint8Array(4) });
  }
  const body = encodeTlvs(tlvs);
  const length = address.length + body.length;
  if (length > 0xffff) throw invalid(`header body of ${length} bytes is over 65535`);

  const out = new Uint8Array(V2_FIXED + length);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (command === 'PROXY' ? 1 : 0);
  out[13] = (famIndex << 4) | protoIndex;
  out[14] = length >> 8;
  out[15] = length & 0xff;
  out.set(address, V2_FIXED);
  out.set(body, V2_FIXED + address.length);
  if (crcIndex >= 0) {
    // §2.2.3: zero the field, compute over the whole header, store.
    let at = V2_FIXED + address.length;
    for (let i = 0; i < crcIndex; i++) at += 3 + tlvs[i]!.value.length;
    out.fill(0, at + 3, at + 7);
    const crc = crc32c(out);
    out.set([crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff], at + 3);
  }
  return out;
}
