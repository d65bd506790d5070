/**
 * Route conditions in the one matcher (HTTPRoute matches: method, headers, query parameters), table-driven
 * from the Gateway API's HTTPRouteMatch examples, and the guarantee that Ingress routes skip them.
 */
import { describe, expect, it } from 'vitest';
import { holds, matchRoute } from '../../../src/dataplane/match.ts';
import type { RouteConditions } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from '../support/gateway.ts';
import { backend, compileObjects, ingress, service } from '../support/k8s.ts';

const cond = (c: Partial<RouteConditions>): RouteConditions => ({ method: undefined, headers: [], query: [], ...c });
const req = (method: string, headers: Record<string, string | string[]> = {}) => ({
  method,
  rawHeaders: Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, v])),
});

describe('holds', () => {
  it.each([
    ['method equal', cond({ method: 'GET' }), req('GET'), '/', true],
    ['method differs', cond({ method: 'GET' }), req('POST'), '/', false],
    ['header name case-insensitive, value exact', cond({ headers: [{ name: 'version', value: 'two', regex: false }] }), req('GET', { VeRsIoN: 'two' }), '/', true],
    ['header value case-sensitive', cond({ headers: [{ name: 'version', value: 'two', regex: false }] }), req('GET', { version: 'Two' }), '/', false],
    ['header missing', cond({ headers: [{ name: 'version', value: 'two', regex: false }] }), req('GET'), '/', false],
    ['every header must hold', cond({ headers: [{ name: 'a', value: '1', regex: false }, { name: 'b', value: '2', regex: false }] }), req('GET', { a: '1', b: '3' }), '/', false],
    ['the first field of a repeated header is read', cond({ headers: [{ name: 'a', value: '1', regex: false }] }), req('GET', { a: ['1', '2'] }), '/', true],
    ['header regex, matched whole', cond({ headers: [{ name: 'v', value: 'v[0-9]', regex: true }] }), req('GET', { v: 'v1' }), '/', true],
    ['header regex does not match a part', cond({ headers: [{ name: 'v', value: 'v[0-9]', regex: true }] }), req('GET', { v: 'v12' }), '/', false],
    ['query exact', cond({ query: [{ name: 'animal', value: 'whale', regex: false }] }), req('GET'), '/?animal=whale', true],
    ['query among others', cond({ query: [{ name: 'animal', value: 'whale', regex: false }] }), req('GET'), '/x?a=1&animal=whale&b', true],
    ['query name case-sensitive', cond({ query: [{ name: 'animal', value: 'whale', regex: false }] }), req('GET'), '/?Animal=whale', false],
    ['query value differs', cond({ query: [{ name: 'animal', value: 'whale', regex: false }] }), req('GET'), '/?animal=dolphin', false],
    ['query prefix of a value is no match', cond({ query: [{ name: 'animal', value: 'whale', regex: false }] }), req('GET'), '/?animal=whales', false],
    ['the first of a repeated parameter is read', cond({ query: [{ name: 'a', value: '1', regex: false }] }), req('GET'), '/?a=2&a=1', false],
    ['percent-encoded value decoded', cond({ query: [{ name: 'q', value: 'a b', regex: false }] }), req('GET'), '/?q=a%20b', true],
    ['+ is a space', cond({ query: [{ name: 'q', value: 'a b', regex: false }] }), req('GET'), '/?q=a+b', true],
    ['no query at all', cond({ query: [{ name: 'q', value: '1', regex: false }] }), req('GET'), '/', false],
    ['parameter without = has the empty value', cond({ query: [{ name: 'flag', value: 'x', regex: false }] }), req('GET'), '/?flag', false],
    ['query regex', cond({ query: [{ name: 'id', value: '[0-9]+', regex: true }] }), req('GET'), '/?id=123', true],
    ['the fragment is not part of the query', cond({ query: [{ name: 'a', value: '1', regex: false }] }), req('GET'), '/?b=2#a=1', false],
    ['no request (explain): conditions do not hold', cond({ method: 'GET' }), undefined, undefined, false],
  ] as const)('%s', (_name, c, request, target, want) => {
    expect(holds(c, request, target)).toBe(want);
  });
});

describe('Ingress and HTTPRoute routes, one matcher, a table per listener', () => {
  const objs = [
    gatewayClass(),
    gateway('gw', [listener('web')]),
    ...['a', 'b', 'c'].map((n) => service(n, [{ port: 80 }])),
    ingress('i', { rules: [{ host: 'shop.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('a', 80) }] }] }),
    httpRoute('r', {
      hostnames: ['shop.example.com'],
      rules: [rule('b', [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', value: 'always' }] }]), rule('c', [{ path: { type: 'Exact', value: '/api' }, method: 'DELETE' }])],
    }),
  ];
  const state = compileObjects(objs);
  // The Ingress listener's table and Gateway port 80's: the same matcher, each with its own routes.
  it.each([
    ['ingress', 'GET', '/', {}, 'default/a:80'],
    ['ingress', 'GET', '/cart', { 'X-Canary': 'always' }, 'default/a:80'],
    ['gateway', 'GET', '/cart', { 'X-Canary': 'always' }, 'default/b:80'],
    ['gateway', 'DELETE', '/api', {}, 'default/c:80'],
    ['gateway', 'GET', '/api', {}, undefined],
  ])('%s: %s %s %j → %s', (on, method, path, headers, want) => {
    const table = on === 'ingress' ? state.routes : state.gatewayPorts!.get(80)!.routes;
    expect(matchRoute(table, 'shop.example.com', path, req(method, headers), path)?.backend).toBe(want);
  });

  it('an Ingress-only table holds routes without conditions or chains: the matcher returns them as found', () => {
    const only = compileObjects([service('a', [{ port: 80 }]), ingress('i', { rules: [{ host: 'h', paths: [{ path: '/', pathType: 'Prefix', backend: backend('a', 80) }] }] })]).routes;
    const route = only.hosts.get('h')!.prefix.get('')!;
    expect([route.conditions, route.next, only.deepWildcards, only.hosts.get('h')!.regex]).toEqual([undefined, undefined, undefined, undefined]);
    expect(matchRoute(only, 'h', '/x')).toBe(route);
  });
});
