import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'nat',
    root: new URL('.', import.meta.url).pathname,
    include: ['nat/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
