/** The reconciler checks certificates against its clock and rebuilds by itself when one expires. */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emptySnapshot } from '../../src/compile/compile.ts';
import { startReconciler, type Reconciler } from '../../src/reconcile.ts';
import { generateSelfSigned } from '../../src/runtime/self-signed.ts';
import { SnapshotHolder } from '../../src/snapshot/holder.ts';
import { Store } from '../../src/store/store.ts';
import { waitFor } from '../helpers/wait.ts';
import { gateway, gatewayClass, httpRoute, listener, rule } from './support/gateway.ts';
import { records, service, type Obj } from './support/k8s.ts';

const stops: Reconciler[] = [];
afterEach(() => {
  for (const r of stops.splice(0)) r.stop();
  vi.useRealTimers();
});

function objects(certPem: string, keyPem: string): Obj[] {
  return [
    service('web', [{ port: 80 }]),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'a' },
      spec: {
        tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }],
        rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': certPem, 'tls.key': keyPem } },
  ];
}

function start(objs: Obj[], clock?: () => number) {
  const store = new Store();
  store.replace('test', records(objs));
  const holder = new SnapshotHolder(emptySnapshot('cluster.local'));
  const reconciler = startReconciler(store, holder, { clusterDomain: 'cluster.local', ingressClass: 'switchyard', ...(clock ? { clock } : {}) }, pino({ level: 'silent' }));
  stops.push(reconciler);
  reconciler.rebuildNow();
  return holder;
}

describe('reconciler and certificate expiry', () => {
  it('checks certificates against its clock', () => {
    const { certPem, keyPem } = generateSelfSigned({ commonName: 'a.example.com', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) });
    expect(start(objects(certPem, keyPem)).current().tls.hosts.get('a.example.com')).toBe('default/a-tls');
    const late = start(objects(certPem, keyPem), () => Date.now() + 7_200_000).current();
    expect(late.tls.hosts.get('a.example.com')).toBe('');
    expect(late.diagnostics.map((d) => d.code)).toContain('TLS_CERT_EXPIRED');
  });

  it('rebuilds just after a certificate served expires, without any change', async () => {
    // X.509 times are whole seconds: this one's last valid second is 1-2 s away.
    const { certPem, keyPem } = generateSelfSigned({ commonName: 'a.example.com', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 1_500) });
    const holder = start(objects(certPem, keyPem));
    const first = holder.current();
    expect(first.tls.hosts.get('a.example.com')).toBe('default/a-tls');
    await waitFor(() => holder.current().version > first.version, { timeoutMs: 4_000 });
    expect(holder.current().tls.hosts.get('a.example.com')).toBe('');
    expect(holder.current().diagnostics.map((d) => `${d.code} ${d.namespace}/${d.name}`)).toContain('TLS_CERT_EXPIRED default/a-tls');
  });
});

describe('reconciler and Gateway listener certificate expiry', () => {
  /** A Gateway whose HTTPS listener on 8443 serves the Secret gw-tls, with a route on it; no Ingress certificate at all. */
  function gatewayObjects(certPem: string, keyPem: string): Obj[] {
    return [
      service('web', [{ port: 80 }]),
      gatewayClass(),
      gateway('gw', [listener('https', { port: 8443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'gw-tls' }] } })]),
      httpRoute('r', { hostnames: ['a.example.com'], rules: [rule('web')] }),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'gw-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': certPem, 'tls.key': keyPem } },
    ];
  }
  const served = (holder: SnapshotHolder): string[] => [...(holder.current().gatewayPorts?.get(8443)?.tls?.certificates.keys() ?? [])];

  it('rebuilds just after a Gateway HTTPS listener\'s certificate expires, without any change', () => {
    const notAfter = Date.now() + 3_600_000;
    const { certPem, keyPem } = generateSelfSigned({ commonName: 'a.example.com', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(notAfter) });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const holder = start(gatewayObjects(certPem, keyPem), () => Date.now());
    const first = holder.current();
    expect(first.tls.certificates.has('default/gw-tls')).toBe(false);
    expect(served(holder)).toContain('default/gw-tls');
    expect(first.gatewayListeners?.map((l) => [l.listener, l.resolvedRefs.status])).toEqual([['https', true]]);
    // Nothing due before the certificate's last valid second.
    vi.advanceTimersByTime(notAfter - Date.now() - 5_000);
    expect(holder.current()).toBe(first);
    // Just after it: rebuilt by the timer alone (the store did not change), the certificate no longer served.
    vi.advanceTimersByTime(10_000);
    const next = holder.current();
    expect(next.version).toBe(first.version + 1);
    expect(next.storeVersion).toBe(first.storeVersion);
    expect(served(holder)).not.toContain('default/gw-tls');
    expect(next.gatewayListeners?.map((l) => [l.listener, l.resolvedRefs.status, l.resolvedRefs.reason])).toEqual([['https', false, 'InvalidCertificateRef']]);
    expect(next.diagnostics.map((d) => d.message).join('\n')).toMatch(/expired/);
  });
});
