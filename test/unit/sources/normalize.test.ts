import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import type { EndpointSliceRec, EndpointsRec, IngressClassRec, IngressRec, Rec, SecretRec, ServiceRec } from '../../../src/model/records.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';

const parse = (text: string, file = 'demo.yaml') => parseManifest(text, file, 'files');

/** Parses text that must hold exactly one valid object of the given kind. */
function one<K extends Rec['kind']>(text: string, kind: K): Extract<Rec, { kind: K }> {
  const r = parse(text);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  expect(r.records).toHaveLength(1);
  expect(r.records[0]!.kind).toBe(kind);
  return r.records[0] as Extract<Rec, { kind: K }>;
}

const SVC = (name: string, extra = '') => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${extra}`;

describe('parseManifest: documents and files', () => {
  it('reads every document of a multi-document YAML file, in order, with its document index', () => {
    const r = parse(`${SVC('a')}---\n${SVC('b')}---\n${SVC('c')}`);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.meta.name, x.origin])).toEqual([
      ['a', { source: 'files', file: 'demo.yaml', document: 0 }],
      ['b', { source: 'files', file: 'demo.yaml', document: 1 }],
      ['c', { source: 'files', file: 'demo.yaml', document: 2 }],
    ]);
  });

  it.each([
    ['a leading separator', `---\n${SVC('a')}`, [0]],
    ['empty documents between separators', `${SVC('a')}---\n---\n---\n${SVC('b')}`, [0, 3]],
    ['an empty document first', `---\n---\n${SVC('a')}`, [1]],
    ['a trailing separator', `${SVC('a')}---\n`, [0]],
    ['comments before the first separator', `# generated\n# by hand\n---\n${SVC('a')}`, [0]],
  ])('skips empty documents but keeps counting them: %s', (_name, text, documents) => {
    const r = parse(text);
    expect(r.errors).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.records.map((x) => x.origin.document)).toEqual(documents);
  });

  it.each([
    ['an empty file', ''],
    ['only whitespace', '  \n\n'],
    ['only comments', '# nothing here\n# at all\n'],
    ['only separators', '---\n---\n'],
  ])('yields nothing for %s', (_name, text) => {
    expect(parse(text)).toEqual({ records: [], skipped: [], errors: [] });
  });

  it('flattens a kind: List, every item keeping the List document index', () => {
    const text = `${SVC('first')}---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: a}
- apiVersion: networking.k8s.io/v1
  kind: IngressClass
  metadata: {name: b}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: c}
`;
    const r = parse(text);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.kind, x.meta.name, x.origin.document])).toEqual([
      ['Service', 'first', 0],
      ['Service', 'a', 1],
      ['IngressClass', 'b', 1],
    ]);
    expect(r.skipped).toEqual([{ kind: 'Deployment', document: 1 }]);
  });

  it('flattens a typed list (ServiceList) and a nested List', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ServiceList',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' } }] },
      ],
    });
    const r = parse(text);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.meta.name)).toEqual(['a', 'b']);
  });

  it('reads a .json file holding one object', () => {
    const text = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } });
    const r = parse(text, 'web.json');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.kind, x.meta.namespace, x.meta.name, x.origin.file, x.origin.document])).toEqual([
      ['Service', 'shop', 'web', 'web.json', 0],
    ]);
  });

  it('reads a .json file holding a List', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'c' } },
      ],
    });
    const r = parse(text, 'all.json');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.meta.name)).toEqual(['a', 'c']);
    expect(r.skipped).toEqual([{ kind: 'ConfigMap', document: 0 }]);
  });

  it.each([
    ['Deployment', 'apps/v1'],
    ['ConfigMap', 'v1'],
    ['Pod', 'v1'],
    ['TCPRoute', 'gateway.networking.k8s.io/v1alpha2'],
    ['CustomThing', 'example.com/v1alpha1'],
    // Regression: kinds named like Object.prototype members were taken for known kinds.
    ['constructor', 'v1'],
    ['toString', 'v1'],
  ])('skips the unsupported kind %s (result.skipped), no error', (kind, apiVersion) => {
    const r = parse(`${SVC('a')}---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\n`);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.meta.name)).toEqual(['a']);
    expect(r.skipped).toEqual([{ kind, document: 1 }]);
  });

  it('keeps the valid objects of a file when one object is invalid', () => {
    const r = parse(`${SVC('a')}---\n${SVC('Bad_Name')}---\n${SVC('c')}`);
    expect(r.records.map((x) => x.meta.name)).toEqual(['a', 'c']);
    expect(r.errors.map((e) => [e.code, e.location?.document, e.location?.path])).toEqual([[ErrorCode.MANIFEST_INVALID, 1, 'metadata.name']]);
  });

  it('reports each invalid object separately', () => {
    const r = parse(`${SVC('Bad')}---\n${SVC('ok')}---\n${SVC('x', 'spec:\n  ports: [{port: 0}]\n')}`);
    expect(r.records.map((x) => x.meta.name)).toEqual(['ok']);
    expect(r.errors.map((e) => [e.location?.document, e.location?.path])).toEqual([
      [0, 'metadata.name'],
      [2, 'spec.ports[0].port'],
    ]);
  });
});

