/** Resource paths and what the client's errors mean. */
import { describe, expect, it } from 'vitest';
import { KUBE_RESOURCES, describeKubeError, resourcePath } from '../../../../src/sources/kube-api.ts';

describe('resourcePath', () => {
  it.each([
    ['Service', undefined, '/api/v1/services'],
    ['Service', 'shop', '/api/v1/namespaces/shop/services'],
    ['Endpoints', 'shop', '/api/v1/namespaces/shop/endpoints'],
    ['Secret', undefined, '/api/v1/secrets'],
    ['EndpointSlice', undefined, '/apis/discovery.k8s.io/v1/endpointslices'],
    ['EndpointSlice', 'shop', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices'],
    ['Ingress', 'shop', '/apis/networking.k8s.io/v1/namespaces/shop/ingresses'],
    // Cluster-scoped: the namespace does not apply.
    ['IngressClass', 'shop', '/apis/networking.k8s.io/v1/ingressclasses'],
    ['HTTPRoute', 'shop', '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes'],
    ['GatewayClass', 'shop', '/apis/gateway.networking.k8s.io/v1/gatewayclasses'],
    ['ReferenceGrant', undefined, '/apis/gateway.networking.k8s.io/v1beta1/referencegrants'],
    ['Namespace', 'shop', '/api/v1/namespaces'],
  ] as const)('%s in %s → %s', (kind, namespace, path) => {
    expect(resourcePath(KUBE_RESOURCES[kind], namespace)).toBe(path);
  });

  it('selects only TLS Secrets, and applies --selector to Services, slices, Endpoints, Ingresses and routes', () => {
    expect(KUBE_RESOURCES.Secret.fieldSelector).toBe('type=kubernetes.io/tls');
    expect(Object.values(KUBE_RESOURCES).filter((r) => r.selectable).map((r) => r.kind)).toEqual(['Service', 'EndpointSlice', 'Endpoints', 'Ingress', 'HTTPRoute', 'GRPCRoute']);
  });

  it('reads the Gateway API kinds and Namespaces only where the cluster serves them', () => {
    expect(Object.values(KUBE_RESOURCES).filter((r) => r.optional).map((r) => r.kind)).toEqual(['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'Namespace']);
  });
});

describe('describeKubeError', () => {
  const apiException = (code: number, body: unknown) => Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: …`), { code, body, headers: {} });
  const fetchFailed = (causeCode: string, message: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code: causeCode }) });

  it.each([
    ['a list 404', apiException(404, { kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 }), 404, 'SWY_ERR_KUBE_UNAVAILABLE', 'HTTP 404 NotFound: the server could not find the requested resource'],
    ['a list 403', apiException(403, { reason: 'Forbidden', message: 'services is forbidden' }), 403, 'SWY_ERR_KUBE_FORBIDDEN', 'HTTP 403 Forbidden: services is forbidden'],
    ['a list 403 with the Status as text', apiException(403, '{"kind":"Status","reason":"Forbidden","message":"no"}'), 403, 'SWY_ERR_KUBE_FORBIDDEN', 'HTTP 403 Forbidden: no'],
    ['a list 401 without a body', apiException(401, undefined), 401, 'SWY_ERR_KUBE_FORBIDDEN', 'HTTP 401'],
    ['a watch 410', Object.assign(new Error('Gone'), { statusCode: 410 }), 410, 'SWY_ERR_KUBE_UNAVAILABLE', 'HTTP 410: Gone'],
    ['a refused connection', fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6443'), undefined, 'SWY_ERR_KUBE_UNAVAILABLE', 'fetch failed: connect ECONNREFUSED 127.0.0.1:6443'],
    ['a cut stream', Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), undefined, 'SWY_ERR_KUBE_UNAVAILABLE', 'terminated: other side closed'],
    ['a watch timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), undefined, 'SWY_ERR_KUBE_UNAVAILABLE', 'no data from the API server within the watch timeout'],
    ['a string', 'boom', undefined, 'SWY_ERR_KUBE_UNAVAILABLE', 'boom'],
  ])('%s', (_name, err, status, code, message) => {
    expect(describeKubeError(err)).toEqual({ status, code, message });
  });
});
