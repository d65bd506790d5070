import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { comparisonManifests, edgeManifests } from '../manifests.ts';
import { makeCertificate, subjectAltName } from '../protocols/certificate.ts';
import { parseScriptResult } from '../protocols/load/run-script.ts';
import { hasHttp2Directive, nginxEdgeConfig, nginxVersion, parseNginxVersion, type NginxEdgeConfig } from '../protocols/nginx-edge.ts';
import { onPath } from '../which.ts';

const hasOpenssl = onPath('openssl') !== null;
const nginx = onPath('nginx');

describe('nginx versions', () => {
  it.each([
    ['nginx version: nginx/1.22.1', [1, 22, 1], false],
    ['nginx version: nginx/1.25.0', [1, 25, 0], false],
    ['nginx version: nginx/1.25.1', [1, 25, 1], true],
    ['nginx version: nginx/1.27.4 (Ubuntu)', [1, 27, 4], true],
    ['nginx version: openresty/1.21.4.1', null, false],
  ] as const)('%s', (text, version, directive) => {
    expect(parseNginxVersion(text)).toEqual(version);
    if (version !== null) expect(hasHttp2Directive(version)).toBe(directive);
  });
});

function config(over: Partial<NginxEdgeConfig> = {}): NginxEdgeConfig {
  return {
    prefix: '/tmp/p',
    ports: { plain: 1001, tls: 1002, h2c: 1003 },
    hosts: { http: 'bench.local', ws: 'ws.bench.local', grpc: 'grpc.bench.local' },
    certFile: '/tmp/p/cert.pem',
    keyFile: '/tmp/p/key.pem',
    httpPods: [{ address: '127.0.0.2', port: 2001 }, { address: '127.0.0.3', port: 2001 }],
    wsPods: [{ address: '127.0.0.2', port: 3001 }],
    grpcPods: [{ address: '127.0.0.2', port: 4001 }],
    http2Directive: false,
    ...over,
  };
}

