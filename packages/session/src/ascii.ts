/**
 * TYPE A (ASCII) line-ending conversion, RFC 959 §3.1.1.1: on the wire every line
 * ends with CRLF; in the file it ends with LF (Unix).
 *
 * - Sending (RETR, listings): a LF not preceded by CR gets a CR (ProFTPD
 *   `pr_ascii_ftp_to_crlf`); existing CRLF pairs are left alone.
 * - Receiving (STOR/APPE/STOU): a CR immediately followed by LF is dropped; a lone CR
 *   is kept (ProFTPD `pr_ascii_ftp_from_crlf`).
 *
 * Both are streaming: the state carried between chunks is one flag, so a CRLF split
 * across two chunks converts exactly as an unsplit one.
 */

const CR = 0x0d;
const LF = 0x0a;

/** LF → CRLF for one direction of one transfer. */
export class ToCrlf {
  private lastWasCr = false;

  convert(chunk: Uint8Array): Uint8Array {
    let add = 0;
    let prevCr = this.lastWasCr;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === LF && !prevCr) add++;
      prevCr = b === CR;
    }
    if (add === 0) {
      if (chunk.length > 0) this.lastWasCr = prevCr;
      return chunk;
    }
    const out = new Uint8Array(chunk.length + add);
    let j = 0;
    prevCr = this.lastWasCr;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === LF && !prevCr) out[j++] = CR;
      out[j++] = b;
      prevCr = b === CR;
    }
    this.lastWasCr = prevCr;
    return out;
  }
}

/** CRLF → LF for one upload. Call {@link flush} at end of stream for a held CR. */
export class FromCrlf {
  private heldCr = false;

  convert(chunk: Uint8Array): Uint8Array {
    if (chunk.length === 0) return chunk;
    const out = new Uint8Array(chunk.length + 1);
    let j = 0;
    let i = 0;
    if (this.heldCr) {
      this.heldCr = false;
      if (chunk[0] !== LF) out[j++] = CR;
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === CR) {
        if (i + 1 === chunk.length) {
          this.heldCr = true;
          break;
        }
        if (chunk[i + 1] === LF) continue;
      }
      out[j++] = b;
    }
    return out.subarray(0, j);
  }

  /** Bytes still held at end of stream (a final lone CR). */
  flush(): Uint8Array {
    if (!this.heldCr) return new Uint8Array(0);
    this.heldCr = false;
    return Uint8Array.of(CR);
  }
}
