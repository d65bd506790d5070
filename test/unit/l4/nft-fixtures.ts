/**
 * Service ports and backends built directly (no manifests), for the nftables renderer's tests that need
 * thousands of Services: compiling 10,000 manifests would cost seconds the test does not need.
 */
import { emptySnapshot } from '../../../src/compile/compile.ts';
import { rotationOf } from '../../../src/compile/backends.ts';
import type { Backend, EndpointView, L4PortView, Snapshot } from '../../../src/snapshot/types.ts';

export function endpoint(address: string, port: number, extra: Partial<EndpointView> = {}): EndpointView {
  return { key: `${address}:${port}`, address, port, ready: true, serving: true, terminating: false, hostname: undefined, nodeName: undefined, targetRef: undefined, ...extra };
}

export function portView(namespace: string, service: string, port: number, extra: Partial<L4PortView> = {}): L4PortView {
  const protocol = extra.protocol ?? 'TCP';
  return {
    key: `${namespace}/${service}:${port}${protocol === 'TCP' ? '' : `/${protocol.toLowerCase()}`}`,
    namespace,
    service,
    portName: '',
    port,
    protocol,
    clusterIPs: [],
    externalIPs: [],
    loadBalancerIPs: [],
    nodePort: undefined,
    affinityTimeoutSeconds: undefined,
    internalTrafficPolicy: 'Cluster',
    externalTrafficPolicy: 'Cluster',
    ...extra,
  };
}

/** Only the fields the layer-4 code reads are real; policy and upstream are not used there. */
export function backendOf(port: L4PortView, all: readonly EndpointView[]): Backend {
  return { key: port.key, namespace: port.namespace, service: port.service, port: port.port, portName: port.portName, protocol: port.protocol, all, ...rotationOf(all), policy: {} as Backend['policy'], upstream: {} as Backend['upstream'] };
}

export interface PortWithEndpoints {
  readonly port: L4PortView;
  readonly endpoints: readonly EndpointView[];
}

export function snapshotOf(ports: readonly PortWithEndpoints[], version = 1): Snapshot {
  const sorted = [...ports].sort((a, b) => (a.port.key < b.port.key ? -1 : a.port.key > b.port.key ? 1 : 0));
  return { ...emptySnapshot('cluster.local'), version, l4: sorted.map((p) => p.port), backends: new Map(sorted.map((p) => [p.port.key, backendOf(p.port, p.endpoints)])) };
}

/**
 * `count` ClusterIP Services `svc-N` in namespace `bulk`, all from the documentation range 203.0.113.0/24
 * (RFC 5737): 250 cluster IPs, each with ports 1000, 1001…; one endpoint each in 192.0.2.0/24 on a port of
 * its own; `endpointOf` may override one's endpoint.
 */
export function manyServices(count: number, endpointOf: (i: number) => EndpointView = (i) => endpoint(addressIn('192.0.2.0', 20 + (i % 200)), 10_000 + i)): PortWithEndpoints[] {
  const out: PortWithEndpoints[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ port: portView('bulk', `svc-${i}`, 1000 + Math.floor(i / 250), { clusterIPs: [addressIn('203.0.113.0', 1 + (i % 250))] }), endpoints: [endpointOf(i)] });
  }
  return out;
}

/** The `i`-th address after `base` (IPv4). */
export function addressIn(base: string, i: number): string {
  const n = base.split('.').reduce((acc, o) => acc * 256 + Number(o), 0) + i;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
