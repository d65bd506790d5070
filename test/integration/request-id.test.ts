/**
 * Request identity (issue #15 item 3), end to end through the real CLI over HTTP/1.1 (both servers,
 * --http1-server) and HTTP/2 (h2c with prior knowledge): a request without X-Request-Id gets one, the
 * pod and the client see the same, a valid one sent is kept, an invalid one replaced, Switchyard's own
 * answers carry it, and W3C traceparent/tracestate pass untouched.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { h2connect, h2request } from '../helpers/h2-server.ts';
import { request } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { echoHandler, startPods, type EchoBody } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACESTATE = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Send = (host: string, path: string, headers?: OutgoingHttpHeaders) => Promise<Answer>;

/** A client for one transport: HTTP/1.1 (a connection per request) or h2c (one session, a stream per request). */
async function client(transport: 'http1' | 'h2', target: HostPort): Promise<Send> {
  if (transport === 'http1') {
    return async (host, path, headers = {}) => {
      const res = await request(target, path, { host, headers });
      return { status: res.status, headers: res.headers, body: res.body };
    };
  }
  const session = await h2connect(`http://${target.host}:${target.port}`);
  return async (host, path, headers = {}) => {
    const res = await h2request(session, { ':path': path, ':authority': host, ...headers });
    return { status: res.status, headers: res.headers, body: res.body.toString() };
  };
}

/** One echo pod behind an Ingress for ids.example; on /own the pod sets its own X-Request-Id. */
async function setup(args: readonly string[]) {
  const [pod] = await startPods(['web-1'], {
    handler: (req, res, p) => {
      if (req.url === '/own') res.setHeader('x-request-id', 'pod-own-id');
      echoHandler(req, res, p);
    },
  });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'web.yaml', [
    ...serviceWithPods('web', 'shop', [pod!]),
    ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'ids.example', paths: [{ path: '/', service: 'web' }] }] }),
  ]);
  return { sy: await startSwitchyard({ manifests: dir, args }), pod: pod! };
}

/** The X-Request-Id fields the pod received. */
const podIds = (seen: EchoBody): string[] => seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1]!.toLowerCase() === 'x-request-id');

describe.each([
  ['HTTP/1.1 (llhttp server)', 'http1', []],
  ['HTTP/1.1 (--http1-server node)', 'http1', ['--http1-server', 'node']],
  ['HTTP/2 (h2c prior knowledge)', 'h2', []],
] as const)('request id over %s', (_name, transport, args) => {
  it('generates a missing id, keeps a valid one, replaces an invalid one: the pod and the client see the same', async () => {
    const { sy } = await setup(args);
    const send = await client(transport, sy.ingress);

    const first = await send('ids.example', '/a');
    expect(first.status).toBe(200);
    const seen = JSON.parse(first.body) as EchoBody;
    expect(podIds(seen)).toHaveLength(1);
    expect(podIds(seen)[0]).toMatch(UUID);
    expect(first.headers['x-request-id']).toBe(podIds(seen)[0]);

    const second = await send('ids.example', '/a');
    expect(second.headers['x-request-id']).toMatch(UUID);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);

    const kept = await send('ids.example', '/a', { 'x-request-id': 'client-id-42' });
    expect(podIds(JSON.parse(kept.body) as EchoBody)).toEqual(['client-id-42']);
    expect(kept.headers['x-request-id']).toBe('client-id-42');

    // A space is outside visible ASCII: replaced, never passed on or reflected.
    const replaced = await send('ids.example', '/a', { 'x-request-id': 'bad id' });
    const replacedIds = podIds(JSON.parse(replaced.body) as EchoBody);
    expect(replacedIds).toHaveLength(1);
    expect(replacedIds[0]).toMatch(UUID);
    expect(replaced.headers['x-request-id']).toBe(replacedIds[0]);
  });

  it("passes traceparent/tracestate untouched, keeps a pod's own X-Request-Id, and puts an id on a 404 no-route answer", async () => {
    const { sy } = await setup(args);
    const send = await client(transport, sy.ingress);

    const traced = await send('ids.example', '/a', { traceparent: TRACEPARENT, tracestate: TRACESTATE });
    const seen = JSON.parse(traced.body) as EchoBody;
    expect(seen.headers['traceparent']).toBe(TRACEPARENT);
    expect(seen.headers['tracestate']).toBe(TRACESTATE);

    const own = await send('ids.example', '/own', { 'x-request-id': 'client-id-7' });
    expect(podIds(JSON.parse(own.body) as EchoBody)).toEqual(['client-id-7']);
    expect(own.headers['x-request-id']).toBe('pod-own-id');

    const missing = await send('nothing.example', '/');
    expect(missing.status).toBe(404);
    expect(missing.headers['x-switchyard-error']).toBe('no-route');
    expect(missing.headers['x-request-id']).toMatch(UUID);

    const missingKept = await send('nothing.example', '/', { 'x-request-id': 'client-id-404' });
    expect(missingKept.status).toBe(404);
    expect(missingKept.headers['x-request-id']).toBe('client-id-404');
  });
});
