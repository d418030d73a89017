/**
 * v2 Type-Length-Value vectors (§2.2): parsing, the meaning of the registered types
 * (§2.2.1–2.2.7) and builders for encoders.
 *
 * A TLV is one type byte, a 16-bit big-endian length and that many value bytes. TLVs fill
 * the header after the address block and must end exactly at its end. Unknown types are
 * kept as they are; registered ones are checked: CRC32C is exactly 4 bytes and must match
 * (§2.2.3), UNIQUE_ID is at most 128 bytes (§2.2.5), SSL holds a 5-byte prefix and sub-TLVs
 * that end exactly at its end (§2.2.6), and the text types are valid UTF-8 (AUTHORITY,
 * §2.2.2; the SSL strings and NETNS are US-ASCII or UTF-8, §2.2.6–2.2.7). ALPN is a byte
 * sequence (§2.2.1): `alpn` is its UTF-8 reading, the exact bytes stay in `tlvs`.
 */
import { crc32c } from './crc32c.js';
import { ProxyProtocolError, type ProxyProblem } from './errors.js';
import { hex } from './text.js';
import type { ProxyHeader, ProxySsl, Tlv } from './types.js';

/** Registered TLV types (§2.2) and SSL sub-types (§2.2.6). */
export const PP2_TYPE: {
  readonly ALPN: 0x01;
  readonly AUTHORITY: 0x02;
  readonly CRC32C: 0x03;
  readonly NOOP: 0x04;
  readonly UNIQUE_ID: 0x05;
  readonly SSL: 0x20;
  readonly SSL_VERSION: 0x21;
  readonly SSL_CN: 0x22;
  readonly SSL_CIPHER: 0x23;
  readonly SSL_SIG_ALG: 0x24;
  readonly SSL_KEY_ALG: 0x25;
  readonly NETNS: 0x30;
} = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  SSL_VERSION: 0x21,
  SSL_CN: 0x22,
  SSL_CIPHER: 0x23,
  SSL_SIG_ALG: 0x24,
  SSL_KEY_ALG: 0x25,
  NETNS: 0x30,
};

/** The `client` bits of the SSL TLV (§2.2.6). */
export const PP2_CLIENT: { readonly SSL: 0x01; readonly CERT_CONN: 0x02; readonly CERT_SESS: 0x04 } = {
  SSL: 0x01,
  CERT_CONN: 0x02,
  CERT_SESS: 0x04,
};

/** §2.2.5: "an opaque byte sequence of up to 128 bytes". */
export const UNIQUE_ID_MAX: number = 128;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_LOSSY = new TextDecoder('utf-8', { ignoreBOM: true });
const ENCODER = new TextEncoder();

const problem = (message: string): ProxyProblem => ({ code: 'ERR_PROXY_V2_TLV', message });

