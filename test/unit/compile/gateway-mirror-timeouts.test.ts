import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ProxyContext } from '../../../src/dataplane/proxy.ts';
import { drawMirrors, MIRROR_BODY_LIMIT, MIRROR_MAX_IN_FLIGHT, RequestMirrors, shadowHost } from '../../../src/dataplane/request-mirror.ts';
import type { HttpRouteRec } from '../../../src/model/gateway-records.ts';
import type { Backend, Diagnostic, Route } from '../../../src/snapshot/types.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';
import { gateway, gatewayClass, httpRoute, listener, referenceGrant } from '../support/gateway.ts';
import { compileObjects, manifestText, records, service, type Obj } from '../support/k8s.ts';

const BASE: Obj[] = [gatewayClass(), gateway('gw', [listener('web')]), service('main', [{ port: 80 }]), service('shadow', [{ port: 80 }]), service('other', [{ port: 80 }], { namespace: 'elsewhere' })];
const diagLine = (d: Diagnostic) => `${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`;

/** A route whose one rule forwards to `main` with `extra` (filters, timeouts) added. */
const routeWith = (extra: Obj) => httpRoute('r', { rules: [{ backendRefs: [{ name: 'main', port: 80 }], ...extra }] });
const mirror = (requestMirror: Obj) => ({ filters: [{ type: 'RequestMirror', requestMirror }] });

function errorsOf(obj: Obj): { path: string | undefined; message: string }[] {
  const r = parseManifest(manifestText([obj]), 'test.yaml', 'test');
  expect(r.records).toEqual([]);
  return r.errors.map((e) => ({ path: e.location?.path, message: e.message }));
}

/** The HTTPRoute routes of a compiled state, whichever table (Ingress listeners or a Gateway port) holds them. */
function routesOf(objs: readonly Obj[]): { routes: Route[]; diagnostics: readonly Diagnostic[] } {
  const state = compileObjects(objs);
  const ports = [...(state.gatewayPorts?.values() ?? [])].flatMap((p) => p.routes.list);
  return { routes: [...state.routes.list, ...ports].filter((r) => r.routeKind === 'HTTPRoute'), diagnostics: state.diagnostics };
}

