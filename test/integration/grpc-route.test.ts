/**
 * GRPCRoute through the real CLI with real gRPC: an @grpc/grpc-js client calls a Gateway listener port
 * (h2c on an HTTP listener, TLS with ALPN h2 on an HTTPS one) and Switchyard routes each call by service,
 * method and header to @grpc/grpc-js pods, spoken to over h2c although their Service ports name no
 * appProtocol; backendRefs share calls by weight; a missing backend's share is answered UNAVAILABLE;
 * RequestMirror copies calls; a request that is not a gRPC call does not take a GRPCRoute (an HTTPRoute of
 * the same hostname takes it).
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, getJson, request } from '../helpers/http.ts';
import { serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, unusedPort, type EchoBody } from '../helpers/pods.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import { selfSigned, type Pem } from '../unit/support/certs.ts';
import { gateway, gatewayClass } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

const HOST = '127.0.0.1';
const NS = 'shop';
const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const unaryAt = (path: string) => ({ path, requestStream: false, responseStream: false, ...raw });
/** Three methods of two services: `test.Echo/Unary`, `test.Echo/Shout`, `test.Other/Unary`. */
const METHODS = { echo: unaryAt('/test.Echo/Unary'), shout: unaryAt('/test.Echo/Shout'), other: unaryAt('/test.Other/Unary') } satisfies grpc.ServiceDefinition;
type Call = (req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => grpc.ClientUnaryCall;
type Client = grpc.Client & { echo: Call; shout: Call; other: Call };
const Client = grpc.makeGenericClientConstructor(METHODS, 'Test') as unknown as new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => Client;

interface GrpcPod {
  readonly port: number;
  /** `<path> <request>` of each call received. */
  readonly seen: string[];
}

/** A grpc-js server answering every method with `<name> <path>`. */
async function startGrpcPod(name: string): Promise<GrpcPod> {
  const server = new grpc.Server();
  const seen: string[] = [];
  const answer = (path: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    seen.push(`${path} ${call.request.toString()}`);
    cb(null, Buffer.from(`${name} ${path}`));
  };
  server.addService(METHODS, { echo: answer(METHODS.echo.path), shout: answer(METHODS.shout.path), other: answer(METHODS.other.path) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${HOST}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  defer(() => server.forceShutdown());
  return { port, seen };
}

/** A Service (port 80, no appProtocol: GRPCRoute's h2c default) with one pod. */
function grpcService(name: string, podPort: number): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: 'grpc', port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port: podPort, protocol: 'TCP' }],
      endpoints: [{ addresses: [HOST], conditions: { ready: true } }],
    },
  ];
}

function grpcRoute(name: string, spec: Manifest): Manifest {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name, namespace: NS }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['grpc.example'], ...spec } };
}

const to = (...refs: [service: string, weight?: number][]): Manifest[] => refs.map(([name, weight]) => ({ name, port: 80, ...(weight !== undefined ? { weight } : {}) }));

/** Switchyard with a Gateway listener on a free port of `protocol`, the two pods' Services and `docs`. */
async function start(docs: readonly Manifest[], protocol: 'HTTP' | 'HTTPS' = 'HTTP', extra: readonly Manifest[] = []): Promise<{ sy: RunningSwitchyard; port: number }> {
  const [a, b] = [await startGrpcPod('pod-a'), await startGrpcPod('pod-b')];
  const port = await unusedPort(HOST);
  const listener = { name: 'grpc', port, protocol, ...(protocol === 'HTTPS' ? { tls: { certificateRefs: [{ name: 'grpc-cert' }] } } : {}) };
  const dir = await tempManifestDir();
  await writeManifest(dir, 'all.yaml', [gatewayClass(), gateway(NS, [listener]), ...grpcService('alpha', a.port), ...grpcService('beta', b.port), ...extra, ...docs]);
  // One worker thread: the weighted split is exact per thread.
  const sy = await startSwitchyard({ manifests: dir, args: ['--gateway-address', HOST, '--workers', '1', '--upstream-timeout', '2s'] });
  return { sy, port };
}

function client(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): Client {
  const c = new Client(address, creds, { 'grpc.default_authority': 'grpc.example', ...options });
  defer(() => c.close());
  return c;
}

const call = (c: Client, which: 'echo' | 'shout' | 'other', md = new grpc.Metadata(), request = 'x'): Promise<{ code: number; text: string; error: string | undefined }> =>
  new Promise((resolve) => {
    c[which](Buffer.from(request), md, { deadline: Date.now() + 5000 }, (err, res) =>
      resolve({ code: err?.code ?? grpc.status.OK, text: res?.toString() ?? err?.details ?? '', error: err?.metadata.get('x-switchyard-error')[0]?.toString() }),
    );
  });

