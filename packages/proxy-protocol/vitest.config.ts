import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'proxy-protocol',
    include: ['test/**/*.test.ts'],
  },
});
