/**
 * The data plane of one thread: upstream pools, balancer, retry budget, endpoint health (its local
 * view) and the HTTP listeners. Built the same way in the main thread (`--workers 1`) and in each
 * worker thread; it reads snapshots from a holder and knows nothing of where they come from.
 */
import type { Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RoundRobin } from '../dataplane/balancer.ts';
import type { Cursors } from '../dataplane/cursors.ts';
import type { AffinityTable } from '../dataplane/affinity-table.ts';
import type { ClientLimits, Listener } from '../dataplane/http-listener.ts';
import { createIngressListener } from '../dataplane/ingress-listener.ts';
import type { ProxyContext } from '../dataplane/proxy.ts';
import { TrafficCounters } from '../dataplane/counters.ts';
import type { HttpExchange } from '../dataplane/exchange.ts';
import { gauge, TrafficStats, type MetricFamily } from '../dataplane/traffic-stats.ts';
import { clientFailureAnswer } from '../dataplane/status.ts';
import { clientAddress, clientPort } from '../dataplane/proxy-protocol.ts';
import { BodyBufferBudget } from '../dataplane/request-body.ts';
import { RetryBudget } from '../dataplane/retry-budget.ts';
import { createServiceListener } from '../dataplane/service-listener.ts';
import { TunnelRegistry } from '../dataplane/tunnel-registry.ts';
import { UpstreamPools } from '../dataplane/upstream-pools.ts';
import { threadWeightedChoice } from '../dataplane/weighted.ts';
import type { Config, HostPort } from '../flags.ts';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { Logger } from '../log.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import type { Http2Options } from '../dataplane/h2/h2-sessions.ts';
import type { EdgePolicy } from '../dataplane/edge-policy.ts';
import { clientConnectionCap } from './fd-budget.ts';
import { formatAddress, listenError } from './listen-address.ts';
import { createListenerTls, type TicketKeys } from '../dataplane/tls/listener-tls.ts';
import { createGatewayTls } from '../dataplane/tls/gateway-tls.ts';
import { GatewayListeners, type GatewayPortsReport } from '../dataplane/gateway-listeners.ts';
import { gatewayPortStatus, type GatewayPortReporter } from './gateway-port-status.ts';

export interface DataPlaneOptions {
  readonly config: Config;
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  readonly log: Logger;
  /** The round-robin cursors: shared by the worker threads (dataplane/cursors.ts); default: this data plane's own. */
  readonly cursors?: Cursors | undefined;
  /** The ClientIP session affinity table: shared by the worker threads (dataplane/affinity-table.ts); default: this data plane's own. */
  readonly affinity?: AffinityTable | undefined;
  /** Whether this data plane follows snapshots into `health` (false when the control plane in the same thread does). */
  readonly observeHealth: boolean;
  readonly onDrainingChange?: (draining: ReadonlyMap<string, number>) => void;
  /** The TLS session-ticket key, the same in every worker (runtime/ticket-keys.ts). */
  readonly ticketKeys: TicketKeys;
  /** One line per ended exchange; undefined with `--access-log off`. */
  readonly accessLog?: AccessLogSink | undefined;
  /**
   * Told which Gateway listener ports could not be bound after each snapshot; default: recorded into
   * `holder` (runtime/gateway-port-status.ts), which is the control plane's when this runs in the main thread.
   */
  readonly onGatewayPorts?: (report: GatewayPortsReport) => void;
}

/** Where ended exchanges are logged (runtime/access-log.ts). */
export interface AccessLogSink {
  /** `now`: `performance.now()` when the exchange ended. */
  write(listener: string, exchange: HttpExchange, finished: boolean, now: number): void;
  /** A request refused before it became an exchange: what is known is the client and the answer. */
  refused(listener: string, client: RefusedClient, status: number, reason: string): void;
}

/** The client of a refused request, as far as its connection tells. */
export interface RefusedClient {
  readonly address: string;
  readonly port: number;
}

export interface DataPlane {
  readonly pools: UpstreamPools;
  readonly counters: TrafficCounters;
  readonly stats: TrafficStats;
  /** The balancer of this data plane (peeked by /api/v1/explain with --workers 1). */
  readonly balancer: RoundRobin;
  /** This data plane's request metrics and its listeners' gauges, in prom-client's JSON form. */
  metricFamilies(): Promise<MetricFamily[]>;
  /**
   * Binds every listener; returns `role → host:port`. `at`: role → address to bind instead of the
   * configured one; `reusePort`: bind with SO_REUSEPORT, beside the other worker threads' sockets.
   */
  listen(options?: { readonly at?: Readonly<Record<string, HostPort>> | undefined; readonly reusePort?: boolean }): Promise<Record<string, string>>;
  /** Where each listener is bound (role → address, the port as bound), once listen() resolved. */
  bound(): Record<string, HostPort>;
  inFlight(): number;
  /** Stops accepting and lets in-flight requests finish, cutting them at `timeoutMs`. */
  drain(timeoutMs: number): Promise<{ cut: number }>;
  /** Closes the upstream pools (at once when `force`). */
  close(force: boolean): Promise<void>;
}

