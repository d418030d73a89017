import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'session',
    include: ['test/**/*.test.ts'],
  },
});
