/**
 * Gateway API through the real CLI and real pods: HTTPRoutes attached to a Gateway of Switchyard's class
 * route on that Gateway's listener port, apart from the Ingresses of --listen — path, header, query and method matches in the spec's
 * precedence, weighted backends, a missing backend's share answered 500, routes that do not attach
 * reported in the diagnostics, and a broken HTTPRoute refused at start-up like any bad object.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { get, getJson, request, tryConnect } from '../../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { startPods, type EchoBody } from '../../helpers/pods.ts';
import { runSwitchyard, startSwitchyard } from '../../helpers/switchyard.ts';
import { GATEWAY_ON_LOOPBACK, gateway, gatewayClass, gatewayPort, httpRoute, toService, web } from './gateway-manifests.ts';

afterEach(cleanupAll);

interface Diag {
  readonly code: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
}

describe('HTTPRoute matches and precedence', () => {
  it('routes by path, header, query and method in the spec’s order, beside an Ingress', async () => {
    const pods = await startPods(['prefix', 'exact', 'header', 'query', 'method', 'ingress'], { hosts: [2, 3, 4, 5, 6, 7] });
    const [prefix, exact, header, query, method, ing] = pods;
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      gatewayClass(),
      gateway('shop', web(gw.port)),
      ...serviceWithPods('prefix', 'shop', [prefix!]),
      ...serviceWithPods('exact', 'shop', [exact!]),
      ...serviceWithPods('header', 'shop', [header!]),
      ...serviceWithPods('query', 'shop', [query!]),
      ...serviceWithPods('method', 'shop', [method!]),
      ...serviceWithPods('ingress', 'shop', [ing!]),
      httpRoute('shop', 'shop', {
        hostnames: ['shop.example'],
        rules: [
          toService('prefix', [{ path: { type: 'PathPrefix', value: '/api' } }]),
          toService('exact', [{ path: { type: 'Exact', value: '/api/health' } }]),
          toService('header', [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'yes' }] }]),
          toService('query', [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-canary', value: 'yes' }], queryParams: [{ name: 'debug', value: '1' }] }]),
          toService('method', [{ path: { type: 'PathPrefix', value: '/api' }, method: 'DELETE', headers: [{ name: 'x-canary', value: 'yes' }] }]),
        ],
      }),
      ingress({ name: 'legacy', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'ingress' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: GATEWAY_ON_LOOPBACK });

    const cases: [method: string, path: string, headers: Record<string, string>, pod: string][] = [
      ['GET', '/api/items', {}, 'prefix'],
      ['GET', '/api/health', {}, 'exact'],
      ['GET', '/api/items', { 'X-Canary': 'yes' }, 'header'],
      ['GET', '/api/items?debug=1', { 'X-Canary': 'yes' }, 'query'],
      ['GET', '/api/items?debug=2', { 'X-Canary': 'yes' }, 'header'],
      ['DELETE', '/api/items?debug=1', { 'X-Canary': 'yes' }, 'method'],
      ['DELETE', '/api/items', {}, 'prefix'],
    ];
    for (const [m, path, headers, pod] of cases) {
      const res = await request(gw, path, { method: m, host: 'shop.example', headers });
      expect(res.status, `${m} ${path}`).toBe(200);
      const echo = res.json<EchoBody>();
      expect(echo.pod, `${m} ${path} ${JSON.stringify(headers)}`).toBe(pod);
      expect(echo.url, `${m} ${path}`).toBe(path);
    }
    // PathPrefix compares whole elements: /apix is no route's on the Gateway port; the Ingress of the same
    // host is the Ingress listener's, and the HTTPRoute is not served there.
    expect((await get(gw, 'shop.example', '/apix')).status).toBe(404);
    for (const path of ['/apix', '/', '/api/items']) expect((await get(sy.ingress, 'shop.example', path)).json<EchoBody>().pod, path).toBe('ingress');
    // Nothing of another host reaches the route's pods.
    expect((await get(gw, 'other.example', '/api/items')).status).toBe(404);
    const routes = await getJson<{ routes: { host: string; path: string; ingress: string }[] }>(sy.admin, '/api/v1/routes');
    expect(routes.body.routes.filter((r) => r.ingress === 'shop/shop').map((r) => r.path).sort()).toEqual(['/api', '/api', '/api', '/api', '/api/health']);
  });
});

describe('weighted backendRefs', () => {
  it('splits 90/10 over 1,000 requests, interleaved, and weight 0 gets nothing', async () => {
    const [stable, canary, off] = await startPods(['stable', 'canary', 'off'], { hosts: [2, 3, 4] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'canary.yaml', [
      gatewayClass(),
      gateway('shop', web(gw.port)),
      ...serviceWithPods('stable', 'shop', [stable!]),
      ...serviceWithPods('canary', 'shop', [canary!]),
      ...serviceWithPods('off', 'shop', [off!]),
      httpRoute('split', 'shop', {
        rules: [{ backendRefs: [{ name: 'stable', port: 80, weight: 90 }, { name: 'canary', port: 80, weight: 10 }, { name: 'off', port: 80, weight: 0 }] }],
      }),
    ]);
    // One worker here; test/integration/gateway-api/weighted-workers.test.ts checks the same across workers.
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '1', ...GATEWAY_ON_LOOPBACK] });
    const order: string[] = [];
    for (let batch = 0; batch < 100; batch++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => get(gw, 'any.example', '/')));
      for (const a of answers) order.push(a.json<EchoBody>().pod);
    }
    const count = (pod: string) => order.filter((p) => p === pod).length;
    expect(Math.abs(count('stable') - 900), `stable ${count('stable')}`).toBeLessThanOrEqual(20);
    expect(Math.abs(count('canary') - 100), `canary ${count('canary')}`).toBeLessThanOrEqual(20);
    expect(off!.requests).toHaveLength(0);
    // Smooth, not in bursts: never 30 stable in a row (a burst of 90 would be).
    expect(Math.max(...order.join(',').split('canary').map((run) => run.split('stable').length - 1))).toBeLessThan(30);
    // Metrics count each backend under its own Service.
    const metrics = (await request(sy.admin, '/metrics')).body;
    const total = (svc: string) => metrics.split('\n').filter((l) => l.startsWith('switchyard_requests_total{') && l.includes(`service="${svc}"`)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect([total('stable'), total('canary')]).toEqual([count('stable'), count('canary')]);
  });

  it('answers the share of a missing Service 500, the rest reaches its pod', async () => {
    const [pod] = await startPods(['web'], { hosts: [2] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'half.yaml', [
      gatewayClass(),
      gateway('shop', web(gw.port)),
      ...serviceWithPods('web', 'shop', [pod!]),
      httpRoute('half', 'shop', { rules: [{ backendRefs: [{ name: 'web', port: 80 }, { name: 'missing', port: 80 }] }] }),
      httpRoute('none', 'shop', { hostnames: ['none.example'], rules: [{ backendRefs: [{ name: 'missing', port: 80 }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '1', ...GATEWAY_ON_LOOPBACK] });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await get(gw, 'any.example', '/');
      statuses.push(res.status);
      if (res.status === 500) expect(res.headers['x-switchyard-error']).toBe('invalid-backend');
    }
    expect(statuses.filter((s) => s === 500)).toHaveLength(10);
    expect(pod!.requests).toHaveLength(10);
    const none = await get(gw, 'none.example', '/');
    expect([none.status, none.headers['x-switchyard-error']]).toEqual([500, 'invalid-backend']);
    const config = await getJson<{ diagnostics: Diag[] }>(sy.admin, '/api/v1/config');
    expect(config.body.diagnostics.filter((d) => d.code === 'HTTPROUTE_BACKEND_UNRESOLVED').map((d) => `${d.namespace}/${d.name}`)).toEqual(['shop/half', 'shop/none']);
  });
});

describe('routes that do not attach, and bad input', () => {
  it('reports each route that does not attach, with the reason, and keeps routing the others', async () => {
    const [pod] = await startPods(['web'], { hosts: [2] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'gw.yaml', [
      gatewayClass(),
      gatewayClass('other', 'example.com/other'),
      gateway('shop', web(gw.port, { hostname: '*.shop.example' })),
      gateway('shop', undefined, 'other', 'theirs'),
      ...serviceWithPods('web', 'shop', [pod!]),
      httpRoute('ok', 'shop', { hostnames: ['www.shop.example'], rules: [toService('web')] }),
      httpRoute('no-gateway', 'shop', { parentRefs: [{ name: 'nope' }], rules: [toService('web')] }),
      httpRoute('other-namespace', 'team', { parentRefs: [{ name: 'gw', namespace: 'shop' }], rules: [toService('web')] }),
      httpRoute('wrong-host', 'shop', { hostnames: ['www.blog.example'], rules: [toService('web')] }),
      httpRoute('theirs', 'shop', { parentRefs: [{ name: 'theirs' }], rules: [toService('web')] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: GATEWAY_ON_LOOPBACK });
    expect(((await get(gw, 'www.shop.example', '/')).json<EchoBody>()).pod).toBe('web');
    expect((await get(gw, 'www.blog.example', '/')).status).toBe(404);
    const config = await getJson<{ diagnostics: Diag[] }>(sy.admin, '/api/v1/config');
    const lines = config.body.diagnostics.filter((d) => d.kind === 'HTTPRoute' || d.kind === 'Gateway').map((d) => `${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`);
    expect(lines).toEqual([
      'GATEWAY_CLASS_IGNORED Gateway shop/theirs: not served: GatewayClass other has controllerName "example.com/other", not "switchyard.dev/gateway-controller"',
      'HTTPROUTE_NOT_ATTACHED HTTPRoute shop/no-gateway: parentRef Gateway shop/nope: no such Gateway (reason NoMatchingParent)',
      "HTTPROUTE_NOT_ATTACHED HTTPRoute shop/wrong-host: parentRef Gateway shop/gw: none of the route's hostnames (www.blog.example) is within the listener's hostname *.shop.example (reason NoMatchingListenerHostname)",
      "HTTPROUTE_NOT_ATTACHED HTTPRoute team/other-namespace: parentRef Gateway shop/gw: the listener's allowedRoutes do not admit HTTPRoutes of namespace team (reason NotAllowedByListeners)",
    ]);
  });

  it('serves the Gateways of the class --gateway-controller-name names, and only those', async () => {
    const [pod] = await startPods(['web'], { hosts: [2] });
    const [gw, other] = [await gatewayPort(), await gatewayPort()];
    const dir = await tempManifestDir();
    await writeManifest(dir, 'gw.yaml', [
      gatewayClass('ours', 'example.com/edge'),
      gatewayClass(),
      gateway('shop', web(gw.port), 'ours', 'gw'),
      gateway('shop', web(other.port), 'switchyard', 'default-class'),
      ...serviceWithPods('web', 'shop', [pod!]),
      httpRoute('ours', 'shop', { hostnames: ['ours.example'], rules: [toService('web')] }),
      httpRoute('default', 'shop', { parentRefs: [{ name: 'default-class' }], hostnames: ['default.example'], rules: [toService('web')] }),
    ]);
    await startSwitchyard({ manifests: dir, args: ['--gateway-controller-name', 'example.com/edge', ...GATEWAY_ON_LOOPBACK] });
    expect((await get(gw, 'ours.example', '/')).status).toBe(200);
    // The other class's Gateway is not ours: its port is not opened.
    expect(await tryConnect(other, 1000)).not.toBe('connected');
  });

  it('refuses a broken HTTPRoute at start-up in the API server’s words, naming file, document and field', async () => {
    const dir = await tempManifestDir();
    const file = await writeManifest(dir, 'bad.yaml', [gatewayClass(), httpRoute('bad', 'shop', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: 'api' } }], backendRefs: [{ name: 'web', port: 80 }] }] })]);
    const run = await runSwitchyard(['--manifests', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^switchyard: SWY_ERR_MANIFEST_INVALID: /m);
    expect(run.stderr).toContain(`${file}:`);
    expect(run.stderr).toContain(`document 1 field spec.rules[0].matches[0].path.value: Invalid value: "api": value must be an absolute path and start with '/'`);
  });
});
