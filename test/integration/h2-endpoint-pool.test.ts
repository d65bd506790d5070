/**
 * H2EndpointPool over real h2c pods (node:http2 servers), driven with undici's handler interface as the
 * proxy drives it: multiplexing and the pod's stream limit, header translation, body backpressure both
 * ways, trailers, resets, refused connections, the response-headers and body timeouts, grpc-timeout,
 * idle sessions, close and destroy, and UpstreamPools keeping sessions across snapshot swaps.
 */
import { Readable } from 'node:stream';
import { constants } from 'node:http2';
import { createServer } from 'node:http';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { H2EndpointPool } from '../../src/dataplane/h2-endpoint-pool.ts';
import { connectTcp, splitEndpointKey } from '../../src/dataplane/upstream-connect.ts';
import { UpstreamPools } from '../../src/dataplane/upstream-pools.ts';
import type { Snapshot } from '../../src/snapshot/types.ts';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { collect, fieldsOf, startH2Pod, type H2Pod, type StreamHandler } from '../helpers/h2-pods.ts';
import { unusedPort } from '../helpers/pods.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const held: (() => void)[] = [];
afterEach(() => {
  held.length = 0;
});

/** The pods' routes: what each path does. */
const routes: StreamHandler = (stream, headers) => {
  const path = String(headers[':path']);
  if (path.startsWith('/echo')) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-pod': 'h2c', 'set-cookie': ['a=1', 'b=2'] });
      stream.end(JSON.stringify({ headers, bytes: Buffer.concat(chunks).length }));
    });
  } else if (path === '/trailers') {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'grpc-status': '0' }));
    stream.end('body before trailers');
  } else if (path === '/hold') {
    held.push(() => {
      if (!stream.closed) {
        stream.respond({ ':status': 200 });
        stream.end('released');
      }
    });
  } else if (path === '/never') {
    // Keeps the stream open without a response.
  } else if (path === '/reset') {
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  } else if (path === '/protocol-error') {
    stream.close(constants.NGHTTP2_PROTOCOL_ERROR);
  } else if (path === '/reset-midway') {
    stream.respond({ ':status': 200, 'content-type': String(headers['content-type'] ?? 'text/plain') });
    stream.write('partial');
    // destroy() resets (INTERNAL_ERROR); close(code) after respond() would end the stream cleanly first.
    setTimeout(() => stream.destroy(new Error('pod crashed')), 30);
  } else if (path === '/socket-dies') {
    stream.respond({ ':status': 200 });
    stream.write('partial');
    setTimeout(() => stream.session?.socket.destroy(), 30);
  } else if (path === '/slow-body') {
    stream.respond({ ':status': 200, 'content-type': String(headers['content-type'] ?? 'text/plain') });
    stream.write('first ');
    setTimeout(() => !stream.closed && stream.end('second'), 400);
  } else if (path === '/big') {
    stream.respond({ ':status': 200 });
    const chunk = Buffer.alloc(64 * 1024, 120);
    let left = 32; // 2 MiB
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!stream.write(chunk)) {
          stream.once('drain', pump);
          return;
        }
      }
      stream.end();
    };
    pump();
  } else {
    stream.respond({ ':status': 404 });
    stream.end();
  }
};

function newPool(pod: { key: string }, options: { maxSessions?: number; keepAliveTimeoutMs?: number; connectTimeoutMs?: number; maxQueued?: number } = {}): H2EndpointPool {
  const { host, port } = splitEndpointKey(pod.key);
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const pool = new H2EndpointPool({
    origin: `http://${pod.key}`,
    authority: pod.key,
    connect: (cb) => connectTcp({ host, port, connectTimeoutMs }, cb),
    connectTimeoutMs,
    maxSessions: options.maxSessions ?? 4,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 10_000,
    ...(options.maxQueued !== undefined ? { maxQueued: options.maxQueued } : {}),
  });
  defer(() => pool.destroy());
  return pool;
}

