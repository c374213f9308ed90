import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Pebble, PostgreSQL and PGlite suites share ports and a database; run files one at a time.
    fileParallelism: false,
    pool: 'forks',
  },
});
