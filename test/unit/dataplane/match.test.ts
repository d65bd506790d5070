import { describe, expect, it } from 'vitest';
import { matchHost, matchPath, matchRoute, normalizeHost } from '../../../src/dataplane/match.ts';
import type { Route, RouteTable, RouteTarget } from '../../../src/snapshot/types.ts';
import { backend, compileObjects, ingress, service, type Obj, type PathSpec } from '../support/k8s.ts';

type PathType = PathSpec['pathType'];

/** Services p0…p9 and `fallback`, each with port 80. */
const SERVICES: Obj[] = [...Array.from({ length: 10 }, (_, i) => service(`p${i}`, [{ port: 80 }])), service('fallback', [{ port: 80 }])];

/** A table with host-less paths [path, type] → service p<index>, plus a default backend unless told otherwise. */
function tableFor(paths: readonly (readonly [string, PathType])[], withDefault = true): RouteTable {
  const ing = ingress('paths', {
    rules: [{ paths: paths.map(([path, pathType], i) => ({ path, pathType, backend: backend(`p${i}`, 80) })) }],
    ...(withDefault ? { defaultBackend: backend('fallback', 80) } : {}),
  });
  const snap = compileObjects([...SERVICES, ing]);
  expect(snap.diagnostics).toEqual([]);
  return snap.routes;
}

/** "p<i> <type> <path>" for a route, "default" for the default backend, "404" for nothing. */
function describeHit(t: RouteTarget | undefined): string {
  if (t === undefined) return '404';
  if (!('path' in t)) return 'default';
  const r = t as Route;
  return `${r.backend!.replace(/^default\/(p\d):80$/, '$1')} ${r.pathType} ${r.path}`;
}

