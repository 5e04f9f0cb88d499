import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-build.ts'],
    // Integration and end-to-end tests start worker pools, SQLite files and a browser. On a
    // 2-core machine they need time, so at most two test files run at once.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
