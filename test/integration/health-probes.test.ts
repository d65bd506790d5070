/**
 * Active HTTP health checks follow the backend's way of speaking to its pods: HTTP/1.1 over TLS for a
 * `tls` backend (the pod's certificate checked against the backend's CA, fail-closed when the CA is
 * unusable), HTTP/2 with prior knowledge for an `h2c` backend; the answer's status is judged against
 * `health-check-expected-statuses` either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkEndpoint } from '../../src/health/active-checker.ts';
import type { HealthCheckPolicy, UpstreamSpec } from '../../src/snapshot/types.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { startH2Pod, startHttpsPod, testPki } from '../helpers/h2-pods.ts';

afterEach(cleanupAll);

const policy: HealthCheckPolicy = { protocol: 'http', path: '/healthz', port: 0, intervalMs: 1000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 1, expectedStatuses: [[200, 299]] };

describe('HTTP health checks by upstream protocol', () => {
  it('tls: HTTPS verified with the backend CA, refused with another, fail-closed with an unusable one, unverified without', async () => {
    const pki = testPki();
    const pod = await startHttpsPod({ certPem: pki.certPem, keyPem: pki.keyPem });
    const tls = (caPem: string | undefined): UpstreamSpec => ({ protocol: 'tls', caPem });
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, tls(pki.caPem))).toEqual({ ok: true, reason: 'status 200' });
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, tls(undefined))).toEqual({ ok: true, reason: 'status 200' });
    const wrong = await checkEndpoint('127.0.0.1', pod.port, policy, tls(pki.otherCaPem));
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/^health check \/healthz failed: /);
    const handshakes = pod.handshakes();
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, tls(''))).toEqual({
      ok: false,
      reason: 'health check /healthz failed: no usable CA (switchyard.dev/backend-ca-secret is missing or invalid)',
    });
    // Not even dialled.
    expect(pod.handshakes()).toBe(handshakes);
    expect(pod.requests.every((r) => r.url === '/healthz' && r.httpVersion === '1.1')).toBe(true);
  });

  it('h2c: a GET over HTTP/2, judged by the expected statuses', async () => {
    let status = 204;
    const pod = await startH2Pod({
      handler: (stream, headers) => {
        stream.respond({ ':status': headers[':path'] === '/healthz' ? status : 404 });
        stream.end();
      },
    });
    const h2c: UpstreamSpec = { protocol: 'h2c', caPem: undefined };
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, h2c)).toEqual({ ok: true, reason: 'status 204' });
    status = 503;
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, h2c)).toEqual({ ok: false, reason: 'health check /healthz answered 503' });
  });
});
