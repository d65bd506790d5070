import { describe, expect, it } from 'vitest';
import { planL4, type L4PlanEntry } from '../../../src/compile/l4-plan.ts';
import { compileObjects, type Obj } from '../support/k8s.ts';

interface Ep {
  readonly ip: string;
  readonly node?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

function svc(spec: Obj, name = 'web'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { type: 'NodePort', clusterIP: '10.96.0.10', ...spec } };
}

function slice(eps: readonly Ep[], ports: Obj[] = [{ name: 'tcp', port: 9000 }], service = 'web'): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      ...(e.node ? { nodeName: e.node } : {}),
      conditions: { ready: e.ready ?? true, ...(e.serving !== undefined ? { serving: e.serving } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
    })),
    ports,
  };
}

const PORT = { name: 'tcp', port: 80, targetPort: 'tcp', nodePort: 30080 };

function plan(objs: Obj[], nodeName = 'node-a'): L4PlanEntry[] {
  return [...planL4(compileObjects(objs), { nodeName }).entries];
}

const keys = (entry: L4PlanEntry | undefined, which: 'internal' | 'external') => entry?.[which].rotation.map((e) => e.key);

describe('planL4: endpoints chosen as kube-proxy chooses them', () => {
  // [description, Service spec extras, endpoints, internal rotation, external rotation]
  const cases: [string, Obj, Ep[], string[], string[]][] = [
    ['ready endpoints', {}, [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ['10.0.0.1:9000', '10.0.0.2:9000'], ['10.0.0.1:9000', '10.0.0.2:9000']],
    ['not-ready endpoints are left out', {}, [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }], ['10.0.0.1:9000'], ['10.0.0.1:9000']],
    [
      'none ready: the serving and terminating ones',
      {},
      [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', ready: false, serving: false, terminating: true }],
      ['10.0.0.1:9000'],
      ['10.0.0.1:9000'],
    ],
    ['a ready one hides the terminating ones', {}, [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2' }], ['10.0.0.2:9000'], ['10.0.0.2:9000']],
    [
      'externalTrafficPolicy Local: node ports keep this node\'s endpoints, cluster IPs all',
      { externalTrafficPolicy: 'Local' },
      [{ ip: '10.0.0.1', node: 'node-a' }, { ip: '10.0.0.2', node: 'node-b' }, { ip: '10.0.0.3' }],
      ['10.0.0.1:9000', '10.0.0.2:9000', '10.0.0.3:9000'],
      ['10.0.0.1:9000'],
    ],
    [
      'internalTrafficPolicy Local: the reverse',
      { internalTrafficPolicy: 'Local' },
      [{ ip: '10.0.0.1', node: 'node-a' }, { ip: '10.0.0.2', node: 'node-b' }],
      ['10.0.0.1:9000'],
      ['10.0.0.1:9000', '10.0.0.2:9000'],
    ],
    ['Local with no endpoint on this node: none (no fallback to other nodes)', { externalTrafficPolicy: 'Local' }, [{ ip: '10.0.0.2', node: 'node-b' }], ['10.0.0.2:9000'], []],
    [
      'Local: the terminating fallback among this node\'s endpoints only',
      { externalTrafficPolicy: 'Local' },
      [{ ip: '10.0.0.1', node: 'node-a', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', node: 'node-b' }],
      ['10.0.0.2:9000'],
      ['10.0.0.1:9000'],
    ],
    ['no endpoints', {}, [], [], []],
  ];
  it.each(cases)('%s', (_d, extra, eps, internal, external) => {
    const [entry] = plan([svc({ ports: [PORT], ...extra }), slice(eps)]);
    expect(keys(entry, 'internal')).toEqual(internal);
    expect(keys(entry, 'external')).toEqual(external);
  });

  it('a Local backend has its own key (its own round-robin cursor)', () => {
    const [entry] = plan([svc({ ports: [PORT], externalTrafficPolicy: 'Local' }), slice([{ ip: '10.0.0.1', node: 'node-a' }])]);
    expect([entry?.internal.key, entry?.external.key]).toEqual(['shop/web:80', 'shop/web:80@local']);
  });

  it('resolves a named targetPort through the EndpointSlice port names, per protocol', () => {
    const entries = plan([
      svc({ ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns', nodePort: 30053 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns-tcp', nodePort: 30053 }] }),
      slice([{ ip: '10.0.0.1' }], [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5354, protocol: 'TCP' }]),
    ]);
    expect(entries.map((e) => [e.port.key, e.port.nodePort, keys(e, 'external')])).toEqual([
      ['shop/web:53', 30053, ['10.0.0.1:5354']],
      ['shop/web:53/udp', 30053, ['10.0.0.1:5353']],
    ]);
  });
});

describe('compile: the layer-4 view of Services', () => {
  it('carries frontends, affinity and policies', () => {
    const state = compileObjects([
      {
        ...svc({ type: 'LoadBalancer', ports: [PORT], externalIPs: ['192.0.2.1'], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }),
        status: { loadBalancer: { ingress: [{ ip: '198.51.100.1' }] } },
      },
    ]);
    expect(state.l4).toEqual([
      {
        key: 'shop/web:80',
        namespace: 'shop',
        service: 'web',
        portName: 'tcp',
        port: 80,
        protocol: 'TCP',
        clusterIPs: ['10.96.0.10'],
        externalIPs: ['192.0.2.1'],
        loadBalancerIPs: ['198.51.100.1'],
        nodePort: 30080,
        affinityTimeoutSeconds: 30,
        internalTrafficPolicy: 'Cluster',
        externalTrafficPolicy: 'Cluster',
      },
    ]);
  });

  // [description, objects, L4 port keys with their node ports, diagnostics (code, name, message)]
  const cases: [string, Obj[], [string, number | undefined][], [string, string, string][]][] = [
    ['headless and ExternalName Services are not proxied', [svc({ clusterIP: 'None', type: 'ClusterIP', ports: [{ port: 80 }] }), svc({ type: 'ExternalName', externalName: 'x.example.com', clusterIP: undefined, ports: [{ port: 80 }] }, 'ext')], [], []],
    [
      'a bad nodePort skips that port only',
      [svc({ ports: [{ name: 'a', port: 80, nodePort: 70000 }, { name: 'b', port: 81, nodePort: 30081 }] })],
      [['shop/web:81', 30081]],
      [['SERVICE_FIELD_INVALID', 'web', 'field spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive; the service proxy skips port 80/TCP']],
    ],
    [
      'a bad clusterIP skips the Service',
      [svc({ clusterIP: '10.0.0.300', ports: [{ port: 80, nodePort: 30080 }] })],
      [],
      [['SERVICE_FIELD_INVALID', 'web', 'field spec.clusterIP: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff); the service proxy skips this Service']],
    ],
    [
      'two Services with one node port: the first by name keeps it',
      [svc({ ports: [{ port: 80, nodePort: 30080 }] }, 'b'), svc({ ports: [{ port: 81, nodePort: 30080 }] }, 'a')],
      [['shop/a:81', 30080], ['shop/b:80', undefined]],
      [['SERVICE_NODEPORT_CONFLICT', 'b', 'node port 30080/TCP of port 80 is already used by shop/a:81; this port gets no node port']],
    ],
    ['one node port over TCP and UDP is no conflict', [svc({ ports: [{ name: 'u', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 't', port: 53, nodePort: 30053 }] })], [['shop/web:53', 30053], ['shop/web:53/udp', 30053]], []],
  ];
  it.each(cases)('%s', (_d, objs, ports, diagnostics) => {
    const state = compileObjects(objs);
    expect(state.l4.map((p) => [p.key, p.nodePort])).toEqual(ports);
    expect(state.diagnostics.filter((d) => d.code.startsWith('SERVICE_')).map((d) => [d.code, d.name, d.message])).toEqual(diagnostics);
  });

  it('a node-port change changes the snapshot hash', () => {
    const a = compileObjects([svc({ ports: [{ port: 80, nodePort: 30080 }] })]);
    const b = compileObjects([svc({ ports: [{ port: 80, nodePort: 30081 }] })]);
    expect(a.hash).not.toBe(b.hash);
  });
});
