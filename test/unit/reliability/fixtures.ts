/** Builders for the reliability unit tests: records, store views, backends, a clock, a recording logger. */
import { emptyTlsTable } from '../../../src/compile/compile.ts';
import type { Logger } from '../../../src/log.ts';
import type { EndpointAddressRec, EndpointSliceRec, ServiceRec } from '../../../src/model/records.ts';
import type { StoreView } from '../../../src/model/store-view.ts';
import type { Backend, BackendPolicy, EndpointView, HealthCheckPolicy, OutlierPolicy, Snapshot } from '../../../src/snapshot/types.ts';

export function service(name: string, annotations: Record<string, string> = {}, namespace = 'shop'): ServiceRec {
  return {
    kind: 'Service',
    meta: { namespace, name, creationTimestamp: undefined, labels: {}, annotations },
    origin: { source: 'test' },
    type: 'ClusterIP',
    clusterIPs: ['10.96.0.1'],
    headless: false,
    externalName: undefined,
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: undefined, nodePort: undefined }],
    externalIPs: [],
    loadBalancerIPs: [],
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    internalTrafficPolicy: 'Cluster',
    externalTrafficPolicy: 'Cluster',
    problems: [],
  };
}

/** An endpoint address; conditions default as the EndpointSlice API does (serving = ready). */
export function address(ip: string, c: { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): EndpointAddressRec {
  const ready = c.ready ?? true;
  return { address: ip, ready, serving: c.serving ?? ready, terminating: c.terminating ?? false, hostname: undefined, nodeName: undefined, targetRef: undefined };
}

export function slice(name: string, serviceName: string, addresses: EndpointAddressRec[], port = 8080, namespace = 'shop'): EndpointSliceRec {
  return {
    kind: 'EndpointSlice',
    meta: { namespace, name, creationTimestamp: undefined, labels: { 'kubernetes.io/service-name': serviceName }, annotations: {} },
    origin: { source: 'test' },
    serviceName,
    addressType: 'IPv4',
    group: { ports: [{ name: 'http', port, protocol: 'TCP' }], addresses },
  };
}

export function storeView(records: (ServiceRec | EndpointSliceRec)[]): StoreView {
  const key = (r: ServiceRec | EndpointSliceRec) => `${r.kind}/${r.meta.namespace}/${r.meta.name}`;
  return {
    version: 1,
    services: new Map(records.filter((r): r is ServiceRec => r.kind === 'Service').map((r) => [key(r), r])),
    endpointSlices: new Map(records.filter((r): r is EndpointSliceRec => r.kind === 'EndpointSlice').map((r) => [key(r), r])),
    endpoints: new Map(),
    conflicts: [],
    ingresses: new Map(),
    ingressClasses: new Map(),
    secrets: new Map(),
  };
}

export function endpoint(key: string, c: { ready?: boolean; serving?: boolean; terminating?: boolean } = {}): EndpointView {
  const [address, port] = key.split(':') as [string, string];
  const ready = c.ready ?? true;
  return { key, address, port: Number(port), ready, serving: c.serving ?? ready, terminating: c.terminating ?? false, hostname: undefined, nodeName: undefined, targetRef: undefined };
}

export const OUTLIER: OutlierPolicy = { consecutive5xx: 5, consecutiveConnectFailures: 1, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 };

export const HEALTH_CHECK: HealthCheckPolicy = { protocol: 'http', path: '/healthz', port: 0, intervalMs: 200, timeoutMs: 100, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [[200, 399]] };

/** A backend `shop/web:80` whose rotation (and `all`, `ready`) are `eps`. */
export function backend(eps: readonly (string | EndpointView)[], policy: Partial<BackendPolicy> = {}, key = 'shop/web:80'): Backend {
  const views = eps.map((e) => (typeof e === 'string' ? endpoint(e) : e));
  return {
    key,
    namespace: 'shop',
    service: 'web',
    port: 80,
    portName: 'http',
    protocol: 'TCP',
    ready: views.filter((e) => e.ready),
    all: views,
    rotation: views,
    terminatingFallback: false,
    policy: { retries: 2, retryBudgetPercent: 20, connectTimeoutMs: undefined, responseTimeoutMs: undefined, idleTimeoutMs: undefined, outlier: OUTLIER, healthCheck: undefined, ...policy },
    upstream: { protocol: 'http1', caPem: undefined },
  };
}

/** Just enough of a Snapshot for EndpointHealth.observe. */
export function snapshotOf(backends: readonly Backend[]): Snapshot {
  return {
    version: 1,
    hash: 'x',
    storeVersion: 1,
    createdAt: new Date(0).toISOString(),
    clusterDomain: 'cluster.local',
    services: new Map(),
    backends: new Map(backends.map((b) => [b.key, b])),
    registry: new Map(),
    routes: { hosts: new Map(), wildcards: new Map(), anyHost: undefined, defaultBackend: undefined, list: [] },
    tls: emptyTlsTable(),
    l4: [],
    diagnostics: [],
  };
}

/** A settable clock, ms since the epoch, starting on a whole second. */
export function clock(start = 1_700_000_000_000): { now: () => number; t: number; advance(ms: number): void; set(ms: number): void } {
  const c = {
    t: start,
    now: () => c.t,
    advance(ms: number) {
      c.t += ms;
    },
    set(ms: number) {
      c.t = ms;
    },
  };
  return c;
}

/** A logger that records `[level, msg]` for every call and is its own child. */
export function recordingLogger(): { log: Logger; lines: [string, string][] } {
  const lines: [string, string][] = [];
  const at = (level: string) => (a: unknown, b?: unknown) => {
    lines.push([level, typeof a === 'string' ? a : String(b)]);
  };
  const log = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: () => log };
  return { log: log as unknown as Logger, lines };
}
