/**
 * Routing by Ingress rules through the real CLI: host and path across Services in two namespaces,
 * wildcard hosts, the default backend, and 404 `no-route` when nothing matches.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { REPO_ROOT, startSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const MULTI_EXAMPLE = join(REPO_ROOT, 'examples', 'multi');

describe('routing by host and path', () => {
  it('routes by host and path across two Services in different namespaces', async () => {
    const [web] = await startPods(['web-1'], { hosts: [2] });
    const [api] = await startPods(['api-1'], { hosts: [3] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'shop.yaml', [
      ...serviceWithPods('web', 'shop', [web!]),
      ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] }),
    ]);
    await writeManifest(dir, 'blog.yaml', [
      ...serviceWithPods('api', 'blog', [api!], { port: 8080 }),
      ingress({
        name: 'api',
        namespace: 'blog',
        rules: [
          { host: 'blog.example', paths: [{ path: '/', service: 'api', port: 8080 }] },
          // The same host as shop's Ingress: rules of several Ingresses merge by host.
          { host: 'shop.example', paths: [{ path: '/api', service: 'api', port: 8080 }] },
        ],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });

    const cases: [host: string, path: string, pod: string][] = [
      ['shop.example', '/', 'web-1'],
      ['shop.example', '/cart/42?x=1', 'web-1'],
      ['shop.example', '/api', 'api-1'],
      ['shop.example', '/api/v1/items?limit=3', 'api-1'],
      ['shop.example', '/apix', 'web-1'], // Prefix matches whole path elements only
      ['SHOP.Example:8080', '/api/', 'api-1'], // host compared case-insensitively, port ignored
      ['blog.example', '/', 'api-1'],
      ['blog.example', '/posts/1', 'api-1'],
    ];
    for (const [host, path, pod] of cases) {
      const res = await get(sy.ingress, host, path);
      expect(res.status, `${host}${path}`).toBe(200);
      const echo = res.json<EchoBody>();
      expect(echo.pod, `${host}${path}`).toBe(pod);
      expect(echo.url, `${host}${path}`).toBe(path);
    }
    expect(web!.requests).toHaveLength(3);
    expect(api!.requests).toHaveLength(5);
  });

  it.skipIf(!existsSync(MULTI_EXAMPLE))('loads the multi-namespace example examples/multi/ as it is (skipped when examples/multi/ does not exist)', async () => {
    const sy = await startSwitchyard({ manifests: MULTI_EXAMPLE });
    const services = await getJson<{ services: { namespace: string; name: string }[] }>(sy.admin, '/api/v1/services');
    expect(services.status).toBe(200);
    expect(new Set(services.body.services.map((s) => s.namespace)).size).toBeGreaterThanOrEqual(2);
    const routes = await getJson<{ routes: { host: string; path: string; backend: string | null }[]; defaultBackend: unknown }>(sy.admin, '/api/v1/routes');
    expect(routes.body.routes.length).toBeGreaterThan(0);
    expect(new Set(routes.body.routes.map((r) => r.host)).size).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(!existsSync(MULTI_EXAMPLE))('routes through examples/multi/ with its pods started on free ports (skipped when examples/multi/ does not exist)', async () => {
    // The example addresses its pods on fixed ports; tests bind port 0 only, so a copy is loaded whose
    // endpoint ports are replaced by the free ports of pods started on the example's own addresses.
    const { dir, pods } = await exampleWithLivePods(MULTI_EXAMPLE);
    const sy = await startSwitchyard({ manifests: dir });
    const podOf = async (host: string, path: string): Promise<string> => {
      const res = await get(sy.ingress, host, path);
      expect(res.status, `${host}${path}: ${res.body}`).toBe(200);
      return res.json<EchoBody>().pod;
    };
    const storefront = ['127.0.0.21:8080', '127.0.0.22:8080'];
    // Round-robin over the two ready storefront pods; 127.0.0.23 is not ready.
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await podOf('shop.example.com', `/products/${i}`));
    expect([...seen].sort()).toEqual(storefront);
    expect(storefront).toContain(await podOf('www.shop.example.com', '/')); // wildcard host
    expect(storefront).toContain(await podOf('shop.example.com', '/admin')); // the nginx-class Ingress is ignored
    expect(['127.0.0.24:8081', '127.0.0.25:8081']).toContain(await podOf('shop.example.com', '/cart/items'));
    expect(['127.0.0.24:9090', '127.0.0.25:9090']).toContain(await podOf('shop.example.com', '/cart/metrics'));
    expect(await podOf('login.example.com', '/')).toBe('127.0.0.26:8080'); // v1 Endpoints; 127.0.0.27 is not ready
    expect(await podOf('shop.example.com', '/login')).toBe('127.0.0.26:8080'); // another namespace's Ingress on the same host
    expect(await podOf('nothing.example', '/')).toBe('127.0.0.21:8082'); // the default backend
    const reviews = await get(sy.ingress, 'shop.example.com', '/reviews');
    expect(reviews.status).toBe(503);
    expect(reviews.headers['x-switchyard-error']).toBe('unknown-service');
    expect(pods.get('127.0.0.23:8080')!.requests).toHaveLength(0);
    expect(pods.get('127.0.0.27:8080')!.requests).toHaveLength(0);
  });

  it('routes a wildcard host one label deep, exact hosts first', async () => {
    const [wild] = await startPods(['wild-1'], { hosts: [2] });
    const [exact] = await startPods(['exact-1'], { hosts: [3] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'apps.yaml', [
      ...serviceWithPods('wild', 'apps', [wild!]),
      ...serviceWithPods('exact', 'apps', [exact!]),
      ingress({
        name: 'apps',
        namespace: 'apps',
        rules: [
          { host: '*.apps.example', paths: [{ path: '/', service: 'wild' }] },
          { host: 'special.apps.example', paths: [{ path: '/', service: 'exact' }] },
        ],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });

    for (const host of ['foo.apps.example', 'BAR.apps.example', 'x-1.apps.example:80']) {
      const res = await get(sy.ingress, host, '/p');
      expect(res.status, host).toBe(200);
      expect(res.json<EchoBody>().pod, host).toBe('wild-1');
    }
    const special = await get(sy.ingress, 'special.apps.example', '/');
    expect(special.json<EchoBody>().pod).toBe('exact-1');
    // `*.apps.example` covers exactly one more label.
    for (const host of ['apps.example', 'a.b.apps.example']) {
      const res = await get(sy.ingress, host, '/');
      expect(res.status, host).toBe(404);
      expect(res.headers['x-switchyard-error'], host).toBe('no-route');
    }
    expect(wild!.requests).toHaveLength(3);
    expect(exact!.requests).toHaveLength(1);
  });

  it('sends requests that match no rule to the defaultBackend', async () => {
    const [app] = await startPods(['app-1'], { hosts: [2] });
    const [fallback] = await startPods(['fallback-1'], { hosts: [3] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      ...serviceWithPods('app', 'front', [app!]),
      ...serviceWithPods('fallback', 'front', [fallback!]),
      ingress({
        name: 'front',
        namespace: 'front',
        defaultBackend: { service: 'fallback' },
        rules: [{ host: 'known.example', paths: [{ path: '/app', service: 'app' }] }],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });

    expect((await get(sy.ingress, 'known.example', '/app/x')).json<EchoBody>().pod).toBe('app-1');
    for (const [host, path] of [
      ['unknown.example', '/'],
      ['unknown.example', '/app'],
      ['known.example', '/other'], // a known host whose paths do not match also falls back
    ] as const) {
      const res = await get(sy.ingress, host, path);
      expect(res.status, `${host}${path}`).toBe(200);
      expect(res.json<EchoBody>().pod, `${host}${path}`).toBe('fallback-1');
    }
    expect(fallback!.requests.map((r) => r.url)).toEqual(['/', '/app', '/other']);
  });

  it('answers 404 with x-switchyard-error: no-route when nothing matches and there is no defaultBackend', async () => {
    const [web] = await startPods(['web-1'], { hosts: [2] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'web.yaml', [
      ...serviceWithPods('web', 'shop', [web!]),
      ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/store', service: 'web' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });

    expect((await get(sy.ingress, 'shop.example', '/store')).status).toBe(200);
    for (const [host, path] of [
      ['other.example', '/store'],
      ['shop.example', '/'],
      ['shop.example', '/storefront'],
    ] as const) {
      const res = await get(sy.ingress, host, path);
      expect(res.status, `${host}${path}`).toBe(404);
      expect(res.headers['x-switchyard-error'], `${host}${path}`).toBe('no-route');
    }
    expect(web!.requests).toHaveLength(1);
  });
});

interface RawPort {
  port: number;
}
interface RawEndpointDoc {
  kind?: string;
  ports?: RawPort[];
  endpoints?: { addresses: string[] }[];
  subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[]; ports?: RawPort[] }[];
  items?: RawEndpointDoc[];
}

/**
 * Copies a manifest directory into a temp dir, starting one pod (named `address:originalPort`) for
 * every endpoint address and port of its EndpointSlices and Endpoints, and rewriting each original
 * port to the pods' free port.
 */
