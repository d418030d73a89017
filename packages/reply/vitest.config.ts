import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'reply',
    include: ['test/**/*.test.ts'],
  },
});
