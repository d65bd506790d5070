/** `GET /api/v1/l4`: the userspace service proxy's listeners, Service ports, connections and flows. */
import type { L4Plan } from '../compile/l4-plan.ts';
import type { L4Stats } from './l4-stats.ts';
import type { NodePortListener, ProxiedFlow } from './l4-types.ts';

/** Connections and flows listed one by one, at most (the counts are always whole). */
const MAX_LISTED = 1000;

export interface L4ListenerView {
  readonly protocol: 'TCP' | 'UDP';
  readonly address: string;
  readonly port: number;
  /** `namespace/name` and port of the Service port it forwards to. */
  readonly service: string | null;
  readonly servicePort: number | null;
  readonly state: 'listening' | 'failed';
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface L4PortStatusView {
  readonly key: string;
  readonly namespace: string;
  readonly service: string;
  readonly portName: string;
  readonly port: number;
  readonly protocol: string;
  readonly nodePort: number | null;
  readonly clusterIPs: readonly string[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly sessionAffinity: 'None' | 'ClientIP';
  readonly affinityTimeoutSeconds: number | null;
  readonly internalTrafficPolicy: string;
  readonly externalTrafficPolicy: string;
  /** Endpoint keys node-port traffic is balanced over (externalTrafficPolicy applied). */
  readonly endpoints: readonly string[];
  readonly terminatingFallback: boolean;
  /** Open TCP connections or UDP flows, opened since start, failed endpoint connection attempts. */
  readonly open: number;
  readonly total: number;
  readonly connectFailures: number;
}

export interface L4FlowView {
  readonly protocol: 'TCP' | 'UDP';
  readonly portKey: string;
  readonly client: string;
  readonly endpoint: string;
  readonly openedAt: string;
  /** When its endpoint left the Service port (it closes after --drain-timeout); null while in place. */
  readonly drainingSince: string | null;
}

export interface L4View {
  readonly mode: 'userspace';
  readonly nodeName: string;
  readonly nodePortAddresses: readonly string[];
  readonly listenAddresses: readonly string[];
  readonly listeners: readonly L4ListenerView[];
  readonly ports: readonly L4PortStatusView[];
  readonly connections: { readonly open: number; readonly listed: readonly L4FlowView[] };
  readonly flows: { readonly open: number; readonly listed: readonly L4FlowView[] };
}

export interface L4ViewInput {
  readonly nodeName: string;
  readonly nodePortAddresses: readonly string[];
  readonly listenAddresses: readonly string[];
  readonly plan: L4Plan;
  readonly listeners: Iterable<NodePortListener>;
  readonly flows: Iterable<ProxiedFlow>;
  readonly stats: L4Stats;
}

export function l4View(input: L4ViewInput): L4View {
  const listeners = [...input.listeners]
    .map((l): L4ListenerView => ({
      protocol: l.protocol,
      address: l.address,
      port: l.port,
      service: l.target === undefined ? null : `${l.target.port.namespace}/${l.target.port.service}`,
      servicePort: l.target?.port.port ?? null,
      state: l.error === undefined ? 'listening' : 'failed',
      error: l.error ?? null,
    }))
    .sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol) || a.address.localeCompare(b.address));
  const ports = input.plan.entries.map(({ port, external }): L4PortStatusView => {
    const stats = input.stats.get(port.key);
    return {
      key: port.key,
      namespace: port.namespace,
      service: port.service,
      portName: port.portName,
      port: port.port,
      protocol: port.protocol,
      nodePort: port.nodePort ?? null,
      clusterIPs: port.clusterIPs,
      externalIPs: port.externalIPs,
      loadBalancerIPs: port.loadBalancerIPs,
      sessionAffinity: port.affinityTimeoutSeconds === undefined ? 'None' : 'ClientIP',
      affinityTimeoutSeconds: port.affinityTimeoutSeconds ?? null,
      internalTrafficPolicy: port.internalTrafficPolicy,
      externalTrafficPolicy: port.externalTrafficPolicy,
      endpoints: external.rotation.map((e) => e.key),
      terminatingFallback: external.terminatingFallback,
      open: stats?.open ?? 0,
      total: stats?.total ?? 0,
      connectFailures: stats?.connectFailures ?? 0,
    };
  });
  const tcp: L4FlowView[] = [];
  const udp: L4FlowView[] = [];
  let tcpOpen = 0;
  let udpOpen = 0;
  for (const flow of input.flows) {
    const list = flow.protocol === 'TCP' ? tcp : udp;
    if (flow.protocol === 'TCP') tcpOpen++;
    else udpOpen++;
    if (list.length >= MAX_LISTED) continue;
    list.push({
      protocol: flow.protocol,
      portKey: flow.portKey,
      client: flow.client,
      endpoint: flow.endpoint.key,
      openedAt: new Date(flow.openedAt).toISOString(),
      drainingSince: flow.drainingSince === undefined ? null : new Date(flow.drainingSince).toISOString(),
    });
  }
  return {
    mode: 'userspace',
    nodeName: input.nodeName,
    nodePortAddresses: input.nodePortAddresses,
    listenAddresses: input.listenAddresses,
    listeners,
    ports,
    connections: { open: tcpOpen, listed: tcp },
    flows: { open: udpOpen, listed: udp },
  };
}