async function exampleWithLivePods(src: string): Promise<{ dir: string; pods: Map<string, Pod> }> {
  const files = (await readdir(src)).filter((f) => /\.(ya?ml|json)$/.test(f));
  const docsByFile = new Map<string, RawEndpointDoc[]>();
  const addressesByPort = new Map<number, Set<string>>();
  const visit = (doc: RawEndpointDoc | null, fn: (ports: RawPort[], addresses: string[]) => void): void => {
    if (!doc) return;
    for (const item of doc.items ?? []) visit(item, fn);
    if (doc.kind === 'EndpointSlice') fn(doc.ports ?? [], (doc.endpoints ?? []).map((e) => e.addresses[0]!));
    if (doc.kind === 'Endpoints') for (const s of doc.subsets ?? []) fn(s.ports ?? [], [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].map((a) => a.ip));
  };
  for (const file of files) {
    const docs = loadAll(await readFile(join(src, file), 'utf8')) as RawEndpointDoc[];
    docsByFile.set(file, docs);
    for (const doc of docs) {
      visit(doc, (ports, addresses) => {
        for (const p of ports) for (const a of addresses) {
          if (!a.startsWith('127.')) throw new Error(`example endpoint ${a} is not a loopback address`);
          let set = addressesByPort.get(p.port);
          if (!set) addressesByPort.set(p.port, (set = new Set()));
          set.add(a);
        }
      });
    }
  }
  const pods = new Map<string, Pod>();
  const newPort = new Map<number, number>();
  for (const [port, addresses] of addressesByPort) {
    const list = [...addresses].sort();
    const started = await startPods(list.map((a) => `${a}:${port}`), { hosts: list.map((a) => Number(a.split('.')[3])) });
    for (const pod of started) pods.set(pod.name, pod);
    newPort.set(port, started[0]!.port);
  }
  const dir = await tempManifestDir();
  for (const [file, docs] of docsByFile) {
    for (const doc of docs) visit(doc, (ports) => ports.forEach((p) => (p.port = newPort.get(p.port)!)));
    await writeManifest(dir, file, docs.filter((d) => d !== null).map((d) => `---\n${dump(d)}`).join(''));
  }
  return { dir, pods };
}