/** Splits `bytes[from, to)` into TLVs, or says where it does not end on a TLV boundary. */
export function parseTlvs(bytes: Uint8Array, from: number, to: number, what = 'TLV'): Tlv[] | ProxyProblem {
  const out: Tlv[] = [];
  let at = from;
  while (at < to) {
    if (to - at < 3) return problem(`${what} at byte ${at} is cut short: ${to - at} byte(s) left, a TLV needs at least 3`);
    const type = bytes[at]!;
    const length = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    if (at + 3 + length > to) {
      return problem(`${what} 0x${hex(type)} at byte ${at} says ${length} byte(s) but only ${to - at - 3} remain`);
    }
    out.push({ type, value: bytes.slice(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  return out;
}


function text(tlv: Tlv, name: string): string | ProxyProblem {
  try {
    return UTF8.decode(tlv.value);
  } catch {
    return problem(`${name} TLV is not valid UTF-8`);
  }
}

const isProblem = (v: unknown): v is ProxyProblem => typeof v === 'object' && v !== null && 'code' in v;

/**
 * Reads the registered TLVs of a v2 header into `header` (first of each type wins) and
 * verifies the checksum. `raw` is the whole header, `tlvOffsets` where each TLV starts in it.
 */
export function interpretTlvs(header: ProxyHeader, raw: Uint8Array, tlvOffsets: readonly number[]): ProxyProblem | undefined {
  let crcSeen = false;
  for (let i = 0; i < header.tlvs.length; i++) {
    const tlv = header.tlvs[i]!;
    switch (tlv.type) {
      case PP2_TYPE.ALPN:
        header.alpn ??= UTF8_LOSSY.decode(tlv.value);
        break;
      case PP2_TYPE.AUTHORITY: {
        const value = text(tlv, 'AUTHORITY');
        if (isProblem(value)) return value;
        header.authority ??= value;
        break;
      }
      case PP2_TYPE.CRC32C: {
        // §2.2.3: zero the field, CRC the whole header, compare.
        if (tlv.value.length !== 4) return { code: 'ERR_PROXY_V2_CRC32C', message: `CRC32C TLV is ${tlv.value.length} byte(s), must be 4` };
        if (crcSeen) return { code: 'ERR_PROXY_V2_CRC32C', message: 'more than one CRC32C TLV' };
        crcSeen = true;
        const sent = readU32(tlv.value, 0);
        const copy = raw.slice();
        copy.fill(0, tlvOffsets[i]! + 3, tlvOffsets[i]! + 7);
        const actual = crc32c(copy);
        if (actual !== sent) {
          return { code: 'ERR_PROXY_V2_CRC32C', message: `CRC32C mismatch: header says 0x${sent.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')}` };
        }
        header.crc32c = sent;
        break;
      }
      case PP2_TYPE.UNIQUE_ID:
        if (tlv.value.length > UNIQUE_ID_MAX) return problem(`UNIQUE_ID TLV is ${tlv.value.length} bytes, at most ${UNIQUE_ID_MAX}`);
        header.uniqueId ??= tlv.value;
        break;
      case PP2_TYPE.SSL: {
        const ssl = parseSsl(tlv.value);
        if (isProblem(ssl)) return ssl;
        header.ssl ??= ssl;
        break;
      }
      case PP2_TYPE.NETNS: {
        const value = text(tlv, 'NETNS');
        if (isProblem(value)) return value;
        header.netns ??= value;
        break;
      }
      default:
        break; // NOOP (§2.2.4), custom, experimental and future types: kept in `tlvs` only.
    }
  }
  return undefined;
}

const SSL_STRINGS: ReadonlyMap<number, 'version' | 'cn' | 'cipher' | 'sigAlg' | 'keyAlg'> = new Map([
  [PP2_TYPE.SSL_VERSION, 'version'],
  [PP2_TYPE.SSL_CN, 'cn'],
  [PP2_TYPE.SSL_CIPHER, 'cipher'],
  [PP2_TYPE.SSL_SIG_ALG, 'sigAlg'],
  [PP2_TYPE.SSL_KEY_ALG, 'keyAlg'],
]);

/** §2.2.6: `struct pp2_tlv_ssl { uint8_t client; uint32_t verify; struct pp2_tlv sub_tlv[0]; }`. */
function parseSsl(value: Uint8Array): ProxySsl | ProxyProblem {
  if (value.length < 5) return problem(`SSL TLV is ${value.length} byte(s), needs at least 5 (client, verify)`);
  const client = value[0]!;
  const verify = readU32(value, 1);
  const tlvs = parseTlvs(value, 5, value.length, 'SSL sub-TLV');
  if (isProblem(tlvs)) return tlvs;
  const certConnection = (client & PP2_CLIENT.CERT_CONN) !== 0;
  const certSession = (client & PP2_CLIENT.CERT_SESS) !== 0;
  const ssl: ProxySsl = {
    client,
    tls: (client & PP2_CLIENT.SSL) !== 0,
    certConnection,
    certSession,
    verify,
    certificateVerified: verify === 0 && (certConnection || certSession),
    tlvs,
  };
  for (const sub of tlvs) {
    const key = SSL_STRINGS.get(sub.type);
    if (key === undefined) continue;
    const s = text(sub, `SSL ${key}`);
    if (isProblem(s)) return s;
    ssl[key] ??= s;
  }
  return ssl;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Writes TLVs one after another. Throws ERR_PROXY_ENCODE_INVALID for a bad type or a value over 65535 bytes. */
export function encodeTlvs(tlvs: readonly Tlv[]): Uint8Array {
  let size = 0;
  for (const t of tlvs) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xff) throw new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', `TLV type ${t.type} is not a byte`);
    if (t.value.length > 0xffff) throw new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', `TLV 0x${hex(t.type)} value is ${t.value.length} bytes, at most 65535`);
    size += 3 + t.value.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const t of tlvs) {
    out[at] = t.type;
    out[at + 1] = t.value.length >>> 8;
    out[at + 2] = t.value.length & 0xff;
    out.set(t.value, at + 3);
    at += 3 + t.value.length;
  }
  return out;
}

/** PP2_TYPE_ALPN (§2.2.1), e.g. `alpnTlv('ftp')`. */
export function alpnTlv(protocol: string | Uint8Array): Tlv {
  return { type: PP2_TYPE.ALPN, value: typeof protocol === 'string' ? ENCODER.encode(protocol) : protocol.slice() };
}

/** PP2_TYPE_AUTHORITY (§2.2.2): the host name the client asked for. */
export function authorityTlv(host: string): Tlv {
  return { type: PP2_TYPE.AUTHORITY, value: ENCODER.encode(host) };
}

/** PP2_TYPE_CRC32C (§2.2.3) with a zero value; the encoder fills it in. */
export function crc32cTlv(): Tlv {
  return { type: PP2_TYPE.CRC32C, value: new Uint8Array(4) };
}

/** PP2_TYPE_NOOP (§2.2.4): `length` zero bytes of padding. */
export function noopTlv(length = 0): Tlv {
  return { type: PP2_TYPE.NOOP, value: new Uint8Array(length) };
}

/** PP2_TYPE_UNIQUE_ID (§2.2.5). Throws ERR_PROXY_ENCODE_INVALID above 128 bytes. */
export function uniqueIdTlv(id: Uint8Array | string): Tlv {
  const value = typeof id === 'string' ? ENCODER.encode(id) : id.slice();
  if (value.length > UNIQUE_ID_MAX) throw new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', `UNIQUE_ID is ${value.length} bytes, at most ${UNIQUE_ID_MAX}`);
  return { type: PP2_TYPE.UNIQUE_ID, value };
}

/** PP2_TYPE_NETNS (§2.2.7). */
export function netnsTlv(name: string): Tlv {
  return { type: PP2_TYPE.NETNS, value: ENCODER.encode(name) };
}

/** What {@link sslTlv} takes. */
export interface SslTlvInit {
  /** The `client` bits; default PP2_CLIENT_SSL (0x01). */
  client?: number;
  /** Default 0 (verified). */
  verify?: number;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
  /** Further sub-TLVs, written after the named ones. */
  tlvs?: readonly Tlv[];
}

/** PP2_TYPE_SSL (§2.2.6) with its sub-TLVs in the order version, CN, cipher, sig_alg, key_alg. */
export function sslTlv(init: SslTlvInit = {}): Tlv {
  const client = init.client ?? PP2_CLIENT.SSL;
  const verify = init.verify ?? 0;
  if (!Number.isInteger(client) || client < 0 || client > 0xff) throw new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', `SSL client bits ${client} are not a byte`);
  if (!Number.isInteger(verify) || verify < 0 || verify > 0xffffffff) throw new ProxyProtocolError('ERR_PROXY_ENCODE_INVALID', `SSL verify ${verify} is not a 32-bit unsigned integer`);
  const subs: Tlv[] = [];
  for (const [type, key] of SSL_STRINGS) {
    const v = init[key];
    if (v !== undefined) subs.push({ type, value: ENCODER.encode(v) });
  }
  subs.push(...(init.tlvs ?? []));
  const body = encodeTlvs(subs);
  const value = new Uint8Array(5 + body.length);
  value[0] = client;
  value[1] = verify >>> 24;
  value[2] = (verify >>> 16) & 0xff;
  value[3] = (verify >>> 8) & 0xff;
  value[4] = verify & 0xff;
  value.set(body, 5);
  return { type: PP2_TYPE.SSL, value };
}
