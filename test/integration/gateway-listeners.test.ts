/**
 * Gateway listener ports through the real CLI: a socket per distinct listener port on --gateway-address,
 * each answering only the routes attached through its listeners (never on --listen); HTTPS listeners
 * terminating TLS with their certificateRefs chosen by SNI; cross-namespace references needing a
 * ReferenceGrant; a port that cannot be bound reported and retried, the rest served; ports opened and
 * closed as the manifests change; every worker thread serving the port.
 */
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { createServer, type Server } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, getJson, tryConnect, type Response } from '../helpers/http.ts';
import { serviceWithPods, tlsSecretOf, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, unusedPort, type EchoBody, type Pod } from '../helpers/pods.ts';
import { waitUntilWatching, type ConfigView } from '../helpers/reload.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import { selfSigned } from '../unit/support/certs.ts';
import { gateway, gatewayClass, httpRoute, toService } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

const HOST = '127.0.0.1';
const at = (port: number): HostPort => ({ host: HOST, port });

function routeTo(name: string, namespace: string, gw: string, hostnames: readonly string[], service: string): Manifest {
  return httpRoute(name, namespace, { parentRefs: [{ name: gw }], hostnames, rules: [toService(service)] });
}


function grant(namespace: string, fromNamespace: string): Manifest {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'certs', namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: fromNamespace }], to: [{ group: '', kind: 'Secret' }] },
  };
}

async function start(docs: readonly Manifest[], args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; dir: string }> {
  const dir = await tempManifestDir();
  await writeManifest(dir, 'all.yaml', docs);
  const sy = await startSwitchyard({ manifests: dir, args: ['--gateway-address', HOST, ...args] });
  return { sy, dir };
}

const podOf = (res: Response): string | undefined => (res.status === 200 ? res.json<EchoBody>().pod : `status ${res.status}`);

async function diagnostics(sy: RunningSwitchyard): Promise<ConfigView['diagnostics']> {
  return (await getJson<ConfigView>(sy.admin, '/api/v1/config')).body.diagnostics;
}

/** An HTTPS GET for `servername` verified against `ca`: the pod that answered and the certificate's subject. */
function httpsGet(port: number, servername: string, ca: string): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: HOST, port, servername, path: '/', headers: { host: servername }, ca, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn: (res.socket as { alpnProtocol?: string | false }).alpnProtocol ?? null }));
    });
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** The certificate a handshake for `servername` gets, and the protocol ALPN chose when offering h2. */
function handshake(port: number, servername: string): Promise<{ cert: PeerCertificate; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, servername, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] });
    socket.once('secureConnect', () => {
      const result = { cert: socket.getPeerCertificate(), alpn: socket.alpnProtocol };
      socket.destroy();
      resolve(result);
    });
    socket.once('error', reject);
  });
}

/** A GET over TLS whose SNI is `servername` and Host `host` (HTTP/1.1, the certificate not verified): the status and the pod. */
function tlsGetAs(port: number, servername: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: HOST, port, servername, path: '/', headers: { host }, rejectUnauthorized: false, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? `200 ${(JSON.parse(body) as EchoBody).pod}` : `${res.statusCode} ${res.headers['x-switchyard-error'] ?? ''}`));
    });
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Requests on ONE HTTP/2 connection whose SNI is `servername`, one per `:authority`, as a client reusing a connection does: their statuses. */
async function h2StatusesAs(port: number, servername: string, authorities: readonly string[]): Promise<number[]> {
  const session = h2connect(`https://${HOST}:${port}`, { servername, rejectUnauthorized: false });
  defer(() => session.close());
  const statuses: number[] = [];
  for (const authority of authorities) {
    statuses.push(
      await new Promise<number>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': authority });
        stream.once('response', (h) => resolve(Number(h[':status'])));
        stream.once('error', reject);
        stream.resume();
        stream.end();
      }),
    );
  }
  return statuses;
}

async function refused(port: number): Promise<boolean> {
  return tryConnect(at(port), 1000).then(
    (r) => r !== 'connected',
    () => true,
  );
}

