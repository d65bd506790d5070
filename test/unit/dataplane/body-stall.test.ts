import { describe, expect, it } from 'vitest';
import { BodyStallWatch } from '../../../src/dataplane/body-stall.ts';

/** Each step: [what happens, now (ms), waiting for the body?, expected stalled()] with a 1,000 ms limit. */
type Step = readonly ['read' | 'sweep', number, boolean, boolean];

describe('BodyStallWatch (--client-body-timeout as a sweep sees it)', () => {
  it.each<[string, readonly Step[]]>([
    ['a wait with no read stalls once it lasts over the limit', [['sweep', 0, true, false], ['sweep', 900, true, false], ['sweep', 1001, true, true]]],
    ['any read, however small, restarts the wait', [['sweep', 0, true, false], ['read', 800, true, false], ['sweep', 900, true, false], ['sweep', 1500, true, false], ['sweep', 1901, true, true]]],
    ['time not waiting (backpressure from the pod) never counts', [['sweep', 0, false, false], ['sweep', 5000, false, false], ['sweep', 5001, true, false], ['sweep', 6000, true, false], ['sweep', 6002, true, true]]],
    ['a pause in the wait starts it over', [['sweep', 0, true, false], ['sweep', 900, false, false], ['sweep', 1500, true, false], ['sweep', 2400, true, false], ['sweep', 2501, true, true]]],
  ])('%s', (_name, steps) => {
    const watch = new BodyStallWatch();
    for (const [what, now, waiting, expected] of steps) {
      if (what === 'read') {
        watch.read();
        continue;
      }
      expect(watch.stalled(waiting, now, 1000), `at ${now} ms`).toBe(expected);
    }
  });
});
