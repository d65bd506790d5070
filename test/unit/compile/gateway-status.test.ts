import { describe, expect, it } from 'vitest';
import type { GatewayStatusTable, StatusCondition } from '../../../src/snapshot/gateway-status-types.ts';
import { gatewayStatusOf, withListenerStates } from '../../../src/snapshot/gateway-status.ts';
import type { GatewayListenerState } from '../../../src/snapshot/types.ts';
import { gateway, gatewayClass, httpRoute, listener, referenceGrant, rule } from '../support/gateway.ts';
import { compileObjects, service, type Obj } from '../support/k8s.ts';

const SERVICES = [service('a', [{ port: 80 }]), service('other', [{ port: 80 }], { namespace: 'other' })];
const BASE: Obj[] = [gatewayClass(), gateway('gw', [listener('web')]), ...SERVICES];

/** `Type=Status/Reason` of each condition. */
const brief = (conditions: readonly StatusCondition[]): string[] => conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);
const statusOf = (objs: readonly Obj[]): GatewayStatusTable => compileObjects(objs).gatewayStatus!;
/** The conditions of the first parent of route `name`. */
const parentOf = (objs: readonly Obj[], name = 'r'): string[] => brief(statusOf(objs).routes.find((r) => r.name === name)!.parents[0]!.conditions);

const ACCEPTED = ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'];