describe('timeouts and RequestMirror: refused as the CRD refuses them', () => {
  it.each([
    ['a duration without a unit', routeWith({ timeouts: { request: '10' } }), 'spec.rules[0].timeouts.request', 'must match the pattern'],
    ['a unit the spec does not have (days)', routeWith({ timeouts: { request: '1d' } }), 'spec.rules[0].timeouts.request', 'must match the pattern'],
    ['a fraction of a second', routeWith({ timeouts: { backendRequest: '1.5s' } }), 'spec.rules[0].timeouts.backendRequest', 'must match the pattern'],
    ['six digits', routeWith({ timeouts: { request: '100000s' } }), 'spec.rules[0].timeouts.request', 'must match the pattern'],
    ['five components', routeWith({ timeouts: { request: '1h1m1s1ms1s' } }), 'spec.rules[0].timeouts.request', 'must match the pattern'],
    ['an empty duration', routeWith({ timeouts: { request: '' } }), 'spec.rules[0].timeouts.request', 'must match the pattern'],
    ['backendRequest longer than request', routeWith({ timeouts: { request: '1s', backendRequest: '1s1ms' } }), 'spec.rules[0].timeouts', 'backendRequest timeout cannot be longer than request timeout'],
    ['a mirror without backendRef', routeWith(mirror({ percent: 10 })), 'spec.rules[0].filters[0].requestMirror.backendRef', 'Required value'],
    ['a RequestMirror filter without requestMirror', routeWith({ filters: [{ type: 'RequestMirror' }] }), 'spec.rules[0].filters[0].requestMirror', 'filter.requestMirror must be specified for RequestMirror filter.type'],
    ['a mirror Service without port', routeWith(mirror({ backendRef: { name: 'shadow' } })), 'spec.rules[0].filters[0].requestMirror.backendRef.port', 'Must have port for Service reference'],
    ['percent above 100', routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, percent: 101 })), 'spec.rules[0].filters[0].requestMirror.percent', '101'],
    ['percent below 0', routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, percent: -1 })), 'spec.rules[0].filters[0].requestMirror.percent', '-1'],
    ['percent and fraction together', routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, percent: 5, fraction: { numerator: 1 } })), 'spec.rules[0].filters[0].requestMirror', 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter'],
    ['a numerator above the default denominator', routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, fraction: { numerator: 101 } })), 'spec.rules[0].filters[0].requestMirror.fraction', 'numerator must be less than or equal to denominator'],
    ['a denominator of 0', routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, fraction: { numerator: 0, denominator: 0 } })), 'spec.rules[0].filters[0].requestMirror.fraction.denominator', '0'],
  ])('refuses %s', (_name, obj, path, message) => {
    const errors = errorsOf(obj);
    expect(errors.map((e) => e.path)).toContain(path);
    expect(errors.find((e) => e.path === path)!.message).toContain(message);
  });

  it.each([
    ['500ms', undefined, 500, undefined],
    ['1h', '0s', 3_600_000, 0],
    ['1m30s', '30s', 90_000, 30_000],
    ['100ms200ms300ms', '600ms', 600, 600], // units may repeat: summed, as Go's time.ParseDuration does
    ['1h30m10s500ms', undefined, 5_410_500, undefined],
    ['0s', '1h', 0, 3_600_000], // "0s" disables the request timeout: any backendRequest fits in it
    [undefined, '250ms', undefined, 250],
  ])('reads request %s, backendRequest %s', (request, backendRequest, requestMs, backendRequestMs) => {
    const timeouts = { ...(request !== undefined ? { request } : {}), ...(backendRequest !== undefined ? { backendRequest } : {}) };
    const rec = records([routeWith({ timeouts })])[0] as HttpRouteRec;
    expect(rec.rules[0]!.timeouts).toEqual({ requestMs, backendRequestMs });
  });

  it.each([
    [{}, 1, 1],
    [{ percent: 20 }, 20, 100],
    [{ percent: 0 }, 0, 100],
    [{ fraction: { numerator: 25, denominator: 50 } }, 25, 50],
    [{ fraction: { numerator: 3 } }, 3, 100],
  ])('reads the share of mirror %j', (share, numerator, denominator) => {
    const rec = records([routeWith(mirror({ backendRef: { name: 'shadow', port: 80 }, ...share }))])[0] as HttpRouteRec;
    expect(rec.rules[0]!.filters).toEqual([{ type: 'RequestMirror', backendRef: { group: '', kind: 'Service', name: 'shadow', namespace: 'default', port: 80, weight: 1 }, numerator, denominator }]);
  });
});

