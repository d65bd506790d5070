/**
 * Gateway API status write-back through the real CLI (--gateway-status-address): the status subresource
 * of the GatewayClass, Gateway and HTTPRoute gets the spec's conditions with observedGeneration; other
 * controllers' route parents stay; unchanged status is not rewritten; lastTransitionTime is kept while a
 * condition holds; nothing is written without the flag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { unusedPort } from '../../helpers/pods.ts';
import { startSwitchyard } from '../../helpers/switchyard.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { FakeApiServer, KubeObject } from './fake-apiserver.ts';
import type { StatusTableIn } from '../../../src/sources/kube-source.ts';
import { WARN, gatewayClass, gatewayObj, httpRouteObj, makeSource, startApi, svc } from './harness.ts';

afterEach(cleanupAll);

interface Condition {
  type: string;
  status: string;
  reason: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

const CONTROLLER = 'switchyard.dev/gateway-controller';
const OTHER_PARENT = {
  parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'theirs' },
  controllerName: 'example.com/other',
  conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' }],
};

const statusOf = (api: FakeApiServer, plural: 'gateways' | 'httproutes' | 'gatewayclasses', ns: string, name: string) =>
  api.get(plural, ns, name)?.['status'] as { conditions?: Condition[]; addresses?: unknown[]; listeners?: { name: string; attachedRoutes: number; conditions: Condition[] }[]; parents?: { controllerName: string; parentRef: unknown; conditions: Condition[] }[] } | undefined;
const brief = (conditions: readonly Condition[] | undefined): string[] => (conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`);
const statusWrites = (api: FakeApiServer) => api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status'));

async function setUp(flags: readonly string[]) {
  const h = await startApi();
  h.api.serveGatewayApi();
  const port = await unusedPort('127.0.0.1');
  h.api.upsert('services', svc('shop', 'web'));
  h.api.upsert('gatewayclasses', gatewayClass());
  h.api.upsert('gatewayclasses', gatewayClass('other', 'example.com/other'));
  h.api.upsert('gateways', gatewayObj('shop', 'gw', { port }));
  h.api.upsert('gateways', gatewayObj('shop', 'theirs', { className: 'other' }));
  // Its backend is missing at first (ResolvedRefs False), fixed in generation 2.
  const route: KubeObject = { ...httpRouteObj('shop', 'web', { service: 'nope', parentRefs: [{ name: 'gw' }, { name: 'theirs' }] }), status: { parents: [OTHER_PARENT] } };
  h.api.upsert('httproutes', route);
  const dir = await tempManifestDir();
  await writeManifest(dir, 'empty.yaml', []);
  const sy = await startSwitchyard({ manifests: dir, args: ['--kubeconfig', h.kubeconfig, '--gateway-address', '127.0.0.1', ...flags] });
  return { h, sy, route };
}

describe('Gateway API status write-back', () => {
  it('writes the conditions once, keeps other controllers’ parents, and follows a new generation', async () => {
    const { h, route } = await setUp(['--gateway-status-address', '203.0.113.7']);
    await waitFor(() => statusOf(h.api, 'httproutes', 'shop', 'web')?.parents?.length === 2 && statusOf(h.api, 'gateways', 'shop', 'gw')?.listeners, { timeoutMs: 5000, what: 'the statuses' });

    expect(brief(statusOf(h.api, 'gatewayclasses', '', 'switchyard')?.conditions)).toEqual(['Accepted=True/Accepted@1']);
    const gw = statusOf(h.api, 'gateways', 'shop', 'gw')!;
    expect(gw.addresses).toEqual([{ type: 'IPAddress', value: '203.0.113.7' }]);
    expect(brief(gw.conditions)).toEqual(['Accepted=True/Accepted@1', 'Programmed=True/Programmed@1']);
    expect(gw.listeners!.map((l) => [l.name, l.attachedRoutes, brief(l.conditions)])).toEqual([
      ['web', 1, ['Accepted=True/Accepted@1', 'Conflicted=False/NoConflicts@1', 'ResolvedRefs=True/ResolvedRefs@1', 'Programmed=True/Programmed@1']],
    ]);
    const parents = statusOf(h.api, 'httproutes', 'shop', 'web')!.parents!;
    expect(parents[0]).toEqual(OTHER_PARENT);
    expect(parents[1]).toMatchObject({ controllerName: CONTROLLER, parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'gw' } });
    expect(brief(parents[1]!.conditions)).toEqual(['Accepted=True/Accepted@1', 'ResolvedRefs=False/BackendNotFound@1']);
    const routeWrite = statusWrites(h.api).find((r) => r.path.endsWith('/httproutes/web/status'))!;
    expect(routeWrite.contentType).toBe('application/merge-patch+json');
    expect(routeWrite.body).toMatchObject({ metadata: { resourceVersion: expect.any(String) } });

    // Settled: the MODIFIED events carrying our status do not cause more writes.
    await sleep(300);
    const settled = statusWrites(h.api).length;
    expect(settled).toBe(3);
    await sleep(300);
    expect(statusWrites(h.api)).toHaveLength(settled);

    // A new generation: observedGeneration follows; the condition that held keeps its transition time.
    const acceptedAt = parents[1]!.conditions[0]!.lastTransitionTime;
    await sleep(1100); // a later second, so a rewritten time would show
    const spec = route['spec'] as { rules: { backendRefs: { name: string }[] }[] };
    spec.rules[0]!.backendRefs[0]!.name = 'web';
    h.api.upsert('httproutes', { ...route, status: statusOf(h.api, 'httproutes', 'shop', 'web') });
    await waitFor(() => statusOf(h.api, 'httproutes', 'shop', 'web')?.parents?.[1]?.conditions[0]?.observedGeneration === 2, { timeoutMs: 5000, what: 'generation 2' });
    const next = statusOf(h.api, 'httproutes', 'shop', 'web')!.parents!;
    expect(brief(next[1]!.conditions)).toEqual(['Accepted=True/Accepted@2', 'ResolvedRefs=True/ResolvedRefs@2']);
    expect(next[1]!.conditions[0]!.lastTransitionTime).toBe(acceptedAt);
    expect(next[1]!.conditions[1]!.lastTransitionTime).not.toBe(parents[1]!.conditions[1]!.lastTransitionTime);
    expect(next[0]).toEqual(OTHER_PARENT);
  }, 30_000);

  it('writes nothing without --gateway-status-address', async () => {
    const { h, sy } = await setUp([]);
    await waitFor(async () => (await fetch(`http://${sy.admin.host}:${sy.admin.port}/readyz`)).status === 200, { timeoutMs: 5000 });
    await sleep(300);
    expect(h.api.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  }, 30_000);

  it('redoes a route write that lost a race with another controller (409), keeping its entry', async () => {
    const h = await startApi();
    h.api.serveGatewayApi();
    h.api.upsert('httproutes', httpRouteObj('shop', 'web'));
    const t = makeSource(h, { gatewayStatusAddress: 'lb.example.net', statusRetryMs: 200 });
    await t.source.start();
    // Another controller writes its entry; before its event reaches the source, ours goes out on the old version.
    h.api.upsert('httproutes', { ...h.api.get('httproutes', 'shop', 'web')!, status: { parents: [OTHER_PARENT] } });
    t.source.setGatewayStatus(table('Accepted'));
    await waitFor(() => statusOf(h.api, 'httproutes', 'shop', 'web')?.parents?.length === 2, { timeoutMs: 3000, what: 'our entry beside theirs' });
    const writes = statusWrites(h.api).map((w) => w.path);
    expect(writes.length).toBe(2); // the 409, then the write on the new version
    expect(statusOf(h.api, 'httproutes', 'shop', 'web')!.parents![0]).toEqual(OTHER_PARENT);
    // The server stores the status before the client reads its answer: counted a moment later.
    await waitFor(() => t.source.status().gatewayStatus?.writes === 1, { timeoutMs: 1000, what: 'the write counted' });
    expect(t.source.status().gatewayStatus).toMatchObject({ address: 'lb.example.net', writes: 1, failures: 0 });
  });

  it('logs a failed write, keeps serving, and retries after the pause', async () => {
    const h = await startApi();
    h.api.serveGatewayApi();
    h.api.upsert('httproutes', httpRouteObj('shop', 'web'));
    h.api.failStatusWrites(1);
    const t = makeSource(h, { gatewayStatusAddress: '203.0.113.7', statusRetryMs: 200 });
    await t.source.start();
    t.source.setGatewayStatus(table('Accepted'));
    const warn = await waitFor(() => t.logs.find((l) => l.level === WARN && l['code'] === 'SWY_ERR_KUBE_STATUS_WRITE'), { timeoutMs: 2000, what: 'the warning' });
    expect(warn.msg).toContain('HTTP 500');
    expect(t.source.status()).toMatchObject({ state: 'connected', gatewayStatus: { failures: 1, lastError: { object: 'HTTPRoute shop/web' } } });
    await waitFor(() => statusOf(h.api, 'httproutes', 'shop', 'web')?.parents?.length === 1, { timeoutMs: 2000, what: 'the retry' });
    // A route that no longer names Switchyard's Gateways loses Switchyard's entry (and only it).
    t.source.setGatewayStatus({ classes: [], gateways: [], routes: [] });
    await waitFor(() => statusOf(h.api, 'httproutes', 'shop', 'web')?.parents?.length === 0, { timeoutMs: 2000, what: 'our entry removed' });
  });
});

/** A status table with one parent of route shop/web on Gateway shop/gw, Accepted with `reason`. */
function table(reason: string): StatusTableIn {
  const condition = { type: 'Accepted', status: 'True', reason, message: '', observedGeneration: 1 };
  const parentRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'gw', sectionName: undefined, port: undefined };
  return { classes: [], gateways: [], routes: [{ kind: 'HTTPRoute', namespace: 'shop', name: 'web', parents: [{ parentRef, ours: true, conditions: [condition] }] }] };
}