describe('Kubernetes Ingress path-matching examples (kubernetes.io/docs/concepts/services-networking/ingress/#examples)', () => {
  // [kind, paths, request path, expected winner ("p<i> <type> <path>") or "default" when it does not match]
  const rows: [string, [string, PathType][], string, string][] = [
    ['Prefix', [['/', 'Prefix']], '/', 'p0 Prefix /'],
    ['Prefix', [['/', 'Prefix']], '/anything/at/all', 'p0 Prefix /'],
    ['Prefix', [['/', 'Prefix']], '/aaa/bbb/', 'p0 Prefix /'],
    ['Exact', [['/foo', 'Exact']], '/foo', 'p0 Exact /foo'],
    ['Exact', [['/foo', 'Exact']], '/bar', 'default'],
    ['Exact', [['/foo', 'Exact']], '/foo/', 'default'],
    ['Exact', [['/foo/', 'Exact']], '/foo', 'default'],
    ['Prefix', [['/foo', 'Prefix']], '/foo', 'p0 Prefix /foo'],
    ['Prefix', [['/foo', 'Prefix']], '/foo/', 'p0 Prefix /foo'],
    ['Prefix', [['/foo/', 'Prefix']], '/foo', 'p0 Prefix /foo/'],
    ['Prefix', [['/foo/', 'Prefix']], '/foo/', 'p0 Prefix /foo/'],
    ['Prefix', [['/aaa/bb', 'Prefix']], '/aaa/bbb', 'default'],
    ['Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb', 'p0 Prefix /aaa/bbb'],
    ['Prefix (trailing slash ignored)', [['/aaa/bbb/', 'Prefix']], '/aaa/bbb', 'p0 Prefix /aaa/bbb/'],
    ['Prefix (matches trailing slash)', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/', 'p0 Prefix /aaa/bbb'],
    ['Prefix (matches subpath)', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/ccc', 'p0 Prefix /aaa/bbb'],
    ['Prefix (not a string prefix)', [['/aaa/bbb', 'Prefix']], '/aaa/bbbxyz', 'default'],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix']], '/aaa/ccc', 'p1 Prefix /aaa'],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/aaa/bbb', 'p2 Prefix /aaa/bbb'],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/ccc', 'p0 Prefix /'],
    ['Prefix (uses default backend)', [['/aaa', 'Prefix']], '/ccc', 'default'],
    ['Mixed (prefers Exact)', [['/foo', 'Prefix'], ['/foo', 'Exact']], '/foo', 'p1 Exact /foo'],
    ['Mixed (prefers Exact, Exact listed first)', [['/foo', 'Exact'], ['/foo', 'Prefix']], '/foo', 'p0 Exact /foo'],
  ];
  it.each(rows)('%s %j, request %s → %s', (_kind, paths, request, expected) => {
    expect(describeHit(matchRoute(tableFor(paths), '', request))).toBe(expected);
  });
});

describe('path matching beyond the docs table', () => {
  const rows: [string, [string, PathType][], string, string][] = [
    ['longest prefix wins, order of rules irrelevant', [['/aaa/bbb', 'Prefix'], ['/aaa', 'Prefix'], ['/', 'Prefix']], '/aaa/bbb/ccc', 'p0 Prefix /aaa/bbb'],
    ['Mixed: a longer Prefix beats a shorter Exact that does not match', [['/foo', 'Exact'], ['/foo/bar', 'Prefix']], '/foo/bar', 'p1 Prefix /foo/bar'],
    ['Mixed: Prefix /foo serves /foo/ when Exact is /foo', [['/foo', 'Exact'], ['/foo', 'Prefix']], '/foo/', 'p1 Prefix /foo'],
    ['Exact is case-sensitive', [['/Foo', 'Exact']], '/foo', 'default'],
    ['Prefix is case-sensitive', [['/Foo', 'Prefix']], '/foo', 'default'],
    ['Prefix /foo does not match /foobar', [['/foo', 'Prefix']], '/foobar', 'default'],
    ['Prefix /foo does not match /fo', [['/foo', 'Prefix']], '/fo', 'default'],
    ['Prefix /foo matches /foo//bar', [['/foo', 'Prefix']], '/foo//bar', 'p0 Prefix /foo'],
    ['ImplementationSpecific acts as Prefix', [['/foo', 'ImplementationSpecific']], '/foo/bar', 'p0 ImplementationSpecific /foo'],
    ['ImplementationSpecific is element-wise too', [['/foo', 'ImplementationSpecific']], '/foobar', 'default'],
    ['Exact / matches only /', [['/', 'Exact']], '/x', 'default'],
    ['Exact / matches /', [['/', 'Exact']], '/', 'p0 Exact /'],
    ['Exact with an encoded character compares raw', [['/a%20b', 'Exact']], '/a%20b', 'p0 Exact /a%20b'],
  ];
  it.each(rows)('%s', (_name, paths, request, expected) => {
    expect(describeHit(matchRoute(tableFor(paths), '', request))).toBe(expected);
  });

  it('matchPath returns undefined when a host has no matching path', () => {
    const table = tableFor([['/a', 'Exact']]);
    expect(matchPath(table.anyHost!, '/b')).toBeUndefined();
    expect(matchPath(table.anyHost!, '/a')).toMatchObject({ path: '/a', pathType: 'Exact' });
  });
});

describe('normalizeHost', () => {
  it.each([
    ['demo.example.com', 'demo.example.com'],
    ['Demo.Example.COM:8080', 'demo.example.com'],
    ['demo.example.com.', 'demo.example.com'],
    ['demo.example.com.:80', 'demo.example.com'],
    ['DEMO.example.com.:443', 'demo.example.com'],
    ['127.0.0.1:8080', '127.0.0.1'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['', ''],
    [undefined, ''],
  ])('%j → %j', (header, expected) => {
    expect(normalizeHost(header)).toBe(expected);
  });
});

describe('host matching', () => {
  const HOSTS: Obj[] = [
    ...SERVICES,
    ingress('hosts', {
      rules: [
        { host: 'demo.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('p0', 80) }] },
        { host: '*.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('p1', 80) }] },
        { host: 'Upper.Example.ORG', paths: [{ path: '/', pathType: 'Prefix', backend: backend('p3', 80) }] },
        { paths: [{ path: '/', pathType: 'Prefix', backend: backend('p2', 80) }] },
      ],
    }),
  ];
  const table = compileObjects(HOSTS).routes;

  // [Host header, expected service]
  it.each([
    ['demo.example.com', 'p0'],
    ['Demo.Example.COM:8080', 'p0'],
    ['demo.example.com.', 'p0'],
    ['a.example.com', 'p1'],
    ['A.EXAMPLE.com:8443', 'p1'],
    ['www.example.com.', 'p1'],
    ['example.com', 'p2'],
    ['a.b.example.com', 'p2'],
    ['demo.example.com.evil.net', 'p2'],
    ['upper.example.org', 'p3'],
    ['UPPER.EXAMPLE.ORG:80', 'p3'],
    ['[::1]:8080', 'p2'],
    ['127.0.0.1', 'p2'],
    ['', 'p2'],
    [undefined, 'p2'],
  ])('Host %j → %s', (header, svc) => {
    const hit = matchRoute(table, normalizeHost(header), '/x');
    expect(hit?.backend).toBe(`default/${svc}:80`);
  });

  it('an exact host beats a wildcard covering it', () => {
    const routes = matchHost(table, 'demo.example.com');
    expect(routes).toBe(table.hosts.get('demo.example.com'));
    expect(routes).not.toBe(table.wildcards.get('example.com'));
  });

  it('a wildcard covers exactly one label', () => {
    expect(matchHost(table, 'a.example.com')).toBe(table.wildcards.get('example.com'));
    expect(matchHost(table, 'example.com')).toBe(table.anyHost);
    expect(matchHost(table, 'a.b.example.com')).toBe(table.anyHost);
    expect(matchHost(table, '.example.com')).toBe(table.anyHost);
  });

  it('without host-less rules an unknown host matches nothing (404)', () => {
    const t = compileObjects([...SERVICES, ingress('h', { rules: [{ host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backend: backend('p0', 80) }] }] })]).routes;
    expect(matchHost(t, 'b.example.com')).toBeUndefined();
    expect(matchRoute(t, 'b.example.com', '/')).toBeUndefined();
    expect(matchRoute(t, 'a.example.com', '/')?.backend).toBe('default/p0:80');
  });

  it('a known host whose paths do not match gets the default backend, not the host-less rules (documented choice)', () => {
    const t = compileObjects([
      ...SERVICES,
      ingress('h', {
        defaultBackend: backend('fallback', 80),
        rules: [{ host: 'a.example.com', paths: [{ path: '/api', pathType: 'Prefix', backend: backend('p0', 80) }] }, { paths: [{ path: '/', pathType: 'Prefix', backend: backend('p1', 80) }] }],
      }),
    ]).routes;
    expect(matchRoute(t, 'a.example.com', '/api/x')?.backend).toBe('default/p0:80');
    expect(matchRoute(t, 'a.example.com', '/other')?.backend).toBe('default/fallback:80');
    expect(matchRoute(t, 'b.example.com', '/other')?.backend).toBe('default/p1:80');
  });

  it('a wildcard host with paths that do not match falls to the default backend', () => {
    const t = compileObjects([
      ...SERVICES,
      ingress('h', { defaultBackend: backend('fallback', 80), rules: [{ host: '*.example.com', paths: [{ path: '/api', pathType: 'Exact', backend: backend('p0', 80) }] }] }),
    ]).routes;
    expect(matchRoute(t, 'x.example.com', '/api')?.backend).toBe('default/p0:80');
    expect(matchRoute(t, 'x.example.com', '/api/')?.backend).toBe('default/fallback:80');
  });
});

describe('default backend', () => {
  it.each([
    ['with a defaultBackend, no match → the default backend', true, '/nothing', 'default'],
    ['without a defaultBackend, no match → undefined (404)', false, '/nothing', '404'],
    ['with a defaultBackend, a match → the route', true, '/a', 'p0 Prefix /a'],
  ])('%s', (_name, withDefault, path, expected) => {
    expect(describeHit(matchRoute(tableFor([['/a', 'Prefix']], withDefault), '', path))).toBe(expected);
  });

  it('no Ingress at all → 404', () => {
    const t = compileObjects(SERVICES).routes;
    expect(matchRoute(t, 'a.example.com', '/')).toBeUndefined();
  });

  it('an Ingress with only a defaultBackend serves every host and path', () => {
    const t = compileObjects([...SERVICES, ingress('d', { defaultBackend: backend('fallback', 80) })]).routes;
    for (const [host, path] of [['a.example.com', '/'], ['', '/x/y'], ['[::1]', '/z']] as const) {
      expect(matchRoute(t, host, path)?.backend).toBe('default/fallback:80');
    }
  });
});
