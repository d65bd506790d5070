import { defineConfig } from 'vitest/config';

// `npm run conformance:gateway`: only the Gateway API conformance runner, one file, one suite test at a
// time (each starts its own Switchyard and echo pods). Timeouts are set per test in the test file.
export default defineConfig({
  test: {
    include: ['test/gateway-conformance/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 60_000,
  },
});
