/** The admin API on its own port: health, readiness, the Service registry, the route table, the config. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { getJson } from '../helpers/http.ts';
import { endpointSlice, ingress, service, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import type { ConfigView } from '../helpers/reload.ts';
import { REPO_ROOT, startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

interface ServicesView {
  version: number;
  services: {
    namespace: string;
    name: string;
    names: string[];
    ports: { name: string; port: number; backend: string; endpoints: { address: string; port: number; ready: boolean }[] }[];
  }[];
}

interface RoutesView {
  version: number;
  routes: { host: string; path: string; pathType: string; backend: string | null; service: string; ingress: string; problem: string | null; readyEndpoints: number }[];
  defaultBackend: { backend: string | null } | null;
}

/** shop/web (2 pods, one not ready), blog/api (1 pod), and an Ingress path to a missing Service. */
async function shop(): Promise<{ sy: RunningSwitchyard; file: string; webPort: number; apiPort: number }> {
  const web = await startPods(['web-a', 'web-b'], { hosts: [2, 3] });
  const [api] = await startPods(['api-a'], { hosts: [4] });
  const dir = await tempManifestDir();
  const file = await writeManifest(dir, 'shop.yaml', [
    service({ name: 'web', namespace: 'shop' }),
    endpointSlice({ service: 'web', namespace: 'shop', port: web[0]!.port, endpoints: [{ ip: web[0]!.host }, { ip: web[1]!.host, ready: false }] }),
    service({ name: 'api', namespace: 'blog', port: 8080 }),
    endpointSlice({ service: 'api', namespace: 'blog', port: api!.port, endpoints: [{ ip: api!.host }] }),
    ingress({
      name: 'web',
      namespace: 'shop',
      rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }, { path: '/reviews', service: 'reviews' }] }],
    }),
    ingress({ name: 'api', namespace: 'blog', rules: [{ host: 'api.example', paths: [{ path: '/v1', pathType: 'Exact', service: 'api', port: 8080 }] }] }),
  ]);
  const sy = await startSwitchyard({ manifests: dir });
  return { sy, file, webPort: web[0]!.port, apiPort: api!.port };
}

describe('admin API', () => {
  it('answers /healthz and /readyz with 200 once loaded', async () => {
    const { sy } = await shop();
    const health = await getJson<{ status: string }>(sy.admin, '/healthz');
    expect(health).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await getJson<{ status: string }>(sy.admin, '/readyz');
    expect(ready).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('lists Services with their DNS names, ports and endpoints with readiness at /api/v1/services', async () => {
    const { sy, webPort, apiPort } = await shop();
    const { status, body } = await getJson<ServicesView>(sy.admin, '/api/v1/services');
    expect(status).toBe(200);
    expect(body.version).toBeGreaterThanOrEqual(1);
    const web = body.services.find((s) => s.namespace === 'shop' && s.name === 'web');
    expect(web?.names).toEqual(['web.shop.svc.cluster.local', 'web.shop.svc', 'web.shop']);
    expect(web?.ports).toEqual([
      expect.objectContaining({
        name: 'http',
        port: 80,
        backend: 'shop/web:80',
        endpoints: [
          expect.objectContaining({ address: '127.0.0.2', port: webPort, ready: true }),
          expect.objectContaining({ address: '127.0.0.3', port: webPort, ready: false }),
        ],
      }),
    ]);
    const api = body.services.find((s) => s.namespace === 'blog' && s.name === 'api');
    expect(api?.names[0]).toBe('api.blog.svc.cluster.local');
    expect(api?.ports).toEqual([expect.objectContaining({ port: 8080, backend: 'blog/api:8080', endpoints: [expect.objectContaining({ address: '127.0.0.4', port: apiPort, ready: true })] })]);
    expect(body.services).toHaveLength(2);
  });

  it('shows the host/path table with each backend at /api/v1/routes', async () => {
    const { sy } = await shop();
    const { status, body } = await getJson<RoutesView>(sy.admin, '/api/v1/routes');
    expect(status).toBe(200);
    const table = body.routes.map((r) => [r.host, r.path, r.pathType, r.backend, r.readyEndpoints]);
    expect(table).toEqual(
      expect.arrayContaining([
        ['shop.example', '/', 'Prefix', 'shop/web:80', 1],
        ['shop.example', '/reviews', 'Prefix', null, 0],
        ['api.example', '/v1', 'Exact', 'blog/api:8080', 1],
      ]),
    );
    expect(body.routes).toHaveLength(3);
    expect(body.routes.find((r) => r.path === '/reviews')).toMatchObject({ problem: 'unknown-service', ingress: 'shop/web' });
    expect(body.defaultBackend).toBeNull();
  });

  it('shows the sources, the snapshot and the diagnostics at /api/v1/config', async () => {
    const { sy, file } = await shop();
    const { status, body } = await getJson<ConfigView>(sy.admin, '/api/v1/config');
    expect(status).toBe(200);
    expect(Date.parse(body.startedAt)).not.toBeNaN();
    expect(body.snapshot.version).toBeGreaterThanOrEqual(1);
    expect(body.snapshot.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(body.sources).toHaveLength(1);
    expect(body.sources[0]).toMatchObject({ name: 'manifests', loaded: true, files: 1, objects: 6, rejectedFiles: [] });
    expect(body.sources[0]!.lastError).toBeUndefined();
    expect(body.sources[0]!.lastReload?.applied).toEqual([file]);
    expect(body.diagnostics).toEqual([expect.objectContaining({ code: 'INGRESS_BACKEND_SERVICE_MISSING', kind: 'Ingress', namespace: 'shop', name: 'web' })]);
  });

  it('loads the demo example (examples/demo) and shows its route and registry', async () => {
    // The demo's pods are not started (they would need its fixed port): only the admin view is checked.
    const sy = await startSwitchyard({ manifests: join(REPO_ROOT, 'examples', 'demo') });
    const routes = await getJson<RoutesView>(sy.admin, '/api/v1/routes');
    expect(routes.body.routes).toEqual([expect.objectContaining({ host: 'demo.localhost', path: '/', backend: 'demo/hello:80', readyEndpoints: 3 })]);
    const services = await getJson<ServicesView>(sy.admin, '/api/v1/services');
    expect(services.body.services.map((s) => s.names[0])).toEqual(['hello.demo.svc.cluster.local']);
  });
});
