/**
 * Builders of raw Kubernetes objects for unit tests, and the shortest ways from them to records,
 * a store view and a compiled snapshot. Objects go through parseManifest, so every test also exercises
 * the real source boundary; a builder that produced an invalid object fails the test loudly.
 */
import { compile, type CompiledState } from '../../../src/compile/compile.ts';
import type { Rec } from '../../../src/model/records.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';
import type { StoreView } from '../../../src/model/store-view.ts';
import { Store } from '../../../src/store/store.ts';

export type Obj = Record<string, unknown>;

export interface PortSpec {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export function service(name: string, ports: readonly PortSpec[], extra: { namespace?: string; spec?: Obj } = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}) },
    spec: { ports, ...extra.spec },
  };
}

export interface SliceEndpoint {
  readonly ip: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export function slice(
  name: string,
  serviceName: string | undefined,
  endpoints: readonly SliceEndpoint[],
  ports: readonly { name?: string; port: number; protocol?: string }[],
  namespace?: string,
): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(serviceName !== undefined ? { labels: { 'kubernetes.io/service-name': serviceName } } : {}),
    },
    addressType: 'IPv4',
    endpoints: endpoints.map((e) => {
      const conditions: Obj = {};
      if (e.ready !== undefined) conditions['ready'] = e.ready;
      if (e.serving !== undefined) conditions['serving'] = e.serving;
      if (e.terminating !== undefined) conditions['terminating'] = e.terminating;
      return { addresses: [e.ip], conditions };
    }),
    ports,
  };
}

export function endpoints(
  name: string,
  subsets: readonly { ready?: string[]; notReady?: string[]; ports: { name?: string; port: number; protocol?: string }[] }[],
  namespace?: string,
): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    subsets: subsets.map((s) => ({
      addresses: (s.ready ?? []).map((ip) => ({ ip })),
      notReadyAddresses: (s.notReady ?? []).map((ip) => ({ ip })),
      ports: s.ports,
    })),
  };
}

/** `{ service: { name, port: { number | name } } }` */
export function backend(serviceName: string, port: number | string): Obj {
  return { service: { name: serviceName, port: typeof port === 'number' ? { number: port } : { name: port } } };
}

export interface PathSpec {
  readonly path?: string;
  readonly pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  readonly backend: Obj;
}

export function ingress(
  name: string,
  spec: { rules?: { host?: string; paths: readonly PathSpec[] }[]; defaultBackend?: Obj; ingressClassName?: string },
  meta: { namespace?: string; creationTimestamp?: string; annotations?: Record<string, string> } = {},
): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, ...meta },
    spec: {
      ...(spec.ingressClassName !== undefined ? { ingressClassName: spec.ingressClassName } : {}),
      ...(spec.defaultBackend ? { defaultBackend: spec.defaultBackend } : {}),
      ...(spec.rules
        ? { rules: spec.rules.map((r) => ({ ...(r.host !== undefined ? { host: r.host } : {}), http: { paths: r.paths } })) }
        : {}),
    },
  };
}

/** Objects → one multi-document YAML text (JSON is valid YAML, so each document is a JSON line). */
export function manifestText(objs: readonly Obj[]): string {
  return objs.map((o) => JSON.stringify(o)).join('\n---\n');
}

/** Objects → records; throws on any error so a broken builder is noticed. */
export function records(objs: readonly Obj[]): Rec[] {
  const parsed = parseManifest(manifestText(objs), 'test.yaml', 'test');
  if (parsed.errors.length > 0) throw parsed.errors[0];
  return parsed.records;
}

export function storeView(objs: readonly Obj[]): StoreView {
  const store = new Store();
  store.replace('test', records(objs));
  return store.view();
}

export const DEFAULT_OPTIONS = { clusterDomain: 'cluster.local', ingressClass: 'switchyard' } as const;

export function compileObjects(objs: readonly Obj[], options: { clusterDomain?: string; ingressClass?: string } = {}): CompiledState {
  return compile(storeView(objs), { ...DEFAULT_OPTIONS, ...options });
}
