/**
 * gRPC end to end with real clients: an @grpc/grpc-js client over h2c to the Switchyard CLI, which
 * routes and balances each call on its own to @grpc/grpc-js pods over shared h2c connections
 * (`appProtocol: grpc`). The four call types, metadata and trailers both ways, and Switchyard's own
 * failures answered as gRPC statuses: no route → NOT_FOUND, no ready pod or a refused or resetting pod
 * → UNAVAILABLE, grpc-timeout → DEADLINE_EXCEEDED.
 */
import * as grpc from '@grpc/grpc-js';
import { connect as h2connect, constants, createServer as createH2Server, type ServerHttp2Stream } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { unusedPort } from '../helpers/pods.ts';
import { ingress, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const NS = 'default';
const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const SERVICE = {
  unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, ...raw },
  serverStream: { path: '/test.Echo/ServerStream', requestStream: false, responseStream: true, ...raw },
  clientStream: { path: '/test.Echo/ClientStream', requestStream: true, responseStream: false, ...raw },
  bidi: { path: '/test.Echo/Bidi', requestStream: true, responseStream: true, ...raw },
  hang: { path: '/test.Echo/Hang', requestStream: false, responseStream: false, ...raw },
} satisfies grpc.ServiceDefinition;

type EchoClient = grpc.Client & {
  unary(req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
  serverStream(req: Buffer, md?: grpc.Metadata): grpc.ClientReadableStream<Buffer>;
  clientStream(cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientWritableStream<Buffer>;
  bidi(): grpc.ClientDuplexStream<Buffer, Buffer>;
  hang(req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Buffer) => void): grpc.ClientUnaryCall;
};
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, 'Echo') as unknown as new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;

interface GrpcPod {
  readonly name: string;
  readonly port: number;
  calls: number;
  cancelled: number;
}

async function startGrpcPod(name: string): Promise<GrpcPod> {
  const pod: GrpcPod = { name, port: 0, calls: 0, cancelled: 0 };
  const server = new grpc.Server();
  const who = (): Buffer => Buffer.from(name);
  server.addService(SERVICE, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      pod.calls++;
      const md = new grpc.Metadata();
      md.set('x-pod', name);
      call.sendMetadata(md);
      const trailer = new grpc.Metadata();
      trailer.set('x-echo-metadata', String(call.metadata.get('x-client')[0] ?? ''));
      cb(null, Buffer.concat([who(), Buffer.from(':'), call.request]), trailer);
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      pod.calls++;
      let n = 0;
      const tick = setInterval(() => {
        call.write(Buffer.from(`${name} ${n}`));
        if (++n === 3) {
          clearInterval(tick);
          call.end();
        }
      }, 100);
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      pod.calls++;
      const parts: string[] = [];
      call.on('data', (b: Buffer) => parts.push(b.toString()));
      call.on('end', () => cb(null, Buffer.from(parts.join('+'))));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      pod.calls++;
      call.on('data', (b: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), b])));
      call.on('end', () => call.end());
    },
    hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
      pod.calls++;
      call.on('cancelled', () => pod.cancelled++);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  defer(() => server.forceShutdown());
  Object.assign(pod, { port });
  return pod;
}

