/**
 * GET /api/v1/certificates on the admin app, over a compiled snapshot with real certificates; and no
 * admin route gives away a private key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { testAdmin } from './admin-fixture.ts';
import { compile } from '../../../src/compile/compile.ts';
import { generateSelfSigned } from '../../../src/runtime/self-signed.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { emptySnapshot } from '../../../src/compile/compile.ts';
import { selfSigned, type Pem } from '../support/certs.ts';
import { DEFAULT_OPTIONS, service, storeView, type Obj } from '../support/k8s.ts';

const DAY = 86_400_000;

const tlsSecret = (name: string, pem: Pem, namespace = 'shop'): Obj => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace },
  type: 'kubernetes.io/tls',
  stringData: { 'tls.crt': pem.certPem, 'tls.key': pem.keyPem },
});

const ingress = (name: string, tls: { hosts: string[]; secretName: string }[]): Obj => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop' },
  spec: {
    tls,
    rules: tls.flatMap((t) => t.hosts).map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } })),
  },
});

let A: Pem;
let GENERATED: Pem;
let EXPIRED: Pem;

beforeAll(() => {
  A = selfSigned(['a.example.com', 'www.a.example.com'], 'ec', 30);
  GENERATED = generateSelfSigned();
  EXPIRED = generateSelfSigned({ commonName: 'old.example.com', notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
}, 60_000);

function adminFor(objs: readonly Obj[], defaultCertificate?: string) {
  const compiled = compile(storeView([service('web', [{ port: 80 }], { namespace: 'shop' }), ...objs]), {
    ...DEFAULT_OPTIONS,
    generatedCertificate: GENERATED,
    now: Date.now(),
    ...(defaultCertificate ? { defaultCertificate } : {}),
  });
  const holder = new SnapshotHolder(emptySnapshot('cluster.local'));
  holder.swap({ ...compiled, version: 1, createdAt: new Date().toISOString() });
  return testAdmin({ holder });
}

describe('GET /api/v1/certificates', () => {
  it('lists each certificate in use with its Secret, hosts, subject, SANs, issuer, validity, days left and error', async () => {
    const app = adminFor([
      ingress('a', [{ hosts: ['a.example.com'], secretName: 'a-tls' }]),
      ingress('old', [{ hosts: ['old.example.com'], secretName: 'old-tls' }]),
      ingress('gone', [{ hosts: ['gone.example.com'], secretName: 'gone-tls' }]),
      tlsSecret('a-tls', A),
      tlsSecret('old-tls', EXPIRED),
    ]);
    const res = await app.inject({ method: 'GET', url: '/api/v1/certificates' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.version).toBe(1);
    expect(body.defaultCertificate).toBeNull();
    const bySecret = new Map<string | null, any>(body.certificates.map((c: any) => [c.secret, c]));
    expect([...bySecret.keys()]).toEqual([null, 'shop/a-tls', 'shop/gone-tls', 'shop/old-tls']);

    expect(bySecret.get(null)).toMatchObject({ generated: true, isDefault: true, hosts: [], subject: 'O=Switchyard, CN=switchyard.local', sans: ['switchyard.local', 'localhost'], error: null });
    expect(bySecret.get(null).daysLeft).toBeGreaterThanOrEqual(364);

    const a = bySecret.get('shop/a-tls');
    expect(a).toMatchObject({
      generated: false,
      hosts: ['a.example.com'],
      ingresses: ['shop/a'],
      isDefault: false,
      subject: 'CN=a.example.com',
      issuer: 'CN=a.example.com',
      sans: ['a.example.com', 'www.a.example.com'],
      error: null,
    });
    expect(a.daysLeft).toBeGreaterThanOrEqual(29);
    expect(a.daysLeft).toBeLessThanOrEqual(30);
    expect(Date.parse(a.notAfter) - Date.parse(a.notBefore)).toBe(30 * DAY);
    expect(a.fingerprint256).toMatch(/^[0-9A-F:]{95}$/);

    expect(bySecret.get('shop/old-tls')).toMatchObject({ hosts: ['old.example.com'], subject: null, daysLeft: null, notAfter: null });
    expect(bySecret.get('shop/old-tls').error).toMatch(/expired at/);
    expect(bySecret.get('shop/gone-tls').error).toMatch(/does not exist/);

    // The same problems are diagnostics of /api/v1/config.
    const config = (await app.inject({ method: 'GET', url: '/api/v1/config' })).json();
    expect(config.diagnostics.map((d: any) => `${d.code} ${d.namespace}/${d.name}`).filter((s: string) => s.startsWith('TLS_'))).toEqual([
      'TLS_SECRET_MISSING shop/gone-tls',
      'TLS_CERT_EXPIRED shop/old-tls',
    ]);
  });

  it('names the --default-certificate Secret when it is the default', async () => {
    const app = adminFor([tlsSecret('fallback', A, 'infra')], 'infra/fallback');
    const body = (await app.inject({ method: 'GET', url: '/api/v1/certificates' })).json();
    expect(body.defaultCertificate).toBe('infra/fallback');
    expect(body.certificates).toHaveLength(1);
    expect(body.certificates[0]).toMatchObject({ secret: 'infra/fallback', isDefault: true, generated: false, hosts: [], error: null });
  });

  it('no admin route shows a private key', async () => {
    const app = adminFor([ingress('a', [{ hosts: ['a.example.com'], secretName: 'a-tls' }]), tlsSecret('a-tls', A)]);
    const keyLines = [A.keyPem, GENERATED.keyPem].map((k) => k.split('\n')[1]!);
    for (const url of ['/api/v1/certificates', '/api/v1/config', '/api/v1/routes', '/api/v1/services', '/api/v1/endpoints', '/api/v1/workers', '/metrics']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      for (const line of keyLines) expect(res.body, url).not.toContain(line);
      expect(res.body, url).not.toContain('PRIVATE KEY');
    }
  });
});