const get = (path: string, extra: Partial<Dispatcher.DispatchOptions> = {}): Dispatcher.DispatchOptions => ({
  method: 'GET',
  path,
  headers: ['host', 'app.test'],
  body: null,
  headersTimeout: 5000,
  bodyTimeout: 5000,
  ...extra,
});

async function pod(handler: StreamHandler = routes, settings?: { maxConcurrentStreams: number }): Promise<H2Pod> {
  return startH2Pod({ handler, ...(settings ? { settings } : {}) });
}

describe('H2EndpointPool: multiplexing', () => {
  it('50 concurrent requests share one session', async () => {
    const p = await pod();
    const pool = newPool(p);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => collect(pool, get(`/echo/${i}`))));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(results.map((r) => JSON.parse(r.body.toString()).headers[':path'])).toEqual(Array.from({ length: 50 }, (_, i) => `/echo/${i}`));
    expect(p.sessions).toBe(1);
    expect(pool.connections).toBe(1);
  });

  it("respects the pod's SETTINGS_MAX_CONCURRENT_STREAMS: another session when full, a queue beyond maxSessions", async () => {
    const p = await pod(routes, { maxConcurrentStreams: 3 });
    const pool = newPool(p, { maxSessions: 2 });
    let settled = 0;
    const all = Promise.all(
      Array.from({ length: 8 }, () =>
        collect(pool, get('/hold')).then((r) => {
          settled++;
          return r;
        }),
      ),
    );
    await waitFor(() => p.open === 6);
    // 2 sessions × 3 streams in flight, 2 waiting in the pool: never more than the pod allows.
    expect(p.sessions).toBe(2);
    expect(p.maxOpenPerSession).toBe(3);
    expect(pool.queued).toBe(2);
    // Until every request is answered: the two queued ones reach the pod only as slots free up (a moment
    // may pass with nothing held and nothing open between the first six and them).
    const deadline = Date.now() + 4000;
    while (settled < 8 && Date.now() < deadline) {
      for (const release of held.splice(0)) release();
      await new Promise((r) => setTimeout(r, 10));
    }
    const results = await all;
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(p.maxOpenPerSession).toBe(3);
    expect(p.sessions).toBe(2);
  });
});