export function createDataPlane(options: DataPlaneOptions): DataPlane {
  const { config, holder, health, log } = options;
  const pools = new UpstreamPools({
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    maxConnections: config.upstreamMaxConnections,
    maxQueued: config.upstreamMaxQueue,
    keepAliveTimeoutMs: config.upstreamKeepAliveTimeoutMs,
    upstreamClient: config.upstreamClient,
    ...(options.onDrainingChange ? { onDrainingChange: options.onDrainingChange } : {}),
  });
  const balancer = new RoundRobin(options.cursors, options.affinity);
  const budget = new RetryBudget();
  const counters = new TrafficCounters();
  const stats = new TrafficStats();
  const accessLog = options.accessLog;
  /** What a listener of `role` does with each request refused before it became an exchange. */
  const refusedFor = (role: string) => {
    const slot = stats.listenerSlot(role);
    return (code: string, socket: Socket): void => {
      const { status, reason } = clientFailureAnswer(code);
      stats.refused(slot, reason);
      accessLog?.refused(role, { address: clientAddress(socket), port: clientPort(socket) }, status, reason);
    };
  };
  /** What a listener of `role` does with each ended exchange: count it, and log it when the access log is on. */
  const endedFor = (role: string) => {
    const slot = stats.listenerSlot(role);
    return accessLog === undefined
      ? (exchange: HttpExchange): void => stats.record(slot, exchange, performance.now())
      : (exchange: HttpExchange, finished: boolean): void => {
          const now = performance.now();
          stats.record(slot, exchange, now);
          accessLog.write(role, exchange, finished, now);
        };
  };
  const tunnels = new TunnelRegistry({
    counters,
    idleTimeoutMs: config.tunnelIdleTimeoutMs,
    drainTimeoutMs: config.drainTimeoutMs,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
  });
  tunnels.retain(holder.current());
  holder.onSwap((next) => {
    if (options.observeHealth) health.observe(next);
    pools.retain(next);
    // Tunnels outlive reloads; only those whose endpoint left get the drain timeout.
    tunnels.retain(next);
    balancer.retain(next.backends);
    threadWeightedChoice.retain(next);
    budget.retain(next.backends);
  });
  if (options.observeHealth) health.observe(holder.current());

  const proxy: ProxyContext = {
    pools,
    balancer,
    health,
    budget,
    counters,
    stats,
    tunnels,
    defaults: { responseTimeoutMs: config.upstreamTimeoutMs, idleTimeoutMs: config.upstreamIdleTimeoutMs, requestBufferSize: config.requestBufferSize, bodyBudget: new BodyBufferBudget(config.requestBufferTotal) },
    log: log.child({ component: 'proxy' }),
  };
  const limits: ClientLimits = {
    maxHeaderSize: config.maxHeaderSize,
    headerTimeoutMs: config.clientHeaderTimeoutMs,
    requestTimeoutMs: config.clientRequestTimeoutMs,
    keepAliveTimeoutMs: config.clientKeepAliveTimeoutMs,
    bodyTimeoutMs: config.clientBodyTimeoutMs,
    lingeringTimeoutMs: config.lingeringTimeoutMs,
    maxConnections: clientConnectionCap(config).perListener,
  };
  const policy: EdgePolicy = {
    mergeSlashes: config.mergeSlashes,
    escapedSlashes: config.escapedSlashes,
    headersWithUnderscores: config.headersWithUnderscores,
    trustedProxies: config.trustedProxies,
    proxyProtocol: config.proxyProtocol,
    http1Server: config.http1Server,
  };
  const http2: Http2Options = {
    maxConcurrentStreams: config.http2MaxConcurrentStreams,
    maxHeaderListSize: config.maxHeaderSize,
    idleTimeoutMs: config.clientKeepAliveTimeoutMs,
    headerTimeoutMs: config.clientHeaderTimeoutMs,
    requestTimeoutMs: config.clientRequestTimeoutMs,
    bodyTimeoutMs: config.clientBodyTimeoutMs,
  };
  let tlsListener: Listener | undefined;
  const httpsPort = (): number | undefined => (tlsListener?.server.address() as AddressInfo | null)?.port;
  const ingressLog = log.child({ component: 'ingress' });
  const listeners: { role: string; at: HostPort; listener: Listener }[] = [
    { role: 'ingress', at: config.listen, listener: createIngressListener({ holder, proxy, limits, ended: endedFor('ingress'), refused: refusedFor('ingress'), log: ingressLog, http2, tls: undefined, httpsPort, policy }) },
  ];
  if (config.listenTls) {
    const tls = createListenerTls(holder, options.ticketKeys, log.child({ component: 'tls' }));
    tlsListener = createIngressListener({ holder, proxy, limits, ended: endedFor('ingress-tls'), refused: refusedFor('ingress-tls'), log: ingressLog, http2, tls, httpsPort, policy });
    listeners.push({ role: 'ingress-tls', at: config.listenTls, listener: tlsListener });
  }
  // The Gateway listener ports (Snapshot.gatewayPorts), opened once listen() is called and as snapshots change.
  const gatewayLog = log.child({ component: 'gateway' });
  const gateways = new GatewayListeners({
    holder,
    host: config.gatewayAddress,
    drainTimeoutMs: config.drainTimeoutMs,
    log: gatewayLog,
    report: options.onGatewayPorts ?? reportInto(gatewayPortStatus(holder, config.gatewayAddress, gatewayLog)),
    taken: (port) => listeners.find((l) => (l.listener.server.address() as AddressInfo | null)?.port === port && overlaps(l.at.host, config.gatewayAddress))?.role,
    create(port, protocol) {
      const role = `gateway-${port}`;
      const tls = protocol === 'HTTPS' ? createGatewayTls(port, holder, options.ticketKeys, gatewayLog) : undefined;
      const listener = createIngressListener({ holder, proxy, limits, ended: endedFor(role), refused: refusedFor(role), log: gatewayLog, http2, tls, httpsPort: () => undefined, policy, gatewayPort: port });
      return { listener, dispose: () => tls?.close() };
    },
  });
  if (config.serviceListen) {
    const listener = createServiceListener({ holder, proxy, limits, namespace: config.namespace, ended: endedFor('service'), refused: refusedFor('service'), log: log.child({ component: 'service' }), http2, policy: { ...policy, proxyProtocol: false } });
    listeners.push({ role: 'service', at: config.serviceListen, listener });
  }

  return {
    pools,
    counters,
    stats,
    balancer,
    async metricFamilies() {
      const connections = await Promise.all(listeners.map(({ role, listener }) => connectionCount(listener.server).then((n) => ({ labels: { listener: role }, value: n }))));
      const inFlight = listeners.map(({ role, listener }) => ({ labels: { listener: role }, value: listener.inFlight() }));
      return [
        ...stats.families(),
        gauge('switchyard_client_connections', 'Client connections open, by listener (HTTP/1.1, HTTP/2 and TLS alike; tunnels included).', connections),
        gauge('switchyard_requests_in_flight', 'Requests being served, by listener.', inFlight),
      ];
    },
    async listen(how = {}) {
      const addresses: Record<string, string> = {};
      for (const { role, at: configured, listener } of listeners) {
        const at = how.at?.[role] ?? configured;
        await listenOn(listener.server, at, how.reusePort === true).catch((err: unknown) => {
          throw listenError(role, at, err);
        });
        addresses[role] = formatAddress(listener.server.address() as AddressInfo);
      }
      // A Gateway port that cannot be bound is reported, never fatal.
      await gateways.start(how.reusePort === true);
      return addresses;
    },
    bound() {
      const bound: Record<string, HostPort> = {};
      for (const { role, at, listener } of listeners) bound[role] = { host: at.host, port: (listener.server.address() as AddressInfo).port };
      return bound;
    },
    inFlight: () => listeners.reduce((n, l) => n + l.listener.inFlight(), gateways.inFlight()),
    async drain(timeoutMs) {
      // The listeners' sockets include the tunnels' client sides: a listener is closed only once the
      // tunnels are, which the registry bounds by the same timeout.
      const [cutTunnels, ...drained] = await Promise.all([tunnels.drain(timeoutMs), gateways.drain(timeoutMs), ...listeners.map((l) => l.listener.drain(timeoutMs))]);
      if (cutTunnels > 0) log.info({ tunnels: cutTunnels }, 'drain timeout reached; closed open tunnels');
      return { cut: drained.reduce((n, d) => n + d.cut, 0) };
    },
    close(force) {
      tunnels.closeAll();
      return pools.closeAll(force);
    },
  };
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((err, n) => resolve(err ? 0 : n)));
}

function listenOn(server: Server, at: HostPort, reusePort: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, reusePort }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Whether two bind addresses share ports: the same, or either is a wildcard. */
function overlaps(a: string, b: string): boolean {
  const any = (h: string): boolean => h === '0.0.0.0' || h === '::';
  return a === b || any(a) || any(b);
}

/** A data plane's reports as those of source 0 (the main thread's). */
function reportInto(reporter: GatewayPortReporter): (report: GatewayPortsReport) => void {
  return (report) => reporter(0, report);
}