describe('route parent conditions (the spec reasons)', () => {
  it.each<[string, Obj[], string[]]>([
    ['attached, every backend resolved', [httpRoute('r', { rules: [rule('a')] })], ACCEPTED],
    ['namespace not admitted (from: Same)', [httpRoute('r', { rules: [rule('other')], parentRefs: [{ name: 'gw', namespace: 'default' }] }, { namespace: 'other' })], ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs']],
    [
      'kind not admitted (allowedRoutes.kinds)',
      [gateway('gw', [listener('web', { allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } })]), httpRoute('r', { rules: [rule('a')] })],
      ['Accepted=False/NotAllowedByListeners', 'ResolvedRefs=True/ResolvedRefs'],
    ],
    [
      'no hostname in common',
      [gateway('gw', [listener('web', { hostname: 'a.example.com' })]), httpRoute('r', { hostnames: ['b.example.com'], rules: [rule('a')] })],
      ['Accepted=False/NoMatchingListenerHostname', 'ResolvedRefs=True/ResolvedRefs'],
    ],
    ['sectionName names no listener', [httpRoute('r', { parentRefs: [{ name: 'gw', sectionName: 'nope' }], rules: [rule('a')] })], ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']],
    ['port of no listener', [httpRoute('r', { parentRefs: [{ name: 'gw', port: 8080 }], rules: [rule('a')] })], ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']],
    ['no such Gateway', [httpRoute('r', { parentRefs: [{ name: 'missing' }], rules: [rule('a')] })], ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']],
    ['no such Service', [httpRoute('r', { rules: [rule('nope')] })], ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']],
    ['no such port', [httpRoute('r', { rules: [rule('a', undefined, 81)] })], ['Accepted=True/Accepted', 'ResolvedRefs=False/BackendNotFound']],
    ['a kind other than Service', [httpRoute('r', { rules: [{ backendRefs: [{ group: 'example.com', kind: 'Bucket', name: 'a', port: 80 }] }] })], ['Accepted=True/Accepted', 'ResolvedRefs=False/InvalidKind']],
    ['another namespace without a ReferenceGrant', [httpRoute('r', { rules: [{ backendRefs: [{ name: 'other', namespace: 'other', port: 80 }] }] })], ['Accepted=True/Accepted', 'ResolvedRefs=False/RefNotPermitted']],
    ['another namespace with a ReferenceGrant', [referenceGrant('other', 'default'), httpRoute('r', { rules: [{ backendRefs: [{ name: 'other', namespace: 'other', port: 80 }] }] })], ACCEPTED],
    [
      'one match of two is an invalid pattern',
      [httpRoute('r', { rules: [rule('a', [{ path: { type: 'RegularExpression', value: '/(a' } }, { path: { value: '/ok' } }])] })],
      ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs', 'PartiallyInvalid=True/UnsupportedValue'],
    ],
    ['its only match is an invalid pattern', [httpRoute('r', { rules: [rule('a', [{ path: { type: 'RegularExpression', value: '/(a' } }])] })], ['Accepted=False/UnsupportedValue', 'ResolvedRefs=True/ResolvedRefs']],
  ])('%s', (_what, objs, want) => expect(parentOf([...BASE, ...objs])).toEqual(want));

  it('names the parentRef with its defaults, and the unresolved reference in the message', () => {
    const route = statusOf([...BASE, httpRoute('r', { parentRefs: [{ name: 'gw', sectionName: 'web' }], rules: [rule('a'), rule('nope')] })]).routes[0]!;
    expect(route).toMatchObject({ kind: 'HTTPRoute', namespace: 'default', name: 'r' });
    expect(route.parents[0]!.parentRef).toEqual({ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'default', name: 'gw', sectionName: 'web', port: undefined });
    expect(route.parents[0]!.conditions[1]!.message).toBe('spec.rules[1].backendRefs[0] default/nope:80: no such Service in namespace default');
  });

  it('leaves parentRefs of other controllers alone', () => {
    const objs = [...BASE, gatewayClass('other', 'example.com/controller'), gateway('theirs', [listener('web')], { className: 'other' })];
    const both = statusOf([...objs, httpRoute('r', { parentRefs: [{ name: 'theirs' }, { name: 'gw' }], rules: [rule('a')] })]);
    expect(both.routes[0]!.parents.map((p) => p.parentRef.name)).toEqual(['gw']);
    expect(statusOf([...objs, httpRoute('r', { parentRefs: [{ name: 'theirs' }], rules: [rule('a')] })]).routes).toEqual([]);
    expect(both.gateways.map((g) => g.name)).toEqual(['gw']);
    expect(both.classes.map((c) => c.name)).toEqual(['switchyard']);
    expect(both.routes[0]!.parents[0]!.ours).toBe(true);
    // A Gateway that does not exist: shown, but its controller is unknown (not ours to write).
    const missing = statusOf([...objs, httpRoute('r', { parentRefs: [{ name: 'missing' }], rules: [rule('a')] })]);
    expect(missing.routes[0]!.parents.map((p) => [p.parentRef.name, p.ours])).toEqual([['missing', false]]);
  });

  it('stamps observedGeneration from metadata.generation (0 without one)', () => {
    const route = httpRoute('r', { rules: [rule('a')] });
    (route['metadata'] as Obj)['generation'] = 7;
    const table = statusOf([...BASE, route]);
    expect(table.routes[0]!.parents[0]!.conditions.map((c) => c.observedGeneration)).toEqual([7, 7]);
    expect(table.gateways[0]!.conditions.map((c) => c.observedGeneration)).toEqual([0, 0]);
  });
});

describe('Gateway and listener conditions', () => {
  const gw = (listeners: Obj[]) => statusOf([gatewayClass(), gateway('gw', listeners), ...SERVICES]).gateways[0]!;

  it('a served listener: Accepted, no conflict, references resolved, programmed; the class Accepted', () => {
    const table = statusOf([...BASE, httpRoute('r', { rules: [rule('a')] }), httpRoute('r2', { rules: [rule('a')] })]);
    expect(brief(table.classes[0]!.conditions)).toEqual(['Accepted=True/Accepted']);
    expect(brief(table.gateways[0]!.conditions)).toEqual(['Accepted=True/Accepted', 'Programmed=True/Programmed']);
    expect(table.gateways[0]!.listeners[0]).toMatchObject({
      name: 'web',
      attachedRoutes: 2,
      supportedKinds: [
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
        { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' },
      ],
    });
    expect(brief(table.gateways[0]!.listeners[0]!.conditions)).toEqual(['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed']);
  });

  it('counts a route whose hostnames miss the listener as attached (the spec counts selection and admission only)', () => {
    const table = statusOf([gatewayClass(), gateway('gw', [listener('web', { hostname: 'a.example.com' })]), ...SERVICES, httpRoute('r', { hostnames: ['b.example.com'], rules: [rule('a')] })]);
    expect(table.gateways[0]!.listeners[0]!.attachedRoutes).toBe(1);
  });

  it.each<[string, Obj[], string[], string[][]]>([
    [
      'an unsupported protocol beside a served listener',
      [listener('web'), listener('tcp', { port: 9000, protocol: 'TCP' })],
      ['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed'],
      [
        ['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=True/Programmed'],
        ['Accepted=False/UnsupportedProtocol', 'Conflicted=False/NoConflicts', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=False/Invalid'],
      ],
    ],
    [
      'two listeners of one port and hostname',
      [listener('a'), listener('b')],
      ['Accepted=False/ListenersNotValid', 'Programmed=False/Invalid'],
      [
        ['Accepted=True/Accepted', 'Conflicted=True/HostnameConflict', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=False/Invalid'],
        ['Accepted=True/Accepted', 'Conflicted=True/HostnameConflict', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=False/Invalid'],
      ],
    ],
    [
      'a route kind Switchyard does not serve',
      [listener('web', { allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'TCPRoute' }] } })],
      ['Accepted=True/Accepted', 'Programmed=True/Programmed'],
      [['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=False/InvalidRouteKinds', 'Programmed=True/Programmed']],
    ],
  ])('%s', (_what, listeners, gatewayConditions, listenerConditions) => {
    const g = gw(listeners);
    expect(brief(g.conditions)).toEqual(gatewayConditions);
    expect(g.listeners.map((l) => brief(l.conditions))).toEqual(listenerConditions);
  });

  it('lists only the supported kinds the listener allows', () => {
    expect(gw([listener('web', { allowedRoutes: { kinds: [{ kind: 'HTTPRoute' }, { kind: 'TCPRoute' }] } })]).listeners[0]!.supportedKinds).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }]);
  });

  it('takes listener outcomes decided outside compile (a port that could not be bound)', () => {
    const table = statusOf([gatewayClass(), gateway('gw', [listener('web'), listener('alt', { port: 8080 })]), ...SERVICES]);
    const ok = { status: true, reason: 'Accepted', message: '' };
    const state = (name: string, accepted: GatewayListenerState['accepted'], programmed: GatewayListenerState['programmed']): GatewayListenerState => ({
      namespace: 'default',
      gateway: 'gw',
      listener: name,
      port: 80,
      protocol: 'HTTP',
      hostname: undefined,
      accepted,
      conflicted: { status: false, reason: 'NoConflicts', message: '' },
      resolvedRefs: { status: true, reason: 'ResolvedRefs', message: '' },
      programmed,
    });
    const merged = withListenerStates(table, [
      state('web', ok, { status: true, reason: 'Programmed', message: '' }),
      state('alt', { status: false, reason: 'PortUnavailable', message: 'EADDRINUSE' }, { status: false, reason: 'Invalid', message: 'EADDRINUSE' }),
    ]);
    expect(brief(merged.gateways[0]!.conditions)).toEqual(['Accepted=True/ListenersNotValid', 'Programmed=True/Programmed']);
    expect(brief(merged.gateways[0]!.listeners[1]!.conditions)).toEqual(['Accepted=False/PortUnavailable', 'Conflicted=False/NoConflicts', 'ResolvedRefs=True/ResolvedRefs', 'Programmed=False/Invalid']);
    expect(withListenerStates(table, undefined)).toBe(table);
    expect(gatewayStatusOf({ gatewayStatus: undefined, gatewayListeners: undefined })).toEqual({ classes: [], gateways: [], routes: [] });
  });
});
