import { describe, expect, it } from 'vitest';
import { compileServices } from '../../../src/compile/backends.ts';
import type { Backend } from '../../../src/snapshot/types.ts';
import { endpoints, service, slice, storeView, type Obj } from '../support/k8s.ts';

const compileObjs = (objs: readonly Obj[], domain = 'cluster.local') => compileServices(storeView(objs), domain);

function backendOf(objs: readonly Obj[], key: string): Backend {
  const b = compileObjs(objs).backends.get(key);
  expect(b, `backend ${key}`).toBeDefined();
  return b!;
}

const readyKeys = (b: Backend) => b.ready.map((e) => e.key);
const allKeys = (b: Backend) => b.all.map((e) => e.key);

const WEB = service('web', [{ port: 80, targetPort: 8080 }]);

describe('compileServices: which endpoints belong to a Service', () => {
  // [description, objects, endpoint keys of default/web:80]
  const cases: [string, Obj[], string[]][] = [
    ['an EndpointSlice joins by the kubernetes.io/service-name label', [WEB, slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }])], ['10.0.0.1:8080']],
    ['a slice named like the Service but without the label does not join', [WEB, slice('web', undefined, [{ ip: '10.0.0.1' }], [{ port: 8080 }])], []],
    ['a slice labelled for another Service does not join', [WEB, slice('web-x1', 'api', [{ ip: '10.0.0.1' }], [{ port: 8080 }])], []],
    ['a slice with the label in another namespace does not join', [WEB, slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }], 'other')], []],
    ['v1 Endpoints join by equal name', [WEB, endpoints('web', [{ ready: ['10.0.0.5'], ports: [{ port: 8080 }] }])], ['10.0.0.5:8080']],
    ['v1 Endpoints with another name do not join', [WEB, endpoints('web-eps', [{ ready: ['10.0.0.5'], ports: [{ port: 8080 }] }])], []],
    ['v1 Endpoints in another namespace do not join', [WEB, endpoints('web', [{ ready: ['10.0.0.5'], ports: [{ port: 8080 }] }], 'other')], []],
    [
      'slices take precedence over Endpoints of the same Service (no double counting)',
      [
        WEB,
        endpoints('web', [{ ready: ['10.0.0.1', '10.0.0.9'], ports: [{ port: 8080 }] }]),
        slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }]),
      ],
      ['10.0.0.1:8080'],
    ],
    [
      'slices take precedence even when they match no port',
      [WEB, endpoints('web', [{ ready: ['10.0.0.9'], ports: [{ port: 8080 }] }]), slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ name: 'other', port: 8080 }])],
      [],
    ],
    [
      'several slices of one Service are united',
      [WEB, slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }]), slice('web-x2', 'web', [{ ip: '10.0.0.2' }], [{ port: 8080 }])],
      ['10.0.0.1:8080', '10.0.0.2:8080'],
    ],
    [
      'the same pod in two slices is one endpoint',
      [WEB, slice('web-x1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }]), slice('web-x2', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], [{ port: 8080 }])],
      ['10.0.0.1:8080', '10.0.0.2:8080'],
    ],
    [
      'several subsets of v1 Endpoints are united',
      [WEB, endpoints('web', [{ ready: ['10.0.0.1'], ports: [{ port: 8080 }] }, { ready: ['10.0.0.2'], ports: [{ port: 8080 }] }])],
      ['10.0.0.1:8080', '10.0.0.2:8080'],
    ],
    [
      'several pods sharing a port on different addresses are distinct endpoints',
      [WEB, slice('web-x1', 'web', [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }, { ip: '127.0.0.4' }], [{ port: 8080 }])],
      ['127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080'],
    ],
  ];
  it.each(cases)('%s', (_name, objs, keys) => {
    expect(allKeys(backendOf(objs, 'default/web:80'))).toEqual(keys);
  });
});

