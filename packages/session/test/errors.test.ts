import { describe, expect, it } from 'vitest';
import { errorCode, fileErrorReply, portError, strerror, transferErrorReply } from '../src/errors.js';

describe('error replies', () => {
  it('maps file errors like ProFTPD (550 <arg>: strerror, names too long too; 553 refused names; 452/552 full)', () => {
    expect(fileErrorReply('x', portError('ENOENT'))).toEqual({ code: 550, text: 'x: No such file or directory' });
    expect(fileErrorReply('x', portError('EACCES'))).toEqual({ code: 550, text: 'x: Permission denied' });
    expect(fileErrorReply('x', portError('EPERM'))).toEqual({ code: 550, text: 'x: Operation not permitted' });
    expect(fileErrorReply('x', portError('EINVAL')).code).toBe(553);
    expect(fileErrorReply('x', portError('ENAMETOOLONG'))).toEqual({ code: 550, text: 'x: File name too long' });
    expect(fileErrorReply('x', portError('ENOSPC'))).toEqual({ code: 452, text: 'x: No space left on device' });
    expect(fileErrorReply('x', portError('EDQUOT')).code).toBe(552);
    expect(fileErrorReply('x', new Error('plain')).text).toBe('x: Input/output error');
  });

  it('maps transfer failures like pr_data_abort', () => {
    expect(transferErrorReply('data', portError('ECONNRESET'))).toEqual({ code: 426, text: 'Transfer aborted. Data connection closed' });
    expect(transferErrorReply('file', portError('ENOSPC'))).toEqual({ code: 452, text: 'Transfer aborted. No space left on device' });
    expect(transferErrorReply('file', portError('EDQUOT'))).toEqual({ code: 552, text: 'Transfer aborted. Disk quota exceeded' });
    expect(transferErrorReply('file', portError('EIO'))).toEqual({ code: 451, text: 'Transfer aborted. Input/output error' });
  });

  it('reads codes defensively', () => {
    expect(errorCode(undefined)).toBe('EIO');
    expect(errorCode({ code: 7 })).toBe('EIO');
    expect(errorCode({ code: 'EXDEV' })).toBe('EXDEV');
    expect(strerror('EWHAT')).toBe('Unknown error (EWHAT)');
    expect(portError('ENOENT').message).toBe('No such file or directory');
  });
});