describe('Gateway listener ports', () => {
  it('serves each HTTPRoute on its own Gateway’s port only: not on the other Gateway’s port, not on --listen', async () => {
    const [a, b] = await startPods(['pod-a', 'pod-b'], { hosts: [2, 3] });
    const [portA, portB] = [await unusedPort(HOST), await unusedPort(HOST)];
    const { sy } = await start([
      gatewayClass(),
      gateway('shop', [{ name: 'web', port: portA, protocol: 'HTTP' }], 'switchyard', 'gw-a'),
      gateway('shop', [{ name: 'web', port: portB, protocol: 'HTTP' }], 'switchyard', 'gw-b'),
      ...serviceWithPods('svc-a', 'shop', [a!]),
      ...serviceWithPods('svc-b', 'shop', [b!]),
      routeTo('route-a', 'shop', 'gw-a', ['a.example'], 'svc-a'),
      routeTo('route-b', 'shop', 'gw-b', ['b.example'], 'svc-b'),
    ]);
    expect(podOf(await get(at(portA), 'a.example', '/'))).toBe('pod-a');
    expect(podOf(await get(at(portB), 'b.example', '/'))).toBe('pod-b');
    expect((await get(at(portB), 'a.example', '/')).status).toBe(404);
    expect((await get(at(portA), 'b.example', '/')).status).toBe(404);
    expect((await get(sy.ingress, 'a.example', '/')).status).toBe(404);
    expect((await diagnostics(sy)).filter((d) => d.code.startsWith('GATEWAY_LISTENER'))).toEqual([]);
  });

  it('terminates TLS on an HTTPS listener: the certificate of the listener whose hostname the SNI names, HTTP/2 by ALPN', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const port = await unusedPort(HOST);
    const shop = selfSigned(['shop.example']);
    const apps = selfSigned(['*.apps.example']);
    const { sy } = await start([
      gatewayClass(),
      gateway('shop', [
        { name: 'shop', port, protocol: 'HTTPS', hostname: 'shop.example', tls: { certificateRefs: [{ name: 'shop-cert' }] } },
        { name: 'apps', port, protocol: 'HTTPS', hostname: '*.apps.example', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', group: '', name: 'apps-cert' }] } },
      ]),
      tlsSecretOf('shop-cert', 'shop', shop),
      tlsSecretOf('apps-cert', 'shop', apps),
      ...serviceWithPods('web', 'shop', [web!]),
      httpRoute('r', 'shop', { rules: [toService('web')] }),
    ]);
    const res = await httpsGet(port, 'shop.example', shop.certPem);
    expect([res.status, (JSON.parse(res.body) as EchoBody).pod]).toEqual([200, 'web']);
    expect((await httpsGet(port, 'x.apps.example', apps.certPem)).status).toBe(200);
    // A deeper name is within the Gateway wildcard too (X.509 wildcards are not: not verified here).
    expect((await handshake(port, 'a.b.apps.example')).cert.subject.CN).toBe('*.apps.example');
    const h = await handshake(port, 'shop.example');
    expect([h.cert.subject.CN, h.alpn]).toEqual(['shop.example', 'h2']);
    expect((await get(sy.ingress, 'shop.example', '/')).status).toBe(404);
  });

  it('answers 421 when the Host belongs to another listener of the HTTPS port than the SNI chose, over HTTP/1.1 and on a reused HTTP/2 connection', async () => {
    const [any, second, wild] = await startPods(['any', 'second', 'wild'], { hosts: [2, 3, 4] });
    const port = await unusedPort(HOST);
    const cert = selfSigned(['example.org', 'second.example', '*.wild.example']);
    const listener = (name: string, hostname?: string): Manifest => ({ name, port, protocol: 'HTTPS', ...(hostname ? { hostname } : {}), tls: { certificateRefs: [{ name: 'cert' }] } });
    const via = (name: string, section: string, service: string): Manifest => httpRoute(name, 'shop', { parentRefs: [{ name: 'gw', sectionName: section }], rules: [toService(service)] });
    await start([
      gatewayClass(),
      gateway('shop', [listener('any'), listener('second', 'second.example'), listener('wild', '*.wild.example')]),
      tlsSecretOf('cert', 'shop', cert),
      ...serviceWithPods('any', 'shop', [any!]),
      ...serviceWithPods('second', 'shop', [second!]),
      ...serviceWithPods('wild', 'shop', [wild!]),
      via('to-any', 'any', 'any'),
      via('to-second', 'second', 'second'),
      via('to-wild', 'wild', 'wild'),
    ]);
    const cases: [sni: string, host: string, expected: string][] = [
      ['example.org', 'example.org', '200 any'],
      ['example.org', 'second.example', '421 misdirected-request'],
      ['example.org', 'unknown.example', '200 any'], // the same listener: the one without a hostname
      ['second.example', 'second.example', '200 second'],
      ['second.example', 'example.org', '421 misdirected-request'],
      ['a.wild.example', 'b.c.wild.example', '200 wild'],
      ['a.wild.example', 'second.example', '421 misdirected-request'],
      ['unknown.example', 'second.example', '421 misdirected-request'],
    ];
    const got: string[] = [];
    for (const [sni, host] of cases) got.push(await tlsGetAs(port, sni, host));
    expect(got).toEqual(cases.map((c) => c[2]));
    expect(await h2StatusesAs(port, 'second.example', ['second.example', 'example.org', 'x.wild.example', 'second.example'])).toEqual([200, 421, 421, 200]);
  });

  it('a certificateRef to another namespace needs a ReferenceGrant there; granted by an edit, the port opens', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const port = await unusedPort(HOST);
    const cert = selfSigned(['secure.example']);
    const base = [
      gatewayClass(),
      gateway('shop', [{ name: 'tls', port, protocol: 'HTTPS', hostname: 'secure.example', tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } }]),
      tlsSecretOf('cert', 'certs', cert),
      ...serviceWithPods('web', 'shop', [web!]),
      httpRoute('r', 'shop', { rules: [toService('web')] }),
    ];
    const { sy, dir } = await start(base);
    const d = (await diagnostics(sy)).find((x) => x.code === 'GATEWAY_LISTENER_TLS_INVALID');
    expect(d?.message).toMatch(/listener tls \(port \d+\): tls.certificateRefs\[0\] Secret certs\/cert: no ReferenceGrant in namespace certs allows Gateways of namespace shop .*reason RefNotPermitted/);
    expect(await refused(port)).toBe(true);
    await waitUntilWatching(sy, dir);
    await writeManifest(dir, 'all.yaml', [...base, grant('certs', 'shop')]);
    await waitFor(async () => !(await refused(port)) || undefined, { timeoutMs: 5000, what: 'the HTTPS port opening' });
    expect((await httpsGet(port, 'secure.example', cert.certPem)).status).toBe(200);
    expect((await diagnostics(sy)).filter((x) => x.code === 'GATEWAY_LISTENER_TLS_INVALID')).toEqual([]);
  });

  it.each([['1'], ['2']])('--workers %s: a port in use is a diagnostic, not a crash; the other ports serve, and it is bound at the next change once free', async (workers) => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    defer(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const busy = (blocker.address() as { port: number }).port;
    const free = await unusedPort(HOST);
    const docs = [
      gatewayClass(),
      gateway('shop', [
        { name: 'busy', port: busy, protocol: 'HTTP' },
        { name: 'free', port: free, protocol: 'HTTP' },
      ]),
      ...serviceWithPods('web', 'shop', [web!]),
      httpRoute('r', 'shop', { rules: [toService('web')] }),
    ];
    const { sy, dir } = await start(docs, ['--workers', workers]);
    expect(podOf(await get(at(free), 'any.example', '/'))).toBe('web');
    const found = await waitFor(async () => (await diagnostics(sy)).find((x) => x.code === 'GATEWAY_LISTENER_PORT_UNAVAILABLE'), { timeoutMs: 3000, what: 'the port diagnostic' });
    expect(found).toMatchObject({ severity: 'error', kind: 'Gateway', namespace: 'shop', name: 'gw' });
    expect(found.message).toContain(`listener busy: cannot listen on ${HOST}:${busy}: EADDRINUSE`);
    expect(found.message).toContain('reason PortUnavailable');
    // Freed, then any change: the port is tried again.
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await waitUntilWatching(sy, dir);
    await writeManifest(dir, 'all.yaml', [...docs, ...serviceWithPods('other', 'shop', [web!])]);
    await waitFor(async () => (await get(at(busy), 'any.example', '/').catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 5000, what: 'the freed port served' });
    expect((await diagnostics(sy)).filter((x) => x.code === 'GATEWAY_LISTENER_PORT_UNAVAILABLE')).toEqual([]);
    expect(sy.child.exitCode).toBe(null);
  });

  it('a Gateway port that is --listen’s is refused, though SO_REUSEPORT would let the workers bind it twice', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const port = await unusedPort(HOST);
    const { sy } = await start([gatewayClass(), gateway('shop', [{ name: 'web', port, protocol: 'HTTP' }]), ...serviceWithPods('web', 'shop', [web!]), httpRoute('r', 'shop', { rules: [toService('web')] })], ['--workers', '2', '--listen', `${HOST}:${port}`]);
    const found = await waitFor(async () => (await diagnostics(sy)).find((x) => x.code === 'GATEWAY_LISTENER_PORT_UNAVAILABLE'), { timeoutMs: 3000, what: 'the port diagnostic' });
    expect(found.message).toContain(`cannot listen on ${HOST}:${port}: EADDRINUSE (the port of Switchyard's ingress listener)`);
    // Every connection reaches the Ingress listener: the HTTPRoute is never answered there.
    const statuses = await Promise.all(Array.from({ length: 20 }, () => get(sy.ingress, 'any.example', '/').then((r) => r.status)));
    expect(statuses).toEqual(Array(20).fill(404));
  });

  it('opens a listener’s port when it is added to the manifests and closes it when it is removed', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const [first, second] = [await unusedPort(HOST), await unusedPort(HOST)];
    const rest = [gatewayClass(), ...serviceWithPods('web', 'shop', [web!]), httpRoute('r', 'shop', { rules: [toService('web')] })];
    const { sy, dir } = await start([gateway('shop', [{ name: 'one', port: first, protocol: 'HTTP' }]), ...rest]);
    await waitUntilWatching(sy, dir);
    expect(await refused(second)).toBe(true);
    await writeManifest(dir, 'all.yaml', [gateway('shop', [{ name: 'one', port: first, protocol: 'HTTP' }, { name: 'two', port: second, protocol: 'HTTP' }]), ...rest]);
    await waitFor(async () => (await get(at(second), 'x.example', '/').catch(() => undefined))?.status === 200 || undefined, { timeoutMs: 5000, what: 'the added port served' });
    await writeManifest(dir, 'all.yaml', [gateway('shop', [{ name: 'two', port: second, protocol: 'HTTP' }]), ...rest]);
    await waitFor(async () => (await refused(first)) || undefined, { timeoutMs: 5000, what: 'the removed port closed' });
    expect(podOf(await get(at(second), 'x.example', '/'))).toBe('web');
  });

  it('with --workers 2 every worker thread serves the Gateway port', async () => {
    const pods: Pod[] = await startPods(['web'], { hosts: [2] });
    const port = await unusedPort(HOST);
    const { sy } = await start([gatewayClass(), gateway('shop', [{ name: 'web', port, protocol: 'HTTP' }]), ...serviceWithPods('web', 'shop', pods), httpRoute('r', 'shop', { rules: [toService('web')] })], ['--workers', '2']);
    const N = 40;
    // Bursts of new connections: the kernel spreads them over both workers' SO_REUSEPORT sockets.
    for (let i = 0; i < N; i += 10) {
      const statuses = await Promise.all(Array.from({ length: 10 }, () => get(at(port), 'w.example', '/').then((r) => r.status)));
      expect(statuses).toEqual(Array(10).fill(200));
    }
    const workers = await waitFor(
      async () => {
        const ws = (await getJson<{ workers: { requests: number }[] }>(sy.admin, '/api/v1/workers')).body.workers;
        return ws.reduce((n, w) => n + w.requests, 0) === N ? ws : undefined;
      },
      { timeoutMs: 3000, what: 'every worker reporting its requests' },
    );
    expect(workers.map((w) => w.requests > 0)).toEqual([true, true]);
  });
});