describe('compileServices: port matching (by name, protocol)', () => {
  const TWO_PORTS = service('app', [
    { name: 'http', port: 80, targetPort: 'web' },
    { name: 'metrics', port: 9090 },
  ]);
  // [description, objects, backend key, endpoint keys]
  const cases: [string, Obj[], string, string[]][] = [
    [
      'named Service port ↔ endpoint port of the same name (http)',
      [TWO_PORTS, slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'metrics', port: 9100 }, { name: 'http', port: 8080 }])],
      'default/app:80',
      ['10.0.0.1:8080'],
    ],
    [
      'named Service port ↔ endpoint port of the same name (metrics)',
      [TWO_PORTS, slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'metrics', port: 9100 }, { name: 'http', port: 8080 }])],
      'default/app:9090',
      ['10.0.0.1:9100'],
    ],
    ['a named Service port ignores endpoint ports of other names', [TWO_PORTS, slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'web', port: 8080 }])], 'default/app:80', []],
    ['the single unnamed port matches the unnamed endpoint port', [WEB, slice('w', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }])], 'default/web:80', ['10.0.0.1:8080']],
    ['the single unnamed port does not match a named endpoint port', [WEB, slice('w', 'web', [{ ip: '10.0.0.1' }], [{ name: 'http', port: 8080 }])], 'default/web:80', []],
    ['a single named port does not match an unnamed endpoint port', [service('web', [{ name: 'http', port: 80 }]), slice('w', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }])], 'default/web:80', []],
    ['protocol must match: TCP Service port, UDP endpoint port', [WEB, slice('w', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080, protocol: 'UDP' }])], 'default/web:80', []],
    [
      'protocol must match: UDP Service port, UDP endpoint port',
      [service('dns', [{ port: 53, protocol: 'UDP' }]), slice('d', 'dns', [{ ip: '10.0.0.1' }], [{ port: 5353, protocol: 'UDP' }])],
      'default/dns:53/udp',
      ['10.0.0.1:5353'],
    ],
    [
      'the endpoint port number comes from the endpoint, not the Service targetPort',
      [service('web', [{ port: 80, targetPort: 1234 }]), slice('w', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }])],
      'default/web:80',
      ['10.0.0.1:8080'],
    ],
    [
      'v1 Endpoints ports match by name too',
      [TWO_PORTS, endpoints('app', [{ ready: ['10.0.0.7'], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }] }])],
      'default/app:9090',
      ['10.0.0.7:9100'],
    ],
    [
      'a pod moving between target ports appears on both, ordered by port',
      [WEB, slice('w1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8081 }]), slice('w2', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }])],
      'default/web:80',
      ['10.0.0.1:8080', '10.0.0.1:8081'],
    ],
  ];
  it.each(cases)('%s', (_name, objs, key, keys) => {
    expect(allKeys(backendOf(objs, key))).toEqual(keys);
  });

  it('a Service port number served over two protocols yields one backend per protocol, each with its own endpoints', () => {
    // Kubernetes allows the same port number with different protocols (the classic DNS Service: 53/UDP and 53/TCP).
    const result = compileObjs([
      service('dns', [
        { name: 'dns-udp', port: 53, protocol: 'UDP', targetPort: 5353 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5354 },
      ]),
      slice('dns-1', 'dns', [{ ip: '10.0.0.1' }], [{ name: 'dns-udp', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5354, protocol: 'TCP' }]),
    ]);
    const ports = result.services.get('default/dns')!.ports;
    const byPort = ports.map((p) => {
      const b = result.backends.get(p.backend)!;
      return [p.name, p.protocol, b.protocol, b.portName, allKeys(b)];
    });
    expect(byPort).toEqual([
      ['dns-udp', 'UDP', 'UDP', 'dns-udp', ['10.0.0.1:5353']],
      ['dns-tcp', 'TCP', 'TCP', 'dns-tcp', ['10.0.0.1:5354']],
    ]);
  });
});

