/** The reconciler checks certificates against its clock and rebuilds by itself when one expires. */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { emptySnapshot } from '../../src/compile/compile.ts';
import { startReconciler, type Reconciler } from '../../src/reconcile.ts';
import { generateSelfSigned } from '../../src/runtime/self-signed.ts';
import { SnapshotHolder } from '../../src/snapshot/holder.ts';
import { Store } from '../../src/store/store.ts';
import { waitFor } from '../helpers/wait.ts';
import { records, service, type Obj } from './support/k8s.ts';

const stops: Reconciler[] = [];
afterEach(() => {
  for (const r of stops.splice(0)) r.stop();
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
