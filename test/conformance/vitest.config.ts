import { defineConfig } from 'vitest/config';

// `npm run conformance`: only the conformance runner, one file, one scenario at a time (the suite's
// godog runs with concurrency 1 too). Timeouts are set per test in conformance.test.ts.
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
