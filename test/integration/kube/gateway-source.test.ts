/**
 * The Gateway API kinds from the API server: read beside Ingresses through the manifests' validation;
 * a cluster without the CRDs (404) or RBAC without them (403) neither fails nor delays the sync, is
 * logged once, and CRDs installed later are picked up; through the real CLI, a cluster-served HTTPRoute
 * reaches its pods.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { get } from '../../helpers/http.ts';
import { countsByPod, startPods, unusedPort } from '../../helpers/pods.ts';
import { startSwitchyard } from '../../helpers/switchyard.ts';
import { tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { KubeObject } from './fake-apiserver.ts';
import { WARN, gatewayClass, gatewayObj, httpRouteObj, ingress, makeSource, slice, startApi, svc } from './harness.ts';

afterEach(cleanupAll);

const GATEWAY_KEYS = ['GRPCRoute/shop/rpc', 'Gateway/shop/gw', 'GatewayClass//switchyard', 'HTTPRoute/shop/web', 'Namespace//shop', 'ReferenceGrant/shop/grant'];

function referenceGrant(namespace: string): KubeObject {
  return {
    metadata: { name: 'grant', namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'other' }], to: [{ group: '', kind: 'Service' }] },
  };
}

describe('Gateway API kinds from the cluster', () => {
  it('reads them beside Ingresses, validated like manifests, and follows changes', async () => {
    const h = await startApi();
    h.api.serveGatewayApi();
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('ingresses', ingress('shop', 'legacy', { service: 'web' }));
    h.api.upsert('gatewayclasses', gatewayClass());
    h.api.upsert('gateways', gatewayObj('shop', 'gw'));
    h.api.upsert('httproutes', httpRouteObj('shop', 'web'));
    h.api.upsert('referencegrants', referenceGrant('shop'));
    h.api.upsert('namespaces', { metadata: { name: 'shop', labels: { team: 'web' } } });
    h.api.upsert('grpcroutes', { metadata: { name: 'rpc', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } });
    const bad = httpRouteObj('shop', 'bad');
    (bad['spec'] as { rules: { matches?: unknown }[] }).rules[0]!.matches = [{ path: { type: 'PathPrefix', value: 'no-slash' } }];
    h.api.upsert('httproutes', bad);
    const t = makeSource(h);
    await t.source.start();

    expect(t.keys()).toEqual(expect.arrayContaining([...GATEWAY_KEYS, 'Ingress/shop/legacy', 'Service/shop/web']));
    expect(t.keys()).not.toContain('HTTPRoute/shop/bad');
    expect(t.source.status().rejected).toEqual([expect.objectContaining({ kind: 'HTTPRoute', namespace: 'shop', name: 'bad', code: 'SWY_ERR_MANIFEST_INVALID' })]);
    expect(t.source.status().rejected[0]!.message).toContain('spec.rules[0].matches[0].path.value');
    expect(t.source.status().absentKinds).toEqual([]);
    const route = t.latest().find((r) => r.kind === 'HTTPRoute')!;
    expect(route.meta.generation).toBe(1);
    expect(t.latest().find((r) => r.kind === 'Namespace')!.meta.labels).toEqual({ team: 'web' });

    h.api.upsert('httproutes', httpRouteObj('shop', 'web', { hostname: 'new.example.com' }));
    await waitFor(() => (t.latest().find((r) => r.kind === 'HTTPRoute') as { hostnames?: string[] } | undefined)?.hostnames?.[0] === 'new.example.com', { timeoutMs: 2000, what: 'the changed route' });
    expect(t.latest().find((r) => r.kind === 'HTTPRoute')!.meta.generation).toBe(2);
    h.api.remove('gateways', 'shop', 'gw');
    await waitFor(() => !t.keys().includes('Gateway/shop/gw'), { timeoutMs: 2000, what: 'the deletion' });
  });

  it('syncs without the CRDs (404), says so once, and picks them up once installed', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    const t = makeSource(h, { absentKindRetryMs: 150 });
    await t.source.start();
    expect(t.source.status()).toMatchObject({ state: 'connected', synced: true, absentKinds: ['GRPCRoute', 'Gateway', 'GatewayClass', 'HTTPRoute', 'Namespace', 'ReferenceGrant'] });
    expect(t.keys()).toEqual(['Service/shop/web']);
    await waitFor(() => t.logs.some((l) => l.level === WARN && l.msg.includes('does not serve')), { timeoutMs: 1000, what: 'the warning' });
    expect(t.logs.filter((l) => l.level === WARN)).toHaveLength(1);
    expect(t.logs.find((l) => l.level === WARN)!.msg).toContain('HTTPRoute (gateway.networking.k8s.io/v1)');

    h.api.serveGatewayApi();
    h.api.upsert('gatewayclasses', gatewayClass());
    h.api.upsert('gateways', gatewayObj('shop', 'gw'));
    h.api.upsert('httproutes', httpRouteObj('shop', 'web'));
    await waitFor(() => t.keys().includes('HTTPRoute/shop/web') && t.keys().includes('Gateway/shop/gw'), { timeoutMs: 3000, what: 'the kinds picked up' });
    await waitFor(() => t.source.status().absentKinds.length === 0, { timeoutMs: 1000, what: 'no kind absent' });
    // Still one warning: retries that found nothing were not logged again.
    expect(t.logs.filter((l) => l.level === WARN)).toHaveLength(1);
    expect(t.logs.some((l) => l.msg === 'httproutes are served now; reading them')).toBe(true);
  });

  it('syncs when RBAC forbids the Gateway API kinds, with one warning per kind', async () => {
    const h = await startApi();
    h.api.serveGatewayApi();
    h.api.forbid('httproutes');
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('gateways', gatewayObj('shop', 'gw'));
    const t = makeSource(h);
    await t.source.start();
    expect(t.source.status()).toMatchObject({ state: 'connected', synced: true });
    expect(t.keys()).toContain('Gateway/shop/gw');
    const warns = t.logs.filter((l) => l.level === WARN && String(l.msg).includes('httproutes'));
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toContain('cannot read httproutes');

    h.api.allow('httproutes');
    h.api.upsert('httproutes', httpRouteObj('shop', 'web'));
    await waitFor(() => t.keys().includes('HTTPRoute/shop/web'), { timeoutMs: 3000, what: 'the route once allowed' });
  });
});

describe('switchyard --kubeconfig with the Gateway API', () => {
  it('routes a cluster-served HTTPRoute to its pods on the Gateway listener', async () => {
    const pods = await startPods(['web-a', 'web-b'], { hosts: [2, 3] });
    const h = await startApi();
    h.api.serveGatewayApi();
    const port = await unusedPort('127.0.0.1');
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('endpointslices', { ...slice('shop', 'web', ['127.0.0.2', '127.0.0.3']), ports: [{ name: 'http', port: pods[0]!.port, protocol: 'TCP' }] });
    h.api.upsert('gatewayclasses', gatewayClass());
    h.api.upsert('gateways', gatewayObj('shop', 'gw', { port }));
    h.api.upsert('httproutes', httpRouteObj('shop', 'web', { hostname: 'gw.example' }));
    const dir = await tempManifestDir();
    await writeManifest(dir, 'empty.yaml', []);

    const sy = await startSwitchyard({ manifests: dir, args: ['--kubeconfig', h.kubeconfig, '--gateway-address', '127.0.0.1'] });
    const listener = { host: '127.0.0.1', port };
    await waitFor(async () => (await get(listener, 'gw.example', '/').catch(() => ({ status: 0 }))).status === 200, { timeoutMs: 5000, what: 'the route served' });
    for (let i = 0; i < 3; i++) expect((await get(listener, 'gw.example', '/')).status).toBe(200);
    expect(countsByPod(pods)['web-a']! + countsByPod(pods)['web-b']!).toBeGreaterThanOrEqual(4);
    expect(countsByPod(pods)['web-a']).toBeGreaterThan(0);
    expect(countsByPod(pods)['web-b']).toBeGreaterThan(0);
  }, 30_000);
});