describe('parseManifest: namespaces', () => {
  it.each([
    ['Service', 'default', `${SVC('a')}`],
    ['Service with a namespace', 'shop', `${SVC('a', '')}`.replace('  name: a\n', '  name: a\n  namespace: shop\n')],
    ['EndpointSlice', 'default', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: a}\naddressType: IPv4\nendpoints: []\n'],
    ['Endpoints', 'default', 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: a}\n'],
    ['Ingress', 'default', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a}\n'],
    ['Ingress with a namespace', 'web', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, namespace: web}\n'],
    ['Secret', 'default', 'apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n'],
    ['IngressClass (cluster-scoped)', '', 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: a}\n'],
    ['IngressClass with a namespace (ignored)', '', 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: a, namespace: x}\n'],
  ])('%s → namespace %j', (_name, namespace, text) => {
    const r = parse(text);
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.meta.namespace)).toEqual([namespace]);
  });

  it('keeps labels, annotations and a creationTimestamp (plain or quoted)', () => {
    const a = one(`${SVC('a')}  labels: {app: web}\n  annotations: {note: hi}\n  creationTimestamp: 2024-03-01T10:00:00Z\n`, 'Service');
    expect({ ...a.meta, creationTimestamp: undefined }).toEqual({
      namespace: 'default',
      name: 'a',
      creationTimestamp: undefined,
      labels: { app: 'web' },
      annotations: { note: 'hi' },
    });
    expect(Date.parse(a.meta.creationTimestamp!)).toBe(Date.UTC(2024, 2, 1, 10, 0, 0));
    const b = one(`${SVC('b')}  creationTimestamp: "2024-03-01T10:00:00Z"\n`, 'Service');
    expect(b.meta.creationTimestamp).toBe('2024-03-01T10:00:00Z');
    expect(one(SVC('c'), 'Service').meta).toEqual({ namespace: 'default', name: 'c', creationTimestamp: undefined, labels: {}, annotations: {} });
  });
});

