import { describe, expect, it } from 'vitest';
import { sameData, Store } from '../../../src/store/store.ts';
import { endpoints, ingress, records, service, slice } from '../support/k8s.ts';

describe('Store', () => {
  it('replace bumps the version and signals only when something changed', () => {
    const store = new Store();
    const seen: number[] = [];
    store.onChange((v) => seen.push(v));
    expect(store.version).toBe(0);
    expect(store.replace('files', records([service('a', [{ port: 80 }])]))).toBe(true);
    expect(store.replace('files', records([service('a', [{ port: 80 }])]))).toBe(false);
    expect(store.replace('files', records([service('a', [{ port: 81 }])]))).toBe(true);
    expect(store.replace('files', [])).toBe(true);
    expect(store.replace('files', [])).toBe(false);
    expect(store.version).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('an empty first replace of a new source counts as a change', () => {
    const store = new Store();
    expect(store.replace('kube', [])).toBe(true);
    expect(store.version).toBe(1);
  });

  it('view() sorts records by kind, keyed kind/namespace/name, and is the same object until the next change', () => {
    const store = new Store();
    store.replace(
      'files',
      records([
        service('web', [{ port: 80 }], { namespace: 'shop' }),
        slice('web-1', 'web', [], [], 'shop'),
        endpoints('web', [], 'shop'),
        ingress('web', {}, { namespace: 'shop' }),
        { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'switchyard' } },
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'shop' } },
      ]),
    );
    const view = store.view();
    expect(view.version).toBe(1);
    expect([...view.services.keys(), ...view.endpointSlices.keys(), ...view.endpoints.keys(), ...view.ingresses.keys(), ...view.ingressClasses.keys(), ...view.secrets.keys()]).toEqual([
      'Service/shop/web',
      'EndpointSlice/shop/web-1',
      'Endpoints/shop/web',
      'Ingress/shop/web',
      'IngressClass//switchyard',
      'Secret/shop/tls',
    ]);
    expect(store.view()).toBe(view);
    store.replace('files', []);
    expect(store.view()).not.toBe(view);
    expect(store.view().services.size).toBe(0);
  });

  it('where two sources define the same key, the source registered first wins', () => {
    const store = new Store();
    store.replace('first', records([service('web', [{ port: 80 }])]));
    store.replace('second', records([service('web', [{ port: 9999 }]), service('only-second', [{ port: 1 }])]));
    const view = store.view();
    expect(view.services.get('Service/default/web')!.ports[0]!.port).toBe(80);
    expect(view.services.get('Service/default/only-second')!.ports[0]!.port).toBe(1);
    expect([...view.services.keys()]).toEqual(['Service/default/web', 'Service/default/only-second']);
    expect(view.conflicts).toEqual([{ key: 'Service/default/web', winner: 'first', loser: 'second' }]);
  });

  it.each([
    ['in priority order', ['manifests', 'kubernetes']],
    ['in the reverse order', ['kubernetes', 'manifests']],
  ])('the priority decides a clash whatever order updates arrive in (%s)', (_label, order) => {
    const store = new Store(['manifests', 'kubernetes']);
    const ports: Record<string, number> = { manifests: 80, kubernetes: 9999 };
    for (const source of order) store.replace(source, records([service('web', [{ port: ports[source]! }])]));
    const view = store.view();
    expect(view.services.get('Service/default/web')!.ports[0]!.port).toBe(80);
    expect(view.conflicts).toEqual([{ key: 'Service/default/web', winner: 'manifests', loser: 'kubernetes' }]);
  });

  it('sources outside the priority list come after it, by name', () => {
    const store = new Store(['manifests']);
    store.replace('zeta', records([service('web', [{ port: 3 }])]));
    store.replace('alpha', records([service('web', [{ port: 2 }])]));
    store.replace('manifests', records([service('web', [{ port: 1 }])]));
    expect(store.view().services.get('Service/default/web')!.ports[0]!.port).toBe(1);
    expect(store.view().conflicts.map((c) => c.loser)).toEqual(['alpha', 'zeta']);
  });
});

describe('sameData (how the store tells a changed record from the same one)', () => {
  it.each([
    ['equal primitives', 'a', 'a', true],
    ['different strings', 'a', 'b', false],
    ['number and its string', 1, '1', false],
    ['null and undefined', null, undefined, false],
    ['NaN and NaN', Number.NaN, Number.NaN, true],
    ['objects with keys in another order', { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, true],
    ['a nested value differs', { a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } }, false],
    ['a key missing on one side', { a: 1, b: 2 }, { a: 1 }, false],
    ['an extra key on the other side', { a: 1 }, { a: 1, b: 2 }, false],
    ['a key holding undefined equals a missing key', { a: 1, b: undefined }, { a: 1 }, true],
    ['arrays of another length', [1, 2], [1, 2, 3], false],
    ['array order matters', [1, 2], [2, 1], false],
    ['an array and an object with index keys', [1], { 0: 1 }, false],
    ['an object and null', {}, null, false],
    ['empty object and empty array', {}, [], false],
  ])('%s', (_name, a, b, expected) => {
    expect(sameData(a, b)).toBe(expected);
    expect(sameData(b, a)).toBe(expected);
  });
});
