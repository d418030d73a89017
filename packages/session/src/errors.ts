/**
 * Mapping of port errors (POSIX errno names, see {@link PortError}) to FTP replies.
 *
 * ProFTPD answers a failed file operation with `550 <argument>: <strerror>` and a
 * failed transfer with `<code> Transfer aborted. <strerror>` where the code depends on
 * the errno (src/data.c `pr_data_abort`): ENOSPC → 452, EDQUOT/EFBIG → 552, a lost
 * data connection → 426, any other local error → 451. The texts below are glibc's
 * `strerror` strings, so operators see what ProFTPD would print.
 */
import type { PortError } from './ports.js';

/** glibc's `strerror()` text for the errno names ports raise. */
const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
  EINVAL: 'Invalid argument',
  ENAMETOOLONG: 'File name too long',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
  EIO: 'Input/output error',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  EPIPE: 'Broken pipe',
  ETIMEDOUT: 'Connection timed out',
  EABORTED: 'Operation aborted',
  ELOOP: 'Too many levels of symbolic links',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
};

/** The errno name of anything a port rejected with (`EIO` when it carries none). */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return 'EIO';
}

/** `strerror()` text for an errno name (or for an error carrying one). */
export function strerror(codeOrError: unknown): string {
  const code = typeof codeOrError === 'string' ? codeOrError : errorCode(codeOrError);
  return STRERROR[code] ?? `Unknown error (${code})`;
}

/** A reply as the session writes it. */
export interface ReplySpec {
  code: number;
  text: string;
}

/**
 * Errors that mean a path does not lead to an entry (ProFTPD's path lookup fails): the
 * commands that name the whole request when the operation itself is refused name the path
 * alone for these.
 */
export const PATH_LOOKUP_ERRORS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP']);

/**
 * Reply for a failed file-system command (CWD, DELE, MKD, RNFR, SIZE, RETR before the
 * data connection…): `550 <arg>: <strerror>` (ProFTPD; a name too long too), except that
 * a name the server refuses (EINVAL) is `553` (RFC 959 §4.2: "File name not allowed") and a full
 * disk `452`/`552` (RFC 959 §4.2, as ProFTPD's pr_data_abort).
 */
export function fileErrorReply(arg: string, error: unknown): ReplySpec {
  const code = errorCode(error);
  const text = `${arg}: ${strerror(code)}`;
  switch (code) {
    case 'EINVAL':
      return { code: 553, text };
    case 'ENOSPC':
      return { code: 452, text };
    case 'EDQUOT':
    case 'EFBIG':
      return { code: 552, text };
    default:
      return { code: 550, text };
  }
}

/** Where a transfer failed: reading/writing the file, or on the data connection. */
export type TransferFailureSide = 'file' | 'data';

/**
 * Reply for a transfer that failed after `150` (ProFTPD `pr_data_abort`): the data
 * connection lost → `426 Transfer aborted. Data connection closed`; ENOSPC → 452;
 * EDQUOT/EFBIG → 552; any other local error → 451 with its strerror.
 */
export function transferErrorReply(side: TransferFailureSide, error: unknown): ReplySpec {
  const code = errorCode(error);
  if (side === 'data') return { code: 426, text: 'Transfer aborted. Data connection closed' };
  switch (code) {
    case 'ENOSPC':
      return { code: 452, text: `Transfer aborted. ${strerror(code)}` };
    case 'EDQUOT':
    case 'EFBIG':
      return { code: 552, text: `Transfer aborted. ${strerror(code)}` };
    default:
      return { code: 451, text: `Transfer aborted. ${strerror(code)}` };
  }
}

/** Build a {@link PortError} (used by in-memory ports and when the core aborts a stream). */
export function portError(code: string, message?: string): PortError {
  const error = new Error(message ?? strerror(code)) as PortError;
  error.code = code;
  return error;
}
