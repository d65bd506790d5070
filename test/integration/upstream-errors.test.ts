/**
 * Failures become the right status with an `x-switchyard-error` reason: 503 for a missing Service or
 * no ready endpoint, 502 when the endpoint refuses connections, 504 when it never answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { endpointSlice, ingress, service, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { loopback, startBlackhole, startPods, unusedPort } from '../helpers/pods.ts';
import { startSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

describe('upstream failures', () => {
  it('answers 503 unknown-service for an Ingress whose backend Service does not exist, and keeps routing the rest', async () => {
    const [web] = await startPods(['web-1'], { hosts: [2] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      ...serviceWithPods('web', 'shop', [web!]),
      ingress({
        name: 'shop',
        namespace: 'shop',
        rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }, { path: '/reviews', service: 'reviews' }] }],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    const res = await get(sy.ingress, 'shop.example', '/reviews/1');
    expect(res.status).toBe(503);
    expect(res.headers['x-switchyard-error']).toBe('unknown-service');
    expect((await get(sy.ingress, 'shop.example', '/')).status).toBe(200);
    expect(web!.requests).toHaveLength(1);
  });

  it('answers 503 no-ready-endpoint for a Service whose endpoints are all not ready, or that has none', async () => {
    const [pod] = await startPods(['starting-1'], { hosts: [2] });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      ...serviceWithPods('starting', 'shop', [pod!], { notReady: ['starting-1'] }),
      service({ name: 'empty', namespace: 'shop' }), // no EndpointSlice at all
      ingress({
        name: 'shop',
        namespace: 'shop',
        rules: [
          { host: 'starting.example', paths: [{ path: '/', service: 'starting' }] },
          { host: 'empty.example', paths: [{ path: '/', service: 'empty' }] },
        ],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    for (const host of ['starting.example', 'empty.example']) {
      const res = await get(sy.ingress, host, '/');
      expect(res.status, host).toBe(503);
      expect(res.headers['x-switchyard-error'], host).toBe('no-ready-endpoint');
    }
    // The pod is listening, but not ready: it must not be sent anything.
    expect(pod!.connections).toBe(0);
  });

  it('answers 502 upstream-connect-failed for an endpoint nobody listens on', async () => {
    const host = loopback(9);
    const port = await unusedPort(host);
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      service({ name: 'gone', namespace: 'shop' }),
      endpointSlice({ service: 'gone', namespace: 'shop', port, endpoints: [{ ip: host }] }),
      ingress({ name: 'gone', namespace: 'shop', rules: [{ host: 'gone.example', paths: [{ path: '/', service: 'gone' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    const res = await get(sy.ingress, 'gone.example', '/');
    expect(res.status).toBe(502);
    expect(res.headers['x-switchyard-error']).toBe('upstream-connect-failed');
  });

  it('answers 504 upstream-timeout with --upstream-timeout 500ms for a pod that accepts but never answers', async () => {
    const hole = await startBlackhole(loopback(10));
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      service({ name: 'hang', namespace: 'shop' }),
      endpointSlice({ service: 'hang', namespace: 'shop', port: hole.port, endpoints: [{ ip: hole.host }] }),
      ingress({ name: 'hang', namespace: 'shop', rules: [{ host: 'hang.example', paths: [{ path: '/', service: 'hang' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--upstream-timeout', '500ms'] });
    // The client waits up to 10 s; the default upstream timeout (60 s) would make this request time out here instead.
    const res = await get(sy.ingress, 'hang.example', '/slow');
    expect(res.status).toBe(504);
    expect(res.headers['x-switchyard-error']).toBe('upstream-timeout');
    expect(hole.connections).toBeGreaterThanOrEqual(1);
  });
});
