import { describe, expect, it } from 'vitest';
import { compileRegistry, serviceNames } from '../../../src/compile/registry.ts';
import type { ServiceView } from '../../../src/snapshot/types.ts';
import { compileObjects, service } from '../support/k8s.ts';

describe('serviceNames', () => {
  it.each([
    ['web', 'shop', 'cluster.local', ['web.shop.svc.cluster.local', 'web.shop.svc', 'web.shop']],
    ['api', 'default', 'corp.example', ['api.default.svc.corp.example', 'api.default.svc', 'api.default']],
    ['db', 'data', 'k8s', ['db.data.svc.k8s', 'db.data.svc', 'db.data']],
  ])('%s in %s with domain %s', (name, ns, domain, expected) => {
    expect(serviceNames(name, ns, domain)).toEqual(expected);
  });
});

describe('compileRegistry', () => {
  it('maps every name of every Service to namespace/name, with a custom cluster domain', () => {
    const snap = compileObjects(
      [service('web', [{ port: 80 }], { namespace: 'shop' }), service('web', [{ port: 80 }]), service('db', [{ port: 5432 }], { namespace: 'data' })],
      { clusterDomain: 'corp.example' },
    );
    expect([...snap.registry.entries()].sort()).toEqual(
      [
        ['db.data', 'data/db'],
        ['db.data.svc', 'data/db'],
        ['db.data.svc.corp.example', 'data/db'],
        ['web.default', 'default/web'],
        ['web.default.svc', 'default/web'],
        ['web.default.svc.corp.example', 'default/web'],
        ['web.shop', 'shop/web'],
        ['web.shop.svc', 'shop/web'],
        ['web.shop.svc.corp.example', 'shop/web'],
      ].sort(),
    );
    expect(snap.registry.has('web.shop.svc.cluster.local')).toBe(false);
  });

  it.each([
    ['web.shop.svc.cluster.local', 'shop/web'],
    ['web.shop.svc', 'shop/web'],
    ['web.shop', 'shop/web'],
    ['web', undefined],
    ['web.shop.svc.cluster', undefined],
    ['web.other', undefined],
  ])('with the default domain, %s → %s', (name, expected) => {
    const snap = compileObjects([service('web', [{ port: 80 }], { namespace: 'shop' })]);
    expect(snap.registry.get(name)).toBe(expected);
  });

  it('lower-cases names, as DNS compares them', () => {
    const view: ServiceView = { namespace: 'ns', name: 'web', type: 'ClusterIP', clusterIPs: [], headless: false, externalName: undefined, names: ['Web.NS.svc.Cluster.Local'], ports: [], addresses: [] };
    const services = new Map([['ns/web', view]]);
    expect([...compileRegistry(services).entries()]).toEqual([['web.ns.svc.cluster.local', 'ns/web']]);
  });

  it('includes headless and ExternalName Services', () => {
    const snap = compileObjects([
      service('db', [{ port: 5432 }], { spec: { clusterIP: 'None' } }),
      service('ext', [], { spec: { type: 'ExternalName', externalName: 'db.example.com' } }),
    ]);
    expect(snap.registry.get('db.default.svc.cluster.local')).toBe('default/db');
    expect(snap.registry.get('ext.default')).toBe('default/ext');
    expect(snap.services.get('default/ext')).toMatchObject({ type: 'ExternalName', externalName: 'db.example.com', clusterIPs: [] });
    expect(snap.services.get('default/db')).toMatchObject({ headless: true, clusterIPs: [] });
  });
});
