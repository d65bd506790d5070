/**
 * Services + EndpointSlices/Endpoints → backends (one per Service port) with their endpoints,
 * resolved as the Kubernetes API defines it:
 * - EndpointSlices belong to a Service through the `kubernetes.io/service-name` label, v1 Endpoints by equal name.
 *   When a Service has any EndpointSlice, its Endpoints object is ignored (the API server mirrors one into
 *   the other, and kube-proxy reads only slices), so nothing is counted twice.
 * - An endpoint port matches a Service port by name ('' for a single unnamed port) and protocol.
 * - An endpoint is its address and port: several pods may share a port on different addresses.
 * - How pods are spoken to comes from the port's `appProtocol` (the names of the Kubernetes and Gateway API
 *   conventions), unless the Service's `switchyard.dev/backend-protocol` overrides it for every port.
 */
import { backendKey, endpointKey, serviceKey } from '../model/keys.ts';
import type { EndpointGroupRec, ServiceRec } from '../model/records.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Backend, BackendPolicy, Diagnostic, EndpointView, ServiceAddress, ServicePortView, ServiceView, UpstreamProtocol, UpstreamSpec } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';
import { ANNOTATION_PREFIX, servicePolicy, serviceUpstream, type ServiceUpstream } from './policy.ts';
import { serviceNames } from './registry.ts';

export interface CompiledServices {
  readonly services: Map<string, ServiceView>;
  readonly backends: Map<string, Backend>;
  readonly diagnostics: Diagnostic[];
}

export function compileServices(view: StoreView, clusterDomain: string): CompiledServices {
  const diagnostics: Diagnostic[] = [];
  const groupsByService = collectGroups(view, diagnostics);
  const services = new Map<string, ServiceView>();
  const backends = new Map<string, Backend>();

  for (const svc of sortedByKey(view.services)) {
    const sKey = serviceKey(svc.meta.namespace, svc.meta.name);
    const groups = groupsByService.get(sKey) ?? [];
    const ports: ServicePortView[] = [];
    const policy = servicePolicy(svc, diagnostics);
    const upstream = serviceUpstream(svc, view.secrets, diagnostics);
    let anyTls = false;
    for (const port of svc.ports) {
      const backend = compileBackend(svc, port, groups, policy, upstreamSpec(port.appProtocol, upstream), diagnostics);
      anyTls ||= backend.upstream.protocol === 'tls';
      backends.set(backend.key, backend);
      ports.push({ name: port.name, port: port.port, targetPort: port.targetPort, protocol: port.protocol, appProtocol: port.appProtocol, backend: backend.key });
    }
    if (upstream.caPem !== undefined && !anyTls && svc.ports.length > 0) {
      diagnostics.push(diag('info', 'ANNOTATION_IGNORED', svc, `${ANNOTATION_PREFIX}backend-ca-secret has no effect: no port of this Service is spoken to over TLS (appProtocol https or ${ANNOTATION_PREFIX}backend-protocol: https)`));
    }
    services.set(sKey, {
      namespace: svc.meta.namespace,
      name: svc.meta.name,
      type: svc.type,
      clusterIPs: svc.clusterIPs,
      headless: svc.headless,
      externalName: svc.externalName,
      names: serviceNames(svc.meta.name, svc.meta.namespace, clusterDomain),
      ports,
      addresses: serviceAddresses(groups),
    });
  }
  return { services, backends, diagnostics };
}

/** appProtocol → how pods are spoken to; values not listed (tcp, mysql, …) mean HTTP/1.1, as before they were read. */
const APP_PROTOCOLS: ReadonlyMap<string, UpstreamProtocol> = new Map([
  ['kubernetes.io/h2c', 'h2c'],
  ['h2c', 'h2c'],
  ['grpc', 'h2c'],
  ['https', 'tls'],
  ['kubernetes.io/wss', 'tls'],
  ['kubernetes.io/ws', 'http1'],
  ['http', 'http1'],
]);

/** One port's UpstreamSpec: the annotation's protocol, else its appProtocol's; the CA only where TLS is spoken. */
export function upstreamSpec(appProtocol: string | undefined, service: ServiceUpstream): UpstreamSpec {
  const protocol = service.protocol ?? (appProtocol === undefined ? undefined : APP_PROTOCOLS.get(appProtocol.toLowerCase())) ?? 'http1';
  return { protocol, caPem: protocol === 'tls' ? service.caPem : undefined };
}

function sortedByKey<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.keys()].sort().map((k) => map.get(k)!);
}