describe('H2EndpointPool: the queue is bounded (issue #14)', () => {
  it('past maxQueued a call fails at once with SWY_ERR_UPSTREAM_BUSY; a queued call fails with SWY_ERR_UPSTREAM_QUEUE_TIMEOUT when its headers timeout runs out there', async () => {
    const p = await pod(routes, { maxConcurrentStreams: 1 });
    const pool = newPool(p, { maxSessions: 1, maxQueued: 1 });
    const holding = collect(pool, get('/hold'));
    await waitFor(() => p.open === 1);
    const started = Date.now();
    const queued = collect(pool, get('/hold', { headersTimeout: 300 }));
    const refused = await collect(pool, get('/hold'));
    expect(refused.error?.code).toBe('SWY_ERR_UPSTREAM_BUSY');
    const timedOut = await queued;
    expect(timedOut.error?.code).toBe('SWY_ERR_UPSTREAM_QUEUE_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(pool.queued).toBe(0);
    for (const release of held.splice(0)) release();
    expect((await holding).status).toBe(200);
  });
});

describe('H2EndpointPool: headers, bodies, trailers', () => {
  it('host becomes :authority; connection-specific fields dropped; te: trailers kept; names lower-cased; repeated fields pass', async () => {
    const p = await pod();
    const pool = newPool(p);
    const r = await collect(
      pool,
      get('/echo?q=1', {
        method: 'POST',
        headers: ['Host', 'shop.test:8080', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'TE', 'trailers', 'X-Custom', 'one', 'x-custom', 'two', 'Proxy-Connection', 'x', 'Content-Type', 'text/plain'],
        body: Readable.from([Buffer.from('hello')]),
      }),
    );
    expect(r.error).toBeUndefined();
    const seen = JSON.parse(r.body.toString()) as { headers: Record<string, unknown>; bytes: number };
    expect(seen.headers[':authority']).toBe('shop.test:8080');
    expect(seen.headers[':method']).toBe('POST');
    expect(seen.headers[':scheme']).toBe('http');
    expect(seen.headers[':path']).toBe('/echo?q=1');
    expect(seen.headers['te']).toBe('trailers');
    expect(seen.headers['x-custom']).toBe('one, two');
    for (const name of ['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']) expect(seen.headers).not.toHaveProperty(name);
    expect(seen.bytes).toBe(5);
    // Response fields as undici gives them: raw, pseudo-headers left out, repeated Set-Cookie kept.
    expect(r.headers['x-pod']).toEqual(['h2c']);
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(Object.keys(r.headers).some((n) => n.startsWith(':'))).toBe(false);
  });

  it('te other than trailers is dropped; a request without host gets the endpoint as :authority', async () => {
    const p = await pod();
    const pool = newPool(p);
    const r = await collect(pool, get('/echo', { headers: ['te', 'gzip'] }));
    const seen = JSON.parse(r.body.toString()).headers as Record<string, unknown>;
    expect(seen['te']).toBeUndefined();
    expect(seen[':authority']).toBe(p.key);
  });

  it('trailers reach onComplete as raw Buffers', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/trailers'));
    expect(r.body.toString()).toBe('body before trailers');
    expect(r.trailers!.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(fieldsOf(r.trailers)).toEqual({ 'x-checksum': 'abc123', 'grpc-status': '0' });
  });

  it('no trailers: onComplete gets null', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/echo'));
    expect(r.trailers).toBeNull();
  });

  it('a 4 MiB upload streams with backpressure: the sender never runs far ahead of a slow pod', async () => {
    let received = 0;
    let produced = 0;
    let maxLead = 0;
    const p = await pod((stream) => {
      // 16 KiB per millisecond at most.
      const tick = setInterval(() => {
        const c = stream.read(16 * 1024) as Buffer | null;
        if (c !== null) received += c.length;
      }, 1);
      stream.on('end', () => {
        clearInterval(tick);
        stream.respond({ ':status': 200 });
        stream.end(String(received));
      });
    });
    const body = new Readable({
      read() {
        if (produced >= 4 * 1024 * 1024) {
          this.push(null);
          return;
        }
        produced += 64 * 1024;
        maxLead = Math.max(maxLead, produced - received);
        this.push(Buffer.alloc(64 * 1024, 97));
      },
    });
    const r = await collect(newPool(p), get('/upload', { method: 'PUT', body }));
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe(String(4 * 1024 * 1024));
    // Flow control (the pod's 64 KiB window) and write() backpressure bound what is in flight; without them all 4 MiB would be.
    expect(maxLead).toBeLessThan(1024 * 1024);
  });

  it('a handler that pauses (onData → false) pauses the stream; resume brings the rest', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/big'), { pauseChunks: 5, resumeAfterMs: 20 });
    expect(r.error).toBeUndefined();
    expect(r.body.length).toBe(2 * 1024 * 1024);
  });
});