describe('compileServices: readiness and order', () => {
  it.each([
    ['unset conditions are ready', [{ ip: '10.0.0.1' }], ['10.0.0.1:8080'], ['10.0.0.1:8080']],
    ['ready: false is listed but not ready', [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2' }], ['10.0.0.2:8080'], ['10.0.0.1:8080', '10.0.0.2:8080']],
    [
      'terminating and serving but not ready is not in the rotation',
      [{ ip: '10.0.0.1', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', ready: true }],
      ['10.0.0.2:8080'],
      ['10.0.0.1:8080', '10.0.0.2:8080'],
    ],
    ['no ready endpoint at all', [{ ip: '10.0.0.1', ready: false }, { ip: '10.0.0.2', ready: false }], [], ['10.0.0.1:8080', '10.0.0.2:8080']],
  ])('%s', (_name, eps, ready, all) => {
    const b = backendOf([WEB, slice('w', 'web', eps, [{ port: 8080 }])], 'default/web:80');
    expect(readyKeys(b)).toEqual(ready);
    expect(allKeys(b)).toEqual(all);
  });

  it('v1 Endpoints: notReadyAddresses are listed, not ready', () => {
    const b = backendOf([WEB, endpoints('web', [{ ready: ['10.0.0.2'], notReady: ['10.0.0.1'], ports: [{ port: 8080 }] }])], 'default/web:80');
    expect(b.all.map((e) => [e.key, e.ready, e.serving, e.terminating])).toEqual([
      ['10.0.0.1:8080', false, false, false],
      ['10.0.0.2:8080', true, true, false],
    ]);
    expect(readyKeys(b)).toEqual(['10.0.0.2:8080']);
  });

  it('a pod in two slices is ready when either slice says so', () => {
    const b = backendOf(
      [WEB, slice('w1', 'web', [{ ip: '10.0.0.1', ready: false, terminating: true }], [{ port: 8080 }]), slice('w2', 'web', [{ ip: '10.0.0.1', ready: true }], [{ port: 8080 }])],
      'default/web:80',
    );
    expect(b.all.map((e) => [e.key, e.ready, e.serving, e.terminating])).toEqual([['10.0.0.1:8080', true, true, false]]);
  });

  it('endpoint order is stable (address, then port) whatever the input order', () => {
    const ips = ['127.0.0.3', '127.0.0.2', '10.1.0.1', '127.0.0.4'];
    const forward = backendOf([WEB, slice('w', 'web', ips.map((ip) => ({ ip })), [{ port: 8080 }])], 'default/web:80');
    const reversed = backendOf([slice('w', 'web', [...ips].reverse().map((ip) => ({ ip })), [{ port: 8080 }]), WEB], 'default/web:80');
    expect(allKeys(forward)).toEqual(['10.1.0.1:8080', '127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080']);
    expect(allKeys(reversed)).toEqual(allKeys(forward));
  });

  it('endpoint order does not depend on which slice lists a pod', () => {
    const a = backendOf([WEB, slice('w-a', 'web', [{ ip: '10.0.0.3' }], [{ port: 8080 }]), slice('w-b', 'web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], [{ port: 8080 }])], 'default/web:80');
    const b = backendOf([WEB, slice('w-b', 'web', [{ ip: '10.0.0.3' }], [{ port: 8080 }]), slice('w-a', 'web', [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }], [{ port: 8080 }])], 'default/web:80');
    expect(allKeys(a)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
    expect(allKeys(b)).toEqual(allKeys(a));
  });

  it('an IPv6 endpoint key is bracketed and keeps the pod details', () => {
    const objs: Obj[] = [
      WEB,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'w6', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv6',
        endpoints: [{ addresses: ['fd00::7'], hostname: 'web-0', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0' } }],
        ports: [{ port: 8080 }],
      },
    ];
    expect(backendOf(objs, 'default/web:80').all).toEqual([
      { key: '[fd00::7]:8080', address: 'fd00::7', port: 8080, ready: true, serving: true, terminating: false, hostname: 'web-0', nodeName: 'n1', targetRef: 'Pod/default/web-0' },
    ]);
  });
});

describe('compileServices: services, backends and diagnostics', () => {
  it('one backend per Service port, keyed namespace/name:port, and a ServiceView with registry names', () => {
    const result = compileObjs(
      [
        service('app', [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'grpc', port: 9000, targetPort: 9000 }], { namespace: 'shop', spec: { clusterIP: '10.96.0.10' } }),
        slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'http', port: 8080 }, { name: 'grpc', port: 9000 }], 'shop'),
      ],
      'corp.internal',
    );
    expect([...result.backends.keys()]).toEqual(['shop/app:80', 'shop/app:9000']);
    expect(result.services.get('shop/app')).toEqual({
      namespace: 'shop',
      name: 'app',
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.10'],
      headless: false,
      externalName: undefined,
      names: ['app.shop.svc.corp.internal', 'app.shop.svc', 'app.shop'],
      ports: [
        { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP', appProtocol: undefined, backend: 'shop/app:80' },
        { name: 'grpc', port: 9000, targetPort: 9000, protocol: 'TCP', appProtocol: undefined, backend: 'shop/app:9000' },
      ],
      addresses: [{ address: '10.0.0.1', ready: true, serving: true, terminating: false, hostname: undefined }],
    });
    const b = result.backends.get('shop/app:80')!;
    expect([b.namespace, b.service, b.port, b.portName, b.protocol, readyKeys(b)]).toEqual(['shop', 'app', 80, 'http', 'TCP', ['10.0.0.1:8080']]);
    expect(result.diagnostics).toEqual([]);
  });

  it('Services are listed in key order', () => {
    const result = compileObjs([service('b', [{ port: 80 }]), service('a', [{ port: 80 }], { namespace: 'z' }), service('a', [{ port: 80 }])]);
    expect([...result.services.keys()]).toEqual(['default/a', 'default/b', 'z/a']);
  });

  it('a Service with no endpoints at all has empty backends and no diagnostic', () => {
    const result = compileObjs([WEB]);
    expect(result.backends.get('default/web:80')).toMatchObject({ ready: [], all: [] });
    expect(result.diagnostics).toEqual([]);
  });

  // [description, objects, diagnostics as [severity, code, kind, namespace, name]]
  const cases: [string, Obj[], [string, string, string, string, string][]][] = [
    ['a slice without the service-name label', [WEB, slice('orphan', undefined, [{ ip: '10.0.0.1' }], [{ port: 8080 }], 'shop')], [['warning', 'ENDPOINTSLICE_NO_SERVICE', 'EndpointSlice', 'shop', 'orphan']]],
    ['a slice whose Service does not exist', [slice('ghost-1', 'ghost', [{ ip: '10.0.0.1' }], [{ port: 8080 }])], [['info', 'ENDPOINTSLICE_SERVICE_MISSING', 'EndpointSlice', 'default', 'ghost-1']]],
    [
      'a Service port with no matching endpoint port (name)',
      [service('app', [{ name: 'http', port: 80 }]), slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'web', port: 8080 }])],
      [['warning', 'SERVICE_PORT_NO_ENDPOINT_PORT', 'Service', 'default', 'app']],
    ],
    [
      'a Service port with no matching endpoint port (protocol)',
      [WEB, endpoints('web', [{ ready: ['10.0.0.1'], ports: [{ port: 8080, protocol: 'UDP' }] }])],
      [['warning', 'SERVICE_PORT_NO_ENDPOINT_PORT', 'Service', 'default', 'web']],
    ],
    [
      'no diagnostic when one slice matches and another does not',
      [WEB, slice('w1', 'web', [{ ip: '10.0.0.1' }], [{ port: 8080 }]), slice('w2', 'web', [{ ip: '10.0.0.2' }], [{ name: 'x', port: 8080 }])],
      [],
    ],
    ['no diagnostic for an unmatched slice without addresses', [WEB, slice('w1', 'web', [], [{ name: 'x', port: 8080 }])], []],
  ];
  it.each(cases)('diagnostic: %s', (_name, objs, expected) => {
    const diags = compileObjs(objs).diagnostics;
    expect(diags.map((d) => [d.severity, d.code, d.kind, d.namespace, d.name])).toEqual(expected);
    for (const d of diags) expect(d.message.length).toBeGreaterThan(0);
  });

  it('the unmatched-port diagnostic names the port', () => {
    const diags = compileObjs([service('app', [{ name: 'http', port: 80 }]), slice('app-1', 'app', [{ ip: '10.0.0.1' }], [{ name: 'web', port: 8080 }])]).diagnostics;
    expect(diags.map((d) => d.message)).toEqual(['no endpoint port matches port name "http" (TCP) of port 80']);
    const unnamed = compileObjs([WEB, slice('w', 'web', [{ ip: '10.0.0.1' }], [{ name: 'web', port: 8080 }])]).diagnostics;
    expect(unnamed.map((d) => d.message)).toEqual(['no endpoint port matches the unnamed port (TCP) of port 80']);
  });
});

describe('compileServices: ServiceView.addresses (every distinct pod address, whatever its ports)', () => {
  const addrs = (objs: readonly Obj[], key = 'default/db') =>
    compileObjs(objs).services.get(key)!.addresses.map((a) => [a.address, a.ready, a.serving, a.terminating, a.hostname ?? null]);
  const HEADLESS = service('db', [], { spec: { clusterIP: 'None' } });

  it.each([
    ['a headless Service without ports still lists its pods', [HEADLESS, slice('db-1', 'db', [{ ip: '10.0.0.2' }, { ip: '10.0.0.1', ready: false }], [])], [
      ['10.0.0.1', false, false, false, null],
      ['10.0.0.2', true, true, false, null],
    ]],
    ['addresses are distinct across slices and ports; ready if either listing says so', [
      HEADLESS,
      slice('db-1', 'db', [{ ip: '10.0.0.1', ready: false, serving: false, terminating: true }], [{ name: 'a', port: 1 }]),
      slice('db-2', 'db', [{ ip: '10.0.0.1', ready: true }, { ip: '10.0.0.3' }], [{ name: 'b', port: 2 }]),
    ], [
      ['10.0.0.1', true, true, false],
      ['10.0.0.3', true, true, false],
    ].map((r) => [...r, null])],
    ['from v1 Endpoints when there is no slice', [HEADLESS, endpoints('db', [{ ready: ['10.0.0.9'], notReady: ['10.0.0.8'], ports: [] }])], [
      ['10.0.0.8', false, false, false, null],
      ['10.0.0.9', true, true, false, null],
    ]],
    ['only slices when both exist', [HEADLESS, endpoints('db', [{ ready: ['10.0.0.9'], ports: [] }]), slice('db-1', 'db', [{ ip: '10.0.0.1' }], [])], [['10.0.0.1', true, true, false, null]]],
    ['none without endpoints', [HEADLESS], []],
  ] as [string, Obj[], unknown[]][])('%s', (_name, objs, expected) => {
    expect(addrs(objs)).toEqual(expected);
  });

  it('keeps the hostname of the first listing (for per-pod DNS names)', () => {
    const objs: Obj[] = [
      HEADLESS,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'], hostname: 'db-0' }, { addresses: ['10.0.0.2'], hostname: 'db-1' }],
      },
    ];
    expect(addrs(objs)).toEqual([
      ['10.0.0.1', true, true, false, 'db-0'],
      ['10.0.0.2', true, true, false, 'db-1'],
    ]);
  });
});
