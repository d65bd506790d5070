/**
 * HTTPRoute rule `timeouts` through the real CLI and pods that answer late (`?delay=ms`) or never
 * (`?delay=never`): `request` answers 504 when the response head has not come in time, `backendRequest`
 * replaces --upstream-timeout per attempt (504, and no retry: the request reached the pod), "0s" turns
 * either off, and a route without timeouts keeps the flags' limits. No timing assertions: a pod that
 * never answers can only be answered by a timeout far shorter than the test's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { rawRequest, request, type Response } from '../helpers/http.ts';
import { serviceWithPods, type Manifest } from '../helpers/manifests.ts';
import { echoHandler, startPods, type Pod } from '../helpers/pods.ts';
import type { HostPort, RunningSwitchyard } from '../helpers/switchyard.ts';
import { httpRoute, startWithGateway } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

/** Echoes after `?delay=` ms; never answers `?delay=never`. */
function delayed(req: IncomingMessage, res: ServerResponse, pod: Pod): void {
  const delay = new URL(req.url ?? '/', 'http://x').searchParams.get('delay');
  if (delay === 'never') return;
  setTimeout(() => echoHandler(req, res, pod), Number(delay ?? 0));
}

function start(routes: readonly Manifest[], services: readonly Manifest[], args: readonly string[] = []): Promise<{ sy: RunningSwitchyard; at: HostPort }> {
  return startWithGateway([...services, ...routes], args);
}

/** A route `name` for host `<name>.example` to Service `service` with `timeouts` (none when undefined). */
const timed = (name: string, timeouts: Manifest | undefined, service = 'slow') =>
  httpRoute(name, 'shop', { hostnames: [`${name}.example`], rules: [{ backendRefs: [{ name: service, port: 80 }], ...(timeouts ? { timeouts } : {}) }] });

const outcome = (r: Response) => [r.status, r.headers['x-switchyard-error'] ?? r.headers['x-pod']];

describe('HTTPRoute timeouts', () => {
  it('request: 504 when the response head is late; "0s" turns it off; a route without timeouts keeps the flags', async () => {
    const [slow] = await startPods(['slow'], { hosts: [2], handler: delayed });
    const { at } = await start(
      [timed('request', { request: '500ms' }), timed('disabled', { request: '0s' }), timed('plain', undefined)],
      serviceWithPods('slow', 'shop', [slow!]),
      ['--upstream-timeout', '5s', '--lingering-timeout', '100ms'],
    );
    const host = (h: string) => ({ host: `${h}.example`, timeoutMs: 8000 });

    expect(outcome(await request(at, '/request-timeout', host('request')))).toEqual([200, 'slow']);
    // The pod never answers: only the route's 500 ms can end this, long before --upstream-timeout (5 s).
    const timedOut = await request(at, '/request-timeout?delay=never', host('request'));
    expect(outcome(timedOut)).toEqual([504, 'upstream-timeout']);
    expect(timedOut.headers['x-request-id']).toBeDefined();
    // A POST whose body the pod never answers: the same, and the connection is not reused.
    const post = await request(at, '/request-timeout?delay=never', { ...host('request'), method: 'POST', body: 'payload' });
    expect([...outcome(post), post.headers.connection]).toEqual([504, 'upstream-timeout', 'close']);
    // A client that stalls in its body: the request timeout counts from the head, so the upload is inside it.
    const stalled = await rawRequest(at, 'POST /upload HTTP/1.1\r\nHost: request.example\r\nContent-Length: 100\r\n\r\npartial', 8000);
    expect([stalled.status, stalled.headers['x-switchyard-error']]).toEqual([504, 'upstream-timeout']);
    expect(slow!.requests.some((r) => r.url === '/upload')).toBe(false); // answered before the body was whole

    expect(outcome(await request(at, '/disable-request-timeout?delay=1000', host('disabled')))).toEqual([200, 'slow']);
    expect(outcome(await request(at, '/plain?delay=1000', host('plain')))).toEqual([200, 'slow']);
  });

  it('backendRequest: replaces --upstream-timeout per attempt, "0s" turns it off; a route without timeouts keeps the flag', async () => {
    const [slow] = await startPods(['slow'], { hosts: [2], handler: delayed });
    const { at } = await start(
      [timed('backend', { backendRequest: '500ms' }), timed('disabled', { backendRequest: '0s' }), timed('both', { request: '5s', backendRequest: '300ms' }), timed('plain', undefined)],
      serviceWithPods('slow', 'shop', [slow!]),
      ['--upstream-timeout', '400ms'],
    );
    const host = (h: string) => ({ host: `${h}.example`, timeoutMs: 8000 });

    expect(outcome(await request(at, '/backend-timeout', host('backend')))).toEqual([200, 'slow']);
    // A pod that never answers: the route's 500 ms ends it (a 504, as the flag's 400 ms would have).
    expect(outcome(await request(at, '/backend-timeout?delay=never', host('backend')))).toEqual([504, 'upstream-timeout']);
    // "0s": no limit on the attempt, though --upstream-timeout (400 ms) would have cut it.
    expect(outcome(await request(at, '/disable-backend-timeout?delay=1000', host('disabled')))).toEqual([200, 'slow']);
    // The route's 300 ms cut the attempt long before its 5 s request timeout.
    expect(outcome(await request(at, '/both?delay=never', host('both')))).toEqual([504, 'upstream-timeout']);
    // Unaffected: the flag's 400 ms still holds where no route says otherwise.
    expect(outcome(await request(at, '/plain?delay=1000', host('plain')))).toEqual([504, 'upstream-timeout']);
  });

  it('backendRequest: an attempt that timed out is not retried on another pod (the request reached the first)', async () => {
    // Two pods of one Service: the first in the rotation never answers, the second at once.
    const [hangs, fast] = await startPods(['hangs', 'fast'], { hosts: [2, 3], handler: (req, res, pod) => (pod.name === 'hangs' ? undefined : echoHandler(req, res, pod)) });
    const { at } = await start([timed('backend', { backendRequest: '300ms' }, 'pair')], serviceWithPods('pair', 'shop', [hangs!, fast!]));
    const results = [];
    for (let i = 0; i < 2; i++) results.push(outcome(await request(at, `/r${i}`, { host: 'backend.example', timeoutMs: 8000 })));
    // Round-robin gives each pod one request: the one that timed out got its 504, without a second attempt.
    expect(results.sort()).toEqual([[200, 'fast'], [504, 'upstream-timeout']].sort());
    expect([hangs!.requests.length, fast!.requests.length]).toEqual([1, 1]);
  });
});
