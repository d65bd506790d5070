/**
 * The userspace service proxy (`--proxy-mode userspace`, the kube-proxy role without root): one TCP
 * and/or UDP listener per Service node port and node-port address, kept in step with the snapshot.
 * It runs once, in the control-plane process, beside the DNS server: another consumer of the snapshot.
 *
 * On each swap the node's layer-4 plan is recomputed (compile/l4-plan.ts): listeners of node ports that
 * went away close, new ones bind (a failure — port in use, no permission — is logged, shown in the admin
 * view and retried, never fatal), and every listener's target is replaced. Open TCP connections stay
 * on their endpoint while it remains one of its Service port's endpoints; once it is gone they are
 * closed after --drain-timeout (cancelled if it comes back). UDP flows to a gone endpoint end at once,
 * so the client's next datagram reaches a live one (kube-proxy clears their conntrack entries likewise).
 */
import type { Availability } from '../dataplane/balancer.ts';
import { planL4, type L4Plan } from '../compile/l4-plan.ts';
import type { MetricFamily } from '../dataplane/traffic-stats.ts';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { EndpointPicker } from './endpoint-picker.ts';
import { L4Stats } from './l4-stats.ts';
import type { L4Target, ListenerContext, NodePortListener, ProxiedFlow } from './l4-types.ts';
import { nodePortListenAddresses } from './nodeport-addresses.ts';
import { TcpNodePortListener } from './userspace-tcp.ts';
import { UdpNodePortListener } from './userspace-udp.ts';
import { l4View, type L4View } from './userspace-view.ts';

export interface UserspaceProxyOptions {
  readonly holder: SnapshotHolder;
  /** Endpoint health: endpoints ejected by health checks are skipped; default: all available. */
  readonly health?: Availability;
  /** --nodeport-addresses (`address/prefix` CIDRs). */
  readonly nodePortAddresses: readonly string[];
  /** --node-name. */
  readonly nodeName: string;
  /** --udp-flow-timeout, ms. */
  readonly udpFlowTimeoutMs: number;
  /** --drain-timeout, ms: how long a TCP connection outlives its endpoint. */
  readonly drainTimeoutMs: number;
  /** --upstream-connect-timeout, ms. */
  readonly connectTimeoutMs: number;
  readonly log: Logger;
  /** The addresses to bind; default: those of nodePortAddresses on this machine's interfaces. */
  readonly listenAddresses?: readonly string[];
  /** Clock, ms; default Date.now. */
  readonly now?: () => number;
}

/** A listener that failed to bind is tried again at the next snapshot swap after this long. */
const LISTEN_RETRY_MS = 10_000;

export class UserspaceProxy {
  readonly #options: UserspaceProxyOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #addresses: readonly string[];
  readonly #picker: EndpointPicker;
  readonly #stats = new L4Stats();
  readonly #ctx: ListenerContext;
  /** `PROTOCOL|address|port` → listener. */
  readonly #listeners = new Map<string, NodePortListener>();
  readonly #failedAt = new Map<NodePortListener, number>();
  readonly #flows = new Set<ProxiedFlow>();
  readonly #drainTimers = new Map<ProxiedFlow, NodeJS.Timeout>();
  #plan: L4Plan = { entries: [] };
  #queue: Promise<void> = Promise.resolve();
  #sweeper: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  /** A sync is queued that has not started yet. */
  #pending = false;

  constructor(options: UserspaceProxyOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#addresses = options.listenAddresses ?? nodePortListenAddresses(options.nodePortAddresses);
    this.#picker = new EndpointPicker({ ...(options.health ? { health: options.health } : {}), now: this.#now });
    this.#ctx = {
      picker: this.#picker,
      log: options.log,
      connectTimeoutMs: options.connectTimeoutMs,
      udpFlowTimeoutMs: options.udpFlowTimeoutMs,
      now: this.#now,
      stopped: () => this.#stopped,
      opened: (flow) => this.#flows.add(flow),
      closed: (flow) => {
        this.#flows.delete(flow);
        clearTimeout(this.#drainTimers.get(flow));
        this.#drainTimers.delete(flow);
      },
    };
  }

