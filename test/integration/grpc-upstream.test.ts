/**
 * gRPC to pods, against a real @grpc/grpc-js server: the four call types through H2EndpointPool with
 * the options the proxy passes for a gRPC call (bodyTimeout 0, te: trailers), statuses passed through,
 * grpc-timeout (DEADLINE_EXCEEDED, the pod's handler sees the cancellation), and the gRPC health check
 * (grpc.health.v1.Health/Check) over h2c and TLS: SERVING, NOT_SERVING, no health service, unreachable.
 *
 * A gRPC client talking to Switchyard needs its HTTP/2 listener (another part of this issue); until
 * then the pool is driven directly, the way proxy.ts drives it.
 */
import * as grpc from '@grpc/grpc-js';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { H2EndpointPool } from '../../src/dataplane/h2-endpoint-pool.ts';
import { connectTcp } from '../../src/dataplane/upstream-connect.ts';
import { checkEndpoint } from '../../src/health/active-checker.ts';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../src/health/h2-probe.ts';
import type { HealthCheckPolicy, UpstreamSpec } from '../../src/snapshot/types.ts';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { collect, fieldsOf, testPki } from '../helpers/h2-pods.ts';
import { unusedPort } from '../helpers/pods.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
const ECHO_SERVICE = {
  unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, ...raw },
  serverStream: { path: '/test.Echo/ServerStream', requestStream: false, responseStream: true, ...raw },
  clientStream: { path: '/test.Echo/ClientStream', requestStream: true, responseStream: false, ...raw },
  bidi: { path: '/test.Echo/Bidi', requestStream: true, responseStream: true, ...raw },
  hang: { path: '/test.Echo/Hang', requestStream: false, responseStream: false, ...raw },
  fail: { path: '/test.Echo/Fail', requestStream: false, responseStream: false, ...raw },
} satisfies grpc.ServiceDefinition;
const HEALTH_SERVICE = { check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, ...raw } } satisfies grpc.ServiceDefinition;

interface GrpcPod {
  readonly key: string;
  readonly port: number;
  /** Calls whose handler saw the client cancel. */
  cancelled: number;
  /** What the health service answers (1 SERVING, 2 NOT_SERVING). */
  health: number;
  /** Service names the health checks asked about. */
  readonly healthAsked: string[];
}

async function startGrpcPod(options: { health?: boolean; tls?: { certPem: string; keyPem: string } } = {}): Promise<GrpcPod> {
  const server = new grpc.Server();
  const pod: GrpcPod = { key: '', port: 0, cancelled: 0, health: 1, healthAsked: [] };
  server.addService(ECHO_SERVICE, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])),
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      let n = 0;
      const tick = setInterval(() => {
        call.write(Buffer.from(`tick ${n}`));
        if (++n === 3) {
          clearInterval(tick);
          call.end();
        }
      }, 150);
      call.write(Buffer.from('start'));
      call.on('cancelled', () => clearInterval(tick));
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const parts: string[] = [];
      call.on('data', (b: Buffer) => parts.push(b.toString()));
      call.on('end', () => cb(null, Buffer.from(parts.join('+'))));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), b])));
      call.on('end', () => call.end());
    },
    hang: (call: grpc.ServerUnaryCall<Buffer, Buffer>) => {
      call.on('cancelled', () => pod.cancelled++);
    },
    fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
  });
  if (options.health !== false) {
    server.addService(HEALTH_SERVICE, {
      check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        // HealthCheckRequest { string service = 1 }: empty for the whole server.
        pod.healthAsked.push(call.request.length === 0 ? '' : call.request.subarray(2).toString());
        cb(null, Buffer.from([0x08, pod.health]));
      },
    });
  }
  const creds = options.tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(options.tls.keyPem), cert_chain: Buffer.from(options.tls.certPem) }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))));
  defer(() => server.forceShutdown());
  Object.assign(pod, { key: `127.0.0.1:${port}`, port });
  return pod;
}

function newPool(key: string): H2EndpointPool {
  const [host, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
  const pool = new H2EndpointPool({ origin: `http://${key}`, authority: key, connect: (cb) => connectTcp({ host, port, connectTimeoutMs: 2000 }, cb), connectTimeoutMs: 2000, maxSessions: 4, keepAliveTimeoutMs: 10_000 });
  defer(() => pool.destroy());
  return pool;
}

/** One gRPC message frame (uncompressed). */
const frame = (msg: string | Buffer): Buffer => {
  const b = Buffer.from(msg);
  const out = Buffer.alloc(5 + b.length);
  out.writeUInt32BE(b.length, 1);
  b.copy(out, 5);
  return out;
};

/** The messages of a gRPC response body. */
function messages(body: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 5 <= body.length; ) {
    const len = body.readUInt32BE(i + 1);
    out.push(body.subarray(i + 5, i + 5 + len).toString());
    i += 5 + len;
  }
  return out;
}