describe('H2EndpointPool: failures map to the codes of the undici path', () => {
  it('connection refused: ECONNREFUSED before onConnect (nothing written: retryable)', async () => {
    const port = await unusedPort('127.0.0.1');
    const r = await collect(newPool({ key: `127.0.0.1:${port}` }), get('/echo'));
    expect(r.error?.code).toBe('ECONNREFUSED');
    expect(r.connected).toBe(false);
  });

  it('every waiting request fails with the refusal, none hangs', async () => {
    const port = await unusedPort('127.0.0.1');
    const pool = newPool({ key: `127.0.0.1:${port}` });
    const rs = await Promise.all(Array.from({ length: 5 }, () => collect(pool, get('/echo'))));
    expect(rs.map((r) => [r.error?.code, r.connected])).toEqual(Array(5).fill(['ECONNREFUSED', false]));
  });

  it('an HTTP/1.1 server is not an h2c pod: a failure before onConnect, not a hang', async () => {
    const server = createServer((_req, res) => res.end('h1'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (server.close(() => resolve()), server.closeAllConnections())));
    const r = await collect(newPool({ key: `127.0.0.1:${(server.address() as { port: number }).port}` }), get('/'));
    expect(r.error).toBeDefined();
    expect(r.connected).toBe(false);
  });

  it('a pod that resets the stream before answering: ECONNRESET after onConnect', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/reset'));
    expect(r.error?.code).toBe('ECONNRESET');
    expect(r.connected).toBe(true);
    expect(r.status).toBe(0);
  });

  it('a PROTOCOL_ERROR reset is an upstream protocol error', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/protocol-error'));
    expect(r.error?.code).toBe('SWY_ERR_UPSTREAM_PROTOCOL');
  });

  it('a non-gRPC response reset midway fails (the proxy then cuts the client response)', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/reset-midway'));
    expect(r.status).toBe(200);
    expect(r.error?.code).toBe('ECONNRESET');
  });

  it("the pod's connection dying midway is a failure, not a complete response (Node ends such streams' readable side)", async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/socket-dies'));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('partial');
    expect(r.error?.code).toBe('ECONNRESET');
  });

  it('a gRPC response reset midway ends with grpc-status 14 UNAVAILABLE trailers instead', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/reset-midway', { method: 'POST', headers: ['content-type', 'application/grpc'], body: Readable.from([Buffer.alloc(5)]), bodyTimeout: 0 }));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('partial');
    expect(fieldsOf(r.trailers)).toEqual({ 'grpc-status': '14', 'grpc-message': 'upstream connection failed' });
  });

  it('response headers later than headersTimeout: UND_ERR_HEADERS_TIMEOUT, and the stream is cancelled at the pod', async () => {
    const p = await pod();
    const started = Date.now();
    const r = await collect(newPool(p), get('/never', { headersTimeout: 150 }));
    expect(r.error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await waitFor(() => p.cancelled === 1);
  });

  it('headersTimeout does not bound the body: a slow body within bodyTimeout completes', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/slow-body', { headersTimeout: 100, bodyTimeout: 2000 }));
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe('first second');
  });

  it('a pause in the body longer than bodyTimeout: UND_ERR_BODY_TIMEOUT', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/slow-body', { bodyTimeout: 100 }));
    expect(r.status).toBe(200);
    expect(r.error?.code).toBe('UND_ERR_BODY_TIMEOUT');
  });

  it('bodyTimeout 0 (what the proxy passes for gRPC) never cuts a silent stream', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/slow-body', { bodyTimeout: 0 }));
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe('first second');
  });

  it('for a gRPC call the headers timeout starts when the request stream ends, not before', async () => {
    const p = await pod((stream) => {
      stream.resume();
      stream.on('end', () => {
        setTimeout(() => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end();
        }, 50);
      });
    });
    // The client streams for 400 ms (longer than the 150 ms headers timeout), then half-closes; the pod answers 50 ms later.
    const body = new Readable({ read() {} });
    let n = 0;
    const tick = setInterval(() => {
      body.push(Buffer.alloc(5));
      if (++n === 8) {
        clearInterval(tick);
        body.push(null);
      }
    }, 50);
    const r = await collect(newPool(p), get('/svc/Method', { method: 'POST', headers: ['content-type', 'application/grpc', 'te', 'trailers'], body, headersTimeout: 150, bodyTimeout: 0 }));
    expect(r.error).toBeUndefined();
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it('the client going away (abort from onConnect) cancels the stream at the pod', async () => {
    const p = await pod();
    let abort: ((err?: Error) => void) | undefined;
    const done = collect(newPool(p), get('/never'), { onConnect: (a) => (abort = a) });
    await waitFor(() => p.open === 1);
    abort!(new Error('client closed the connection'));
    const r = await done;
    expect(r.error?.message).toBe('client closed the connection');
    await waitFor(() => p.cancelled === 1);
  });
});

