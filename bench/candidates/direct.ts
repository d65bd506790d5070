/**
 * The ceiling: the load straight at pod 1, no hop.
 */
import type { CandidateSpec } from './types.ts';

export const direct: CandidateSpec = {
  id: 'direct',
  label: 'direct → pod 1',
  setup: 'autocannon/wrk straight at pod 1 (one node:http process)',
  start: async ({ pods }) => {
    const pod = pods[0]!;
    return { target: { url: `http://${pod.address}:${pod.port}/`, headers: {} }, proxyPid: null, spreadsOverPods: false, stop: async () => undefined };
  },
};
