/**
 * The one error the allocator throws, and only for caller misuse (a bad range, a bad
 * option). Exhaustion and quotas are results, never exceptions. Match on `code`.
 */
export type AllocatorErrorCode =
  | 'ERR_ALLOCATOR_RANGE_INVALID'
  | 'ERR_ALLOCATOR_OPTION_INVALID'
  | 'ERR_ALLOCATOR_EXPOSE_INVALID'
  | 'ERR_ALLOCATOR_PARTITION_INVALID'
  | 'ERR_ALLOCATOR_PEER_REQUIRED'
  | 'ERR_ALLOCATOR_NOW_INVALID';

export class AllocatorError extends Error {
  readonly code: AllocatorErrorCode;

  constructor(code: AllocatorErrorCode, message: string) {
    super(message);
    this.name = 'AllocatorError';
    this.code = code;
  }
}
