/**
 * The decoded PROXY protocol header, common to v1 and v2.
 */
import type { ProxyProblem } from './errors.js';

/**
 * The address family, named after v1's tokens: `tcp4` is AF_INET (IPv4), `tcp6` AF_INET6,
 * `unix` AF_UNIX (v2 only), `unknown` is v1 `UNKNOWN` or v2 AF_UNSPEC (and any header whose
 * addresses the receiver must ignore: v2 LOCAL, v2 transport UNSPEC). With `unknown` there
 * are no addresses: use the connection's own endpoints (§2.1, §2.2).
 */
export type ProxyFamily = 'tcp4' | 'tcp6' | 'unix' | 'unknown';

/** The transport protocol of the proxied connection (v2 §2.2; v1 TCP4/TCP6 is `stream`). */
export type ProxyTransport = 'stream' | 'dgram' | 'unspec';

/** `LOCAL`: the proxy's own connection (health check), use the real endpoints (§2.2). */
export type ProxyCommand = 'PROXY' | 'LOCAL';

/** An endpoint. For `unix`, `address` is the socket path (an abstract name starts with `\0`) and `port` is 0. */
export interface ProxyAddress {
  address: string;
  port: number;
}

/** A v2 Type-Length-Value vector (§2.2), as it was on the wire. */
export interface Tlv {
  type: number;
  value: Uint8Array;
}

/** The PP2_TYPE_SSL TLV (§2.2.6). */
export interface ProxySsl {
  /** The `client` bit field: PP2_CLIENT_SSL 0x01, PP2_CLIENT_CERT_CONN 0x02, PP2_CLIENT_CERT_SESS 0x04. */
  client: number;
  /** The client connected over SSL/TLS (PP2_CLIENT_SSL). */
  tls: boolean;
  /** The client presented a certificate on this connection (PP2_CLIENT_CERT_CONN). */
  certConnection: boolean;
  /** The client presented a certificate at least once in this TLS session (PP2_CLIENT_CERT_SESS). */
  certSession: boolean;
  /** The `verify` field: 0 when the certificate was verified. */
  verify: number;
  /** A certificate was presented (connection or session) and `verify` is 0. */
  certificateVerified: boolean;
  /** PP2_SUBTYPE_SSL_VERSION, e.g. `TLSv1.3`. */
  version?: string;
  /** PP2_SUBTYPE_SSL_CN: the client certificate's Common Name. */
  cn?: string;
  /** PP2_SUBTYPE_SSL_CIPHER, e.g. `ECDHE-RSA-AES128-GCM-SHA256`. */
  cipher?: string;
  /** PP2_SUBTYPE_SSL_SIG_ALG, e.g. `RSA-SHA256`. */
  sigAlg?: string;
  /** PP2_SUBTYPE_SSL_KEY_ALG, e.g. `RSA2048`. */
  keyAlg?: string;
  /** Every sub-TLV as it was on the wire, including ones this package does not name. */
  tlvs: Tlv[];
}

/** A decoded header. Named TLV fields hold the first TLV of their type; `tlvs` holds all of them. */
export interface ProxyHeader {
  version: 1 | 2;
  command: ProxyCommand;
  family: ProxyFamily;
  transport: ProxyTransport;
  /** The client's endpoint (absent for `unknown`). IPv4 dotted, IPv6 RFC 5952. */
  source?: ProxyAddress;
  /** The endpoint the client connected to, on the proxy (absent for `unknown`). */
  destination?: ProxyAddress;
  /** Every v2 TLV in wire order (empty for v1). */
  tlvs: Tlv[];
  /** PP2_TYPE_ALPN (§2.2.1), read as UTF-8. */
  alpn?: string;
  /** PP2_TYPE_AUTHORITY (§2.2.2): the host name the client asked for (TLS SNI). */
  authority?: string;
  /** PP2_TYPE_CRC32C (§2.2.3): present only when it matched the header. */
  crc32c?: number;
  /** PP2_TYPE_UNIQUE_ID (§2.2.5): up to 128 opaque bytes. */
  uniqueId?: Uint8Array;
  /** PP2_TYPE_SSL (§2.2.6). */
  ssl?: ProxySsl;
  /** PP2_TYPE_NETNS (§2.2.7): the network namespace's name. */
  netns?: string;
  /** Bytes the header took on the wire (v1 including CRLF; v2 16 + length). */
  byteLength: number;
}

/** What the decoder says after each chunk. */
export type DecodeResult =
  | { state: 'need-more' }
  | {
      state: 'done';
      header: ProxyHeader;
      /** The bytes after the header in the last chunk: the first bytes of the application protocol. */
      rest: Uint8Array;
    }
  | { state: 'error'; error: ProxyProblem };

/** What the encoders take: a header without the decoded conveniences. */
export interface ProxyHeaderInit {
  /** Default `PROXY`. v1 has no LOCAL. */
  command?: ProxyCommand;
  family: ProxyFamily;
  /** v2 only. Default `stream` for an address family, `unspec` for `unknown`. */
  transport?: ProxyTransport;
  source?: ProxyAddress;
  destination?: ProxyAddress;
  /** v2 only: written in order. Build them with `alpnTlv`, `authorityTlv`, `sslTlv`, … */
  tlvs?: readonly Tlv[];
}
