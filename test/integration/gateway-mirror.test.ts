/**
 * HTTPRoute RequestMirror through the real CLI and real pods: the copy reaches the mirror's pod with the
 * main request's method, path, edited headers and body (Host `-shadow`); the main response is the main
 * pod's whatever the mirror does (hangs, refuses); shares of 0 and 50 %; the copies are counted in
 * switchyard_mirror_requests_total.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { request, type Response } from '../helpers/http.ts';
import { endpointSlice, service, serviceWithPods, type Manifest } from '../helpers/manifests.ts';
import { sumSamples } from '../helpers/metrics.ts';
import { loopback, startBlackhole, startPods, unusedPort, type EchoBody } from '../helpers/pods.ts';
import type { HostPort, RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import { httpRoute, startWithGateway } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

/** What a mirror pod got: each request with its whole body. */
interface Copy {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A pod handler that records each request's body into `copies`, then answers 200. */
function recordInto(copies: Copy[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      copies.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('mirror answer, discarded\n');
    });
  };
}

/** A Service `name` in `shop` whose one endpoint is `host:port` (a pod that is not a Pod: a blackhole, a closed port). */
function serviceAt(name: string, host: string, port: number): Manifest[] {
  return [service({ name, namespace: 'shop' }), endpointSlice({ service: name, namespace: 'shop', port, endpoints: [{ ip: host, pod: name }] })];
}

function start(routes: readonly Manifest[], services: readonly Manifest[], args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; at: HostPort }> {
  return startWithGateway([...services, ...routes], args);
}

const mirrorTo = (name: string, share: Manifest = {}) => ({ type: 'RequestMirror', requestMirror: { backendRef: { name, port: 80 }, ...share } });
const metricsOf = async (sy: RunningSwitchyard) => (await request(sy.admin, '/metrics')).body;

