/**
 * The real CLI against the fake API server: --kubeconfig combined with --manifests, routing from
 * cluster objects, a change within 1 s, a name clash reported with the manifests winning, and losing
 * the API server keeping the last state serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { get, getJson } from '../../helpers/http.ts';
import { tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { countsByPod, startPods } from '../../helpers/pods.ts';
import { runSwitchyard, startSwitchyard } from '../../helpers/switchyard.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { KubeObject } from './fake-apiserver.ts';
import { ingress, startApi } from './harness.ts';

afterEach(cleanupAll);

function service(namespace: string, name: string): KubeObject {
  return { metadata: { name, namespace }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } };
}

function slice(namespace: string, serviceName: string, ips: readonly string[], port: number): KubeObject {
  return {
    metadata: { name: `${serviceName}-abc`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  };
}

interface SourceStatus {
  name: string;
  state?: string;
  reconnects?: number;
}

describe('switchyard --kubeconfig', () => {
  it('routes from the cluster, follows changes, reports a clash with the manifests, and keeps serving without the API server', async () => {
    const pods = await startPods(['web-a', 'web-b'], { hosts: [2, 3] });
    const port = pods[0]!.port;
    const h = await startApi();
    h.api.upsert('services', service('shop', 'web'));
    h.api.upsert('endpointslices', slice('shop', 'web', ['127.0.0.2', '127.0.0.3'], port));
    h.api.upsert('ingresses', ingress('shop', 'web', { host: 'web.example' }));
    // The same Service in a local manifest: a clash, which the manifest wins.
    const dir = await tempManifestDir();
    await writeManifest(dir, 'local.yaml', [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.96.0.99', ports: [{ name: 'http', port: 80 }] } }]);

    const sy = await startSwitchyard({ manifests: dir, args: ['--kubeconfig', h.kubeconfig] });
    expect((await getJson(sy.admin, '/readyz')).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await get(sy.ingress, 'web.example', '/')).status).toBe(200);
    expect(countsByPod(pods)).toEqual({ 'web-a': 2, 'web-b': 2 });

    const config = await getJson<{ sources: SourceStatus[]; diagnostics: { code: string; message: string }[] }>(sy.admin, '/api/v1/config');
    expect(config.body.sources.map((s) => s.name)).toEqual(['manifests', 'kubernetes']);
    expect(config.body.diagnostics).toContainEqual(expect.objectContaining({ code: 'SOURCE_CONFLICT', message: expect.stringContaining('using manifests') }));
    const services = await getJson<{ services: { name: string; clusterIPs: string[] }[] }>(sy.admin, '/api/v1/services');
    expect(services.body.services.find((s) => s.name === 'web')!.clusterIPs).toEqual(['10.96.0.99']);

    h.api.upsert('ingresses', ingress('shop', 'web2', { host: 'web2.example', service: 'web' }));
    const changed = Date.now();
    await waitFor(async () => (await get(sy.ingress, 'web2.example', '/')).status === 200, { timeoutMs: 1000, what: 'the new Ingress routed' });
    expect(Date.now() - changed).toBeLessThanOrEqual(1000);

    await h.api.stop();
    const disconnected = await waitFor(
      async () => {
        const s = (await getJson<{ sources: SourceStatus[] }>(sy.admin, '/api/v1/config')).body.sources[1]!;
        return s.state === 'disconnected' ? s : undefined;
      },
      { timeoutMs: 5000, what: 'the kube source disconnected' },
    );
    expect(disconnected.state).toBe('disconnected');
    // Disconnected never means "no endpoints": the last state keeps routing.
    for (let i = 0; i < 4; i++) expect((await get(sy.ingress, 'web.example', '/')).status).toBe(200);
    expect((await getJson(sy.admin, '/readyz')).status).toBe(200);

    await h.api.restart();
    await waitFor(async () => (await getJson<{ sources: SourceStatus[] }>(sy.admin, '/api/v1/config')).body.sources[1]!.state === 'connected', {
      timeoutMs: 40_000,
      intervalMs: 200,
      what: 'the kube source reconnected',
    });
  }, 60_000);

  it('a kubeconfig naming a context that does not exist stops start-up with a coded error', async () => {
    const h = await startApi();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'empty.yaml', []);
    const run = await runSwitchyard(['--manifests', dir, '--kubeconfig', h.kubeconfig, '--context', 'nope', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('SWY_ERR_KUBE_CONFIG');
    expect(run.stderr).toContain('nope');
  });
});
