import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'port-allocator',
    include: ['test/**/*.test.ts'],
  },
});
