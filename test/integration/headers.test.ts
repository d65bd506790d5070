/**
 * Header handling on the way up and down: hop-by-hop fields never cross the proxy, Host passes as
 * sent, and the X-Forwarded-* fields are set (the client's own replaced: no trusted proxies by default).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPod, startPods, loopback, type EchoBody } from '../helpers/pods.ts';
import { startSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

/** One echo pod of Service shop/web behind an Ingress for headers.example. */
async function echoBehindIngress() {
  const [pod] = await startPods(['web-1'], { hosts: [2] });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [
    ...serviceWithPods('web', 'shop', [pod!]),
    ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'headers.example', paths: [{ path: '/', service: 'web' }] }] }),
  ]);
  return { sy: await startSwitchyard({ manifests: dir }) };
}

describe('headers', () => {
  it('drops hop-by-hop request headers, passes Host as sent, and sets X-Forwarded-*', async () => {
    const { sy } = await echoBehindIngress();

    const res = await get(sy.ingress, 'Headers.Example:8443', '/h?q=1', {
      connection: 'keep-alive, X-Secret',
      'x-secret': 'must-not-pass',
      'keep-alive': 'timeout=42',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      upgrade: 'websocket',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https', // client-sent values of these are replaced
      'x-forwarded-host': 'evil.example',
      'x-forwarded-port': '1',
      'x-custom': 'kept',
    });
    expect(res.status).toBe(200);
    const seen = res.json<EchoBody>();
    expect(seen.pod).toBe('web-1');
    const h = seen.headers;
    for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'te', 'upgrade']) expect(h[name], name).toBeUndefined();
    // undici opens its own keep-alive connection to the pod; the client's Connection tokens must not reach it.
    expect(h['connection'] ?? '').not.toMatch(/x-secret/i);
    expect(h['host']).toBe('Headers.Example:8443');
    // No --trusted-proxies: the client's own X-Forwarded-For is replaced (test/security/client-identity.test.ts).
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('Headers.Example:8443');
    expect(h['x-forwarded-port']).toBe(String(sy.ingress.port));
    expect(h['x-custom']).toBe('kept');
    // Each X-Forwarded-* field once: the client's copies were replaced, not duplicated.
    const raw = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'host']) {
      expect(raw.filter((n) => n === name), name).toHaveLength(1);
    }
  });

  it('sets X-Forwarded-For to the client address when the client sent none', async () => {
    const { sy } = await echoBehindIngress();
    const seen = (await get(sy.ingress, 'headers.example', '/')).json<EchoBody>();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['host']).toBe('headers.example');
  });

  it("strips hop-by-hop headers from the pod's response", async () => {
    const pod = await startPod({
      name: 'hop-1',
      host: loopback(2),
      handler: (_req, res) => {
        res.writeHead(200, {
          connection: 'X-Pod-Secret',
          'x-pod-secret': 'must-not-pass',
          'keep-alive': 'timeout=77, max=9',
          'proxy-connection': 'keep-alive',
          upgrade: 'h2c',
          'x-pod-header': 'kept',
          'content-type': 'text/plain',
        });
        res.end('hello from the pod');
      },
    });
    const dir = await tempManifestDir();
    await writeManifest(dir, 'hop.yaml', [
      ...serviceWithPods('hop', 'shop', [pod]),
      ingress({ name: 'hop', namespace: 'shop', rules: [{ host: 'hop.example', paths: [{ path: '/', service: 'hop' }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    const res = await get(sy.ingress, 'hop.example', '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello from the pod');
    expect(res.headers['x-pod-header']).toBe('kept');
    expect(res.headers['x-pod-secret']).toBeUndefined();
    expect(res.headers['proxy-connection']).toBeUndefined();
    expect(res.headers['upgrade']).toBeUndefined();
    // The proxy's own connection management may add Connection/Keep-Alive, but never the pod's values.
    expect(res.headers['connection'] ?? '').not.toMatch(/x-pod-secret/i);
    expect(res.headers['keep-alive'] ?? '').not.toMatch(/77/);
  });
});
