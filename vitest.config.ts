import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Database suites truncate the one TEST_DATABASE_URL database; run files one at a time. (Ports are free
    // ones picked per suite, so they no longer force this.)
    fileParallelism: false,
    pool: 'forks',
  },
});