  /** Binds the node ports of the current snapshot and follows its swaps. */
  start(): Promise<void> {
    if (this.#addresses.length === 0) this.#log.warn({ nodePortAddresses: this.#options.nodePortAddresses }, 'no local address is inside --nodeport-addresses: node ports listen nowhere');
    this.#unsubscribe = this.#options.holder.onSwap(() => void this.#schedule());
    const every = Math.min(1000, Math.max(50, Math.floor(this.#options.udpFlowTimeoutMs / 4)));
    this.#sweeper = setInterval(() => this.#sweep(), every).unref();
    return this.#schedule();
  }

  /** Closes every listener, connection and flow. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearInterval(this.#sweeper);
    await this.#queue;
    for (const flow of [...this.#flows]) flow.close();
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.#listeners.clear();
  }

  view(): L4View {
    return l4View({
      nodeName: this.#options.nodeName,
      nodePortAddresses: this.#options.nodePortAddresses,
      listenAddresses: this.#addresses,
      plan: this.#plan,
      listeners: this.#listeners.values(),
      flows: this.#flows,
      stats: this.#stats,
    });
  }

  metricFamilies(): MetricFamily[] {
    return this.#stats.families();
  }

  /** Syncs run one at a time, each with the snapshot current when it starts: a burst of swaps while one runs makes one more. */
  #schedule(): Promise<void> {
    if (this.#pending) return this.#queue;
    this.#pending = true;
    this.#queue = this.#queue
      .then(() => {
        this.#pending = false;
        return this.#sync();
      })
      .catch((err: unknown) => this.#log.error({ err }, 'service proxy sync failed'));
    return this.#queue;
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    const snapshot = this.#options.holder.current();
    const plan = planL4(snapshot, { nodeName: this.#options.nodeName });
    this.#plan = plan;
    const wanted = new Map<string, L4Target>();
    for (const entry of plan.entries) {
      const { port } = entry;
      if (port.nodePort === undefined || port.protocol === 'SCTP') continue; // SCTP: no userspace socket API in Node
      const target: L4Target = { port, backend: entry.external, stats: this.#stats.of(port) };
      for (const address of this.#addresses) wanted.set(`${port.protocol}|${address}|${port.nodePort}`, target);
    }
    for (const [key, listener] of this.#listeners) {
      if (wanted.has(key)) continue;
      this.#listeners.delete(key);
      this.#failedAt.delete(listener);
      await listener.close();
      if (listener.error === undefined) this.#log.info({ protocol: listener.protocol, address: listener.address, port: listener.port }, 'node port closed');
    }
    for (const [key, target] of wanted) {
      let listener = this.#listeners.get(key);
      const failedAt = listener === undefined ? undefined : this.#failedAt.get(listener);
      if (listener !== undefined && (failedAt === undefined || this.#now() - failedAt < LISTEN_RETRY_MS)) {
        listener.target = target;
        continue;
      }
      const previousError = listener?.error;
      await listener?.close();
      const [protocol, address = ''] = key.split('|');
      listener = protocol === 'TCP' ? new TcpNodePortListener(address, target.port.nodePort!, this.#ctx) : new UdpNodePortListener(address, target.port.nodePort!, this.#ctx);
      listener.target = target;
      this.#listeners.set(key, listener);
      await listener.listen();
      this.#report(listener, target, previousError?.message);
    }
    this.#reviewFlows();
    this.#picker.sweep(new Set(plan.entries.flatMap((e) => [e.internal.key, e.external.key])));
  }

  #report(listener: NodePortListener, target: L4Target, previousError: string | undefined): void {
    const fields = { protocol: listener.protocol, address: listener.address, port: listener.port, service: `${target.port.namespace}/${target.port.service}`, servicePort: target.port.port };
    if (listener.error === undefined) {
      this.#failedAt.delete(listener);
      this.#log.info(fields, `node port listening: ${listener.port}/${listener.protocol} at ${listener.address} for Service ${fields.service} port ${fields.servicePort}`);
      return;
    }
    this.#failedAt.set(listener, this.#now());
    if (listener.error.message === previousError) return; // a retry that failed the same way: said already
    this.#log.error(
      { ...fields, code: ErrorCode.LISTEN_FAILED, cause: listener.error.code },
      `cannot listen on node port ${listener.port}/${listener.protocol} at ${listener.address} for Service ${fields.service} port ${fields.servicePort}: ${listener.error.message}`,
    );
  }

  /** Starts (or cancels) the drain of connections whose endpoint left their Service port. */
  #reviewFlows(): void {
    const backends = this.#options.holder.current().backends;
    const endpointsOf = new Map<string, ReadonlySet<string>>();
    for (const flow of this.#flows) {
      let endpoints = endpointsOf.get(flow.portKey);
      if (endpoints === undefined) endpointsOf.set(flow.portKey, (endpoints = new Set(backends.get(flow.portKey)?.all.map((e) => e.key))));
      const gone = !endpoints.has(flow.endpoint.key);
      if (!gone) {
        clearTimeout(this.#drainTimers.get(flow));
        this.#drainTimers.delete(flow);
        flow.drainingSince = undefined;
      } else if (flow.protocol === 'UDP') {
        flow.close();
      } else if (flow.drainingSince === undefined) {
        flow.drainingSince = this.#now();
        this.#drainTimers.set(flow, setTimeout(() => flow.close(), this.#options.drainTimeoutMs).unref());
      }
    }
  }

  #sweep(): void {
    const now = this.#now();
    for (const listener of this.#listeners.values()) listener.sweep(now);
    this.#picker.sweep();
    for (const at of this.#failedAt.values()) {
      if (now - at >= LISTEN_RETRY_MS) {
        void this.#schedule();
        break;
      }
    }
  }
}
