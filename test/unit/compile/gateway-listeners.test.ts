/**
 * Which Gateway listeners are served: protocols, conflicts within a Gateway and across every Gateway of
 * Switchyard's (they share --gateway-address), HTTPS certificate references; the per-port views and the
 * listener states (the spec's reasons) compile puts in the snapshot.
 */
import { describe, expect, it } from 'vitest';
import type { GatewayListenerState } from '../../../src/snapshot/types.ts';
import { selfSigned } from '../support/certs.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from '../support/gateway.ts';
import { compileObjects, service, type Obj } from '../support/k8s.ts';

const OLD = '2024-01-01T00:00:00Z';
const NEW = '2024-06-01T00:00:00Z';

function gw(name: string, listeners: readonly Obj[], creationTimestamp = OLD, namespace = 'default'): Obj {
  const g = gateway(name, listeners, { namespace });
  return { ...g, metadata: { ...(g['metadata'] as Obj), creationTimestamp } };
}

const https = (name: string, extra: Obj = {}): Obj => listener(name, { port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] }, ...extra });

const PEM = selfSigned(['a.example.com']);
function secret(name: string, namespace = 'default', type = 'kubernetes.io/tls'): Obj {
  return { apiVersion: 'v1', kind: 'Secret', type, metadata: { name, namespace }, data: { 'tls.crt': Buffer.from(PEM.certPem).toString('base64'), 'tls.key': Buffer.from(PEM.keyPem).toString('base64') } };
}

function grant(namespace: string, from: string, name?: string): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'g', namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: from }], to: [{ group: '', kind: 'Secret', ...(name ? { name } : {}) }] },
  };
}

/** `gateway/listener: reason` of every listener not served, and the ports opened with their protocol. */
function outcome(objs: readonly Obj[]): { problems: string[]; ports: string[] } {
  const state = compileObjects([gatewayClass(), ...objs]);
  const why = (l: GatewayListenerState): string => (!l.accepted.status ? l.accepted.reason : l.conflicted.status ? l.conflicted.reason : l.resolvedRefs.reason);
  return {
    problems: (state.gatewayListeners ?? []).filter((l) => !l.programmed.status).map((l) => `${l.gateway}/${l.listener}: ${why(l)}`),
    ports: [...(state.gatewayPorts ?? new Map()).values()].map((p) => `${p.port}/${p.protocol}`),
  };
}

describe('listener conflicts (one address for every Gateway of ours)', () => {
  it.each([
    ['distinct ports', [gw('a', [listener('x'), listener('y', { port: 8080 })])], [], ['80/HTTP', '8080/HTTP']],
    ['same port, different hostnames', [gw('a', [listener('x', { hostname: 'a.example.com' }), listener('y', { hostname: 'b.example.com' })])], [], ['80/HTTP']],
    ['same port and hostname in one Gateway: both out', [gw('a', [listener('x'), listener('y')])], ['a/x: HostnameConflict', 'a/y: HostnameConflict'], []],
    ['HTTP and HTTPS on one port in one Gateway: both out', [gw('a', [listener('x'), https('y', { port: 80 })]), secret('cert')], ['a/x: ProtocolConflict', 'a/y: ProtocolConflict'], []],
    ['same port and hostname across Gateways: the older keeps it', [gw('young', [listener('x')], NEW), gw('old', [listener('x')])], ['young/x: HostnameConflict'], ['80/HTTP']],
    ['HTTP then HTTPS on one port across Gateways: the older protocol wins', [gw('old', [listener('x', { port: 443 })]), gw('young', [https('y')], NEW), secret('cert')], ['young/y: ProtocolConflict'], ['443/HTTP']],
    ['same port, protocol, different hostnames across Gateways: shared', [gw('a', [listener('x', { hostname: 'a.example.com' })]), gw('b', [listener('x', { hostname: 'b.example.com' })], NEW)], [], ['80/HTTP']],
    ['a wildcard and an exact hostname are distinct', [gw('a', [listener('x', { hostname: '*.example.com' }), listener('y', { hostname: 'a.example.com' })])], [], ['80/HTTP']],
    ['no hostname and a hostname are distinct', [gw('a', [listener('x'), listener('y', { hostname: 'a.example.com' })])], [], ['80/HTTP']],
    ['a conflicted listener claims nothing: a younger Gateway may use the port', [gw('a', [listener('x'), listener('y')]), gw('b', [listener('z')], NEW)], ['a/x: HostnameConflict', 'a/y: HostnameConflict'], ['80/HTTP']],
    ['TCP is not served (and takes no port)', [gw('a', [listener('x', { protocol: 'TCP' }), listener('y', { port: 81 })])], ['a/x: UnsupportedProtocol'], ['81/HTTP']],
  ] as [string, Obj[], string[], string[]][])('%s', (_name, objs, problems, ports) => {
    expect(outcome(objs)).toEqual({ problems, ports });
  });
});