/** A call as proxy.ts sends it: POST, the gRPC content type, te: trailers, headers timeout 200 ms, no body idle timeout. */
function call(method: string, body: Readable, extraHeaders: string[] = []): Dispatcher.DispatchOptions {
  return {
    method: 'POST',
    path: `/test.Echo/${method}`,
    headers: ['host', 'grpc.test', 'content-type', 'application/grpc', 'te', 'trailers', ...extraHeaders],
    body,
    headersTimeout: 200,
    bodyTimeout: 0,
  };
}

/** A request stream that sends `msgs` `gapMs` apart, then half-closes. */
function paced(msgs: string[], gapMs: number): Readable {
  const body = new Readable({ read() {} });
  let i = 0;
  const next = (): void => {
    if (i === msgs.length) {
      body.push(null);
      return;
    }
    body.push(frame(msgs[i++]!));
    setTimeout(next, gapMs);
  };
  next();
  return body;
}

describe('gRPC calls to a @grpc/grpc-js pod over h2c', () => {
  it('unary: the answer and grpc-status 0 in trailers', async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('Unary', Readable.from([frame('hello')])));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toEqual(['application/grpc+proto']);
    expect(messages(r.body)).toEqual(['echo:hello']);
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it('server streaming: messages 150 ms apart (past the 200 ms headers timeout in total) all arrive', async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('ServerStream', Readable.from([frame('go')])));
    expect(r.error).toBeUndefined();
    expect(messages(r.body)).toEqual(['start', 'tick 0', 'tick 1', 'tick 2']);
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it('client streaming: the client sends for 600 ms, longer than the headers timeout, and gets its answer', async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('ClientStream', paced(['a', 'b', 'c', 'd'], 150)));
    expect(r.error).toBeUndefined();
    expect(messages(r.body)).toEqual(['a+b+c+d']);
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it('bidirectional: each message echoed while the client keeps streaming', async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('Bidi', paced(['1', '2', '3'], 120)));
    expect(r.error).toBeUndefined();
    expect(messages(r.body)).toEqual(['re:1', 're:2', 're:3']);
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it("a pod's own error status passes through (trailers-only response)", async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('Fail', Readable.from([frame('x')])));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    const status = r.headers['grpc-status']?.[0] ?? fieldsOf(r.trailers)['grpc-status'];
    expect(status).toBe('5');
  });

  it('many concurrent unary calls share one session', async () => {
    const pod = await startGrpcPod();
    const pool = newPool(pod.key);
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => collect(pool, call('Unary', Readable.from([frame(`m${i}`)])))));
    expect(rs.map((r) => messages(r.body)[0])).toEqual(Array.from({ length: 40 }, (_, i) => `echo:m${i}`));
    expect(pool.connections).toBe(1);
  });

  it('grpc-timeout: a call the pod never answers gets DEADLINE_EXCEEDED, and the pod sees the call cancelled', async () => {
    const pod = await startGrpcPod();
    const started = Date.now();
    const r = await collect(newPool(pod.key), { ...call('Hang', Readable.from([frame('x')]), ['grpc-timeout', '300m']), headersTimeout: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.headers['grpc-status']).toEqual(['4']);
    expect(r.headers['x-switchyard-error']).toEqual(['upstream-timeout']);
    await waitFor(() => pod.cancelled === 1);
  });

  it('without grpc-timeout, --upstream-timeout still bounds the wait for response headers', async () => {
    const pod = await startGrpcPod();
    const r = await collect(newPool(pod.key), call('Hang', Readable.from([frame('x')])));
    expect(r.error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    await waitFor(() => pod.cancelled === 1);
  });
});

