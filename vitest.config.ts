import { defineConfig } from 'vitest/config';

// GPU tests share one Dawn device per worker; lavapipe has 2 cores, so few workers.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // lavapipe compiles some kernels (attention at head dim 128) for tens of seconds on a cold shader cache
    testTimeout: 300_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    setupFiles: ['test/setup.ts'],
  },
});
