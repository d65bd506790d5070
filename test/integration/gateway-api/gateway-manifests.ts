/** Gateway API manifests for the integration tests of test/integration/gateway-api/. */
import type { Manifest } from '../../helpers/manifests.ts';

const V1 = 'gateway.networking.k8s.io/v1';

export function gatewayClass(name = 'switchyard', controllerName = 'switchyard.dev/gateway-controller'): Manifest {
  return { apiVersion: V1, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

/** A Gateway `gw` in `namespace` with one HTTP listener `web` on port 80 unless listeners are given. */
export function gateway(namespace: string, listeners: readonly Manifest[] = [{ name: 'web', port: 80, protocol: 'HTTP' }], className = 'switchyard', name = 'gw'): Manifest {
  return { apiVersion: V1, kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: className, listeners } };
}

export function httpRoute(name: string, namespace: string, spec: Manifest, creationTimestamp?: string): Manifest {
  return {
    apiVersion: V1,
    kind: 'HTTPRoute',
    metadata: { name, namespace, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: { parentRefs: [{ name: 'gw' }], ...spec },
  };
}

/** A rule to Service port 80 of `service`, with optional matches. */
export function toService(service: string, matches?: readonly Manifest[]): Manifest {
  return { ...(matches ? { matches } : {}), backendRefs: [{ name: service, port: 80 }] };
}