const canary = (): grpc.Metadata => {
  const md = new grpc.Metadata();
  md.set('x-canary', 'yes');
  return md;
};

const ROUTING = grpcRoute('routing', {
  rules: [
    { matches: [{ method: { service: 'test.Other' } }], backendRefs: to(['beta']) },
    { matches: [{ method: { method: 'Shout' } }], backendRefs: to(['beta']) },
    { matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: to(['beta']) },
    { backendRefs: to(['alpha']) },
  ],
});

describe('GRPCRoute with grpc-js clients and pods', () => {
  it('routes calls on the Gateway port (h2c) by service, by method and by header, to pods spoken to over h2c', async () => {
    const { sy, port } = await start([ROUTING]);
    const c = client(`${HOST}:${port}`);
    expect(await call(c, 'echo')).toEqual({ code: grpc.status.OK, text: 'pod-a /test.Echo/Unary', error: undefined });
    expect((await call(c, 'other')).text).toBe('pod-b /test.Other/Unary');
    expect((await call(c, 'shout')).text).toBe('pod-b /test.Echo/Shout');
    expect((await call(c, 'echo', canary())).text).toBe('pod-b /test.Echo/Unary');
    // Not on --listen: the route is attached to the Gateway's port only.
    expect((await call(client(`${sy.ingress.host}:${sy.ingress.port}`), 'echo')).code).toBe(grpc.status.NOT_FOUND);
    const config = (await getJson<{ diagnostics: { code: string; kind: string }[] }>(sy.admin, '/api/v1/config')).body;
    expect(config.diagnostics.filter((d) => d.kind === 'GRPCRoute')).toEqual([]);
    // The h2c variant of a Service port lists the port's endpoints once, under the port's own backend.
    const endpoints = (await getJson<{ endpoints: { backend: string | null }[] }>(sy.admin, '/api/v1/endpoints')).body.endpoints;
    expect(endpoints.map((e) => e.backend).filter((b) => b?.startsWith('shop/'))).toEqual(['shop/alpha:80', 'shop/beta:80']);
  });

  it('a request that is not a gRPC call does not take a GRPCRoute: 404 on HTTP/1.1', async () => {
    const { port } = await start([ROUTING]);
    const at = { host: HOST, port };
    expect((await get(at, 'grpc.example', '/test.Echo/Unary')).status).toBe(404);
    const post = await request(at, '/test.Echo/Unary', { method: 'POST', host: 'grpc.example', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([post.status, post.headers['x-switchyard-error']]).toEqual([404, 'no-route']);
  });

  it('answers a gRPC call no GRPCRoute matches (method, header, hostname) UNIMPLEMENTED on a Gateway listener, as the conformance suite requires; NOT_FOUND on --listen', async () => {
    const exact = grpcRoute('exact', {
      rules: [
        { matches: [{ method: { service: 'test.Echo', method: 'Unary' } }], backendRefs: to(['alpha']) },
        { matches: [{ method: { service: 'test.Echo', method: 'Shout' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: to(['beta']) },
      ],
    });
    const { sy, port } = await start([exact]);
    const c = client(`${HOST}:${port}`);
    expect((await call(c, 'echo')).text).toBe('pod-a /test.Echo/Unary');
    expect((await call(c, 'shout', canary())).text).toBe('pod-b /test.Echo/Shout');
    // GRPCExactMethodMatching, GRPCRouteHeaderMatching, GRPCRouteListenerHostnameMatching of the suite.
    const unmatched = [await call(c, 'other'), await call(c, 'shout'), await call(client(`${HOST}:${port}`, undefined, { 'grpc.default_authority': 'other.example' }), 'echo')];
    expect(unmatched.map((r) => [r.code, r.error])).toEqual(Array(3).fill([grpc.status.UNIMPLEMENTED, 'no-route']));
    expect((await call(client(`${sy.ingress.host}:${sy.ingress.port}`), 'echo')).code).toBe(grpc.status.NOT_FOUND);
  });

  it('serves an HTTPRoute and a GRPCRoute of one hostname on one listener: gRPC calls to the GRPCRoute, the rest to the HTTPRoute', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const httpRoute: Manifest = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'site', namespace: NS }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['grpc.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } };
    const { sy, port } = await start([grpcRoute('api', { rules: [{ matches: [{ method: { service: 'test.Echo' } }], backendRefs: to(['alpha']) }] }), httpRoute], 'HTTP', serviceWithPods('web', NS, [web!]));
    const c = client(`${HOST}:${port}`);
    expect((await call(c, 'echo')).text).toBe('pod-a /test.Echo/Unary');
    const page = await get({ host: HOST, port }, 'grpc.example', '/test.Echo/Unary');
    expect([page.status, page.json<EchoBody>().pod]).toEqual([200, 'web']);
    // A gRPC call the GRPCRoute does not match goes to the HTTPRoute's pod, which does not speak gRPC.
    expect((await call(c, 'other')).code).not.toBe(grpc.status.OK);
    const config = (await getJson<{ diagnostics: { code: string }[] }>(sy.admin, '/api/v1/config')).body;
    expect(config.diagnostics.map((d) => d.code)).toContain('GRPCROUTE_HOSTNAME_SHARED');
  });

  it('shares calls 3:1 by weight over 40 calls', async () => {
    const { port } = await start([grpcRoute('split', { rules: [{ backendRefs: to(['alpha', 3], ['beta', 1]) }] })]);
    const c = client(`${HOST}:${port}`);
    const pods: string[] = [];
    for (let i = 0; i < 40; i++) pods.push((await call(c, 'echo')).text.split(' ')[0]!);
    expect(pods.filter((p) => p === 'pod-a')).toHaveLength(30);
    expect(pods.filter((p) => p === 'pod-b')).toHaveLength(10);
    // Smooth weighted round-robin: interleaved, never two of the lighter in a row.
    expect(pods.join(',')).not.toContain('pod-b,pod-b');
  });

  it('answers a missing backend’s share UNAVAILABLE, as the spec requires, and reports it', async () => {
    const { sy, port } = await start([grpcRoute('missing', { rules: [{ backendRefs: to(['alpha'], ['gone']) }] })]);
    const c = client(`${HOST}:${port}`);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await call(c, 'echo'));
    expect(results.filter((r) => r.code === grpc.status.OK)).toHaveLength(2);
    expect(results.filter((r) => r.code !== grpc.status.OK).map((r) => [r.code, r.error])).toEqual([
      [grpc.status.UNAVAILABLE, 'invalid-backend'],
      [grpc.status.UNAVAILABLE, 'invalid-backend'],
    ]);
    const config = (await getJson<{ diagnostics: { code: string; message: string }[] }>(sy.admin, '/api/v1/config')).body;
    expect(config.diagnostics.filter((d) => d.code === 'GRPCROUTE_BACKEND_UNRESOLVED').map((d) => d.message)).toEqual([
      'spec.rules[0].backendRefs[1] shop/gone:80: no such Service in namespace shop; its share of requests is answered UNAVAILABLE (reason BackendNotFound)',
    ]);
  });

  it('mirrors calls to another Service (over h2c) without changing their answers', async () => {
    const shadow = await startGrpcPod('pod-m');
    const rule = { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 } } }], backendRefs: to(['alpha']) };
    const { port } = await start([grpcRoute('mirrored', { rules: [rule] })], 'HTTP', grpcService('shadow', shadow.port));
    const c = client(`${HOST}:${port}`);
    for (let i = 0; i < 3; i++) expect((await call(c, 'echo', new grpc.Metadata(), `m${i}`)).text).toBe('pod-a /test.Echo/Unary');
    await waitFor(() => shadow.seen.length === 3, { timeoutMs: 5000 });
    expect(shadow.seen.sort()).toEqual(['/test.Echo/Unary m0', '/test.Echo/Unary m1', '/test.Echo/Unary m2']);
  });

  it('routes calls on an HTTPS Gateway listener (TLS, ALPN h2)', async () => {
    const cert: Pem = selfSigned(['grpc.example']);
    const secret: Manifest = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'grpc-cert', namespace: NS },
      data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
    };
    const { port } = await start([ROUTING], 'HTTPS', [secret]);
    const c = client(`${HOST}:${port}`, grpc.credentials.createSsl(Buffer.from(cert.certPem)), { 'grpc.ssl_target_name_override': 'grpc.example' });
    expect((await call(c, 'echo')).text).toBe('pod-a /test.Echo/Unary');
    expect((await call(c, 'other')).text).toBe('pod-b /test.Other/Unary');
    expect((await call(c, 'echo', canary())).text).toBe('pod-b /test.Echo/Unary');
  });
});
