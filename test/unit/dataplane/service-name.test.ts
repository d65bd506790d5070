import { describe, expect, it } from 'vitest';
import { resolveServiceTarget, splitAuthority } from '../../../src/dataplane/service-name.ts';
import type { Snapshot } from '../../../src/snapshot/types.ts';
import { compileObjects, service } from '../support/k8s.ts';

function snapshot(): Snapshot {
  const compiled = compileObjects([
    service('web', [{ name: 'http', port: 80 }, { name: 'admin', port: 9000 }], { namespace: 'shop' }),
    service('api', [{ name: 'grpc', port: 50051 }], { namespace: 'shop' }),
    service('two', [{ name: 'a', port: 1 }, { name: 'b', port: 2 }], { namespace: 'shop' }),
    service('dns', [{ name: 'dns', port: 53, protocol: 'UDP' }], { namespace: 'kube' }),
  ]);
  return { ...compiled, version: 1, createdAt: '' };
}

describe('splitAuthority', () => {
  it.each([
    ['web.shop', 'web.shop', NaN],
    ['Web.Shop:8080', 'web.shop', 8080],
    ['web.shop.', 'web.shop', NaN],
    ['[::1]:80', '[::1]', 80],
    ['web:http', 'web', -1],
    ['web:', 'web', -1],
  ])('%j → host %j, port %d', (authority, host, port) => {
    const r = splitAuthority(authority);
    expect(r.host).toBe(host);
    expect(r.port).toEqual(port);
  });
});

describe('resolveServiceTarget', () => {
  const snap = snapshot();
  it.each([
    ['web.shop.svc.cluster.local', 'shop', 'shop/web:80'],
    ['web.shop.svc', 'shop', 'shop/web:80'],
    ['web.shop', 'default', 'shop/web:80'],
    ['web', 'shop', 'shop/web:80'],
    ['web.shop:9000', 'shop', 'shop/web:9000'],
    ['api.shop', 'shop', 'shop/api:50051'], // the only port, though not named http
  ])('%j in namespace %s → backend %s', (authority, ns, backend) => {
    expect(resolveServiceTarget(snap, authority, ns).backend?.key).toBe(backend);
  });

  it.each([
    [undefined, 'SWY_ERR_NOT_A_SERVICE'],
    ['', 'SWY_ERR_NOT_A_SERVICE'],
    ['example.com', 'SWY_ERR_NOT_A_SERVICE'],
    ['www.example.org', 'SWY_ERR_NOT_A_SERVICE'],
    ['web.shop:http', 'SWY_ERR_NOT_A_SERVICE'],
    ['web', 'SWY_ERR_SERVICE_NOT_FOUND'], // bare name in namespace default: no such Service
    ['nope.shop', 'SWY_ERR_SERVICE_NOT_FOUND'], // shop is a namespace with Services
    ['nope.shop.svc', 'SWY_ERR_SERVICE_NOT_FOUND'],
    ['nope.other.svc.cluster.local', 'SWY_ERR_SERVICE_NOT_FOUND'],
    ['web.shop:81', 'SWY_ERR_SERVICE_PORT_NOT_FOUND'],
    ['two.shop', 'SWY_ERR_SERVICE_PORT_NOT_FOUND'], // two ports, none named http: no default
    ['dns.kube', 'SWY_ERR_SERVICE_PORT_NOT_FOUND'], // UDP only: HTTP needs TCP
    ['dns.kube:53', 'SWY_ERR_SERVICE_PORT_NOT_FOUND'],
  ])('%j (namespace default) → %s', (authority, code) => {
    expect(resolveServiceTarget(snap, authority, 'default').failure).toBe(code);
  });
});
