import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../src/sources/normalize.ts';
import { gateway, gatewayClass, httpRoute, listener } from '../support/gateway.ts';
import { backend, compileObjects, ingress, manifestText, service, type Obj } from '../support/k8s.ts';

const web = (spec: Obj = {}) => service('web', [{ name: 'http', port: 80 }], { spec });
const gw = [gatewayClass(), gateway('gw', [listener('web')])];
const routesOf = (state: ReturnType<typeof compileObjects>, ingressName: string) => state.routes.list.filter((r) => r.ingress === `default/${ingressName}`);
const messages = (state: ReturnType<typeof compileObjects>, name: string) => state.diagnostics.filter((d) => d.name === name).map((d) => `${d.severity} ${d.code} ${d.message}`);

function cookieIngress(annotations: Record<string, string>, name = 'shop'): Obj {
  return ingress(
    name,
    { ingressClassName: 'switchyard', rules: [{ host: `${name}.example`, paths: [{ path: '/app', pathType: 'Prefix', backend: backend('web', 80) }, { path: '/exact', pathType: 'Exact', backend: backend('web', 80) }] }] },
    { annotations },
  );
}

describe('ClientIP affinity on backends', () => {
  it('a Service with sessionAffinity ClientIP gives its backends the timeout (default 10800 s); others have none', () => {
    const state = compileObjects([
      web({ sessionAffinity: 'ClientIP' }),
      service('brief', [{ name: 'http', port: 80 }], { spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } } }),
      service('plain', [{ name: 'http', port: 80 }]),
    ]);
    expect(state.backends.get('default/web:80')?.clientAffinitySeconds).toBe(10800);
    expect(state.backends.get('default/brief:80')?.clientAffinitySeconds).toBe(5);
    expect(state.backends.get('default/plain:80')).not.toHaveProperty('clientAffinitySeconds');
  });
});

describe('cookie affinity from Ingress annotations', () => {
  it('affinity: cookie with defaults: SWYAFFINITY, each rule path, a session cookie', () => {
    const state = compileObjects([web(), cookieIngress({ 'switchyard.dev/affinity': 'cookie' })]);
    expect(routesOf(state, 'shop').map((r) => [r.path, r.sessionCookie])).toEqual([
      ['/exact', { name: 'SWYAFFINITY', path: '/exact', maxAgeSeconds: undefined }],
      ['/app', { name: 'SWYAFFINITY', path: '/app', maxAgeSeconds: undefined }],
    ]);
    expect(messages(state, 'shop')).toEqual([]);
  });

  it('name, max-age and path annotations', () => {
    const state = compileObjects([
      web(),
      cookieIngress({ 'switchyard.dev/affinity': 'Cookie', 'switchyard.dev/session-cookie-name': 'route', 'switchyard.dev/session-cookie-max-age': '3600', 'switchyard.dev/session-cookie-path': '/' }),
    ]);
    expect(new Set(routesOf(state, 'shop').map((r) => JSON.stringify(r.sessionCookie)))).toEqual(new Set([JSON.stringify({ name: 'route', path: '/', maxAgeSeconds: 3600 })]));
  });

  it.each([
    [{ 'switchyard.dev/affinity': 'sticky' }, 'warning ANNOTATION_INVALID switchyard.dev/affinity: "sticky" is not "cookie" (or "none"); ignored', false],
    [{ 'switchyard.dev/affinity': 'cookie', 'switchyard.dev/session-cookie-name': 'a b' }, 'warning ANNOTATION_INVALID switchyard.dev/session-cookie-name: "a b"', true],
    [{ 'switchyard.dev/affinity': 'cookie', 'switchyard.dev/session-cookie-max-age': '-5' }, 'warning ANNOTATION_INVALID switchyard.dev/session-cookie-max-age: "-5"', true],
    [{ 'switchyard.dev/affinity': 'cookie', 'switchyard.dev/session-cookie-path': 'app;x' }, 'warning ANNOTATION_INVALID switchyard.dev/session-cookie-path: "app;x"', true],
    [{ 'switchyard.dev/session-cookie-name': 'x' }, 'info ANNOTATION_IGNORED switchyard.dev/session-cookie-name has no effect without switchyard.dev/affinity: cookie', false],
  ])('%j → a diagnostic, never a failure', (annotations, message, sticky) => {
    const state = compileObjects([web(), cookieIngress(annotations)]);
    expect(messages(state, 'shop')).toEqual([expect.stringContaining(message)]);
    // The rest of the Ingress routes; a bad value falls back to its default.
    expect(routesOf(state, 'shop').every((r) => r.backend === 'default/web:80' && (r.sessionCookie !== undefined) === sticky)).toBe(true);
  });

  it('an Ingress without the annotations has no sessionCookie field at all', () => {
    const state = compileObjects([web(), cookieIngress({})]);
    for (const r of routesOf(state, 'shop')) expect(r).not.toHaveProperty('sessionCookie');
  });
});

