import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'classes',
    include: ['test/**/*.test.ts'],
  },
});
