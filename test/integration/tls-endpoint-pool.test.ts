/**
 * TlsEndpointPool over real TLS pods: h2 chosen by ALPN (multiplexed), HTTP/1.1 when the pod offers
 * only that (or no ALPN at all), certificate verification only with a CA (a cert signed by the test CA
 * passes, one from another CA or self-signed fails, an unusable CA fails closed), and the failures
 * coded as the undici path codes them.
 */
import { createServer as createNetServer, type Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { TlsEndpointPool } from '../../src/dataplane/tls-endpoint-pool.ts';
import { splitEndpointKey } from '../../src/dataplane/upstream-connect.ts';
import { UpstreamPools } from '../../src/dataplane/upstream-pools.ts';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { collect, fieldsOf, startH2Pod, startHttpsPod, testPki, type StreamHandler } from '../helpers/h2-pods.ts';
import { unusedPort } from '../helpers/pods.ts';

afterEach(cleanupAll);

const echo: StreamHandler = (stream, headers) => {
  stream.resume();
  stream.on('end', () => {
    stream.respond({ ':status': 200, 'content-type': 'application/json' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-trailer': 'yes' }));
    stream.end(JSON.stringify({ scheme: headers[':scheme'], authority: headers[':authority'], path: headers[':path'], alpn: (stream.session?.socket as { alpnProtocol?: string }).alpnProtocol }));
  });
};

function newPool(key: string, caPem: string | undefined, options: { connectTimeoutMs?: number } = {}): TlsEndpointPool {
  const { host, port } = splitEndpointKey(key);
  const pool = new TlsEndpointPool({ host, port, authority: key, caPem, connectTimeoutMs: options.connectTimeoutMs ?? 2000, maxConnections: 4, keepAliveTimeoutMs: 10_000 });
  defer(() => pool.destroy());
  return pool;
}

const get = (path: string): Dispatcher.DispatchOptions => ({ method: 'GET', path, headers: ['host', 'secure.test'], body: null, headersTimeout: 5000, bodyTimeout: 5000 });

describe('TlsEndpointPool: HTTP/2 by ALPN', () => {
  it('a pod offering h2 gets HTTP/2 over TLS, many requests multiplexed on one connection, trailers included', async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem, allowHTTP1: true } });
    const pool = newPool(pod.key, undefined);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => collect(pool, get(`/r/${i}`))));
    expect(results.map((r) => r.error?.message)).toEqual(Array(20).fill(undefined));
    const first = JSON.parse(results[0]!.body.toString());
    expect(first).toMatchObject({ scheme: 'https', authority: 'secure.test', alpn: 'h2' });
    expect(fieldsOf(results[0]!.trailers)).toEqual({ 'x-trailer': 'yes' });
    expect(pool.protocol).toBe('h2');
    // The probe's connection became the session: one handshake for everything.
    expect(pod.handshakes).toBe(1);
    expect(pod.sessions).toBe(1);
  });

  it('with the CA that signed the pod certificate: verified and served', async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    const r = await collect(newPool(pod.key, pki.caPem), get('/verified'));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
  });

  it('with another CA: SWY_ERR_UPSTREAM_TLS before onConnect, nothing reaches the pod', async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    const r = await collect(newPool(pod.key, pki.otherCaPem), get('/wrong-ca'));
    expect(r.error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
    expect(r.error?.message).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(r.connected).toBe(false);
    expect(pod.streams).toHaveLength(0);
  });

  it('a self-signed pod certificate: accepted without a CA, refused with one', async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.selfSignedCertPem, keyPem: pki.selfSignedKeyPem } });
    expect((await collect(newPool(pod.key, undefined), get('/unverified'))).status).toBe(200);
    const refused = await collect(newPool(pod.key, pki.caPem), get('/verified'));
    expect(refused.error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
    expect(pod.streams).toHaveLength(1);
  });

  it("an unusable CA ('': the Secret is missing or bad) fails closed without dialling", async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    const r = await collect(newPool(pod.key, ''), get('/no-ca'));
    expect(r.error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
    expect(r.error?.message).toMatch(/backend-ca-secret/);
    expect(r.connected).toBe(false);
    expect(pod.handshakes).toBe(0);
  });
});

