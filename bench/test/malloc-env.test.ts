import { describe, expect, it } from 'vitest';
import { switchyardMallocEnv } from '../malloc-env.ts';

// The bench's own environment decides whether MALLOC_ARENA_MAX came from its user; these cases assume not.
describe.skipIf(process.env.MALLOC_ARENA_MAX !== undefined)('switchyardMallocEnv', () => {
  it.each([
    [1, {}],
    [2, { MALLOC_ARENA_MAX: '2' }],
    [8, { MALLOC_ARENA_MAX: '2' }],
    [null, { MALLOC_ARENA_MAX: '2' }],
  ] as const)('--workers %s → %j (as deploy/ sets it)', (workers, env) => {
    expect(switchyardMallocEnv(workers)).toEqual(env);
  });
});