describe('HTTPS certificate references', () => {
  it.each([
    ['a Secret of the Gateway’s namespace', [gw('a', [https('s')]), secret('cert')], [], ['443/HTTPS']],
    ['no such Secret', [gw('a', [https('s')])], ['a/s: InvalidCertificateRef'], []],
    ['a Secret not of type kubernetes.io/tls', [gw('a', [https('s')]), secret('cert', 'default', 'Opaque')], ['a/s: InvalidCertificateRef'], []],
    ['a kind other than Secret', [gw('a', [https('s', { tls: { certificateRefs: [{ kind: 'ConfigMap', name: 'cert' }] } })]), secret('cert')], ['a/s: InvalidCertificateRef'], []],
    ['no certificateRefs', [gw('a', [https('s', { tls: { mode: 'Terminate' } })])], ['a/s: InvalidCertificateRef'], []],
    ['Passthrough', [gw('a', [https('s', { tls: { mode: 'Passthrough' } })])], ['a/s: UnsupportedProtocol'], []],
    ['another namespace without a ReferenceGrant', [gw('a', [https('s', { tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } })]), secret('cert', 'certs')], ['a/s: RefNotPermitted'], []],
    ['another namespace with a ReferenceGrant', [gw('a', [https('s', { tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } })]), secret('cert', 'certs'), grant('certs', 'default')], [], ['443/HTTPS']],
    ['a ReferenceGrant for another Secret', [gw('a', [https('s', { tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } })]), secret('cert', 'certs'), grant('certs', 'default', 'other')], ['a/s: RefNotPermitted'], []],
    ['a ReferenceGrant from another namespace', [gw('a', [https('s', { tls: { certificateRefs: [{ name: 'cert', namespace: 'certs' }] } })]), secret('cert', 'certs'), grant('certs', 'elsewhere')], ['a/s: RefNotPermitted'], []],
  ] as [string, Obj[], string[], string[]][])('%s', (_name, objs, problems, ports) => {
    expect(outcome(objs)).toEqual({ problems, ports });
  });

  it('reports the reason in a diagnostic and sets the listener’s conditions', () => {
    const state = compileObjects([gatewayClass(), gw('a', [https('s')])]);
    expect(state.diagnostics.map((d) => `${d.code} ${d.kind} ${d.namespace}/${d.name}: ${d.message}`)).toEqual([
      'GATEWAY_LISTENER_TLS_INVALID Gateway default/a: listener s (port 443): tls.certificateRefs[0] Secret default/cert: Secret default/cert does not exist (or is not of type kubernetes.io/tls); not served (reason InvalidCertificateRef)',
    ]);
    expect(state.gatewayListeners).toEqual([
      expect.objectContaining({
        namespace: 'default',
        gateway: 'a',
        listener: 's',
        accepted: expect.objectContaining({ status: true, reason: 'Accepted' }),
        conflicted: expect.objectContaining({ status: false, reason: 'NoConflicts' }),
        resolvedRefs: expect.objectContaining({ status: false, reason: 'InvalidCertificateRef' }),
        programmed: expect.objectContaining({ status: false, reason: 'Invalid' }),
      }),
    ]);
  });

  it('an expired certificate is an invalid reference (checked at the time compile is given)', () => {
    const objs = [gatewayClass(), gw('a', [https('s')]), secret('cert')];
    const at = (now: number) => compileObjects(objs, { now } as never).gatewayListeners![0]!.resolvedRefs;
    expect(at(Date.now()).status).toBe(true);
    const later = at(Date.now() + 400 * 86_400_000);
    expect([later.status, later.reason]).toEqual([false, 'InvalidCertificateRef']);
    expect(later.message).toMatch(/Secret default\/cert: the certificate \(CN=a.example.com\) expired at /);
  });

  it('builds the port’s SNI table from the listeners’ hostnames: exact, wildcard, and the default', () => {
    const objs = [
      gatewayClass(),
      gw('a', [https('exact', { hostname: 'a.example.com' }), https('wild', { hostname: '*.example.com', tls: { certificateRefs: [{ name: 'wild' }] } }), https('any', { tls: { certificateRefs: [{ name: 'other' }] } })]),
      secret('cert'),
      secret('wild'),
      secret('other'),
    ];
    const tls = compileObjects(objs).gatewayPorts!.get(443)!.tls!;
    expect([[...tls.hosts], [...tls.wildcards], tls.defaultKey, [...tls.certificates.keys()].sort()]).toEqual([[['a.example.com', 'default/cert']], [['example.com', 'default/wild']], 'default/other', ['default/cert', 'default/other', 'default/wild']]);
  });
});

describe('routes per port', () => {
  it('each port’s table holds only the routes attached through a listener on it', () => {
    const objs = [gatewayClass(), gw('a', [listener('web'), listener('alt', { port: 8080 })]), service('s', [{ port: 80 }]), service('t', [{ port: 80 }]), httpRoute('r', { parentRefs: [{ name: 'a', sectionName: 'alt' }], hostnames: ['h.example.com'], rules: [rule('s')] }), httpRoute('q', { parentRefs: [{ name: 'a' }], hostnames: ['q.example.com'], rules: [rule('t')] })];
    const ports = compileObjects(objs).gatewayPorts!;
    const hosts = (port: number) => [...ports.get(port)!.routes.hosts.keys()].sort();
    expect([hosts(80), hosts(8080)]).toEqual([['q.example.com'], ['h.example.com', 'q.example.com']]);
    expect(compileObjects(objs).routes.hosts.size).toBe(0);
  });
});
