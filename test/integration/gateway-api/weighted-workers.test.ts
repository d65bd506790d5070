/**
 * Weights across worker threads (issue 17 item 3): with --workers 2 the weighted choice of a rule is one
 * sequence shared by both threads (dataplane/weighted.ts, a shared counter per rule), so 1,000 requests on
 * new connections, whichever thread the kernel hands each to, give exactly 900/100 with a canary every
 * 10th request. With a weighting state per thread the totals drift and canaries come closer together.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { get, getJson } from '../../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { startPods, type EchoBody } from '../../helpers/pods.ts';
import { startSwitchyard } from '../../helpers/switchyard.ts';
import type { HostPort } from '../../../src/flags.ts';
import { GATEWAY_ON_LOOPBACK, gateway, gatewayClass, gatewayPort, httpRoute, web } from './gateway-manifests.ts';

afterEach(cleanupAll);

/** `n` requests one after another, each on its own connection; the pods that answered, in order. */
async function sequence(target: HostPort, host: string, n: number): Promise<string[]> {
  const order: string[] = [];
  for (let i = 0; i < n; i++) order.push((await get(target, host, '/')).json<EchoBody>().pod);
  return order;
}

/** The distances between consecutive picks of `pod`. */
function gaps(order: readonly string[], pod: string): number[] {
  const at = order.flatMap((p, i) => (p === pod ? [i] : []));
  return at.slice(1).map((i, k) => i - at[k]!);
}

describe('weighted backends across --workers 2', () => {
  it('90/10 over 1,000 requests on new connections: exactly 900/100, a canary every 10th (HTTPRoute and Ingress canary)', async () => {
    const [stable, canary] = await startPods(['stable', 'canary'], { hosts: [2, 3] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    const canaryIngress = ingress({ name: 'shop-canary', namespace: 'shop', rules: [{ host: 'legacy.example', paths: [{ path: '/', service: 'canary' }] }] });
    await writeManifest(dir, 'canary.yaml', [
      gatewayClass(),
      gateway('shop', web(gw.port)),
      ...serviceWithPods('stable', 'shop', [stable!]),
      ...serviceWithPods('canary', 'shop', [canary!]),
      httpRoute('split', 'shop', { rules: [{ backendRefs: [{ name: 'stable', port: 80, weight: 90 }, { name: 'canary', port: 80, weight: 10 }] }] }),
      ingress({ name: 'shop', namespace: 'shop', rules: [{ host: 'legacy.example', paths: [{ path: '/', service: 'stable' }] }] }),
      { ...canaryIngress, metadata: { ...(canaryIngress.metadata as object), annotations: { 'switchyard.dev/canary': 'true', 'switchyard.dev/canary-weight': '10' } } },
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2', ...GATEWAY_ON_LOOPBACK] });

    for (const [target, host] of [[gw, 'any.example'], [sy.ingress, 'legacy.example']] as const) {
      const order = await sequence(target, host, 1000);
      const count = (pod: string) => order.filter((p) => p === pod).length;
      expect([count('stable'), count('canary')], host).toEqual([900, 100]);
      // Smooth over both threads: never two canaries within 9 consecutive requests.
      expect(new Set(gaps(order, 'canary')), host).toEqual(new Set([10]));
    }
    // Both threads served (else this would test one thread's sequence only).
    const { body } = await getJson<{ workers: { requests: number }[] }>(sy.admin, '/api/v1/workers');
    expect(body.workers).toHaveLength(2);
    for (const w of body.workers) expect(w.requests).toBeGreaterThan(100);
  });
});