describe('HTTPRoute sessionPersistence', () => {
  const route = (sessionPersistence: Obj, matches?: Obj[]) =>
    httpRoute('r', { hostnames: ['gw.example'], rules: [{ ...(matches ? { matches } : {}), backendRefs: [{ name: 'web', port: 80 }], sessionPersistence }] });

  it.each([
    ['defaults: SWYAFFINITY, a session cookie', {}, { name: 'SWYAFFINITY', path: '/', maxAgeSeconds: undefined }],
    ['Permanent: Max-Age from absoluteTimeout', { sessionName: 'sid', absoluteTimeout: '1h30m', cookieConfig: { lifetimeType: 'Permanent' } }, { name: 'sid', path: '/', maxAgeSeconds: 5400 }],
    ['Session with absoluteTimeout: Switchyard ends it', { absoluteTimeout: '10m' }, { name: 'SWYAFFINITY', path: '/', maxAgeSeconds: undefined, absoluteSeconds: 600 }],
    ['idleTimeout, either lifetime', { idleTimeout: '1500ms', absoluteTimeout: '1h', cookieConfig: { lifetimeType: 'Permanent' } }, { name: 'SWYAFFINITY', path: '/', maxAgeSeconds: 3600, idleSeconds: 2 }],
  ])('%s', (_n, persistence, cookie) => {
    const state = compileObjects([web(), ...gw, route(persistence)]);
    expect(routesOf(state, 'r').map((r) => r.sessionCookie)).toEqual([cookie]);
  });

  it('the cookie path is the match path; a RegularExpression match gets /', () => {
    const state = compileObjects([web(), ...gw, route({}, [{ path: { type: 'PathPrefix', value: '/cart' } }, { path: { type: 'RegularExpression', value: '/v[0-9]+' } }])]);
    expect(routesOf(state, 'r').map((r) => [r.path, r.sessionCookie?.path])).toEqual(expect.arrayContaining([['/cart', '/cart'], ['/v[0-9]+', '/']]));
  });

  it.each([
    [{ type: 'Header' }, 'warning HTTPROUTE_SESSION_PERSISTENCE_UNSUPPORTED spec.rules[0].sessionPersistence.type: Header is not supported', false],
    [{ sessionName: 'a b' }, 'warning HTTPROUTE_SESSION_PERSISTENCE_INVALID spec.rules[0].sessionPersistence.sessionName: "a b" is not a cookie name', true],
  ])('%j → a diagnostic naming the field; the rule still routes', (persistence, message, sticky) => {
    const state = compileObjects([web(), ...gw, route(persistence)]);
    expect(messages(state, 'r')).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    const [r] = routesOf(state, 'r');
    expect(r?.backend).toBe('default/web:80');
    expect(r?.sessionCookie !== undefined).toBe(sticky);
  });

  it('refuses what the CRD refuses: Permanent without absoluteTimeout, a malformed duration, an unknown type', () => {
    for (const [persistence, text] of [
      [{ cookieConfig: { lifetimeType: 'Permanent' } }, 'AbsoluteTimeout must be specified when cookie lifetimeType is Permanent'],
      [{ absoluteTimeout: '1d' }, 'must match the pattern'],
      [{ type: 'Query' }, 'sessionPersistence.type'],
    ] as const) {
      const r = parseManifest(manifestText([route(persistence as Obj)]), 'test.yaml', 'test');
      expect(r.records).toEqual([]);
      expect(`${r.errors[0]?.location?.path ?? ''} ${r.errors[0]?.message ?? ''}`).toContain(text);
    }
  });
});