function grpcService(name: string, ports: number[]): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { ports: [{ name: 'grpc', port: 50051, protocol: 'TCP', appProtocol: 'grpc' }] } },
    ...ports.map((port, i) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${i}`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    })),
  ];
}

async function edge(services: Record<string, number[]>): Promise<RunningSwitchyard> {
  const dir = await tempManifestDir();
  const docs: Manifest[] = Object.entries(services).flatMap(([name, ports]) => grpcService(name, ports));
  docs.push(ingress({ name: 'grpc', namespace: NS, rules: Object.keys(services).map((name) => ({ host: `${name}.test`, paths: [{ path: '/', service: name, port: 50051 }] })) }));
  await writeManifest(dir, 'all.yaml', docs);
  return startSwitchyard({ manifests: dir, args: ['--upstream-timeout', '2s'] });
}

function client(sy: RunningSwitchyard, authority: string): EchoClient {
  const c = new EchoClient(`${sy.ingress.host}:${sy.ingress.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
  defer(() => c.close());
  return c;
}

const unary = (c: EchoClient, msg: string, md = new grpc.Metadata(), opts: grpc.CallOptions = {}): Promise<{ err: grpc.ServiceError | null; res?: Buffer; headers?: grpc.Metadata; trailers?: grpc.Metadata }> =>
  new Promise((resolve) => {
    let headers: grpc.Metadata | undefined;
    let trailers: grpc.Metadata | undefined;
    const call = c.unary(Buffer.from(msg), md, opts, (err, res) => setImmediate(() => resolve({ err, ...(res ? { res } : {}), ...(headers ? { headers } : {}), ...(trailers ? { trailers } : {}) })));
    call.on('metadata', (m: grpc.Metadata) => (headers = m));
    call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
  });

describe('gRPC through Switchyard (grpc-js client → h2c → grpc-js pods)', () => {
  it('unary calls over one client connection are balanced call by call across pods; metadata and trailers pass both ways', async () => {
    const pods = [await startGrpcPod('pod-a'), await startGrpcPod('pod-b')];
    const sy = await edge({ echo: pods.map((p) => p.port) });
    const c = client(sy, 'echo.test');
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const md = new grpc.Metadata();
      md.set('x-client', `c${i}`);
      const r = await unary(c, `m${i}`, md);
      expect(r.err).toBeNull();
      answers.push(r.res!.toString());
      expect(r.headers!.get('x-pod')[0]).toBe(r.res!.toString().split(':')[0]);
      expect(r.trailers!.get('x-echo-metadata')).toEqual([`c${i}`]);
    }
    // Round-robin over the endpoints in their (address, port) order: strictly alternating, whichever comes first.
    const order = answers.map((a) => a.split(':')[0]);
    const first = pods.slice().sort((x, y) => x.port - y.port).map((p) => p.name);
    expect(order).toEqual([...first, ...first, ...first]);
    expect(pods.map((p) => p.calls)).toEqual([3, 3]);
  });

  it('server streaming, client streaming and bidirectional calls work', async () => {
    const pod = await startGrpcPod('pod-a');
    const sy = await edge({ echo: [pod.port] });
    const c = client(sy, 'echo.test');

    const streamed = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const call = c.serverStream(Buffer.from('go'));
      call.on('data', (b: Buffer) => out.push(b.toString()));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
    expect(streamed).toEqual(['pod-a 0', 'pod-a 1', 'pod-a 2']);

    const summed = await new Promise<string>((resolve, reject) => {
      const call = c.clientStream((err, res) => (err ? reject(err) : resolve(res!.toString())));
      let i = 0;
      const tick = setInterval(() => {
        call.write(Buffer.from(String(i)));
        if (++i === 4) {
          clearInterval(tick);
          call.end();
        }
      }, 50);
    });
    expect(summed).toBe('0+1+2+3');

    const echoed = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const call = c.bidi();
      call.on('data', (b: Buffer) => {
        out.push(b.toString());
        if (out.length < 3) call.write(Buffer.from(`n${out.length}`));
        else call.end();
      });
      call.on('error', reject);
      call.on('end', () => resolve(out));
      call.write(Buffer.from('n0'));
    });
    expect(echoed).toEqual(['re:n0', 're:n1', 're:n2']);
  });

  it("Switchyard's own failures are gRPC statuses: no route NOT_FOUND, no ready pod and a refused pod UNAVAILABLE", async () => {
    const pod = await startGrpcPod('pod-a');
    const closed = await unusedPort('127.0.0.1');
    const sy = await edge({ echo: [pod.port], refused: [closed], empty: [] });

    const noRoute = await unary(client(sy, 'nowhere.test'), 'x');
    expect(noRoute.err?.code).toBe(grpc.status.NOT_FOUND);
    expect(noRoute.err?.details).toBe('no route for this host and path');
    expect(noRoute.err?.metadata.get('x-switchyard-error')).toEqual(['no-route']);

    const noPod = await unary(client(sy, 'empty.test'), 'x');
    expect(noPod.err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(noPod.err?.metadata.get('x-switchyard-error')).toEqual(['no-ready-endpoint']);

    const refused = await unary(client(sy, 'refused.test'), 'x');
    expect(refused.err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(refused.err?.metadata.get('x-switchyard-error')).toEqual(['upstream-connect-failed']);
  });

  it('a pod that resets the call: UNAVAILABLE', async () => {
    const server = createH2Server();
    server.on('stream', (stream: ServerHttp2Stream) => {
      stream.on('error', () => undefined);
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const sy = await edge({ reset: [(server.address() as { port: number }).port] });
    const r = await unary(client(sy, 'reset.test'), 'x');
    expect(r.err?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('grpc-timeout: Switchyard answers DEADLINE_EXCEEDED itself and cancels the call at the pod', async () => {
    const pod = await startGrpcPod('pod-a');
    const sy = await edge({ echo: [pod.port] });
    // A raw HTTP/2 client, so the answer seen is Switchyard's (grpc-js would also give up on its own deadline).
    const session = h2connect(`http://${sy.ingress.host}:${sy.ingress.port}`);
    defer(() => session.destroy());
    const started = Date.now();
    const answer = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, unknown> }>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/test.Echo/Hang', ':authority': 'echo.test', 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': '300m' });
      let headers: Record<string, unknown> = {};
      let trailers: Record<string, unknown> = {};
      req.on('response', (h) => (headers = h));
      req.on('trailers', (t) => (trailers = t));
      req.on('error', reject);
      req.resume();
      req.on('end', () => resolve({ headers, trailers }));
      req.end(Buffer.from([0, 0, 0, 0, 1, 0x78]));
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.headers[':status']).toBe(200);
    expect(answer.headers['grpc-status'] ?? answer.trailers['grpc-status']).toBe('4');
    expect(answer.headers['x-switchyard-error']).toBe('upstream-timeout');
    for (let i = 0; i < 100 && pod.cancelled === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pod.cancelled).toBe(1);
  });
});