describe('TlsEndpointPool: HTTP/1.1 fallback', () => {
  it('a pod offering only http/1.1 is spoken to in HTTP/1.1 over TLS, on the probe connection first', async () => {
    const pki = testPki();
    const pod = await startHttpsPod({ certPem: pki.certPem, keyPem: pki.keyPem });
    const pool = newPool(pod.key, pki.caPem);
    const r = await collect(pool, get('/h1'));
    expect(r.error).toBeUndefined();
    expect(JSON.parse(r.body.toString())).toEqual({ httpVersion: '1.1', url: '/h1', host: 'secure.test' });
    expect(pool.protocol).toBe('http/1.1');
    expect(pod.handshakes()).toBe(1);
    const more = await Promise.all(Array.from({ length: 6 }, (_, i) => collect(pool, get(`/h1/${i}`))));
    expect(more.map((m) => m.status)).toEqual(Array(6).fill(200));
    expect(pod.requests.every((q) => q.httpVersion === '1.1')).toBe(true);
  });

  it('a pod that negotiates no ALPN at all is HTTP/1.1 too', async () => {
    const pki = testPki();
    const pod = await startHttpsPod({ certPem: pki.certPem, keyPem: pki.keyPem }, { noAlpn: true });
    const pool = newPool(pod.key, undefined);
    expect((await collect(pool, get('/none'))).status).toBe(200);
    expect(pool.protocol).toBe('http/1.1');
  });

  it('the HTTP/1.1 path verifies with the CA as well', async () => {
    const pki = testPki();
    const pod = await startHttpsPod({ certPem: pki.certPem, keyPem: pki.keyPem });
    const r = await collect(newPool(pod.key, pki.otherCaPem), get('/h1'));
    expect(r.error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
    expect(pod.requests).toHaveLength(0);
  });
});

describe('TlsEndpointPool: failures', () => {
  it('connection refused: ECONNREFUSED before onConnect, for every waiting request', async () => {
    const port = await unusedPort('127.0.0.1');
    const pool = newPool(`127.0.0.1:${port}`, undefined);
    const rs = await Promise.all(Array.from({ length: 3 }, () => collect(pool, get('/'))));
    expect(rs.map((r) => [r.error?.code, r.connected])).toEqual(Array(3).fill(['ECONNREFUSED', false]));
    // The next request probes again rather than staying stuck.
    expect((await collect(pool, get('/'))).error?.code).toBe('ECONNREFUSED');
  });

  it('a plain-TCP pod that does not speak TLS: SWY_ERR_UPSTREAM_TLS', async () => {
    const sockets: Socket[] = [];
    const server = createNetServer((s: Socket) => {
      sockets.push(s);
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
    const r = await collect(newPool(`127.0.0.1:${(server.address() as { port: number }).port}`, undefined), get('/'));
    expect(r.error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
  });

  it('a pod that accepts TCP but never completes the handshake: UND_ERR_CONNECT_TIMEOUT', async () => {
    const sockets: Socket[] = [];
    const server = createNetServer((s: Socket) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    defer(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), server.close(() => resolve()))));
    const started = Date.now();
    const r = await collect(newPool(`127.0.0.1:${(server.address() as { port: number }).port}`, undefined, { connectTimeoutMs: 200 }), get('/'));
    expect(r.error?.code).toBe('UND_ERR_CONNECT_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

describe('UpstreamPools with TLS backends', () => {
  it('a pool per CA: a changed CA gets a new pool (new connections verified against it)', async () => {
    const pki = testPki();
    const pod = await startH2Pod({ handler: echo, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
    const pools = new UpstreamPools({ connectTimeoutMs: 2000, maxConnections: 4, maxQueued: 1024, keepAliveTimeoutMs: 10_000 });
    defer(() => pools.closeAll(true));
    const right = pools.get(pod.key, undefined, { protocol: 'tls', caPem: pki.caPem });
    const wrong = pools.get(pod.key, undefined, { protocol: 'tls', caPem: pki.otherCaPem });
    expect(right).not.toBe(wrong);
    expect(pools.get(pod.key, undefined, { protocol: 'tls', caPem: `${pki.caPem}` })).toBe(right);
    expect((await collect(right, get('/'))).status).toBe(200);
    expect((await collect(wrong, get('/'))).error?.code).toBe('SWY_ERR_UPSTREAM_TLS');
  });
});