describe('HTTPRoute RequestMirror', () => {
  it('sends each mirror a copy with the edited headers and the body; the client gets the main pod’s answer', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const copies: Copy[] = [];
    const others: Copy[] = [];
    const [shadow] = await startPods(['shadow'], { hosts: [3], handler: recordInto(copies) });
    const [shadow2] = await startPods(['shadow2'], { hosts: [4], handler: recordInto(others) });
    const { sy, at } = await start(
      [
        httpRoute('mirrored', 'shop', {
          hostnames: ['mirror.example'],
          rules: [
            {
              backendRefs: [{ name: 'web', port: 80 }],
              filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'edited' }], remove: ['x-remove'] } }, mirrorTo('shadow'), mirrorTo('shadow2')],
            },
          ],
        }),
      ],
      [...serviceWithPods('web', 'shop', [web!]), ...serviceWithPods('shadow', 'shop', [shadow!]), ...serviceWithPods('shadow2', 'shop', [shadow2!])],
      // A small prefetch: the 96 KiB body below streams, and the copies get it through the tee.
      ['--request-buffer-size', '8192'],
    );

    const small = 'hello mirror';
    const res = await request(at, '/orders?id=7', { method: 'POST', host: 'mirror.example', headers: { 'x-remove': 'gone', 'content-type': 'text/plain' }, body: small });
    expect(res.status).toBe(200);
    const main = res.json<EchoBody>();
    expect([main.pod, main.url, main.bodyBytes, main.headers['x-set'], main.headers['x-remove']]).toEqual(['web', '/orders?id=7', small.length, 'edited', undefined]);

    await waitFor(() => copies.length === 1 && others.length === 1, { timeoutMs: 5000 });
    for (const copy of [copies[0]!, others[0]!]) {
      expect([copy.method, copy.url, copy.body, copy.headers['x-set'], copy.headers['x-remove']]).toEqual(['POST', '/orders?id=7', small, 'edited', undefined]);
      // Envoy's convention: the copy's Host says it is one; X-Forwarded-Host keeps the client's.
      expect([copy.headers.host, copy.headers['x-forwarded-host']]).toEqual(['mirror.example-shadow', 'mirror.example']);
      expect(copy.headers['x-request-id']).toBe(main.headers['x-request-id']);
    }

    const big = 'x'.repeat(96 * 1024);
    const streamed = await request(at, '/upload', { method: 'PUT', host: 'mirror.example', body: big });
    expect([streamed.status, streamed.json<EchoBody>().bodyBytes]).toEqual([200, big.length]);
    await waitFor(() => copies.length === 2 && others.length === 2, { timeoutMs: 5000 });
    expect([copies[1]!.body.length, others[1]!.body.length]).toEqual([big.length, big.length]);
    expect(copies[1]!.body === big && others[1]!.body === big).toBe(true);

    const metrics = await waitFor(async () => {
      const text = await metricsOf(sy);
      return sumSamples(text, 'switchyard_mirror_requests_total', { result: 'success' }) === 4 ? text : undefined;
    }, { timeoutMs: 5000 });
    expect(sumSamples(metrics, 'switchyard_mirror_requests_total', { namespace: 'shop', service: 'shadow', result: 'success' })).toBe(2);
    expect(sumSamples(metrics, 'switchyard_mirror_requests_total', { result: /failed|dropped/ })).toBe(0);
  });

  it('answers the main request while a mirror pod hangs and another refuses; their copies count as failed', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const hole = await startBlackhole(loopback(3));
    const closedPort = await unusedPort(loopback(4));
    const { sy, at } = await start(
      [httpRoute('mirrored', 'shop', { hostnames: ['mirror.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }], filters: [mirrorTo('hangs'), mirrorTo('refuses')] }] })],
      [...serviceWithPods('web', 'shop', [web!]), ...serviceAt('hangs', hole.host, hole.port), ...serviceAt('refuses', loopback(4), closedPort)],
    );

    const results: Response[] = [];
    for (let i = 0; i < 5; i++) results.push(await request(at, `/r${i}`, { method: i % 2 === 0 ? 'GET' : 'POST', host: 'mirror.example', body: i % 2 === 0 ? undefined : `body ${i}`, timeoutMs: 5000 }));
    expect(results.map((r) => [r.status, r.json<EchoBody>().pod])).toEqual(Array.from({ length: 5 }, () => [200, 'web']));
    // The hanging pod took its copies and never answered: the main requests completed all the same.
    await waitFor(() => hole.connections >= 1, { timeoutMs: 5000 });
    const metrics = await waitFor(async () => {
      const text = await metricsOf(sy);
      return sumSamples(text, 'switchyard_mirror_requests_total', { service: 'refuses', result: 'failed' }) === 5 ? text : undefined;
    }, { timeoutMs: 5000 });
    expect(sumSamples(metrics, 'switchyard_mirror_requests_total', { service: 'hangs' })).toBe(0); // still waiting for an answer
    expect(sumSamples(metrics, 'switchyard_requests_total', { code: '200', ingress: 'mirrored' })).toBe(5);
    // The refusing endpoint is not blamed in the health of the main traffic: nothing is ejected.
    expect(sumSamples(metrics, 'switchyard_endpoint_ejections_total')).toBe(0);
  });

  it('sends no copy at percent 0 and about half at percent 50', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const [never] = await startPods(['never'], { hosts: [3] });
    const [half] = await startPods(['half'], { hosts: [4] });
    const { sy, at } = await start(
      [
        httpRoute('zero', 'shop', { hostnames: ['zero.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }], filters: [mirrorTo('never', { percent: 0 })] }] }),
        httpRoute('half', 'shop', { hostnames: ['half.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }], filters: [mirrorTo('half', { fraction: { numerator: 1, denominator: 2 } })] }] }),
      ],
      [...serviceWithPods('web', 'shop', [web!]), ...serviceWithPods('never', 'shop', [never!]), ...serviceWithPods('half', 'shop', [half!])],
    );

    const N = 200;
    const send = async (host: string): Promise<void> => {
      for (let i = 0; i < N; i += 10) {
        const batch = await Promise.all(Array.from({ length: 10 }, (_, j) => request(at, `/n${i + j}`, { host })));
        expect(batch.every((r) => r.status === 200)).toBe(true);
      }
    };
    await send('zero.example');
    await send('half.example');
    // Every copy the draw chose is counted once it is answered: wait for the count to match what the pod got.
    const metrics = await waitFor(async () => {
      const text = await metricsOf(sy);
      const counted = sumSamples(text, 'switchyard_mirror_requests_total', { service: 'half', result: 'success' });
      return counted > 0 && counted === half!.requests.length ? text : undefined;
    }, { timeoutMs: 5000 });
    expect(never!.requests.length).toBe(0);
    expect(sumSamples(metrics, 'switchyard_mirror_requests_total', { service: 'never' })).toBe(0);
    // Binomial(200, 0.5): mean 100, standard deviation about 7; ±35 is five of them.
    expect(half!.requests.length).toBeGreaterThanOrEqual(65);
    expect(half!.requests.length).toBeLessThanOrEqual(135);
    expect(web!.requests.length).toBe(2 * N);
  });
});
