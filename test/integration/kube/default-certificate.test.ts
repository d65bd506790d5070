/**
 * The --default-certificate Secret through the kube source: handed over although no Ingress references
 * it, and read from its namespace even when --watch-namespace does not list it.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { recordKey } from '../../../src/model/keys.ts';
import { KUBE_RESOURCES } from '../../../src/sources/kube-api.ts';
import { KubeRecords } from '../../../src/sources/kube-records.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ingress, ingressClass, makeSource, startApi, svc, tlsSecret } from './harness.ts';

afterEach(cleanupAll);

describe('KubeRecords: kept Secrets', () => {
  it('hands over a kept Secret without any Ingress referencing it, and no other unreferenced one', () => {
    const r = new KubeRecords(pino({ level: 'silent' }), ['infra/fallback']);
    r.upsert(KUBE_RESOURCES.Secret, tlsSecret('infra', 'fallback'));
    r.upsert(KUBE_RESOURCES.Secret, tlsSecret('infra', 'other'));
    r.upsert(KUBE_RESOURCES.Secret, tlsSecret('shop', 'fallback'));
    expect(r.collect().map(recordKey)).toEqual(['Secret/infra/fallback']);
    r.remove(KUBE_RESOURCES.Secret, tlsSecret('infra', 'fallback'));
    expect(r.collect()).toEqual([]);
  });
});

describe('KubeSource with defaultCertificate', () => {
  it('watches every namespace: keeps the default Secret beside the referenced ones', async () => {
    const h = await startApi();
    h.api.upsert('services', svc('shop', 'web'));
    h.api.upsert('ingresses', ingress('shop', 'web', { tlsSecret: 'web-tls' }));
    h.api.upsert('secrets', tlsSecret('shop', 'web-tls'));
    h.api.upsert('secrets', tlsSecret('shop', 'unused'));
    h.api.upsert('secrets', tlsSecret('infra', 'fallback'));
    h.api.upsert('ingressclasses', ingressClass('switchyard'));
    const t = makeSource(h, { defaultCertificate: 'infra/fallback' });
    await t.source.start();
    expect(t.keys().filter((k) => k.startsWith('Secret/'))).toEqual(['Secret/infra/fallback', 'Secret/shop/web-tls']);
  });

  it('with --watch-namespace, also watches the Secrets of the default certificate namespace, and only Secrets there', async () => {
    const h = await startApi();
    for (const ns of ['a', 'infra']) {
      h.api.upsert('services', svc(ns, 'web'));
      h.api.upsert('secrets', tlsSecret(ns, 'fallback'));
    }
    h.api.upsert('ingressclasses', ingressClass('switchyard'));
    const t = makeSource(h, { namespaces: ['a'], defaultCertificate: 'infra/fallback' });
    await t.source.start();
    expect(t.keys()).toEqual(['IngressClass//switchyard', 'Secret/infra/fallback', 'Service/a/web']);
    const paths = [...new Set(h.api.requests.map((r) => r.path))].sort();
    expect(paths.filter((p) => p.includes('/infra/'))).toEqual(['/api/v1/namespaces/infra/secrets']);
    expect(t.source.status().resources).toHaveLength(6);

    // A renewed default certificate arrives like any other change.
    await waitFor(() => h.api.watchCount() === 6);
    h.api.upsert('secrets', { ...tlsSecret('infra', 'fallback'), data: { 'tls.crt': Buffer.from('NEW').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') } });
    await waitFor(() => t.latest().some((rec) => rec.kind === 'Secret' && rec.data['tls.crt'] === 'NEW'), { timeoutMs: 2000 });
  });

  it('does not add a namespace it already watches', async () => {
    const h = await startApi();
    h.api.upsert('secrets', tlsSecret('a', 'fallback'));
    const t = makeSource(h, { namespaces: ['a'], defaultCertificate: 'a/fallback' });
    await t.source.start();
    expect(t.keys()).toEqual(['Secret/a/fallback']);
    expect([...new Set(h.api.requests.filter((r) => r.path.endsWith('/secrets')).map((r) => r.path))]).toEqual(['/api/v1/namespaces/a/secrets']);
  });
});