describe('gRPC health check (grpc.health.v1.Health/Check)', () => {
  const policy: HealthCheckPolicy = { protocol: 'grpc', path: '/grpc.health.v1.Health/Check', port: 0, intervalMs: 1000, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 1, expectedStatuses: [[200, 399]] };
  const h2c: UpstreamSpec = { protocol: 'h2c', caPem: undefined };

  it('SERVING is healthy; the check asks about the whole server (empty service name)', async () => {
    const pod = await startGrpcPod();
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, h2c)).toEqual({ ok: true, reason: 'SERVING' });
    expect(pod.healthAsked).toEqual(['']);
  });

  it('NOT_SERVING is unhealthy, and says so', async () => {
    const pod = await startGrpcPod();
    pod.health = 2;
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, h2c)).toEqual({ ok: false, reason: 'gRPC health check answered NOT_SERVING' });
    pod.health = 3;
    expect((await checkEndpoint('127.0.0.1', pod.port, policy, h2c)).reason).toBe('gRPC health check answered SERVICE_UNKNOWN');
  });

  it('a pod without the health service (UNIMPLEMENTED) is unhealthy', async () => {
    const pod = await startGrpcPod({ health: false });
    const r = await checkEndpoint('127.0.0.1', pod.port, policy, h2c);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^gRPC health check answered grpc-status 12/);
  });

  it('an unreachable pod is unhealthy (connection refused)', async () => {
    const port = await unusedPort('127.0.0.1');
    expect(await checkEndpoint('127.0.0.1', port, policy, h2c)).toEqual({ ok: false, reason: 'gRPC health check failed: ECONNREFUSED' });
  });

  it('a pod that never answers: unhealthy at the timeout', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
    const r = await checkEndpoint('127.0.0.1', (server.address() as { port: number }).port, { ...policy, timeoutMs: 200 }, h2c);
    expect(r).toEqual({ ok: false, reason: 'gRPC health check failed: timed out after 200 ms' });
  });

  it('the same check on an http1 backend still speaks h2c (gRPC needs HTTP/2)', async () => {
    const pod = await startGrpcPod();
    expect((await checkEndpoint('127.0.0.1', pod.port, policy, { protocol: 'http1', caPem: undefined })).ok).toBe(true);
  });

  it('over TLS for a TLS backend: verified with its CA, refused with another', async () => {
    const pki = testPki();
    const pod = await startGrpcPod({ tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, { protocol: 'tls', caPem: pki.caPem })).toEqual({ ok: true, reason: 'SERVING' });
    expect(await checkEndpoint('127.0.0.1', pod.port, policy, { protocol: 'tls', caPem: undefined })).toEqual({ ok: true, reason: 'SERVING' });
    const wrong = await checkEndpoint('127.0.0.1', pod.port, policy, { protocol: 'tls', caPem: pki.otherCaPem });
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect((await checkEndpoint('127.0.0.1', pod.port, policy, { protocol: 'tls', caPem: '' })).ok).toBe(false);
    // Over h2c, a TLS pod does not answer a health check.
    expect((await checkEndpoint('127.0.0.1', pod.port, { ...policy, timeoutMs: 300 }, h2c)).ok).toBe(false);
  });
});

describe('health protobuf, by hand', () => {
  it('HealthCheckRequest: empty for the whole server, field 1 for a service', () => {
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.from([0, 0, 0, 0, 0]));
    expect(encodeHealthCheckRequest('svc')).toEqual(Buffer.from([0, 0, 0, 0, 5, 0x0a, 3, 0x73, 0x76, 0x63]));
  });

  it.each([
    ['SERVING', [0, 0, 0, 0, 2, 0x08, 1], 1],
    ['NOT_SERVING', [0, 0, 0, 0, 2, 0x08, 2], 2],
    ['field absent: UNKNOWN (proto3 default)', [0, 0, 0, 0, 0], 0],
    ['a varint field 2 then status', [0, 0, 0, 0, 4, 0x10, 7, 0x08, 1], 1],
    ['fixed64 then status', [0, 0, 0, 0, 11, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 1], 1],
    ['unknown length-delimited then status', [0, 0, 0, 0, 6, 0x12, 2, 0x61, 0x62, 0x08, 1], 1],
    ['fixed32 then status', [0, 0, 0, 0, 7, 0x1d, 1, 2, 3, 4, 0x08, 2], 2],
    ['compressed flag set', [1, 0, 0, 0, 2, 0x08, 1], undefined],
    ['truncated frame', [0, 0, 0, 0, 3, 0x08, 1], undefined],
    ['truncated varint', [0, 0, 0, 0, 2, 0x08, 0x81], undefined],
    ['a bad wire type', [0, 0, 0, 0, 2, 0x0b, 1], undefined],
    ['too short', [0, 0, 0], undefined],
  ] as [string, number[], number | undefined][])('%s', (_name, bytes, status) => {
    expect(decodeHealthCheckResponse(Buffer.from(bytes))).toBe(status);
  });
});
