/** Per-request round-robin through the real CLI: exact shares over three pods, sequential and concurrent. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { countsByPod, startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

/** Three pods of one Service on 127.0.0.2/3/4, all on the same port, behind host rr.example. */
async function threePods(): Promise<{ sy: RunningSwitchyard; pods: Pod[] }> {
  const pods = await startPods(['pod-a', 'pod-b', 'pod-c'], { hosts: [2, 3, 4] });
  expect(new Set(pods.map((p) => p.port)).size).toBe(1);
  const dir = await tempManifestDir();
  await writeManifest(dir, 'rr.yaml', [
    ...serviceWithPods('rr', 'lb', pods),
    ingress({ name: 'rr', namespace: 'lb', rules: [{ host: 'rr.example', paths: [{ path: '/', service: 'rr' }] }] }),
  ]);
  return { sy: await startSwitchyard({ manifests: dir }), pods };
}

describe('round-robin', () => {
  it('gives each of 3 pods exactly 30 of 90 sequential requests, in a repeating order', async () => {
    const { sy, pods } = await threePods();
    const order: string[] = [];
    for (let i = 0; i < 90; i++) {
      const res = await get(sy.ingress, 'rr.example', `/seq/${i}`);
      expect(res.status).toBe(200);
      order.push(res.json<EchoBody>().pod);
    }
    expect(countsByPod(pods)).toEqual({ 'pod-a': 30, 'pod-b': 30, 'pod-c': 30 });
    // Per request, not per connection: every window of three consecutive requests hits all three pods.
    for (let i = 0; i + 3 <= order.length; i += 3) expect(new Set(order.slice(i, i + 3)).size).toBe(3);
  });

  it('gives each of 3 pods 20 of 60 concurrent requests (20 in flight at a time)', async () => {
    const { sy, pods } = await threePods();
    const N = 60;
    const CONCURRENCY = 20;
    const statuses: number[] = [];
    for (let batch = 0; batch < N / CONCURRENCY; batch++) {
      const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => get(sy.ingress, 'rr.example', `/par/${batch}/${i}`)));
      statuses.push(...results.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(N);
    const counts = countsByPod(pods);
    for (const pod of pods) {
      // ⌊N/k⌋ or ⌈N/k⌉; with N = 60 and k = 3 both are 20.
      expect(counts[pod.name], pod.name).toBeGreaterThanOrEqual(Math.floor(N / pods.length));
      expect(counts[pod.name], pod.name).toBeLessThanOrEqual(Math.ceil(N / pods.length));
    }
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(N);
  });
});