describe('H2EndpointPool: grpc-timeout bounds a gRPC call', () => {
  const grpcCall = (path: string, timeout: string): Dispatcher.DispatchOptions =>
    get(path, { method: 'POST', headers: ['content-type', 'application/grpc', 'grpc-timeout', timeout], body: Readable.from([Buffer.alloc(5)]), bodyTimeout: 0 });

  it('no answer within it: a trailers-only DEADLINE_EXCEEDED answer, and the stream cancelled at the pod', async () => {
    const p = await pod();
    const started = Date.now();
    const r = await collect(newPool(p), grpcCall('/never', '200m'));
    const took = Date.now() - started;
    expect(r.error).toBeUndefined();
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    expect(r.status).toBe(200);
    expect(r.headers['grpc-status']).toEqual(['4']);
    expect(r.headers['content-type']).toEqual(['application/grpc']);
    expect(r.headers['x-switchyard-error']).toEqual(['upstream-timeout']);
    expect(r.body.length).toBe(0);
    await waitFor(() => p.cancelled === 1);
  });

  it('a stream that outlives it after its headers: DEADLINE_EXCEEDED in trailers after what was relayed', async () => {
    const p = await pod();
    const r = await collect(newPool(p), grpcCall('/slow-body', '150m'));
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe('first ');
    expect(fieldsOf(r.trailers)).toEqual({ 'grpc-status': '4', 'grpc-message': 'upstream timed out' });
    await waitFor(() => p.cancelled === 1);
  });

  it('a call that ends in time is untouched', async () => {
    const p = await pod();
    const r = await collect(newPool(p), grpcCall('/trailers', '5S'));
    expect(fieldsOf(r.trailers)['grpc-status']).toBe('0');
  });

  it('is only for gRPC calls: a plain request with the header is not cut', async () => {
    const p = await pod();
    const r = await collect(newPool(p), get('/slow-body', { headers: ['grpc-timeout', '50m'] }));
    expect(r.error).toBeUndefined();
    expect(r.body.toString()).toBe('first second');
  });

  it('also while waiting in the queue for a stream slot', async () => {
    const p = await pod(routes, { maxConcurrentStreams: 1 });
    const pool = newPool(p, { maxSessions: 1 });
    const blocker = collect(pool, get('/hold'));
    await waitFor(() => p.open === 1);
    const r = await collect(pool, grpcCall('/echo', '100m'));
    expect(r.headers['grpc-status']).toEqual(['4']);
    expect(r.connected).toBe(false);
    for (const release of held.splice(0)) release();
    expect((await blocker).status).toBe(200);
    expect(p.streams.length).toBe(1); // the expired call never reached the pod
  });
});