describe('timeouts and RequestMirror: compiled into the route', () => {
  it('carries resolved mirrors (several allowed) and the timeouts on the route filters, beside the header edits', () => {
    const { routes, diagnostics } = routesOf([
      ...BASE,
      routeWith({
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }] } },
          { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 }, percent: 50 } },
          { type: 'RequestMirror', requestMirror: { backendRef: { name: 'main', port: 80 } } },
        ],
        timeouts: { request: '2s', backendRequest: '500ms' },
      }),
    ]);
    expect(diagnostics).toEqual([]);
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) expect(r.filters).toEqual({
      requestHeaders: { remove: [], set: ['x-a', '1'], add: [] },
      responseHeaders: undefined,
      redirect: undefined,
      rewrite: undefined,
      mirrors: [
        { backend: 'default/shadow:80', numerator: 50, denominator: 100 },
        { backend: 'default/main:80', numerator: 1, denominator: 1 },
      ],
      timeouts: { requestMs: 2000, backendRequestMs: 500 },
    });
  });

  it.each([
    ['no filters and no timeouts', {}, undefined],
    ['a mirror of share 0 (sends nothing)', mirror({ backendRef: { name: 'shadow', port: 80 }, percent: 0 }), undefined],
    ['timeouts alone', { timeouts: { request: '0s' } }, { requestHeaders: undefined, responseHeaders: undefined, redirect: undefined, rewrite: undefined, timeouts: { requestMs: 0, backendRequestMs: undefined } }],
    // 99999h is past what a timer holds (it would fire at once): held as the longest a timer waits.
    ['timeouts past a timer’s range', { timeouts: { request: '99999h', backendRequest: '596h' } }, { requestHeaders: undefined, responseHeaders: undefined, redirect: undefined, rewrite: undefined, timeouts: { requestMs: 2_147_483_647, backendRequestMs: 2_145_600_000 } }],
  ])('%s → filters %j', (_name, extra, filters) => {
    const { routes, diagnostics } = routesOf([...BASE, routeWith(extra)]);
    expect(diagnostics).toEqual([]);
    expect(routes[0]!.filters).toEqual(filters);
  });

  it.each([
    ['a missing Service', { name: 'nope', port: 80 }, [], 'spec.rules[0].filters[0].requestMirror.backendRef default/nope:80: no such Service in namespace default; requests are not mirrored there (reason BackendNotFound)'],
    ['a missing port', { name: 'shadow', port: 81 }, [], 'spec.rules[0].filters[0].requestMirror.backendRef default/shadow:81: the Service has no TCP port 81'],
    ['another namespace without a ReferenceGrant', { name: 'other', namespace: 'elsewhere', port: 80 }, [], 'requests are not mirrored there (reason RefNotPermitted)'],
    ['a kind other than Service', { group: 'example.com', kind: 'Bucket', name: 'b' }, [], 'requests are not mirrored there (reason InvalidKind)'],
    ['another namespace with a ReferenceGrant', { name: 'other', namespace: 'elsewhere', port: 80 }, [referenceGrant('elsewhere', 'default', 'other')], undefined],
  ])('a mirror to %s', (_name, backendRef, extraObjs, message) => {
    const { routes, diagnostics } = routesOf([...BASE, ...extraObjs, routeWith(mirror({ backendRef }))]);
    // The main request routes either way; only the copy is left out.
    expect(routes[0]!.backend).toBe('default/main:80');
    if (message === undefined) {
      expect(diagnostics).toEqual([]);
      expect(routes[0]!.filters!.mirrors).toEqual([{ backend: 'elsewhere/other:80', numerator: 1, denominator: 1 }]);
    } else {
      expect(diagnostics.map(diagLine)).toEqual([expect.stringContaining(message)]);
      expect(diagnostics[0]!.code).toBe('HTTPROUTE_BACKEND_UNRESOLVED');
      expect(routes[0]!.filters).toBeUndefined();
    }
  });
});

describe('request-mirror helpers', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['shop.example.com', 'shop.example.com-shadow'],
    ['shop.example.com:8080', 'shop.example.com-shadow:8080'],
    ['10.0.0.1:80', '10.0.0.1-shadow:80'],
    ['[::1]:8080', '[::1]-shadow:8080'],
    ['[::1]', '[::1]-shadow'],
  ])('Host %s → %s (Envoy: -shadow after the name, before the port)', (host, want) => expect(shadowHost(host)).toBe(want));

  const backends = new Map([['ns/a:80', { key: 'ns/a:80' } as Backend]]);

  it.each([
    [1, 1, 0.999, true],
    [1, 2, 0.49, true],
    [1, 2, 0.5, false],
    [25, 50, 0.3, true],
    [25, 50, 0.7, false],
    [0, 100, 0, false],
  ])('share %i/%i with a draw of %f → copied %s', (numerator, denominator, draw, copied) => {
    vi.spyOn(Math, 'random').mockReturnValue(draw);
    expect(drawMirrors([{ backend: 'ns/a:80', numerator, denominator }], backends)?.map((b) => b.key)).toEqual(copied ? ['ns/a:80'] : undefined);
  });

  it('leaves out a mirror backend that is not in the snapshot', () => {
    expect(drawMirrors([{ backend: 'ns/gone:80', numerator: 1, denominator: 1 }], backends)).toBeUndefined();
  });
});