describe('parseManifest: Service', () => {
  const cases: [string, string, Partial<ServiceRec>][] = [
    [
      'single unnamed port, numeric targetPort',
      'spec:\n  clusterIP: 10.0.0.1\n  ports: [{port: 80, targetPort: 8080}]\n',
      {
        type: 'ClusterIP',
        clusterIPs: ['10.0.0.1'],
        headless: false,
        externalName: undefined,
        ports: [{ name: '', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: undefined, nodePort: undefined }],
      },
    ],
    [
      'named targetPort',
      'spec:\n  ports: [{port: 80, targetPort: http}]\n',
      { clusterIPs: [], ports: [{ name: '', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: undefined, nodePort: undefined }] },
    ],
    [
      'targetPort unset',
      'spec:\n  ports: [{port: 80}]\n',
      { ports: [{ name: '', port: 80, targetPort: undefined, protocol: 'TCP', appProtocol: undefined, nodePort: undefined }] },
    ],
    [
      'multi-port with names, protocols and appProtocol',
      'spec:\n  ports:\n  - {name: http, port: 80, targetPort: web}\n  - {name: dns, port: 53, protocol: UDP, targetPort: 5353}\n  - {name: grpc, port: 9090, appProtocol: kubernetes.io/h2c}\n',
      {
        ports: [
          { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP', appProtocol: undefined, nodePort: undefined },
          { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP', appProtocol: undefined, nodePort: undefined },
          { name: 'grpc', port: 9090, targetPort: undefined, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c', nodePort: undefined },
        ],
      },
    ],
    [
      'a single named port',
      'spec:\n  ports: [{name: http, port: 80}]\n',
      { ports: [{ name: 'http', port: 80, targetPort: undefined, protocol: 'TCP', appProtocol: undefined, nodePort: undefined }] },
    ],
    ['headless (clusterIP: None)', 'spec:\n  clusterIP: None\n  ports: [{port: 80}]\n', { type: 'ClusterIP', headless: true, clusterIPs: [] }],
    [
      'headless with clusterIPs [None]',
      'spec:\n  clusterIP: None\n  clusterIPs: [None]\n',
      { headless: true, clusterIPs: [] },
    ],
    [
      'ExternalName',
      'spec:\n  type: ExternalName\n  externalName: db.example.com\n  clusterIP: 10.0.0.9\n',
      { type: 'ExternalName', externalName: 'db.example.com', clusterIPs: [], headless: false, ports: [] },
    ],
    ['dual-stack clusterIPs', 'spec:\n  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.1, "fd00::1"]\n', { clusterIPs: ['10.0.0.1', 'fd00::1'] }],
    ['NodePort', 'spec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 30080}]\n', { type: 'NodePort', headless: false }],
    ['LoadBalancer', 'spec:\n  type: LoadBalancer\n', { type: 'LoadBalancer' }],
    ['no spec at all', '', { type: 'ClusterIP', clusterIPs: [], headless: false, externalName: undefined, ports: [] }],
    ['externalName ignored on a ClusterIP Service', 'spec:\n  externalName: x.example.com\n', { type: 'ClusterIP', externalName: undefined }],
  ];
  it.each(cases)('%s', (_name, spec, expected) => {
    const rec = one(SVC('web') + spec, 'Service');
    expect(rec).toMatchObject(expected);
  });
});

describe('parseManifest: EndpointSlice', () => {
  const sliceWith = (conditions: string) =>
    `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-abc}\naddressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n${conditions}`;
  it.each([
    ['no conditions at all', '', { ready: true, serving: true, terminating: false }],
    ['empty conditions', '  conditions: {}\n', { ready: true, serving: true, terminating: false }],
    ['ready: null', '  conditions: {ready: null}\n', { ready: true, serving: true, terminating: false }],
    ['ready: true', '  conditions: {ready: true}\n', { ready: true, serving: true, terminating: false }],
    ['ready: false (serving follows ready)', '  conditions: {ready: false}\n', { ready: false, serving: false, terminating: false }],
    ['serving: false only', '  conditions: {serving: false}\n', { ready: true, serving: false, terminating: false }],
    [
      'terminating but still serving',
      '  conditions: {ready: false, serving: true, terminating: true}\n',
      { ready: false, serving: true, terminating: true },
    ],
    ['terminating, not serving', '  conditions: {ready: false, serving: false, terminating: true}\n', { ready: false, serving: false, terminating: true }],
    ['terminating: null', '  conditions: {ready: true, terminating: null}\n', { ready: true, serving: true, terminating: false }],
  ])('conditions: %s', (_name, conditions, expected) => {
    const rec = one(sliceWith(conditions), 'EndpointSlice');
    expect(rec.group.addresses).toHaveLength(1);
    const { ready, serving, terminating } = rec.group.addresses[0]!;
    expect({ ready, serving, terminating }).toEqual(expected);
  });

  it('normalises the service-name label, ports, the first address and pod details', () => {
    const rec = one(
      `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- {name: http, port: 8080}
- {port: 9000, protocol: UDP}
endpoints:
- addresses: [10.0.0.1, 10.0.0.99]
  hostname: web-0
  nodeName: node-a
  targetRef: {kind: Pod, namespace: shop, name: web-0}
- addresses: [10.0.0.2]
  targetRef: {name: web-1}
`,
      'EndpointSlice',
    );
    const expected: Omit<EndpointSliceRec, 'origin'> = {
      kind: 'EndpointSlice',
      meta: { namespace: 'shop', name: 'web-abc', creationTimestamp: undefined, labels: { 'kubernetes.io/service-name': 'web' }, annotations: {} },
      serviceName: 'web',
      addressType: 'IPv4',
      group: {
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: '', port: 9000, protocol: 'UDP' },
        ],
        addresses: [
          { address: '10.0.0.1', ready: true, serving: true, terminating: false, hostname: 'web-0', nodeName: 'node-a', targetRef: 'Pod/shop/web-0' },
          { address: '10.0.0.2', ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: 'Pod//web-1' },
        ],
      },
    };
    expect(rec).toMatchObject(expected);
  });

  it.each([
    ['without labels', 'metadata: {name: s}', undefined],
    ['with other labels only', 'metadata: {name: s, labels: {app: web}}', undefined],
    ['with the label', 'metadata: {name: s, labels: {kubernetes.io/service-name: api}}', 'api'],
  ])('serviceName %s', (_name, metadata, serviceName) => {
    const rec = one(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n${metadata}\naddressType: IPv6\nendpoints: []\n`, 'EndpointSlice');
    expect(rec.serviceName).toBe(serviceName);
    expect(rec.addressType).toBe('IPv6');
    expect(rec.group).toEqual({ ports: [], addresses: [] });
  });

  // Regression: refused as "endpoints: Required value", which rejected the Gateway API conformance
  // manifests' slices (filled later) and the API server's `endpoints: null` of a Service with no pods.
  it.each([
    ['missing', ''],
    ['null', 'endpoints: null\n'],
  ])('endpoints %s is a slice without addresses', (_name, endpoints) => {
    const rec = one(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: api}}\naddressType: IPv4\n${endpoints}ports: [{port: 3000}]\n`, 'EndpointSlice');
    expect(rec.serviceName).toBe('api');
    expect(rec.group.addresses).toEqual([]);
  });
});

describe('parseManifest: Endpoints', () => {
  it('turns each subset into a group: addresses ready, notReadyAddresses not ready', () => {
    const rec = one(
      `apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: shop}
subsets:
- addresses: [{ip: 10.0.0.1, hostname: web-0, nodeName: n1, targetRef: {kind: Pod, namespace: shop, name: web-0}}, {ip: 10.0.0.2}]
  notReadyAddresses: [{ip: 10.0.0.3}]
  ports: [{name: http, port: 8080}]
- notReadyAddresses: [{ip: 10.0.1.1}]
  ports: [{port: 53, protocol: UDP}]
`,
      'Endpoints',
    );
    const expected: Omit<EndpointsRec, 'origin' | 'meta'> = {
      kind: 'Endpoints',
      groups: [
        {
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          addresses: [
            { address: '10.0.0.1', ready: true, serving: true, terminating: false, hostname: 'web-0', nodeName: 'n1', targetRef: 'Pod/shop/web-0' },
            { address: '10.0.0.2', ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined },
            { address: '10.0.0.3', ready: false, serving: false, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined },
          ],
        },
        {
          ports: [{ name: '', port: 53, protocol: 'UDP' }],
          addresses: [{ address: '10.0.1.1', ready: false, serving: false, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined }],
        },
      ],
    };
    expect(rec).toMatchObject(expected);
    expect(rec.meta.namespace).toBe('shop');
  });

  it('has no groups without subsets', () => {
    expect(one('apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n', 'Endpoints').groups).toEqual([]);
  });
});

describe('parseManifest: Ingress', () => {
  const ING = (spec: string, metadata = 'metadata: {name: web}') => `apiVersion: networking.k8s.io/v1\nkind: Ingress\n${metadata}\n${spec}`;

  it('normalises rules, hosts (lower-cased), paths and backends by port number and by port name', () => {
    const rec = one(
      ING(`spec:
  rules:
  - host: Demo.Example.COM
    http:
      paths:
      - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 8080}}}}
      - {path: /login, pathType: Exact, backend: {service: {name: auth, port: {name: http}}}}
  - host: "*.example.com"
    http:
      paths:
      - {path: /, pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}
  - http:
      paths:
      - {pathType: ImplementationSpecific, backend: {resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: assets}}}
  - host: empty.example.com
`),
      'Ingress',
    );
    const svc = (name: string, portNumber: number | undefined, portName: string | undefined) => ({
      service: { name, portNumber, portName },
      resource: undefined,
    });
    const expected: IngressRec['rules'] = [
      {
        host: 'demo.example.com',
        paths: [
          { path: '/api', pathType: 'Prefix', backend: svc('api', 8080, undefined) },
          { path: '/login', pathType: 'Exact', backend: svc('auth', undefined, 'http') },
        ],
      },
      { host: '*.example.com', paths: [{ path: '/', pathType: 'ImplementationSpecific', backend: svc('web', 80, undefined) }] },
      {
        host: undefined,
        paths: [
          {
            path: '/',
            pathType: 'ImplementationSpecific',
            backend: { service: undefined, resource: { kind: 'StorageBucket', name: 'assets', apiGroup: 'k8s.example.com' } },
          },
        ],
      },
      { host: 'empty.example.com', paths: [] },
    ];
    expect(rec.rules).toEqual(expected);
    expect(rec.defaultBackend).toBeUndefined();
    expect(rec.ingressClassName).toBeUndefined();
  });

  it.each([
    ['by port number', '{service: {name: fallback, port: {number: 80}}}', { service: { name: 'fallback', portNumber: 80, portName: undefined }, resource: undefined }],
    ['by port name', '{service: {name: fallback, port: {name: http}}}', { service: { name: 'fallback', portNumber: undefined, portName: 'http' }, resource: undefined }],
    ['a resource', '{resource: {kind: Bucket, name: b}}', { service: undefined, resource: { kind: 'Bucket', name: 'b', apiGroup: undefined } }],
  ])('defaultBackend %s', (_name, backend, expected) => {
    expect(one(ING(`spec:\n  defaultBackend: ${backend}\n`), 'Ingress').defaultBackend).toEqual(expected);
  });

  it.each([
    ['spec.ingressClassName', 'spec: {ingressClassName: switchyard}', 'metadata: {name: web}', ['switchyard', undefined]],
    ['the legacy annotation', 'spec: {}', 'metadata: {name: web, annotations: {kubernetes.io/ingress.class: nginx}}', [undefined, 'nginx']],
    ['both, kept apart', 'spec: {ingressClassName: switchyard}', 'metadata: {name: web, annotations: {kubernetes.io/ingress.class: nginx}}', ['switchyard', 'nginx']],
    ['an empty annotation (no class)', 'spec: {}', 'metadata: {name: web, annotations: {kubernetes.io/ingress.class: ""}}', [undefined, undefined]],
    ['neither', 'spec: {}', 'metadata: {name: web, annotations: {other: x}}', [undefined, undefined]],
  ])('ingress class from %s', (_name, spec, metadata, expected) => {
    const rec = one(ING(`${spec}\n`, metadata), 'Ingress');
    expect([rec.ingressClassName, rec.classAnnotation]).toEqual(expected);
  });

  it('keeps tls entries', () => {
    const rec = one(ING('spec:\n  tls:\n  - {hosts: [a.example.com], secretName: a-tls}\n  - {}\n'), 'Ingress');
    expect(rec.tls).toEqual([
      { hosts: ['a.example.com'], secretName: 'a-tls' },
      { hosts: [], secretName: undefined },
    ]);
  });

  it('an Ingress without spec has no rules and no default backend', () => {
    const rec = one(ING(''), 'Ingress');
    expect([rec.rules, rec.defaultBackend, rec.tls, rec.ingressClassName]).toEqual([[], undefined, [], undefined]);
  });
});

describe('parseManifest: names the API server would reject', () => {
  // The API server's messages (k8s.io/apimachinery/pkg/util/validation), word for word.
  const DNS1035 =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  const DNS1123_LABEL =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  const DNS1123_SUBDOMAIN =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  const ingressTo = (svc: string, port = '{number: 80}') =>
    `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - http:\n      paths:\n      - {path: /, pathType: Prefix, backend: {service: {name: ${JSON.stringify(svc)}, port: ${port}}}}\n`;
  const long = 'a'.repeat(64);

  it.each([
    ['a Service named 9web.v2 (Services are DNS-1035 labels)', SVC('"9web.v2"'), 'metadata.name', `Invalid value: "9web.v2": ${DNS1035}`],
    ['a Service name starting with a digit', SVC('9web'), 'metadata.name', `Invalid value: "9web": ${DNS1035}`],
    ['a Service name with a dot', SVC('web.v2'), 'metadata.name', `Invalid value: "web.v2": ${DNS1035}`],
    ['a Service name of 64 characters', SVC(long), 'metadata.name', `Invalid value: "${long}": must be no more than 63 characters`],
    ['an empty name', SVC('""'), 'metadata.name', 'Required value: name or generateName is required'],
    ['no name', 'apiVersion: v1\nkind: Service\nmetadata: {namespace: shop}\n', 'metadata.name', 'Required value: name or generateName is required'],
    ['an Ingress named in upper case', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: Web}\n', 'metadata.name', `Invalid value: "Web": ${DNS1123_SUBDOMAIN}`],
    ['an IngressClass named with an underscore', 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: my_class}\n', 'metadata.name', `Invalid value: "my_class": ${DNS1123_SUBDOMAIN}`],
    ['a namespace with a dot', SVC('web', '  namespace: shop.eu\n'), 'metadata.namespace', `Invalid value: "shop.eu": ${DNS1123_LABEL}`],
    ['an Ingress backend naming Service 9web', ingressTo('9web'), 'spec.rules[0].http.paths[0].backend.service.name', `Invalid value: "9web": ${DNS1035}`],
    ['an Ingress backend port name of 16 characters', ingressTo('web', '{name: abcdefghijklmnop}'), 'spec.rules[0].http.paths[0].backend.service.port.name', 'Invalid value: "abcdefghijklmnop": must be no more than 15 characters'],
    ['an Ingress backend port name of digits', ingressTo('web', '{name: "8080"}'), 'spec.rules[0].http.paths[0].backend.service.port.name', 'Invalid value: "8080": must contain at least one letter (a-z)'],
    ['spec.ingressClassName in upper case', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {ingressClassName: Switchyard}\n', 'spec.ingressClassName', `Invalid value: "Switchyard": ${DNS1123_SUBDOMAIN}`],
    ['a tls: secretName with a slash', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {tls: [{secretName: a/b}]}\n', 'spec.tls[0].secretName', `Invalid value: "a/b": ${DNS1123_SUBDOMAIN}`],
    ['a Service port name in upper case', SVC('web', 'spec:\n  ports: [{name: HTTP, port: 80}]\n'), 'spec.ports[0].name', `Invalid value: "HTTP": ${DNS1123_LABEL}`],
    ['a named targetPort with consecutive hyphens', SVC('web', 'spec:\n  ports: [{port: 80, targetPort: "a--b"}]\n'), 'spec.ports[0].targetPort', 'Invalid value: "a--b": must not contain consecutive hyphens'],
  ])('%s', (_name, text, path, message) => {
    const r = parse(text);
    expect(r.records).toEqual([]);
    expect(r.errors.map((e) => [e.code, e.location?.path, e.message])).toEqual([[ErrorCode.MANIFEST_INVALID, path, `demo.yaml:${r.errors[0]!.location!.line} document 0 field ${path}: ${message}`]]);
  });

  it.each([
    ['a Service name of 63 characters', SVC('a'.repeat(63))],
    ['a dotted Ingress name', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web.v2}\n'],
    ['a Secret name starting with a digit', 'apiVersion: v1\nkind: Secret\nmetadata: {name: 9-tls}\n'],
    ['a single unnamed Service port', SVC('web', 'spec:\n  ports: [{name: "", port: 80}]\n')],
    ['an empty tls: secretName', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {tls: [{secretName: ""}]}\n'],
  ])('accepts what the API accepts: %s', (_name, text) => {
    expect(parse(text).errors.map((e) => e.message)).toEqual([]);
  });
});

describe('parseManifest: IngressClass and Secret', () => {
  it.each([
    ['with controller and default annotation', 'metadata:\n  name: sy\n  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}\nspec: {controller: example.com/switchyard}\n', 'example.com/switchyard', true],
    ['annotation not "true"', 'metadata:\n  name: sy\n  annotations: {ingressclass.kubernetes.io/is-default-class: "false"}\n', undefined, false],
    ['plain', 'metadata: {name: sy}\n', undefined, false],
  ])('IngressClass %s', (_name, body, controller, isDefault) => {
    const rec: IngressClassRec = one(`apiVersion: networking.k8s.io/v1\nkind: IngressClass\n${body}`, 'IngressClass');
    expect([rec.meta.name, rec.meta.namespace, rec.controller, rec.isDefault]).toEqual(['sy', '', controller, isDefault]);
  });

  it('Secret: base64 data decoded, stringData as is and winning, type kept', () => {
    const crt = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n').toString('base64');
    const rec: SecretRec = one(
      `apiVersion: v1\nkind: Secret\nmetadata: {name: tls, namespace: shop}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${crt}\n  k: ${Buffer.from('from-data').toString('base64')}\nstringData:\n  k: from-stringData\n  plain: text\n`,
      'Secret',
    );
    expect(rec.type).toBe('kubernetes.io/tls');
    expect(rec.meta.namespace).toBe('shop');
    expect(rec.data).toEqual({ 'tls.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n', k: 'from-stringData', plain: 'text' });
  });

  it('Secret: type defaults to Opaque, no data is empty', () => {
    const rec = one('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n', 'Secret');
    expect([rec.type, rec.data]).toEqual(['Opaque', {}]);
  });
});

describe('parseManifest: invalid objects → SWY_ERR_MANIFEST_INVALID with file, document and field path', () => {
  const ING_PATHS = (paths: string) =>
    `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - host: a.example.com\n    http:\n      paths:\n${paths}`;
  const GOOD_PATH = '      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n';
  const SLICE = (body: string) => `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\n${body}`;

  // [description, object text, field path]
  const cases: [string, string, string][] = [
    ['kind missing', 'apiVersion: v1\nmetadata: {name: a}\n', 'kind'],
    ['kind not a string', 'apiVersion: v1\nkind: 7\nmetadata: {name: a}\n', 'kind'],
    ['apiVersion missing on a known kind', 'kind: Service\nmetadata: {name: a}\n', 'apiVersion'],
    ['Service with apiVersion apps/v1', 'apiVersion: apps/v1\nkind: Service\nmetadata: {name: a}\n', 'apiVersion'],
    ['Ingress with apiVersion networking.k8s.io/v1beta1', 'apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: a}\n', 'apiVersion'],
    ['Ingress with apiVersion extensions/v1beta1', 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: a}\n', 'apiVersion'],
    ['EndpointSlice with apiVersion discovery.k8s.io/v1beta1', 'apiVersion: discovery.k8s.io/v1beta1\nkind: EndpointSlice\nmetadata: {name: a}\n', 'apiVersion'],
    ['Endpoints with apiVersion discovery.k8s.io/v1', 'apiVersion: discovery.k8s.io/v1\nkind: Endpoints\nmetadata: {name: a}\n', 'apiVersion'],
    ['metadata missing', 'apiVersion: v1\nkind: Service\n', 'metadata'],
    ['metadata not a mapping', 'apiVersion: v1\nkind: Service\nmetadata: web\n', 'metadata'],
    ['metadata.name missing', 'apiVersion: v1\nkind: Service\nmetadata: {namespace: shop}\n', 'metadata.name'],
    ['metadata.name upper-case', 'apiVersion: v1\nkind: Service\nmetadata: {name: Web}\n', 'metadata.name'],
    ['metadata.name a number', 'apiVersion: v1\nkind: Service\nmetadata: {name: 42}\n', 'metadata.name'],
    ['metadata.namespace not a DNS label', 'apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop.eu}\n', 'metadata.namespace'],
    ['metadata.labels value not a string', 'apiVersion: v1\nkind: Service\nmetadata: {name: web, labels: {tier: 1}}\n', 'metadata.labels.tier'],
    ['spec.type unknown', `${SVC('a')}spec: {type: Internal}\n`, 'spec.type'],
    ['spec.ports not a list', `${SVC('a')}spec: {ports: {port: 80}}\n`, 'spec.ports'],
    ['spec.ports[0].port missing', `${SVC('a')}spec:\n  ports: [{targetPort: 80}]\n`, 'spec.ports[0].port'],
    ['spec.ports[0].port a string', `${SVC('a')}spec:\n  ports: [{port: "80"}]\n`, 'spec.ports[0].port'],
    ['spec.ports[1].port out of range', `${SVC('a')}spec:\n  ports: [{name: a, port: 80}, {name: b, port: 65536}]\n`, 'spec.ports[1].port'],
    ['spec.ports[0].port not whole', `${SVC('a')}spec:\n  ports: [{port: 80.5}]\n`, 'spec.ports[0].port'],
    ['spec.ports[0].targetPort 0', `${SVC('a')}spec:\n  ports: [{port: 80, targetPort: 0}]\n`, 'spec.ports[0].targetPort'],
    ['spec.ports[0].targetPort empty name', `${SVC('a')}spec:\n  ports: [{port: 80, targetPort: ""}]\n`, 'spec.ports[0].targetPort'],
    ['spec.ports[0].protocol lower-case', `${SVC('a')}spec:\n  ports: [{port: 80, protocol: tcp}]\n`, 'spec.ports[0].protocol'],
    ['multi-port Service, first port unnamed', `${SVC('a')}spec:\n  ports: [{port: 80}, {name: b, port: 81}]\n`, 'spec.ports[0].name'],
    ['multi-port Service, second port unnamed', `${SVC('a')}spec:\n  ports: [{name: a, port: 80}, {port: 81}]\n`, 'spec.ports[1].name'],
    ['multi-port Service, duplicate port names', `${SVC('a')}spec:\n  ports: [{name: a, port: 80}, {name: b, port: 81}, {name: a, port: 82}]\n`, 'spec.ports[2].name'],
    ['ExternalName without externalName', `${SVC('a')}spec: {type: ExternalName}\n`, 'spec.externalName'],
    ['EndpointSlice addressType missing', SLICE('endpoints: []\n'), 'addressType'],
    ['EndpointSlice addressType unknown', SLICE('addressType: IPv5\nendpoints: []\n'), 'addressType'],
    ['EndpointSlice endpoints[1].addresses empty', SLICE('addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n- addresses: []\n'), 'endpoints[1].addresses'],
    ['EndpointSlice endpoints[0].addresses missing', SLICE('addressType: IPv4\nendpoints:\n- conditions: {ready: true}\n'), 'endpoints[0].addresses'],
    ['EndpointSlice conditions.ready a string', SLICE('addressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  conditions: {ready: "yes"}\n'), 'endpoints[0].conditions.ready'],
    ['EndpointSlice ports[1].port 0', SLICE('addressType: IPv4\nendpoints: []\nports: [{name: a, port: 80}, {name: b, port: 0}]\n'), 'ports[1].port'],
    ['EndpointSlice ports[0].protocol unknown', SLICE('addressType: IPv4\nendpoints: []\nports: [{port: 80, protocol: HTTP}]\n'), 'ports[0].protocol'],
    ['Endpoints subsets[0].addresses[1].ip missing', 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- addresses: [{ip: 10.0.0.1}, {hostname: x}]\n', 'subsets[0].addresses[1].ip'],
    ['Endpoints subsets[1].notReadyAddresses[0].ip a number', 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- {}\n- notReadyAddresses: [{ip: 5}]\n', 'subsets[1].notReadyAddresses[0].ip'],
    ['Endpoints subsets[0].ports[0].port a string', 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: e}\nsubsets:\n- ports: [{port: http}]\n', 'subsets[0].ports[0].port'],
    ['Ingress path not starting with "/"', ING_PATHS('      - {path: api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].path'],
    ['Ingress Exact path missing', ING_PATHS(GOOD_PATH + '      - {pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[1].path'],
    ['Ingress Prefix path empty', ING_PATHS('      - {path: "", pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].path'],
    ['Ingress ImplementationSpecific relative path', ING_PATHS('      - {path: "foo", pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].path'],
    ['Ingress pathType missing', ING_PATHS('      - {path: /, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].pathType'],
    ['Ingress pathType unknown', ING_PATHS('      - {path: /, pathType: Regex, backend: {service: {name: web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].pathType'],
    [
      'Ingress backend with both service and resource',
      ING_PATHS('      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}, resource: {kind: Bucket, name: b}}}\n'),
      'spec.rules[0].http.paths[0].backend',
    ],
    ['Ingress backend with neither service nor resource', ING_PATHS(GOOD_PATH + GOOD_PATH + '      - {path: /x, pathType: Prefix, backend: {}}\n'), 'spec.rules[0].http.paths[2].backend'],
    ['Ingress backend missing', ING_PATHS('      - {path: /, pathType: Prefix}\n'), 'spec.rules[0].http.paths[0].backend'],
    [
      'Ingress port with both number and name',
      ING_PATHS('      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80, name: http}}}}\n'),
      'spec.rules[0].http.paths[0].backend.service.port',
    ],
    ['Ingress port with neither number nor name', ING_PATHS('      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {}}}}\n'), 'spec.rules[0].http.paths[0].backend.service.port'],
    ['Ingress port number out of range', ING_PATHS('      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 0}}}}\n'), 'spec.rules[0].http.paths[0].backend.service.port.number'],
    ['Ingress backend service name invalid', ING_PATHS('      - {path: /, pathType: Prefix, backend: {service: {name: Web, port: {number: 80}}}}\n'), 'spec.rules[0].http.paths[0].backend.service.name'],
    ['Ingress http.paths empty', ING_PATHS('        []\n').replace('paths:\n        []', 'paths: []'), 'spec.rules[0].http.paths'],
    [
      'Ingress second rule, third path invalid',
      `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - http:\n      paths:\n${GOOD_PATH}  - host: b.example.com\n    http:\n      paths:\n${GOOD_PATH}${GOOD_PATH}      - {path: nope, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}\n`,
      'spec.rules[1].http.paths[2].path',
    ],
    ['Ingress host with a port', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - host: a.example.com:80\n', 'spec.rules[0].host'],
    ['Ingress host a bare "*"', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - host: "*"\n', 'spec.rules[0].host'],
    ['Ingress host wildcard not leading', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  rules:\n  - host: "a.*.example.com"\n', 'spec.rules[0].host'],
    [
      'Ingress defaultBackend with both service and resource',
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 80}}, resource: {kind: B, name: b}}\n',
      'spec.defaultBackend',
    ],
    [
      'Ingress defaultBackend port with both number and name',
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  defaultBackend: {service: {name: web, port: {number: 80, name: http}}}\n',
      'spec.defaultBackend.service.port',
    ],
    ['Ingress rules not a list', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec: {rules: {host: a}}\n', 'spec.rules'],
    ['Secret data value not a string', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {key: 12}\n', 'data.key'],
    ['Secret type a number', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: 3\n', 'type'],
    ['IngressClass spec.controller a number', 'apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: c}\nspec: {controller: 3}\n', 'spec.controller'],
    ['a List without items', 'apiVersion: v1\nkind: List\n', 'items'],
    ['a List with items not a list', 'apiVersion: v1\nkind: List\nitems: {a: 1}\n', 'items'],
    [
      'a List item with a bad port',
      `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: ok}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: bad}\n  spec:\n    ports: [{port: -1}]\n`,
      'items[1].spec.ports[0].port',
    ],
    [
      'a List item with a wrong apiVersion',
      `apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1beta1\n  kind: Ingress\n  metadata: {name: bad}\n`,
      'items[0].apiVersion',
    ],
    [
      'a List item without kind',
      `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: ok}\n- apiVersion: v1\n  metadata: {name: bad}\n`,
      'items[1].kind',
    ],
    [
      'an Ingress path inside a nested List',
      `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: networking.k8s.io/v1\n    kind: Ingress\n    metadata: {name: web}\n    spec:\n      rules:\n      - http:\n          paths:\n          - {path: x, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}\n`,
      'items[0].items[0].spec.rules[0].http.paths[0].path',
    ],
    ['a document that is a string', '"just text"\n', '(document)'],
    ['a document that is a list', '- a\n- b\n', '(document)'],
  ];

  // Each bad object is placed after `index % 3` valid documents, so the document index is checked too.
  const PADDING = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: pad}\n---\n`;
  it.each(cases.map(([name, text, path], i) => ({ name, text, path, document: i % 3 })))(
    '$name → document $document field $path',
    ({ text, path, document }) => {
      const r = parse(PADDING.repeat(document) + text, 'shop/app.yaml');
      expect(r.errors).toHaveLength(1);
      const err = r.errors[0]!;
      expect(err.code).toBe(ErrorCode.MANIFEST_INVALID);
      // The line is of the field's key, or of the mapping that lacks it, in the whole file (after the padding documents).
      expect(err.location).toEqual({ file: 'shop/app.yaml', document, path, line: expect.any(Number) });
      expect(err.location!.line).toBeGreaterThan(4 * document);
      expect(err.location!.line).toBeLessThanOrEqual(PADDING.split('\n').length * document + text.split('\n').length);
      expect(err.message).toContain('shop/app.yaml');
      expect(err.message).toContain(`document ${document}`);
      expect(err.message).toContain(path);
      expect(err.message.startsWith(`shop/app.yaml:${err.location!.line} document ${document} field ${path}: `)).toBe(true);
      // In the API server's words: never zod's ("Invalid input", "expected string, received undefined").
      expect(err.message).toMatch(/: (Required value|Invalid value|Unsupported value|Duplicate value|Too many)\b/);
      expect(err.message).not.toMatch(/Invalid input|received|Too small|Too big|Invalid option/);
      // The bad object yields no record (a valid sibling inside the same List still does).
      expect(r.records.filter((x) => x.meta.name !== 'ok')).toEqual([]);
    },
  );

  it('a List item that is not a mapping is reported at items[N]', () => {
    const r = parse('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: ok}}\n- "text"\n');
    expect(r.records.map((x) => x.meta.name)).toEqual(['ok']);
    expect(r.errors.map((e) => [e.code, e.location])).toEqual([[ErrorCode.MANIFEST_INVALID, { file: 'demo.yaml', document: 0, path: 'items[1]', line: 5 }]]);
  });

  it.each([
    ['a wrong apiVersion names the expected and the actual one', 'apiVersion: apps/v1\nkind: Service\nmetadata: {name: a}\n', ['Unsupported value: "apps/v1": supported values: "v1" (the version of Service Switchyard reads)']],
    ['duplicate port names name the port', `${SVC('a')}spec:\n  ports: [{name: web, port: 80}, {name: web, port: 81}]\n`, ['Duplicate value: "web"']],
    ['a relative path is quoted', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: w}\nspec:\n  rules:\n  - http:\n      paths: [{path: api/v1, pathType: Exact, backend: {service: {name: w, port: {number: 80}}}}]\n', ['"api/v1"']],
    ['several problems are counted', 'apiVersion: v1\nkind: Service\nmetadata: {name: A}\nspec: {ports: [{port: x}]}\n', ['(and 1 more problem(s))']],
  ])('message detail: %s', (_name, text, fragments) => {
    const r = parse(text);
    expect(r.errors).toHaveLength(1);
    for (const f of fragments) expect(r.errors[0]!.message).toContain(f);
  });
});

describe('parseManifest: syntax errors → SWY_ERR_MANIFEST_PARSE, whole file rejected', () => {
  it.each([
    ['an unclosed flow sequence before a separator', 0, 2, 'a: [1, 2\n---\nb: 1\n'],
    ['bad indentation in the third document (leading comment and separator)', 2, 15, `# header\n---\n${SVC('a')}---\n${SVC('b')}---\nc:\n  - x\n - y\n`],
    ['a tab used for indentation', 1, 7, `${SVC('a')}---\napiVersion: v1\n\tkind: Service\n`],
    ['a duplicated mapping key', 0, 3, 'apiVersion: v1\nkind: Service\nkind: Service\n'],
    ['an unknown alias', 2, 11, `${SVC('a')}---\n${SVC('b')}---\nx: *nope\n`],
    ['a separator with a trailing comment', 1, 7, `${SVC('a')}--- # second\napiVersion: v1\n\tkind: Service\n`],
    ['a file starting with a byte-order mark and a separator', 1, 7, `\uFEFF---\n${SVC('a')}---\n\tkind: Service\n`],
    ['a file starting with a %YAML directive', 1, 8, `%YAML 1.2\n---\n${SVC('a')}---\n\tkind: Service\n`],
  ])('%s → document %i, line %i', (_name, document, line, text) => {
    const r = parse(text, 'bad.yaml');
    expect(r.records).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.errors).toHaveLength(1);
    const err = r.errors[0]!;
    expect(err.code).toBe(ErrorCode.MANIFEST_PARSE);
    expect(err.location).toEqual({ file: 'bad.yaml', document });
    expect(err.message).toContain('bad.yaml');
    expect(err.message).toContain(`document ${document}`);
    expect(err.message).toContain(`line ${line},`);
    expect(err.cause).toBeDefined();
  });

  it.each([
    ['truncated JSON', '{"apiVersion": "v1", "kind": "Service"'],
    ['YAML in a .json file', 'apiVersion: v1\nkind: Service\n'],
    ['an empty .json file', ''],
  ])('invalid JSON: %s', (_name, text) => {
    const r = parse(text, 'svc.json');
    expect(r.records).toEqual([]);
    expect(r.errors).toHaveLength(1);
    const err = r.errors[0]!;
    expect(err.code).toBe(ErrorCode.MANIFEST_PARSE);
    expect(err.location).toEqual({ file: 'svc.json' });
    expect(err.message).toMatch(/^svc\.json: invalid JSON: /);
  });
});

describe('parseManifest: records share what is absent', () => {
  it('absent labels, annotations and tls are empty and read-only (one shared value, never written through)', () => {
    const text = ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: a}', 'spec: {rules: [{host: a.example, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]}'].join('\n');
    const [a, b] = [parseManifest(text, 'a.yaml', 'files'), parseManifest(text, 'b.yaml', 'files')].map((p) => p.records[0] as IngressRec);
    for (const rec of [a!, b!]) {
      expect(rec.meta.labels).toEqual({});
      expect(rec.meta.annotations).toEqual({});
      expect(rec.tls).toEqual([]);
      expect(Object.isFrozen(rec.meta.labels) && Object.isFrozen(rec.meta.annotations) && Object.isFrozen(rec.tls)).toBe(true);
    }
    expect(a!.meta.labels).toBe(b!.meta.labels);
  });
});
