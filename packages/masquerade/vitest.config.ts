import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'masquerade',
    include: ['test/**/*.test.ts'],
  },
});
