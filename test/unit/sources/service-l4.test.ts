import { describe, expect, it } from 'vitest';
import type { ServiceRec } from '../../../src/model/records.ts';
import { normalizeObject, parseManifest } from '../../../src/sources/normalize.ts';

function parseService(spec: Record<string, unknown>, status?: Record<string, unknown>): ServiceRec {
  const obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec, ...(status ? { status } : {}) };
  const r = parseManifest(JSON.stringify(obj), 'svc.json', 'test');
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.records[0] as ServiceRec;
}

const NP = { type: 'NodePort' };

describe('parseManifest: a Service\'s layer-4 fields', () => {
  // [description, spec, status, expected fields of the record]
  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined, Partial<ServiceRec>][] = [
    [
      'defaults',
      { ports: [{ port: 80 }] },
      undefined,
      { externalIPs: [], loadBalancerIPs: [], sessionAffinity: 'None', sessionAffinityTimeoutSeconds: 10800, internalTrafficPolicy: 'Cluster', externalTrafficPolicy: 'Cluster', problems: [] },
    ],
    ['a node port', { ...NP, ports: [{ port: 80, nodePort: 30080 }] }, undefined, { problems: [] }],
    [
      'every field set',
      {
        type: 'LoadBalancer',
        ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }],
        externalIPs: ['192.0.2.10', '2001:db8::1'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        internalTrafficPolicy: 'Local',
        externalTrafficPolicy: 'Local',
      },
      { loadBalancer: { ingress: [{ ip: '198.51.100.7' }, { hostname: 'lb.example.com' }] } },
      {
        externalIPs: ['192.0.2.10', '2001:db8::1'],
        loadBalancerIPs: ['198.51.100.7'],
        sessionAffinity: 'ClientIP',
        sessionAffinityTimeoutSeconds: 60,
        internalTrafficPolicy: 'Local',
        externalTrafficPolicy: 'Local',
        problems: [],
      },
    ],
    ['ClientIP without a config: 3 hours', { ports: [{ port: 80 }], sessionAffinity: 'ClientIP' }, undefined, { sessionAffinityTimeoutSeconds: 10800, problems: [] }],
    ['nodePort 0 means unset', { ...NP, ports: [{ port: 80, nodePort: 0 }] }, undefined, { problems: [] }],
  ];
  it.each(cases)('%s', (_d, spec, status, expected) => {
    expect(parseService(spec, status)).toMatchObject(expected);
  });

  it('keeps the node port of each port', () => {
    const svc = parseService({ ...NP, ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81 }] });
    expect(svc.ports.map((p) => p.nodePort)).toEqual([30080, undefined]);
  });
});

describe('parseManifest: bad layer-4 fields are problems, never a rejected Service', () => {
  // [description, spec, status, the problems (path, message, port index)]
  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined, [string, string, number | undefined][]][] = [
    ['nodePort above 65535', { ...NP, ports: [{ port: 80, nodePort: 70000 }] }, undefined, [['spec.ports[0].nodePort', 'Invalid value: 70000: must be between 1 and 65535, inclusive', 0]]],
    ['nodePort negative', { ...NP, ports: [{ port: 80, nodePort: -1 }] }, undefined, [['spec.ports[0].nodePort', 'Invalid value: -1: must be between 1 and 65535, inclusive', 0]]],
    ['nodePort not a number', { ...NP, ports: [{ port: 80, nodePort: 'x' }] }, undefined, [['spec.ports[0].nodePort', 'Invalid value: "x": must be an integer', 0]]],
    ['nodePort on a ClusterIP Service', { ports: [{ port: 80, nodePort: 30080 }] }, undefined, [['spec.ports[0].nodePort', "Forbidden: may not be used when `type` is 'ClusterIP'", 0]]],
    [
      'the same nodePort twice',
      { ...NP, ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] },
      undefined,
      [['spec.ports[1].nodePort', 'Duplicate value: 30080', 1]],
    ],
    ['bad clusterIP', { clusterIP: '10.0.0.300', ports: [{ port: 80 }] }, undefined, [['spec.clusterIP', 'Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', undefined]]],
    ['bad clusterIPs entry', { clusterIPs: ['10.0.0.1', 'nope'], ports: [{ port: 80 }] }, undefined, [['spec.clusterIPs[1]', 'Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', undefined]]],
    ['bad externalIP', { externalIPs: ['192.0.2.1', 'x'], ports: [{ port: 80 }] }, undefined, [['spec.externalIPs[1]', 'Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', undefined]]],
    ['bad load-balancer IP', { ports: [{ port: 80 }] }, { loadBalancer: { ingress: [{ ip: '300.1.1.1' }] } }, [['status.loadBalancer.ingress[0].ip', 'Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)', undefined]]],
    ['unknown sessionAffinity', { sessionAffinity: 'Sticky', ports: [{ port: 80 }] }, undefined, [['spec.sessionAffinity', 'Unsupported value: "Sticky": supported values: "None", "ClientIP"', undefined]]],
    [
      'affinity timeout out of range',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] },
      undefined,
      [['spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'Invalid value: 0: must be greater than 0 and less than 86400', undefined]],
    ],
    ['unknown externalTrafficPolicy', { ...NP, externalTrafficPolicy: 'Nearest', ports: [{ port: 80 }] }, undefined, [['spec.externalTrafficPolicy', 'Unsupported value: "Nearest": supported values: "Cluster", "Local"', undefined]]],
    ['unknown internalTrafficPolicy', { internalTrafficPolicy: 'local', ports: [{ port: 80 }] }, undefined, [['spec.internalTrafficPolicy', 'Unsupported value: "local": supported values: "Cluster", "Local"', undefined]]],
  ];
  it.each(cases)('%s', (_d, spec, status, expected) => {
    const svc = parseService(spec, status);
    expect(svc.problems.map((p) => [p.path, p.message, p.portIndex])).toEqual(expected);
  });

  it('an out-of-range port is still the schema error it was (the Service is rejected)', () => {
    const obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 70000 }] } };
    const r = parseManifest(JSON.stringify(obj), 'svc.json', 'test');
    expect(r.errors.map((e) => e.message)).toEqual(['svc.json:1 document 0 field spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive']);
  });
});

describe('normalizeObject (the API server\'s objects): the same layer-4 fields', () => {
  it('reads status.loadBalancer and reports a bad node port as a problem, not a rejection', () => {
    const raw = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 99999 }], externalTrafficPolicy: 'Local' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } },
    };
    const result = normalizeObject(raw, { source: 'kubernetes' }, 'Service shop/web');
    expect(result.error).toBeUndefined();
    const svc = result.record as ServiceRec;
    expect([svc.loadBalancerIPs, svc.externalTrafficPolicy, svc.ports[0]?.nodePort]).toEqual([['203.0.113.9'], 'Local', undefined]);
    expect(svc.problems).toEqual([{ path: 'spec.ports[0].nodePort', message: 'Invalid value: 99999: must be between 1 and 65535, inclusive', portIndex: 0 }]);
  });
});
