import { defineConfig } from 'vitest/config';

// GPU tests share one Dawn device per worker; lavapipe has 2 cores, so few workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    setupFiles: ['test/setup.ts'],
  },
});
