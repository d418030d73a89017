/**
 * A self-signed certificate for testing FTPS, made with node:crypto alone: an ECDSA P-256
 * key pair and a minimal X.509 v3 certificate (RFC 5280) encoded in DER by hand —
 * no OpenSSL binary, no dependency.
 *
 * Theory of operation: the TBSCertificate (version 3, a random positive serial,
 * ecdsa-with-SHA256, the same Name as issuer and subject, validity, the public key, and
 * the extensions basicConstraints CA:FALSE, keyUsage digitalSignature, extKeyUsage
 * serverAuth and subjectAltName) is DER-encoded, signed with the private key, and wrapped
 * with the algorithm and the signature. Clients must be told not to verify it.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import net from 'node:net';

/** A PEM certificate and its PEM private key (`tls.createSecureContext`'s `cert` and `key`). */
export interface PemCertificate {
  cert: string;
  key: string;
}

export interface SelfSignedOptions {
  /** Subject and issuer CN. Default `localhost`. */
  commonName?: string;
  /** DNS names and IP addresses for subjectAltName. Default `localhost`, `127.0.0.1`, `::1`. */
  altNames?: readonly string[];
  /** Validity in days from now (backdated one hour for clock skew). Default 30. */
  days?: number;
  /** Milliseconds since the epoch. Default `Date.now()`. */
  now?: number;
}

/** DER type-length-value (X.690 §8.1). */
function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const length: number[] = [];
  if (body.length < 0x80) length.push(body.length);
  else {
    for (let n = body.length; n > 0; n = Math.floor(n / 256)) length.unshift(n & 0xff);
    length.unshift(0x80 | length.length);
  }
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

const sequence = (...parts: Uint8Array[]): Buffer => tlv(0x30, ...parts);

/** OBJECT IDENTIFIER (X.690 §8.19). */
function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      groups.unshift((v & 0x7f) | (groups.length > 0 ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 §4.1.2.5). */
function time(ms: number): Buffer {
  const d = new Date(ms);
  const text = `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(text.slice(2))) : tlv(0x18, Buffer.from(text));
}

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return sequence(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

/**
 * A fresh self-signed certificate and key, for `ftpkit serve --tls` without a configured
 * certificate and for tests. Never for production: clients cannot verify it.
 */
export function selfSignedCertificate(options: SelfSignedOptions = {}): PemCertificate {
  const commonName = options.commonName ?? 'localhost';
  const altNames = options.altNames ?? ['localhost', '127.0.0.1', '::1'];
  const now = options.now ?? Date.now();
  const days = options.days ?? 30;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, no leading zero byte needed
  const algorithm = sequence(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256 (RFC 5758 §3.2)
  const subjectAltName = sequence(...altNames.map((n) => (net.isIP(n) !== 0 ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii')))));
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // version v3
    tlv(0x02, serial),
    algorithm,
    name(commonName),
    sequence(time(now - 3_600_000), time(now + days * 86_400_000)),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(
      0xa3,
      sequence(
        extension('2.5.29.19', true, sequence()), // basicConstraints: CA:FALSE
        extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))), // keyUsage: digitalSignature
        extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', false, subjectAltName),
      ),
    ),
  );
  const der = sequence(tbs, algorithm, tlv(0x03, Buffer.from([0]), sign('sha256', tbs, privateKey)));
  const base64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
