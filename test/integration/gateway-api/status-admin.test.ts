/**
 * Gateway API status on the admin API, through the real CLI from manifest files: `/api/v1/gateways`
 * (Switchyard's Gateways with class, listeners, conditions; others as not served) and `/api/v1/routes`
 * (each route's kind, `namespace/name`, parent conditions and backend weights, beside the old fields).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { getJson } from '../../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { startPods, unusedPort } from '../../helpers/pods.ts';
import { startSwitchyard } from '../../helpers/switchyard.ts';
import { gateway, gatewayClass, httpRoute } from './gateway-manifests.ts';

afterEach(cleanupAll);

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly observedGeneration: number;
}

interface GatewaysBody {
  gatewayClasses: { name: string; conditions: Condition[] }[];
  gateways: { namespace: string; name: string; served: boolean; gatewayClassName?: string; conditions?: Condition[]; listeners?: { name: string; attachedRoutes: number; supportedKinds: unknown[]; conditions: Condition[] }[]; reason?: string }[];
}

interface RoutesBody {
  routes: { host: string; ingress: string; kind: string; name: string; service: string; parents?: { parentRef: { name: string }; conditions: Condition[] }[]; backends: { service: string; weight: number; problem: string | null }[] }[];
  unattached: { kind: string; name: string; parents: { parentRef: { name: string }; conditions: Condition[] }[] }[];
}

const brief = (conditions: readonly Condition[] | undefined): string[] => (conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);

describe('Gateway API status on the admin API (from manifest files)', () => {
  it('shows Gateways with their listeners and conditions, and routes with kind, parents and weights', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const port = await unusedPort('127.0.0.1');
    const dir = await tempManifestDir();
    const canary = httpRoute('canary', 'shop', {
      hostnames: ['shop.example'],
      rules: [{ backendRefs: [{ name: 'web', port: 80, weight: 90 }, { name: 'missing', port: 80, weight: 10 }] }],
    });
    (canary['metadata'] as Record<string, unknown>)['generation'] = 3;
    await writeManifest(dir, 'all.yaml', [
      gatewayClass(),
      gatewayClass('other', 'example.com/other'),
      gateway('shop', [{ name: 'web', port, protocol: 'HTTP' }]),
      gateway('shop', undefined, 'other', 'theirs'),
      ...serviceWithPods('web', 'shop', [web!]),
      canary,
      httpRoute('stray', 'elsewhere', { parentRefs: [{ name: 'gw', namespace: 'shop' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] }),
      ingress({ name: 'legacy', namespace: 'shop', rules: [{ host: 'legacy.example', paths: [{ path: '/', service: 'web' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--gateway-address', '127.0.0.1'] });

    const gateways = (await getJson<GatewaysBody>(sy.admin, '/api/v1/gateways')).body;
    expect(gateways.gatewayClasses.map((c) => [c.name, brief(c.conditions)])).toEqual([['switchyard', ['Accepted=True/Accepted']]]);
    const gw = gateways.gateways.find((g) => g.name === 'gw')!;
    expect(gw).toMatchObject({ namespace: 'shop', gatewayClassName: 'switchyard', served: true });
    expect(brief(gw.conditions)).toEqual(['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    // The route of another namespace is not admitted (from: Same), so it is not counted.
    expect(gw.listeners!.map((l) => [l.name, l.attachedRoutes])).toEqual([['web', 1]]);
    expect(brief(gw.listeners![0]!.conditions)).toEqual(['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed']);
    expect(gateways.gateways.find((g) => g.name === 'theirs')).toMatchObject({ served: false, reason: expect.stringContaining('example.com/other') });

    const routes = (await getJson<RoutesBody>(sy.admin, '/api/v1/routes')).body.routes;
    const route = routes.find((r) => r.name === 'shop/canary')!;
    expect(route).toMatchObject({ kind: 'HTTPRoute', ingress: 'shop/canary', host: 'shop.example' });
    expect(route.parents!.map((p) => [p.parentRef.name, brief(p.conditions)])).toEqual([['gw', ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']]]);
    expect(route.parents![0]!.conditions.map((c) => c.observedGeneration)).toEqual([3, 3]);
    expect(route.backends.map((b) => [b.service, b.weight, b.problem])).toEqual([
      ['shop/web:80', 90, null],
      ['shop/missing:80', 10, 'unknown-service'],
    ]);
    const legacy = routes.find((r) => r.name === 'shop/legacy')!;
    expect(legacy).toMatchObject({ kind: 'Ingress', ingress: 'shop/legacy', backends: [{ service: 'shop/web:80', weight: 1, problem: null }] });
    expect(legacy.parents).toBeUndefined();
    // Regression: a route attached to no listener has no row above; its Accepted=False is listed apart.
    const body = (await getJson<RoutesBody>(sy.admin, '/api/v1/routes')).body;
    expect(routes.some((r) => r.name === 'elsewhere/stray')).toBe(false);
    expect(body.unattached.map((r) => [r.kind, r.name, r.parents.map((p) => [p.parentRef.name, brief(p.conditions)])])).toEqual([
      ['HTTPRoute', 'elsewhere/stray', [['gw', ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=False/BackendNotFound']]]],
    ]);
  });
});