describe('RequestMirrors: copies never hold the main request back', () => {
  /** A proxy context whose pool records each copy's dispatch and never answers unless told to. */
  function fakeContext() {
    const dispatched: { options: Dispatcher.DispatchOptions; handler: Dispatcher.DispatchHandler }[] = [];
    const results: string[] = [];
    const backend = { key: 'ns/m:80', namespace: 'ns', service: 'm', policy: {}, upstream: { protocol: 'http1' } } as unknown as Backend;
    const ctx = {
      balancer: { pick: () => ({ key: '127.0.0.9:80' }) },
      health: {},
      pools: { get: () => ({ dispatch: (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => dispatched.push({ options, handler }) }) },
      stats: { mirrorResult: (_b: Backend, r: string) => results.push(r) },
      defaults: { responseTimeoutMs: 1000, idleTimeoutMs: 1000 },
      log: { debug: () => undefined },
    } as unknown as ProxyContext;
    return { ctx, backend, dispatched, results };
  }

  it('sends the copy with the shadow Host, the main request’s path and headers, and the body teed as the main request reads it', async () => {
    const { ctx, backend, dispatched, results } = fakeContext();
    const mirrors = new RequestMirrors([backend], 'POST', '/p?q=1', ['host', 'shop.example', 'x-a', '1'], 'shop.example');
    mirrors.start(ctx, { prefix: [Buffer.from('ab')] }, 500);
    mirrors.start(ctx, null, 500); // a retry of the main request: no second copy
    expect(dispatched).toHaveLength(1);
    const { options, handler } = dispatched[0]!;
    expect([options.method, options.path, options.headers, options.headersTimeout]).toEqual(['POST', '/p?q=1', ['host', 'shop.example-shadow', 'x-a', '1'], 500]);
    expect(mirrors.onData(Buffer.from('cd'))).toBe(true);
    mirrors.onEnd();
    const chunks: Buffer[] = [];
    for await (const c of options.body as Readable) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abcd');
    handler.onComplete!([]);
    expect(results).toEqual(['success']);
  });

  it('drops a copy whose pod reads more than MIRROR_BODY_LIMIT behind, and one the main request ended without finishing', () => {
    const { ctx, backend, dispatched, results } = fakeContext();
    const lagging = new RequestMirrors([backend], 'PUT', '/', [], 'h');
    lagging.start(ctx, { prefix: [Buffer.alloc(1000)] }, undefined);
    const body = dispatched[0]!.options.body as Readable;
    // The prefix (held by the main request anyway) does not count; what comes after does.
    for (let sent = 0; sent <= MIRROR_BODY_LIMIT; sent += 16 * 1024) expect(lagging.onData(Buffer.alloc(16 * 1024))).toBe(true);
    expect(body.destroyed).toBe(true);
    dispatched[0]!.handler.onError!(new Error('aborted'));

    const unfinished = new RequestMirrors([backend], 'PUT', '/', [], 'h');
    unfinished.start(ctx, { prefix: [] }, undefined);
    unfinished.onData(Buffer.from('part'));
    unfinished.end();
    expect((dispatched[1]!.options.body as Readable).destroyed).toBe(true);
    dispatched[1]!.handler.onError!(new Error('aborted'));
    expect(results).toEqual(['dropped', 'dropped']);
  });

  it('counts a refused copy as failed and drops copies past MIRROR_MAX_IN_FLIGHT', () => {
    const { ctx, backend, dispatched, results } = fakeContext();
    for (let i = 0; i < MIRROR_MAX_IN_FLIGHT + 3; i++) new RequestMirrors([backend], 'GET', '/', [], 'h').start(ctx, null, undefined);
    expect([dispatched.length, results]).toEqual([MIRROR_MAX_IN_FLIGHT, ['dropped', 'dropped', 'dropped']]);
    dispatched[0]!.handler.onError!(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    for (const d of dispatched.slice(1)) d.handler.onComplete!([]);
    expect(results.slice(3, 5)).toEqual(['failed', 'success']);
    // Every copy ended: the next one is sent.
    new RequestMirrors([backend], 'GET', '/', [], 'h').start(ctx, null, undefined);
    expect(dispatched).toHaveLength(MIRROR_MAX_IN_FLIGHT + 1);
  });
});
