import { describe, expect, it } from 'vitest';
import { apiTime, gatewayStatus, mergeConditions, routeParents, sameJson, type ConditionIn, type RouteStatusIn } from '../../../src/sources/gateway-status-merge.ts';

const NOW = '2026-01-02T03:04:05Z';
const BEFORE = '2025-01-01T00:00:00Z';
const cond = (type: string, status: string, reason = type, observedGeneration = 1): ConditionIn => ({ type, status, reason, message: '', observedGeneration });
const written = (c: ConditionIn, lastTransitionTime: string) => ({ ...c, lastTransitionTime });

describe('mergeConditions (metav1.Condition transition times)', () => {
  it.each([
    ['new condition: now', [], cond('Accepted', 'True'), NOW],
    ['same status: kept', [written(cond('Accepted', 'True'), BEFORE)], cond('Accepted', 'True'), BEFORE],
    ['same status, new reason and generation: kept', [written(cond('Accepted', 'True', 'Accepted', 1), BEFORE)], cond('Accepted', 'True', 'Other', 2), BEFORE],
    ['status changed: now', [written(cond('Accepted', 'True'), BEFORE)], cond('Accepted', 'False', 'NotAllowedByListeners'), NOW],
    ['no time written before: now', [cond('Accepted', 'True')], cond('Accepted', 'True'), NOW],
  ])('%s', (_what, current, desired, time) => {
    expect(mergeConditions([desired], current, NOW)).toEqual([written(desired, time)]);
  });

  it('drops conditions of types no longer computed, and reads a missing list as none', () => {
    expect(mergeConditions([cond('Accepted', 'True')], [written(cond('PartiallyInvalid', 'True'), BEFORE)], NOW).map((c) => c['type'])).toEqual(['Accepted']);
    expect(mergeConditions([cond('Accepted', 'True')], undefined, NOW)).toHaveLength(1);
  });
});

describe('routeParents', () => {
  const ref = (name: string) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name, sectionName: undefined, port: undefined });
  const route = (parents: RouteStatusIn['parents']): RouteStatusIn => ({ kind: 'HTTPRoute', namespace: 'shop', name: 'r', parents });
  const theirs = { parentRef: { name: 'x' }, controllerName: 'example.com/other', conditions: [] };

  it('keeps other controllers’ entries as they are and replaces its own', () => {
    const mine = { parentRef: { name: 'gone' }, controllerName: 'me', conditions: [] };
    const out = routeParents(route([{ parentRef: ref('gw'), ours: true, conditions: [cond('Accepted', 'True')] }]), { parents: [theirs, mine] }, 'me', NOW);
    expect(out).toEqual([theirs, { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'gw' }, controllerName: 'me', conditions: [written(cond('Accepted', 'True'), NOW)] }]);
  });

  it('matches its old entry by parentRef with the spec defaults, keeping transition times', () => {
    const old = { parentRef: { name: 'gw' }, controllerName: 'me', conditions: [written(cond('Accepted', 'True'), BEFORE)] };
    const out = routeParents(route([{ parentRef: ref('gw'), ours: true, conditions: [cond('Accepted', 'True')] }]), { parents: [old] }, 'me', NOW);
    expect((out[0]!['conditions'] as { lastTransitionTime: string }[])[0]!.lastTransitionTime).toBe(BEFORE);
  });

  it('leaves out parents that are not Switchyard’s Gateways, and its entries of a route no longer attached', () => {
    expect(routeParents(route([{ parentRef: ref('missing'), ours: false, conditions: [cond('Accepted', 'False', 'NoMatchingParent')] }]), undefined, 'me', NOW)).toEqual([]);
    expect(routeParents(undefined, { parents: [theirs, { parentRef: { name: 'gw' }, controllerName: 'me', conditions: [] }] }, 'me', NOW)).toEqual([theirs]);
  });

  it('stays within the 32 parents the CRD allows', () => {
    const others = Array.from({ length: 31 }, (_, i) => ({ ...theirs, parentRef: { name: `x${i}` } }));
    const out = routeParents(route([ref('a'), ref('b')].map((parentRef) => ({ parentRef, ours: true, conditions: [] }))), { parents: others }, 'me', NOW);
    expect(out).toHaveLength(32);
  });
});

describe('gatewayStatus and comparison', () => {
  const desired = { namespace: 'shop', name: 'gw', conditions: [cond('Accepted', 'True')], listeners: [{ name: 'web', supportedKinds: [{ group: 'g', kind: 'HTTPRoute' }], attachedRoutes: 2, conditions: [cond('Programmed', 'True')] }] };

  it('is the same as the status it produced, so nothing is rewritten', () => {
    const first = gatewayStatus(desired, undefined, [{ type: 'IPAddress', value: '203.0.113.7' }], NOW);
    const again = gatewayStatus(desired, JSON.parse(JSON.stringify(first)), [{ type: 'IPAddress', value: '203.0.113.7' }], '2030-01-01T00:00:00Z');
    expect(sameJson(again, first)).toBe(true);
    expect(sameJson(gatewayStatus({ ...desired, listeners: [{ ...desired.listeners[0]!, attachedRoutes: 3 }] }, first, [], NOW), first)).toBe(false);
  });

  it('compares JSON whatever the key order, and writes times in whole seconds', () => {
    expect(sameJson({ a: 1, b: [{ c: 2, d: 3 }] }, { b: [{ d: 3, c: 2 }], a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(apiTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe(NOW);
  });
});
