import { describe, expect, it } from 'vitest';
import type { GatewayRec, HttpRouteRec } from '../../../src/model/gateway-records.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';
import { gateway, gatewayClass, httpRoute, listener, referenceGrant } from '../support/gateway.ts';
import { manifestText, records, type Obj } from '../support/k8s.ts';

const one = <T>(obj: Obj): T => records([obj])[0] as T;
const errorOf = (obj: Obj) => {
  const r = parseManifest(manifestText([obj]), 'test.yaml', 'test');
  expect(r.records).toEqual([]);
  expect(r.errors).toHaveLength(1);
  return { path: r.errors[0]!.location?.path, message: r.errors[0]!.message };
};

describe('Gateway API kinds from manifests', () => {
  it('reads a GatewayClass (cluster-scoped) and a ReferenceGrant', () => {
    expect(one(gatewayClass('sy', 'example.com/gw'))).toMatchObject({ kind: 'GatewayClass', meta: { namespace: '', name: 'sy' }, controllerName: 'example.com/gw' });
    expect(one(referenceGrant('backends', 'shop', 'web'))).toMatchObject({
      kind: 'ReferenceGrant',
      meta: { namespace: 'backends' },
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'shop' }],
      to: [{ group: '', kind: 'Service', name: 'web' }],
    });
  });

  it('reads a ReferenceGrant of v1 (Gateway API v1.5) as of v1beta1, and refuses other versions naming both', () => {
    expect(one({ ...referenceGrant('backends', 'shop', 'web'), apiVersion: 'gateway.networking.k8s.io/v1' })).toMatchObject({ kind: 'ReferenceGrant', to: [{ kind: 'Service', name: 'web' }] });
    expect(errorOf({ ...referenceGrant('backends', 'shop', 'web'), apiVersion: 'gateway.networking.k8s.io/v1alpha2' }).message).toContain(
      'field apiVersion: Unsupported value: "gateway.networking.k8s.io/v1alpha2": supported values: "gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1" (the versions of ReferenceGrant Switchyard reads)',
    );
  });

  it('reads a Gateway with the defaults of its listeners (allowedRoutes Same)', () => {
    const gw = one<GatewayRec>(gateway('gw', [listener('web', { hostname: '*.example.com' }), listener('all', { port: 8080, allowedRoutes: { namespaces: { from: 'All' } } })]));
    expect(gw.gatewayClassName).toBe('switchyard');
    expect(gw.listeners).toEqual([
      { name: 'web', hostname: '*.example.com', port: 80, protocol: 'HTTP', allowedNamespaces: 'Same', namespaceSelector: undefined, allowedKinds: [] },
      { name: 'all', hostname: undefined, port: 8080, protocol: 'HTTP', allowedNamespaces: 'All', namespaceSelector: undefined, allowedKinds: [] },
    ]);
  });

  it('reads an HTTPRoute with the spec defaults applied', () => {
    const r = one<HttpRouteRec>(
      httpRoute('r', {
        parentRefs: [{ name: 'gw', sectionName: 'web', port: 80 }],
        hostnames: ['shop.example.com'],
        rules: [
          { backendRefs: [{ name: 'web', port: 80 }] },
          { matches: [{ headers: [{ name: 'X-Canary', value: 'yes' }, { name: 'x-canary', value: 'dup' }], queryParams: [{ name: 'v', value: '2', type: 'RegularExpression' }], method: 'POST' }], backendRefs: [{ name: 'b', port: 81, weight: 0 }] },
        ],
      }, { namespace: 'shop' }),
    );
    expect(r.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'gw', sectionName: 'web', port: 80 }]);
    expect(r.hostnames).toEqual(['shop.example.com']);
    expect(r.rules[0]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [], method: undefined }]);
    expect(r.rules[0]!.backendRefs).toEqual([{ group: '', kind: 'Service', name: 'web', namespace: 'shop', port: 80, weight: 1 }]);
    expect(r.rules[1]!.matches[0]).toEqual({
      path: { type: 'PathPrefix', value: '/' },
      headers: [{ type: 'Exact', name: 'x-canary', value: 'yes' }], // the first of equivalent names only
      queryParams: [{ type: 'RegularExpression', name: 'v', value: '2' }],
      method: 'POST',
    });
    expect(r.rules[1]!.backendRefs[0]!.weight).toBe(0);
  });

  it('gives a route without rules the default rule (every request)', () => {
    const r = one<HttpRouteRec>(httpRoute('r', {}));
    expect(r.rules).toEqual([{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [], method: undefined }], backendRefs: [], filters: [] }]);
  });

  it('reads the filters of a rule, with their defaults', () => {
    const r = one<HttpRouteRec>(
      httpRoute('r', {
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }], remove: ['x-b'] } },
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } },
              { type: 'RequestMirror', requestMirror: { backendRef: { name: 'm', port: 80 } } },
            ],
          },
          { filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https' } }] },
        ],
      }),
    );
    expect(r.rules[0]!.filters).toEqual([
      { type: 'RequestHeaderModifier', headers: { set: [{ name: 'X-A', value: '1' }], add: [], remove: ['x-b'] } },
      { type: 'URLRewrite', hostname: undefined, path: { type: 'ReplacePrefixMatch', value: '/new' } },
      { type: 'RequestMirror', backendRef: { group: '', kind: 'Service', name: 'm', namespace: 'default', port: 80, weight: 1 }, numerator: 1, denominator: 1 },
    ]);
    expect(r.rules[1]!.filters).toEqual([{ type: 'RequestRedirect', scheme: 'https', hostname: undefined, port: undefined, path: undefined, statusCode: 302 }]);
  });

  it.each([
    ['a filter without its field', httpRoute('r', { rules: [{ filters: [{ type: 'URLRewrite' }] }] }), 'spec.rules[0].filters[0].urlRewrite', 'Required value: filter.urlRewrite must be specified for URLRewrite filter.type'],
    ['an unknown filter type', httpRoute('r', { rules: [{ filters: [{ type: 'Rewrite' }] }] }), 'spec.rules[0].filters[0].type', 'Unsupported value: "Rewrite"'],
    ['redirect and rewrite together', httpRoute('r', { rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: {} }, { type: 'RequestRedirect', requestRedirect: {} }] }] }), 'spec.rules[0].filters', 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both'],
    ['ReplacePrefixMatch without a PathPrefix match', httpRoute('r', { rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }] }] }), 'spec.rules[0].filters', 'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'],
    ['redirect status 304', httpRoute('r', { rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 304 } }] }] }), 'spec.rules[0].filters[0].requestRedirect.statusCode', 'Unsupported value: 304: supported values: 301, 302, 303, 307, 308'],
    ['ReplaceFullPath without its value', httpRoute('r', { rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath' } } }] }] }), 'spec.rules[0].filters[0].urlRewrite.path.replaceFullPath', "Required value: replaceFullPath must be specified when type is set to 'ReplaceFullPath'"],
  ])('refuses %s', (_name, obj, path, message) => {
    const e = errorOf(obj);
    expect(e.path).toBe(path);
    expect(e.message).toContain(message);
  });

  it.each([
    ['GatewayClass without controllerName', { ...gatewayClass('x'), spec: {} }, 'spec.controllerName', 'Required value'],
    ['GatewayClass controllerName not domain-prefixed', gatewayClass('x', 'switchyard'), 'spec.controllerName', 'Invalid value: "switchyard"'],
    ['Gateway without listeners', gateway('gw', []), 'spec.listeners', 'Required value'],
    ['listener port 0', gateway('gw', [listener('a', { port: 0 })]), 'spec.listeners[0].port', 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ['listener hostname with a port', gateway('gw', [listener('a', { hostname: 'a.example.com:80' })]), 'spec.listeners[0].hostname', 'Invalid value: "a.example.com:80"'],
    ['listener names twice', gateway('gw', [listener('a'), listener('a', { port: 81 })]), 'spec.listeners[1].name', 'Duplicate value: "a"'],
    ['Selector without selector', gateway('gw', [listener('a', { allowedRoutes: { namespaces: { from: 'Selector' } } })]), 'spec.listeners[0].allowedRoutes.namespaces.selector', 'Required value'],
    ['allowedRoutes from Other', gateway('gw', [listener('a', { allowedRoutes: { namespaces: { from: 'Other' } } })]), 'spec.listeners[0].allowedRoutes.namespaces.from', 'Unsupported value: "Other": supported values: "All", "Same", "Selector"'],
    ['relative PathPrefix', httpRoute('r', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: 'foo' } }] }] }), 'spec.rules[0].matches[0].path.value', 'Invalid value: "foo": value must be an absolute path and start with \'/\''],
    ['path type Prefix (the Ingress word)', httpRoute('r', { rules: [{ matches: [{ path: { type: 'Prefix', value: '/' } }] }] }), 'spec.rules[0].matches[0].path.type', 'Unsupported value: "Prefix"'],
    ['method FETCH', httpRoute('r', { rules: [{ matches: [{ method: 'FETCH' }] }] }), 'spec.rules[0].matches[0].method', 'Unsupported value: "FETCH"'],
    ['header name with a space', httpRoute('r', { rules: [{ matches: [{ headers: [{ name: 'x y', value: '1' }] }] }] }), 'spec.rules[0].matches[0].headers[0].name', 'Invalid value: "x y"'],
    ['Service backendRef without port', httpRoute('r', { rules: [{ backendRefs: [{ name: 'web' }] }] }), 'spec.rules[0].backendRefs[0].port', 'Required value: Must have port for Service reference'],
    ['negative weight', httpRoute('r', { rules: [{ backendRefs: [{ name: 'web', port: 80, weight: -1 }] }] }), 'spec.rules[0].backendRefs[0].weight', 'Invalid value: -1'],
    ['a hostname with a port', httpRoute('r', { hostnames: ['10.0.0.1:80'] }), 'spec.hostnames[0]', 'Invalid value: "10.0.0.1:80"'],
    ['a hostname with capitals (the CRD pattern is lower-case)', httpRoute('r', { hostnames: ['Shop.example.com'] }), 'spec.hostnames[0]', 'Invalid value: "Shop.example.com"'],
    ['HTTPRoute of v1beta1', { ...httpRoute('r', {}), apiVersion: 'gateway.networking.k8s.io/v1beta1' }, 'apiVersion', 'Unsupported value: "gateway.networking.k8s.io/v1beta1": supported values: "gateway.networking.k8s.io/v1"'],
    ['ReferenceGrant without to', { ...referenceGrant('a', 'b'), spec: { from: [{ group: '', kind: 'HTTPRoute', namespace: 'b' }] } }, 'spec.to', 'Required value'],
  ])('refuses %s in the API server’s words', (_name, obj, path, message) => {
    const e = errorOf(obj);
    expect(e.path).toBe(path);
    expect(e.message).toContain(`field ${path}: ${message}`);
  });
});
