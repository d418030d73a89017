/**
 * Node errors → {@link PortError}: the errno name survives (`ENOSPC` stays `ENOSPC`, so
 * the core answers 452), names the core has no reply for collapse onto the nearest one,
 * and the host path never reaches the message (the client sees `strerror` text only).
 */
import { portError } from '../errors.js';
import type { PortError } from '../ports.js';

/** errno names passed through unchanged. */
const KEEP: ReadonlySet<string> = new Set([
  'ENOENT',
  'EEXIST',
  'EACCES',
  'EPERM',
  'ENOTDIR',
  'EISDIR',
  'ENOTEMPTY',
  'ENOSPC',
  'EDQUOT',
  'EFBIG',
  'EINVAL',
  'ENAMETOOLONG',
  'EXDEV',
  'EBUSY',
  'EIO',
  'EROFS',
  'EMFILE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EABORTED',
]);

/** errno names reported as another one. */
const ALIAS: Readonly<Record<string, string>> = {
  // A symlink met with O_NOFOLLOW: the name exists but may not be followed.
  ELOOP: 'EACCES',
  EPIPE: 'ECONNRESET',
  ECONNABORTED: 'ECONNRESET',
  ERR_STREAM_PREMATURE_CLOSE: 'ECONNRESET',
  ENFILE: 'EMFILE',
  ETXTBSY: 'EBUSY',
  ESPIPE: 'EINVAL',
  EOVERFLOW: 'EINVAL',
  ERR_OUT_OF_RANGE: 'EINVAL',
};

/** True for values that already are port errors made here or by the core. */
function isPortError(error: unknown): error is PortError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && KEEP.has((error as PortError).code);
}

/** Converts anything a Node API rejected with into a {@link PortError} (`EIO` for the unknown). */
export function toPortError(error: unknown): PortError {
  if (isPortError(error) && !('path' in error) && !('syscall' in error)) return error;
  const raw = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const code = typeof raw === 'string' ? (KEEP.has(raw) ? raw : ALIAS[raw]) : undefined;
  return portError(code ?? 'EIO');
}
