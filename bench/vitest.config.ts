import { defineConfig } from 'vitest/config';

// The bench's own unit tests (pure parts: parsers, ratios, configs), kept out of `npm test`:
//   npx vitest run --config bench/vitest.config.ts
export default defineConfig({
  test: {
    include: ['bench/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 30_000,
  },
});
