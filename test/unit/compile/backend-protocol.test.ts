/**
 * compile: how pods are spoken to (Backend.upstream) from the Service port's appProtocol and the
 * `switchyard.dev/backend-protocol` / `backend-ca-secret` annotations, and the gRPC health-check
 * protocol (`switchyard.dev/health-check-protocol`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileServices } from '../../../src/compile/backends.ts';
import type { Backend, Diagnostic } from '../../../src/snapshot/types.ts';
import { storeView, type Obj } from '../support/k8s.ts';

const CA = readFileSync(new URL('../../fixtures/tls/unit-test-ca.crt', import.meta.url), 'utf8');
const P = 'switchyard.dev/';

interface PortSpec {
  readonly name?: string;
  readonly port: number;
  readonly appProtocol?: string;
}

function svc(ports: readonly PortSpec[], annotations: Record<string, string> = {}, namespace = 'default'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace, annotations }, spec: { ports } };
}

function secret(name: string, data: Record<string, string>, namespace = 'default', encoding: 'data' | 'stringData' = 'data'): Obj {
  const values = encoding === 'data' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) : data;
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', [encoding]: values };
}

function compiled(objs: readonly Obj[]): { backends: Map<string, Backend>; diagnostics: Diagnostic[] } {
  return compileServices(storeView(objs), 'cluster.local');
}

const one = (objs: readonly Obj[], key = 'default/api:80'): { backend: Backend; diagnostics: Diagnostic[] } => {
  const { backends, diagnostics } = compiled(objs);
  const backend = backends.get(key);
  expect(backend, key).toBeDefined();
  return { backend: backend!, diagnostics };
};

describe('Backend.upstream.protocol from appProtocol', () => {
  // [appProtocol, protocol]
  const cases: [string | undefined, 'http1' | 'h2c' | 'tls'][] = [
    [undefined, 'http1'],
    ['http', 'http1'],
    ['kubernetes.io/ws', 'http1'],
    ['kubernetes.io/h2c', 'h2c'],
    ['h2c', 'h2c'],
    ['grpc', 'h2c'],
    ['https', 'tls'],
    ['kubernetes.io/wss', 'tls'],
    ['HTTPS', 'tls'],
    ['Kubernetes.io/H2C', 'h2c'],
    // Values Switchyard has no meaning for keep HTTP/1.1, as before appProtocol was read.
    ['tcp', 'http1'],
    ['http2', 'http1'],
    ['grpc-web', 'http1'],
    ['example.com/custom', 'http1'],
  ];
  it.each(cases)('appProtocol %j → %s', (appProtocol, protocol) => {
    const { backend, diagnostics } = one([svc([{ port: 80, ...(appProtocol !== undefined ? { appProtocol } : {}) }])]);
    expect(backend.upstream).toEqual({ protocol, caPem: undefined });
    expect(diagnostics).toEqual([]);
  });

  it('each port of a Service has its own protocol', () => {
    const { backends } = compiled([
      svc([
        { name: 'web', port: 80 },
        { name: 'grpc', port: 9090, appProtocol: 'grpc' },
        { name: 'tls', port: 443, appProtocol: 'https' },
      ]),
    ]);
    expect([...backends.values()].map((b) => [b.port, b.upstream.protocol])).toEqual([
      [80, 'http1'],
      [9090, 'h2c'],
      [443, 'tls'],
    ]);
  });
});

describe('switchyard.dev/backend-protocol overrides appProtocol for every port', () => {
  // [annotation, appProtocol, protocol, diagnostic code or undefined]
  const cases: [string, string | undefined, 'http1' | 'h2c' | 'tls', string | undefined][] = [
    ['http', 'grpc', 'http1', undefined],
    ['https', undefined, 'tls', undefined],
    ['h2c', undefined, 'h2c', undefined],
    ['grpc', 'https', 'h2c', undefined],
    ['grpcs', undefined, 'tls', undefined],
    ['HTTPS', undefined, 'tls', undefined],
    [' GRPC ', undefined, 'h2c', undefined],
    // A bad value: a diagnostic, and the port's own appProtocol still decides.
    ['http2', 'grpc', 'h2c', 'ANNOTATION_INVALID'],
    ['fcgi', undefined, 'http1', 'ANNOTATION_INVALID'],
    ['', 'https', 'tls', 'ANNOTATION_INVALID'],
    ['toString', undefined, 'http1', 'ANNOTATION_INVALID'],
    ['__proto__', undefined, 'http1', 'ANNOTATION_INVALID'],
  ];
  it.each(cases)('%j (appProtocol %j) → %s', (value, appProtocol, protocol, code) => {
    const { backend, diagnostics } = one([svc([{ port: 80, ...(appProtocol !== undefined ? { appProtocol } : {}) }], { [`${P}backend-protocol`]: value })]);
    expect(backend.upstream.protocol).toBe(protocol);
    expect(diagnostics.map((d) => d.code)).toEqual(code === undefined ? [] : [code]);
    if (code !== undefined) {
      expect(diagnostics[0]!.message).toContain(`${P}backend-protocol`);
      expect(diagnostics[0]!.message).toContain('http, https, h2c, grpc, grpcs');
      expect(diagnostics[0]!.kind).toBe('Service');
      expect(diagnostics[0]!.name).toBe('api');
    }
  });
});

describe('switchyard.dev/backend-ca-secret', () => {
  const ANN = { [`${P}backend-protocol`]: 'https', [`${P}backend-ca-secret`]: 'pod-ca' };

  it('a Secret with ca.crt (data, base64) gives the CA to TLS ports', () => {
    const { backend, diagnostics } = one([svc([{ port: 80 }], ANN), secret('pod-ca', { 'ca.crt': CA })]);
    expect(backend.upstream).toEqual({ protocol: 'tls', caPem: CA });
    expect(diagnostics).toEqual([]);
  });

  it('stringData works as well, and a kubernetes.io/tls Secret with ca.crt (cert-manager) too', () => {
    expect(one([svc([{ port: 80 }], ANN), secret('pod-ca', { 'ca.crt': CA }, 'default', 'stringData')]).backend.upstream.caPem).toBe(CA);
    const tlsSecret = { ...secret('pod-ca', { 'ca.crt': CA, 'tls.crt': CA, 'tls.key': 'x' }), type: 'kubernetes.io/tls' };
    expect(one([svc([{ port: 80 }], ANN), tlsSecret]).backend.upstream.caPem).toBe(CA);
  });

  it('a bundle of several certificates is accepted', () => {
    const bundle = `${CA}\n${CA}`;
    expect(one([svc([{ port: 80 }], ANN), secret('pod-ca', { 'ca.crt': bundle })]).backend.upstream.caPem).toBe(bundle);
  });

  it('only TLS ports carry the CA', () => {
    const { backends, diagnostics } = compiled([
      svc(
        [
          { name: 'web', port: 80 },
          { name: 'tls', port: 443, appProtocol: 'https' },
        ],
        { [`${P}backend-ca-secret`]: 'pod-ca' },
      ),
      secret('pod-ca', { 'ca.crt': CA }),
    ]);
    expect(backends.get('default/api:80')!.upstream).toEqual({ protocol: 'http1', caPem: undefined });
    expect(backends.get('default/api:443')!.upstream).toEqual({ protocol: 'tls', caPem: CA });
    expect(diagnostics).toEqual([]);
  });

  it('on a Service with no TLS port it has no effect, and says so', () => {
    const { backend, diagnostics } = one([svc([{ port: 80, appProtocol: 'grpc' }], { [`${P}backend-ca-secret`]: 'pod-ca' }), secret('pod-ca', { 'ca.crt': CA })]);
    expect(backend.upstream).toEqual({ protocol: 'h2c', caPem: undefined });
    expect(diagnostics.map((d) => [d.severity, d.code])).toEqual([['info', 'ANNOTATION_IGNORED']]);
  });

  // Fail-closed: verification was asked for, so an unusable CA never means "not verified" ('' = every TLS connect fails).
  // [case, objects besides the Service, reason in the message]
  const bad: [string, Obj[], string][] = [
    ['a missing Secret', [], 'does not exist'],
    ['a Secret in another namespace', [secret('pod-ca', { 'ca.crt': CA }, 'other')], 'does not exist'],
    ['a Secret without ca.crt', [secret('pod-ca', { 'tls.crt': CA })], 'has no ca.crt'],
    ['an empty ca.crt', [secret('pod-ca', { 'ca.crt': '  \n' })], 'has no ca.crt'],
    ['a ca.crt that is not PEM', [secret('pod-ca', { 'ca.crt': 'hello' })], 'holds no PEM certificate'],
    ['a ca.crt holding a key only', [secret('pod-ca', { 'ca.crt': '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n' })], 'holds no PEM certificate'],
    ['a PEM block that does not parse', [secret('pod-ca', { 'ca.crt': '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n' })], 'certificate 1 does not parse'],
    [
      'a bundle whose second block does not parse',
      [secret('pod-ca', { 'ca.crt': `${CA}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n` })],
      'certificate 2 does not parse',
    ],
  ];
  it.each(bad)('%s → diagnostic naming the Secret, and an unusable CA (fail-closed)', (_name, objs, reason) => {
    const { backend, diagnostics } = one([svc([{ port: 80 }], ANN), ...objs]);
    expect(backend.upstream).toEqual({ protocol: 'tls', caPem: '' });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'warning', code: 'BACKEND_CA_SECRET_INVALID', kind: 'Service', namespace: 'default', name: 'api' });
    expect(diagnostics[0]!.message).toContain('Secret default/pod-ca');
    expect(diagnostics[0]!.message).toContain(reason);
  });

  it('an empty name is a diagnostic too', () => {
    const { backend, diagnostics } = one([svc([{ port: 80 }], { [`${P}backend-protocol`]: 'https', [`${P}backend-ca-secret`]: ' ' })]);
    expect(backend.upstream.caPem).toBe('');
    expect(diagnostics.map((d) => d.code)).toEqual(['BACKEND_CA_SECRET_INVALID']);
  });

  it('the Secret is looked up in the Service namespace', () => {
    const { backend } = one([svc([{ port: 80 }], ANN, 'shop'), secret('pod-ca', { 'ca.crt': CA }, 'shop')], 'shop/api:80');
    expect(backend.upstream.caPem).toBe(CA);
  });
});

describe('switchyard.dev/health-check-protocol', () => {
  const check = (annotations: Record<string, string>) => {
    const { backend, diagnostics } = one([svc([{ port: 80, appProtocol: 'grpc' }], annotations)]);
    return { check: backend.policy.healthCheck, codes: diagnostics.map((d) => d.code) };
  };

  it('grpc turns on the gRPC health check, calling grpc.health.v1.Health/Check, with the usual timing annotations', () => {
    const { check: c, codes } = check({ [`${P}health-check-protocol`]: 'grpc', [`${P}health-check-interval`]: '5s', [`${P}health-check-port`]: '9091' });
    expect(codes).toEqual([]);
    expect(c).toMatchObject({ protocol: 'grpc', path: '/grpc.health.v1.Health/Check', port: 9091, intervalMs: 5000, timeoutMs: 2000 });
  });

  it('GRPC in capitals too', () => {
    expect(check({ [`${P}health-check-protocol`]: 'GRPC' }).check?.protocol).toBe('grpc');
  });

  it('http (the default) needs a path, as before', () => {
    expect(check({ [`${P}health-check-protocol`]: 'http' })).toEqual({ check: undefined, codes: [] });
    expect(check({ [`${P}health-check-protocol`]: 'http', [`${P}health-check-path`]: '/healthz' }).check).toMatchObject({ protocol: 'http', path: '/healthz' });
    expect(check({ [`${P}health-check-path`]: '/healthz' }).check).toMatchObject({ protocol: 'http', path: '/healthz' });
  });

  it('a path given with grpc is ignored with a diagnostic', () => {
    const { check: c, codes } = check({ [`${P}health-check-protocol`]: 'grpc', [`${P}health-check-path`]: '/healthz' });
    expect(c).toMatchObject({ protocol: 'grpc', path: '/grpc.health.v1.Health/Check' });
    expect(codes).toEqual(['ANNOTATION_IGNORED']);
  });

  it.each(['tcp', 'grpcs', '', 'h2c'])('a bad value %j is a diagnostic and the http default applies', (value) => {
    expect(check({ [`${P}health-check-protocol`]: value })).toEqual({ check: undefined, codes: ['ANNOTATION_INVALID'] });
    expect(check({ [`${P}health-check-protocol`]: value, [`${P}health-check-path`]: '/h' }).check).toMatchObject({ protocol: 'http', path: '/h' });
  });

  it('the new annotations are known (no ANNOTATION_UNKNOWN)', () => {
    const { codes } = check({ [`${P}health-check-protocol`]: 'grpc', [`${P}backend-protocol`]: 'grpc' });
    expect(codes).toEqual([]);
  });
});
