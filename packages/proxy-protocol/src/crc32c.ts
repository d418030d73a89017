/**
 * CRC32C (Castagnoli), as RFC 4960 Appendix B computes it: reflected polynomial
 * 0x82F63B78, initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. The PROXY protocol v2
 * checksum TLV uses it over the whole header with the checksum field zeroed (§2.2.3).
 * Check value: crc32c("123456789") = 0xE3069283.
 */
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC32C of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