describe('nginxEdgeConfig', () => {
  it('old nginx: http2 as a listen parameter, TLS 1.2 and 1.3 only, one worker', () => {
    const c = nginxEdgeConfig(config());
    expect(c).toContain('worker_processes 1;');
    expect(c).toContain('listen 127.0.0.1:1002 ssl http2;');
    expect(c).toContain('listen 127.0.0.1:1003 http2;');
    expect(c).not.toContain('http2 on;');
    expect(c).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(c).toContain('grpc_pass grpc://grpc_pods;');
    expect(c).toContain('proxy_set_header Upgrade $http_upgrade;');
  });

  it('nginx ≥ 1.25.1: `http2 on;`', () => {
    const c = nginxEdgeConfig(config({ http2Directive: true }));
    expect(c).toContain('listen 127.0.0.1:1002 ssl;\n    http2 on;');
    expect(c).toContain('listen 127.0.0.1:1003;\n    http2 on;');
    expect(c).not.toMatch(/listen [^;]* http2;/);
  });

  it('no WebSocket or gRPC pods: no empty upstream (nginx refuses one)', () => {
    const c = nginxEdgeConfig(config({ wsPods: [], grpcPods: [] }));
    expect(c).not.toContain('ws_pods');
    expect(c).not.toContain('grpc_pods');
    expect(c).not.toContain('ws.bench.local');
  });

  it.skipIf(nginx === null || !hasOpenssl)('nginx -t accepts it, with a real certificate, for this nginx', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-nginx-'));
    const cert = makeCertificate(dir, ['bench.local']);
    const version = nginxVersion(nginx!);
    expect(version).not.toBeNull();
    for (const over of [{}, { wsPods: [], grpcPods: [] }]) {
      const conf = path.join(dir, 'nginx.conf');
      writeFileSync(conf, nginxEdgeConfig(config({ ...over, prefix: dir, certFile: cert.certFile, keyFile: cert.keyFile, http2Directive: hasHttp2Directive(version!) })));
      const r = spawnSync(nginx!, ['-t', '-q', '-c', conf, '-p', dir, '-e', path.join(dir, 'error.log')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('edgeManifests', () => {
  const endpoints = [{ address: '127.0.0.2', port: 5000, podName: 'p1' }, { address: '127.0.0.3', port: 5000, podName: 'p2' }];
  const docs = edgeManifests({
    secretName: 'bench-tls',
    certPem: 'CERT',
    keyPem: 'KEY',
    backends: [
      { host: 'bench.local', service: 'web', endpoints },
      { host: 'grpc.bench.local', service: 'grpc', endpoints, appProtocol: 'kubernetes.io/h2c' },
    ],
  })
    .split('\n---\n')
    .map((d) => load(d) as Record<string, any>);

  it('a kubernetes.io/tls Secret, an Ingress whose tls: entry names it for every host, without the HTTPS redirect', () => {
    expect(docs[0]).toEqual({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'bench-tls', namespace: 'bench' }, stringData: { 'tls.crt': 'CERT', 'tls.key': 'KEY' } });
    const ingress = docs.find((d) => d.kind === 'Ingress')!;
    expect(ingress.spec.tls).toEqual([{ hosts: ['bench.local', 'grpc.bench.local'], secretName: 'bench-tls' }]);
    expect(ingress.metadata.annotations).toEqual({ 'switchyard.dev/ssl-redirect': 'false' });
    expect(ingress.spec.rules.map((r: any) => [r.host, r.http.paths[0].backend.service.name])).toEqual([['bench.local', 'web'], ['grpc.bench.local', 'grpc']]);
  });

  it('appProtocol on the gRPC Service port and its slice, on no other', () => {
    const services = docs.filter((d) => d.kind === 'Service');
    expect(services.map((s) => s.spec.ports[0].appProtocol)).toEqual([undefined, 'kubernetes.io/h2c']);
    const slices = docs.filter((d) => d.kind === 'EndpointSlice');
    expect(slices.map((s) => [s.metadata.labels['kubernetes.io/service-name'], s.ports[0].appProtocol, s.endpoints.length])).toEqual([['web', undefined, 2], ['grpc', 'kubernetes.io/h2c', 2]]);
  });

  it("the comparison's manifests carry no appProtocol key (unchanged by the protocols run)", () => {
    expect(comparisonManifests('bench.local', endpoints)).not.toContain('appProtocol');
  });
});

describe('certificate', () => {
  it('subjectAltName', () => {
    expect(subjectAltName(['bench.local', '*.bench.local'])).toBe('DNS:bench.local,DNS:*.bench.local');
    expect(() => subjectAltName([])).toThrow();
    expect(() => subjectAltName(['a b'])).toThrow(/not a DNS name/);
    expect(() => subjectAltName(['x,DNS:evil'])).toThrow(/not a DNS name/);
  });

  it.skipIf(!hasOpenssl)('an ECDSA P-256 pair for the hosts, from openssl', async () => {
    const { X509Certificate } = await import('node:crypto');
    const cert = makeCertificate(mkdtempSync(path.join(os.tmpdir(), 'bench-cert-')), ['bench.local', 'ws.bench.local']);
    expect(cert.curve).toBe('prime256v1');
    const x = new X509Certificate(cert.certPem);
    expect(x.subjectAltName).toBe('DNS:bench.local, DNS:ws.bench.local');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.fingerprint256).toBe(cert.fingerprint256);
  });
});

describe('parseScriptResult', () => {
  it('takes the last result line; nulls (non-finite numbers) come back as NaN', () => {
    const out = 'noise\n{"result":{"ops":1,"seconds":1,"errors":0,"latencyMs":{"mean":1,"p50":1,"p99":1,"max":1},"details":{}}}\n{"result":{"ops":7,"seconds":2,"errors":1,"latencyMs":{"mean":null,"p50":null,"p99":null,"max":null},"details":{"clientCores":0.5}}}\n';
    const r = parseScriptResult(out);
    expect(r).toMatchObject({ ops: 7, seconds: 2, errors: 1, details: { clientCores: 0.5 } });
    expect(r.latencyMs.mean).toBeNaN();
  });
  it('throws when there is none', () => {
    expect(() => parseScriptResult('Error: connect ECONNREFUSED\n')).toThrow(/no result[\s\S]*ECONNREFUSED/);
  });
});
