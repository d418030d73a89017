import { hashPassword } from '@ftpkit/config/node';
import { describe, expect, it } from 'vitest';
// The worker file exists in dist only: test the built module.
import { PasswordPool } from '../dist/password-pool.js';

describe('PasswordPool', () => {
  it('verifies crypt(3) hashes in worker threads, right and wrong passwords, in parallel', async () => {
    const pool = new PasswordPool(2);
    try {
      const sha = hashPassword('s3cret');
      const md5 = hashPassword('other', { scheme: 'md5-crypt' });
      const results = await Promise.all([
        pool.verify(sha, 's3cret'),
        pool.verify(sha, 'wrong'),
        pool.verify(md5, 'other'),
        pool.verify(md5, 's3cret'),
        pool.verify('*', ''),
        pool.verify('abNANd1rDfiNc', 'secret'),
      ]);
      expect(results).toEqual([true, false, true, false, false, false]);
      expect((pool as unknown as { workers: unknown[] }).workers.length).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
