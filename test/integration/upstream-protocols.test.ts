/**
 * The CLI speaking to pods the way their Service says, end to end with an HTTP/1.1 client: h2c for
 * `appProtocol: kubernetes.io/h2c`, TLS (h2 by ALPN, HTTP/1.1 otherwise) for `appProtocol: https`,
 * certificates verified against `switchyard.dev/backend-ca-secret` (wrong CA or missing Secret:
 * 502 upstream-tls-failed and a diagnostic), and gRPC health checks taking a NOT_SERVING pod out.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { startH2Pod, startHttpsPod, testPki, type StreamHandler } from '../helpers/h2-pods.ts';
import { request, getJson } from '../helpers/http.ts';
import { ingress, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const NS = 'default';

function svc(name: string, appProtocol: string | undefined, annotations: Record<string, string> = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, annotations },
    spec: { ports: [{ name: 'web', port: 80, protocol: 'TCP', ...(appProtocol ? { appProtocol } : {}) }] },
  };
}

function slice(service: string, endpoints: { ip: string; port: number }[]): Manifest {
  // One slice per port (all endpoints of a slice share its port).
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-${endpoints[0]!.port}`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'web', port: endpoints[0]!.port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: true } })),
  };
}

function caSecret(name: string, caPem: string): Manifest {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, type: 'Opaque', stringData: { 'ca.crt': caPem } };
}

const route = (host: string, service: string) => ({ host, paths: [{ path: '/', service }] });

const h2Echo: StreamHandler = (stream, headers) => {
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-pod-protocol': 'h2' });
    stream.end(JSON.stringify({ scheme: headers[':scheme'], authority: headers[':authority'], path: headers[':path'], xff: headers['x-forwarded-for'] ?? null }));
  });
};

describe('Switchyard to pods over h2c and TLS (HTTP/1.1 client, real CLI)', () => {
  it('routes each Service in its protocol, verifies with the CA Secret, and fails closed on a wrong or missing CA', async () => {
    const pki = testPki();
    const h2c = await startH2Pod({ handler: h2Echo });
    const tlsH2 = await startH2Pod({ handler: h2Echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    const tlsH1 = await startHttpsPod({ certPem: pki.certPem, keyPem: pki.keyPem });
    const dir = await tempManifestDir();
    const CA = 'switchyard.dev/backend-ca-secret';
    await writeManifest(dir, 'all.yaml', [
      svc('h2c', 'kubernetes.io/h2c'),
      slice('h2c', [{ ip: '127.0.0.1', port: h2c.port }]),
      svc('tls-h2', 'https', { [CA]: 'pod-ca' }),
      slice('tls-h2', [{ ip: '127.0.0.1', port: tlsH2.port }]),
      svc('tls-h1', undefined, { 'switchyard.dev/backend-protocol': 'https' }),
      slice('tls-h1', [{ ip: '127.0.0.1', port: tlsH1.port }]),
      svc('wrong-ca', 'https', { [CA]: 'other-ca' }),
      slice('wrong-ca', [{ ip: '127.0.0.1', port: tlsH2.port }]),
      svc('missing-ca', 'https', { [CA]: 'nope' }),
      slice('missing-ca', [{ ip: '127.0.0.1', port: tlsH2.port }]),
      caSecret('pod-ca', pki.caPem),
      caSecret('other-ca', pki.otherCaPem),
      ingress({
        name: 'edge',
        namespace: NS,
        rules: [route('h2c.test', 'h2c'), route('tls-h2.test', 'tls-h2'), route('tls-h1.test', 'tls-h1'), route('wrong-ca.test', 'wrong-ca'), route('missing-ca.test', 'missing-ca')],
      }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--upstream-keepalive-timeout', '2s'] });

    const viaH2c = await request(sy.ingress, '/hello?x=1', { host: 'h2c.test' });
    expect(viaH2c.status).toBe(200);
    expect(viaH2c.headers['x-pod-protocol']).toBe('h2');
    expect(viaH2c.json()).toMatchObject({ scheme: 'http', authority: 'h2c.test', path: '/hello?x=1', xff: '127.0.0.1' });

    const viaTlsH2 = await request(sy.ingress, '/secure', { host: 'tls-h2.test', method: 'POST', body: 'payload' });
    expect(viaTlsH2.status).toBe(200);
    expect(viaTlsH2.json()).toMatchObject({ scheme: 'https', authority: 'tls-h2.test', path: '/secure' });

    const viaTlsH1 = await request(sy.ingress, '/old', { host: 'tls-h1.test' });
    expect(viaTlsH1.status).toBe(200);
    expect(viaTlsH1.json()).toEqual({ httpVersion: '1.1', url: '/old', host: 'tls-h1.test' });

    for (const host of ['wrong-ca.test', 'missing-ca.test']) {
      const refused = await request(sy.ingress, '/', { host });
      expect(refused.status, host).toBe(502);
      expect(refused.headers['x-switchyard-error'], host).toBe('upstream-tls-failed');
    }
    // The pods behind the refused Services never saw a request from them.
    expect(tlsH2.streams.map((h) => h[':authority'])).toEqual(['tls-h2.test']);

    const config = await getJson<{ diagnostics: { code: string; name: string; message: string }[] }>(sy.admin, '/api/v1/config');
    const ca = config.body.diagnostics.filter((d) => d.code === 'BACKEND_CA_SECRET_INVALID');
    expect(ca.map((d) => d.name)).toEqual(['missing-ca']);
    expect(ca[0]!.message).toContain('Secret default/nope does not exist');

    // Many requests over one h2c connection: the pod sees one session.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => request(sy.ingress, `/m/${i}`, { host: 'h2c.test' })));
    expect(many.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(h2c.sessions).toBe(1);
  });
});

describe('gRPC health checks from the CLI', () => {
  it('a NOT_SERVING pod is marked unhealthy with the reason; a SERVING one stays healthy', async () => {
    const pods: { port: number; status: number }[] = [];
    for (const status of [1, 2]) {
      const server = new grpc.Server();
      const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
      server.addService({ check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, ...raw } }, {
        check: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x08, status])),
      });
      const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
      defer(() => server.forceShutdown());
      pods.push({ port, status });
    }
    const dir = await tempManifestDir();
    await writeManifest(dir, 'all.yaml', [
      svc('grpc', 'grpc', { 'switchyard.dev/health-check-protocol': 'grpc', 'switchyard.dev/health-check-interval': '200ms', 'switchyard.dev/health-check-unhealthy-threshold': '1', 'switchyard.dev/health-check-healthy-threshold': '1' }),
      ...pods.map((p) => slice('grpc', [{ ip: '127.0.0.1', port: p.port }])),
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    type Ep = { key: string; state: string; reason: string | null };
    const endpoints = await waitFor(
      async () => {
        const { body } = await getJson<{ endpoints: Ep[] }>(sy.admin, '/api/v1/endpoints');
        const bad = body.endpoints.find((e) => e.key === `127.0.0.1:${pods[1]!.port}`);
        return bad?.state === 'unhealthy' ? body.endpoints : undefined;
      },
      { timeoutMs: 5000, what: 'the NOT_SERVING pod to be unhealthy' },
    );
    const byKey = new Map(endpoints.map((e) => [e.key, e]));
    expect(byKey.get(`127.0.0.1:${pods[1]!.port}`)!.reason).toContain('NOT_SERVING');
    expect(byKey.get(`127.0.0.1:${pods[0]!.port}`)!.state).not.toBe('unhealthy');
  });
});
