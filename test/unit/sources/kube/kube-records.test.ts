/** The kube source's record set: raw API objects in, records out; rejections; TLS Secret filtering. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { recordKey } from '../../../../src/model/keys.ts';
import { KUBE_RESOURCES } from '../../../../src/sources/kube-api.ts';
import { KubeRecords } from '../../../../src/sources/kube-records.ts';

const records = () => new KubeRecords(pino({ level: 'silent' }));
const keys = (r: KubeRecords) => r.collect().map(recordKey).sort();

// As list items arrive from the client: no kind/apiVersion, timestamps as Dates.
const service = (name: string, port = 80) => ({ metadata: { name, namespace: 'shop', creationTimestamp: new Date('2025-01-02T03:04:05Z') }, spec: { ports: [{ port }] } });
const ingress = (name: string, extra: Record<string, unknown> = {}, status?: unknown) => ({
  metadata: { name, namespace: 'shop' },
  spec: { rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }], ...extra },
  ...(status ? { status } : {}),
});
const secret = (name: string) => ({ metadata: { name, namespace: 'shop' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Q0VSVA==' } });

describe('KubeRecords', () => {
  it('sets kind and apiVersion from the resource and writes list timestamps as the API server does', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Service, service('web'));
    const [rec] = r.collect();
    expect(rec).toMatchObject({ kind: 'Service', origin: { source: 'kubernetes' }, meta: { namespace: 'shop', name: 'web', creationTimestamp: '2025-01-02T03:04:05Z' } });
  });

  it('rejects an invalid version alone, keeps the last valid one, and forgets the rejection on a fix or a deletion', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Service, service('web'));
    r.upsert(KUBE_RESOURCES.Service, service('web', 0));
    r.upsert(KUBE_RESOURCES.Service, service('new', 0));
    expect(keys(r)).toEqual(['Service/shop/web']);
    expect(r.collect()[0]).toMatchObject({ ports: [{ port: 80 }] });
    expect(r.rejected().map((x) => [x.name, x.code, x.message.split(':')[0]])).toEqual([
      ['web', 'SWY_ERR_MANIFEST_INVALID', 'Service shop/web field spec.ports[0].port'],
      ['new', 'SWY_ERR_MANIFEST_INVALID', 'Service shop/new field spec.ports[0].port'],
    ]);
    r.upsert(KUBE_RESOURCES.Service, service('web', 81));
    r.remove(KUBE_RESOURCES.Service, service('new'));
    expect(r.rejected()).toEqual([]);
    expect(r.collect()[0]).toMatchObject({ ports: [{ port: 81 }] });
  });

  it('rejects a name the API server would refuse, with its message, like any invalid object', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Service, service('9web'));
    expect(keys(r)).toEqual([]);
    expect(r.rejected().map((x) => [x.name, x.code, x.message])).toEqual([
      [
        '9web',
        'SWY_ERR_MANIFEST_INVALID',
        `Service shop/9web field metadata.name: Invalid value: "9web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
      ],
    ]);
  });

  it('keys cluster-scoped IngressClasses without a namespace', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.IngressClass, { metadata: { name: 'switchyard' }, spec: { controller: 'x' } });
    expect(keys(r)).toEqual(['IngressClass//switchyard']);
  });

  it('hands over only the TLS Secrets an Ingress of their namespace references', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Secret, secret('a-tls'));
    r.upsert(KUBE_RESOURCES.Secret, secret('b-tls'));
    r.upsert(KUBE_RESOURCES.Ingress, ingress('a', { tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }));
    expect(keys(r)).toEqual(['Ingress/shop/a', 'Secret/shop/a-tls']);
    r.remove(KUBE_RESOURCES.Ingress, ingress('a'));
    expect(keys(r)).toEqual([]);
  });

  it('also hands over the Secret a Service names in switchyard.dev/backend-ca-secret', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Secret, secret('pod-ca'));
    r.upsert(KUBE_RESOURCES.Secret, secret('other'));
    const annotated = { ...service('api', 443), metadata: { ...service('api', 443).metadata, annotations: { 'switchyard.dev/backend-ca-secret': 'pod-ca' } } };
    r.upsert(KUBE_RESOURCES.Service, annotated);
    expect(keys(r)).toEqual(['Secret/shop/pod-ca', 'Service/shop/api']);
    r.remove(KUBE_RESOURCES.Service, annotated);
    expect(keys(r)).toEqual([]);
  });

  it('lists the Ingresses of the class or of none, with their current status', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Ingress, ingress('none', {}, { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } }));
    r.upsert(KUBE_RESOURCES.Ingress, ingress('ours', { ingressClassName: 'edge' }));
    r.upsert(KUBE_RESOURCES.Ingress, ingress('legacy', {}, undefined));
    r.upsert(KUBE_RESOURCES.Ingress, { ...ingress('annotated'), metadata: { name: 'annotated', namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'nginx' } } });
    r.upsert(KUBE_RESOURCES.Ingress, ingress('theirs', { ingressClassName: 'nginx' }));
    // No IngressClass object: as if an IngressClass "edge" of ours were the default.
    expect(r.servedIngresses({ ingressClass: 'edge' }).map((t) => [t.name, t.current])).toEqual([
      ['none', [{ ip: '10.0.0.1' }]],
      ['ours', []],
      ['legacy', []],
    ]);
  });

  it('decides which Ingresses are served against its IngressClasses, by the rule compile applies', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.Ingress, ingress('none'));
    r.upsert(KUBE_RESOURCES.Ingress, ingress('edge', { ingressClassName: 'edge' }));
    r.upsert(KUBE_RESOURCES.Ingress, ingress('nginx', { ingressClassName: 'nginx' }));
    r.upsert(KUBE_RESOURCES.Ingress, { ...ingress('annotated'), metadata: { name: 'annotated', namespace: 'shop', annotations: { 'kubernetes.io/ingress.class': 'switchyard' } } });
    const served = (options: { watchIngressWithoutClass?: boolean } = {}) => r.servedIngresses({ ingressClass: 'switchyard', ...options }).map((t) => t.name);
    expect(served()).toEqual(['none', 'annotated']);
    r.upsert(KUBE_RESOURCES.IngressClass, { metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } });
    expect(served()).toEqual(['annotated']);
    expect(served({ watchIngressWithoutClass: true })).toEqual(['none', 'annotated']);
    r.upsert(KUBE_RESOURCES.IngressClass, { metadata: { name: 'edge', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'switchyard.dev/ingress-controller' } });
    expect(served()).toEqual(['none', 'edge', 'annotated']);
  });

  it('drops every object of a kind', () => {
    const r = records();
    r.upsert(KUBE_RESOURCES.EndpointSlice, { metadata: { name: 's', namespace: 'shop' }, addressType: 'IPv4', endpoints: [] });
    r.upsert(KUBE_RESOURCES.EndpointSlice, { metadata: { name: 'bad', namespace: 'shop' }, addressType: 'IPv5', endpoints: [] });
    r.dropKind('EndpointSlice');
    expect(keys(r)).toEqual([]);
    expect(r.rejected()).toEqual([]);
  });
});
