import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('warm() starts the workers; two checks run at once on two workers; an idle pool does not keep the process alive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpkit-pool-'));
    try {
      const file = join(dir, 'pool.mjs');
      const pool = new URL('../dist/password-pool.js', import.meta.url).href;
      const config = import.meta.resolve('@ftpkit/config/node');
      writeFileSync(
        file,
        `import { PasswordPool } from ${JSON.stringify(pool)};
import { hashPassword } from ${JSON.stringify(config)};
const pool = new PasswordPool(2);
pool.warm();
if (pool.workers.length !== 2) throw new Error('warm() started ' + pool.workers.length + ' workers');
const h = hashPassword('pw');
const first = await Promise.all([pool.verify(h, 'pw'), pool.verify(h, 'no')]);
console.log(JSON.stringify({ first, workers: pool.workers.length, broken: pool.broken }));
`,
      );
      // No pool.close(): the script must still end by itself.
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
      expect(r.signal).toBeNull();
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ first: [true, false], workers: 2, broken: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