describe('H2EndpointPool: lifecycle', () => {
  it('an idle session closes after keepAliveTimeoutMs; the next request opens a new one', async () => {
    const p = await pod();
    const pool = newPool(p, { keepAliveTimeoutMs: 100 });
    expect((await collect(pool, get('/echo'))).status).toBe(200);
    expect(p.live.size).toBe(1);
    await waitFor(() => p.live.size === 0 && pool.connections === 0, { timeoutMs: 3000 });
    expect((await collect(pool, get('/echo'))).status).toBe(200);
    expect(p.sessions).toBe(2);
  });

  it('a busy session is not idle: a long request outlives keepAliveTimeoutMs', async () => {
    const p = await pod();
    const pool = newPool(p, { keepAliveTimeoutMs: 50 });
    const r = await collect(pool, get('/slow-body'));
    expect(r.body.toString()).toBe('first second');
    expect(p.sessions).toBe(1);
  });

  it('close(): in-flight requests finish, then the sessions close; later dispatches fail at once', async () => {
    const p = await pod();
    const pool = newPool(p);
    const inflight = collect(pool, get('/slow-body'));
    await waitFor(() => p.open === 1);
    const closed = pool.close();
    const late = await collect(pool, get('/echo'));
    expect(late.error?.message).toMatch(/closed/);
    expect(late.connected).toBe(false);
    expect((await inflight).body.toString()).toBe('first second');
    await closed;
    await waitFor(() => p.live.size === 0);
  });

  it('destroy(): in-flight and queued requests fail', async () => {
    const p = await pod(routes, { maxConcurrentStreams: 1 });
    const pool = newPool(p, { maxSessions: 1 });
    const a = collect(pool, get('/never'));
    await waitFor(() => p.open === 1);
    const b = collect(pool, get('/never'));
    await pool.destroy();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.error).toBeDefined();
    expect(rb.error?.message).toMatch(/destroyed/);
  });
});

describe('UpstreamPools with h2c backends', () => {
  const snapshotWith = (keys: string[]): Snapshot =>
    ({
      backends: new Map([
        [
          'default/api:80',
          {
            all: keys.map((key) => ({ key })),
            upstream: { protocol: 'h2c', caPem: undefined },
          },
        ],
      ]),
    }) as unknown as Snapshot;

  it('one pool per endpoint and protocol, kept across swaps; removed endpoints drain their in-flight streams, then close', async () => {
    const p = await pod();
    const pools = new UpstreamPools({ connectTimeoutMs: 2000, maxConnections: 4, maxQueued: 1024, keepAliveTimeoutMs: 10_000 });
    defer(() => pools.closeAll(true));
    const h2c = { protocol: 'h2c', caPem: undefined } as const;
    const pool = pools.get(p.key, undefined, h2c);
    expect(pools.get(p.key, undefined, h2c)).toBe(pool);
    expect(pools.get(p.key, undefined, { protocol: 'h2c', caPem: undefined })).toBe(pool);
    expect(pools.get(p.key, undefined)).not.toBe(pool); // HTTP/1.1 is another pool
    expect(pools.get(p.key, 1234, h2c)).not.toBe(pool); // so is another connect timeout
    expect((await collect(pool, get('/echo'))).status).toBe(200);

    pools.retain(snapshotWith([p.key]));
    expect(pools.get(p.key, undefined, h2c)).toBe(pool);
    expect(pools.draining().size).toBe(0);

    const inflight = collect(pool, get('/slow-body'));
    await waitFor(() => p.open === 1);
    pools.retain(snapshotWith([]));
    expect([...pools.draining().keys()]).toEqual([p.key]);
    expect((await inflight).body.toString()).toBe('first second');
    await waitFor(() => pools.draining().size === 0 && p.live.size === 0);
    expect(pools.get(p.key, undefined, h2c)).not.toBe(pool);
  });

  it('a backend that stops speaking h2c to a live endpoint closes that pool quietly (no draining)', async () => {
    const p = await pod();
    const pools = new UpstreamPools({ connectTimeoutMs: 2000, maxConnections: 4, maxQueued: 1024, keepAliveTimeoutMs: 10_000 });
    defer(() => pools.closeAll(true));
    const pool = pools.get(p.key, undefined, { protocol: 'h2c', caPem: undefined });
    expect((await collect(pool, get('/echo'))).status).toBe(200);
    const http1Only = { backends: new Map([['default/api:80', { all: [{ key: p.key }], upstream: { protocol: 'http1', caPem: undefined } }]]) } as unknown as Snapshot;
    pools.retain(http1Only);
    expect(pools.draining().size).toBe(0);
    await waitFor(() => p.live.size === 0);
    expect(pools.get(p.key, undefined, { protocol: 'h2c', caPem: undefined })).not.toBe(pool);
  });
});