/** Endpoint groups per Service key: slices when the Service has any, its Endpoints otherwise. */
function collectGroups(view: StoreView, diagnostics: Diagnostic[]): Map<string, EndpointGroupRec[]> {
  const fromSlices = new Map<string, EndpointGroupRec[]>();
  for (const slice of sortedByKey(view.endpointSlices)) {
    if (slice.serviceName === undefined) {
      diagnostics.push(diag('warning', 'ENDPOINTSLICE_NO_SERVICE', slice, 'has no kubernetes.io/service-name label, so it belongs to no Service'));
      continue;
    }
    const key = serviceKey(slice.meta.namespace, slice.serviceName);
    if (!view.services.has(`Service/${key}`)) {
      diagnostics.push(diag('info', 'ENDPOINTSLICE_SERVICE_MISSING', slice, `Service ${key} does not exist`));
    }
    push(fromSlices, key, slice.group);
  }
  const groups = new Map(fromSlices);
  for (const eps of sortedByKey(view.endpoints)) {
    const key = serviceKey(eps.meta.namespace, eps.meta.name);
    if (fromSlices.has(key)) continue;
    groups.set(key, [...eps.groups]);
  }
  return groups;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function compileBackend(
  svc: ServiceRec,
  port: ServiceRec['ports'][number],
  groups: readonly EndpointGroupRec[],
  policy: BackendPolicy,
  upstream: UpstreamSpec,
  diagnostics: Diagnostic[],
): Backend {
  const byKey = new Map<string, EndpointView>();
  let unmatchedGroups = 0;
  for (const group of groups) {
    const gp = group.ports.find((p) => p.name === port.name && p.protocol === port.protocol);
    if (!gp) {
      if (group.addresses.length > 0) unmatchedGroups++;
      continue;
    }
    for (const a of group.addresses) {
      const key = endpointKey(a.address, gp.port);
      const seen = byKey.get(key);
      // The same pod may briefly appear in two slices during an update: one endpoint, ready if either says so.
      if (seen) {
        byKey.set(key, { ...seen, ready: seen.ready || a.ready, serving: seen.serving || a.serving, terminating: seen.terminating && a.terminating });
        continue;
      }
      byKey.set(key, {
        key,
        address: a.address,
        port: gp.port,
        ready: a.ready,
        serving: a.serving,
        terminating: a.terminating,
        hostname: a.hostname,
        nodeName: a.nodeName,
        targetRef: a.targetRef,
      });
    }
  }
  if (unmatchedGroups > 0 && byKey.size === 0) {
    const portName = port.name === '' ? 'the unnamed port' : `port name ${JSON.stringify(port.name)}`;
    diagnostics.push(diag('warning', 'SERVICE_PORT_NO_ENDPOINT_PORT', svc, `no endpoint port matches ${portName} (${port.protocol}) of port ${port.port}`));
  }
  const all = [...byKey.values()].sort(compareEndpoints);
  const { ready, rotation, terminatingFallback } = rotationOf(all);
  return {
    key: backendKey(svc.meta.namespace, svc.meta.name, port.port, port.protocol),
    namespace: svc.meta.namespace,
    service: svc.meta.name,
    port: port.port,
    portName: port.name,
    protocol: port.protocol,
    ready,
    all,
    rotation,
    terminatingFallback,
    policy,
    upstream,
    // Absent rather than undefined without affinity: snapshots (and their hashes) of Services without it stay as they were.
    ...(svc.sessionAffinity === 'ClientIP' ? { clientAffinitySeconds: svc.sessionAffinityTimeoutSeconds } : {}),
  };
}

/**
 * The endpoints traffic is balanced over, as kube-proxy chooses them: the ready ones; when none is
 * ready, the serving-and-terminating ones. Shared by the backends and the layer-4 plan (l4-plan.ts).
 */
export function rotationOf(all: readonly EndpointView[]): Pick<Backend, 'ready' | 'rotation' | 'terminatingFallback'> {
  const ready = all.filter((e) => e.ready);
  const terminating = ready.length === 0 ? all.filter((e) => e.serving && e.terminating) : [];
  return { ready, rotation: ready.length > 0 ? ready : terminating, terminatingFallback: terminating.length > 0 };
}

/** Distinct addresses over all groups; an address listed twice is ready if either listing says so. */
function serviceAddresses(groups: readonly EndpointGroupRec[]): ServiceAddress[] {
  const byAddress = new Map<string, ServiceAddress>();
  for (const group of groups) {
    for (const a of group.addresses) {
      const seen = byAddress.get(a.address);
      byAddress.set(a.address, {
        address: a.address,
        ready: a.ready || (seen?.ready ?? false),
        serving: a.serving || (seen?.serving ?? false),
        terminating: a.terminating && (seen?.terminating ?? true),
        hostname: seen?.hostname ?? a.hostname,
      });
    }
  }
  return [...byAddress.values()].sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
}

function compareEndpoints(a: EndpointView, b: EndpointView): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}
