import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'hardening',
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
