/** Builders of raw Gateway API objects for unit tests (see k8s.ts for the other kinds and the ways to a snapshot). */
import type { Obj } from './k8s.ts';

const V1 = 'gateway.networking.k8s.io/v1';

export function gatewayClass(name = 'switchyard', controllerName = 'switchyard.dev/gateway-controller'): Obj {
  return { apiVersion: V1, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

export function gateway(name: string, listeners: readonly Obj[], meta: { namespace?: string; className?: string } = {}): Obj {
  return {
    apiVersion: V1,
    kind: 'Gateway',
    metadata: { name, ...(meta.namespace ? { namespace: meta.namespace } : {}) },
    spec: { gatewayClassName: meta.className ?? 'switchyard', listeners },
  };
}

export function listener(name: string, extra: Obj = {}): Obj {
  return { name, port: 80, protocol: 'HTTP', ...extra };
}

export function httpRoute(name: string, spec: Obj, meta: { namespace?: string; creationTimestamp?: string } = {}): Obj {
  return { apiVersion: V1, kind: 'HTTPRoute', metadata: { name, ...meta }, spec: { parentRefs: [{ name: 'gw' }], ...spec } };
}

/** A rule forwarding to one Service port, with optional matches. */
export function rule(service: string, matches?: readonly Obj[], port = 80): Obj {
  return { ...(matches ? { matches } : {}), backendRefs: [{ name: service, port }] };
}

export function referenceGrant(namespace: string, fromNamespace: string, toName?: string): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name: 'grant', namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: fromNamespace }], to: [{ group: '', kind: 'Service', ...(toName ? { name: toName } : {}) }] },
  };
}
