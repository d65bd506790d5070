/**
 * The composition root: wires sources → store → reconcile → snapshot → data plane and admin, and
 * stops them in order. Nothing imports this module but the CLI, the demo and tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/server.ts';
import { emptySnapshot } from './compile/compile.ts';
import { RoundRobin } from './dataplane/balancer.ts';
import type { ClientLimits, Listener } from './dataplane/http-listener.ts';
import { createIngressListener } from './dataplane/ingress-listener.ts';
import { createServiceListener } from './dataplane/service-listener.ts';
import { answerQuestion } from './dns/answer-view.ts';
import { startDnsServer, type DnsServer } from './dns/server.ts';
import type { ProxyContext } from './dataplane/proxy.ts';
import { RetryBudget } from './dataplane/retry-budget.ts';
import { UpstreamPools } from './dataplane/upstream-pools.ts';
import { ActiveChecker } from './health/active-checker.ts';
import { EndpointHealth } from './health/endpoint-health.ts';
import { ErrorCode, SwyError } from './errors.ts';
import type { Config, HostPort } from './flags.ts';
import type { Logger } from './log.ts';
import { startReconciler } from './reconcile.ts';
import { SnapshotHolder } from './snapshot/holder.ts';
import { FileSource } from './sources/file-source.ts';
import { Store } from './store/store.ts';

export interface Switchyard {
  /** Bound addresses, `host:port`, by role: ingress, admin, and service and dns when enabled. */
  readonly addresses: Readonly<Record<string, string>>;
  readonly holder: SnapshotHolder;
  /**
   * Graceful stop: /readyz turns 503; after `delayMs` (so a load balancer in front notices) the
   * listener stops accepting and in-flight requests drain (bounded by the drain timeout); then
   * everything closes.
   */
  stop(options?: { delayMs?: number }): Promise<void>;
}

export async function startSwitchyard(config: Config, log: Logger): Promise<Switchyard> {
  const startedAt = new Date().toISOString();
  const store = new Store();
  const holder = new SnapshotHolder(emptySnapshot(config.clusterDomain));
  const reconciler = startReconciler(store, holder, { clusterDomain: config.clusterDomain, ingressClass: config.ingressClass }, log.child({ component: 'reconcile' }));
  const source = new FileSource({ paths: config.manifests, log: log.child({ component: 'file-source' }) });
  source.onUpdate((records) => store.replace(source.name, records));

  const pools = new UpstreamPools({
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    maxConnections: config.upstreamMaxConnections,
    keepAliveTimeoutMs: config.upstreamKeepAliveTimeoutMs,
  });
  const balancer = new RoundRobin();
  const budget = new RetryBudget();
  const health = new EndpointHealth({ log: log.child({ component: 'health' }) });
  const checker = new ActiveChecker({ health, log: log.child({ component: 'health-check' }), concurrency: config.healthCheckConcurrency });
  holder.onSwap((next) => {
    health.observe(next);
    checker.update(next);
    pools.retain(next);
    balancer.retain(next.backends);
    budget.retain(next.backends);
  });

  let ready = false;
  const admin = createAdminServer({
    holder,
    health,
    draining: () => pools.draining(),
    ready: () => ready,
    sources: () => [source.status()],
    dnsAnswer: (name, type) => answerQuestion(holder.current(), name, type, config.dnsTtlSeconds),
    startedAt,
  });
  const proxy: ProxyContext = {
    pools,
    balancer,
    health,
    budget,
    defaults: { responseTimeoutMs: config.upstreamTimeoutMs, idleTimeoutMs: config.upstreamIdleTimeoutMs },
    log: log.child({ component: 'proxy' }),
  };
  const limits: ClientLimits = {
    maxHeaderSize: config.maxHeaderSize,
    headerTimeoutMs: config.clientHeaderTimeoutMs,
    requestTimeoutMs: config.clientRequestTimeoutMs,
    keepAliveTimeoutMs: config.clientKeepAliveTimeoutMs,
  };
  const httpListeners: { role: string; at: HostPort; listener: Listener }[] = [
    { role: 'ingress', at: config.listen, listener: createIngressListener({ holder, proxy, limits, log: log.child({ component: 'ingress' }) }) },
  ];
  if (config.serviceListen) {
    const listener = createServiceListener({ holder, proxy, limits, namespace: config.namespace, log: log.child({ component: 'service' }) });
    httpListeners.push({ role: 'service', at: config.serviceListen, listener });
  }
  let dns: DnsServer | undefined;
  const addresses: Record<string, string> = {};
  const announce = (role: string, address: string): void => {
    addresses[role] = address;
    log.info({ role, address }, `listening role=${role} address=${address}`);
  };

  const cleanup: (() => Promise<unknown> | void)[] = [];
  try {
    await admin.listen({ host: config.admin.host, port: config.admin.port }).catch((err: unknown) => {
      throw listenError('admin', config.admin, err);
    });
    cleanup.push(() => admin.close());
    announce('admin', formatAddress(admin.server.address() as AddressInfo));

    cleanup.push(() => source.close());
    await source.start();
    reconciler.rebuildNow();

    for (const { role, at, listener } of httpListeners) {
      await listen(listener.server, at).catch((err: unknown) => {
        throw listenError(role, at, err);
      });
      cleanup.push(() => listener.drain(0));
      announce(role, formatAddress(listener.server.address() as AddressInfo));
    }
    if (config.dns) {
      dns = await startDnsServer({ holder, host: config.dns.host, port: config.dns.port, ttlSeconds: config.dnsTtlSeconds, log: log.child({ component: 'dns' }) });
      announce('dns', formatAddress(dns.udpAddress));
    }
    ready = true;

    let stopping: Promise<void> | undefined;
    return {
      addresses,
      holder,
      stop(options = {}) {
        stopping ??= (async () => {
          ready = false;
          const delayMs = options.delayMs ?? 0;
          if (delayMs > 0) {
            log.info({ delayMs }, 'stopping: /readyz is 503; still serving during the shutdown delay');
            await new Promise((resolve) => setTimeout(resolve, delayMs));
          }
          const inFlight = httpListeners.reduce((n, l) => n + l.listener.inFlight(), 0);
          log.info({ inFlight, drainTimeoutMs: config.drainTimeoutMs }, 'stopping: no longer accepting; draining in-flight requests');
          const drained = await Promise.all(httpListeners.map((l) => l.listener.drain(config.drainTimeoutMs)));
          const cut = drained.reduce((n, d) => n + d.cut, 0);
          if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
          await dns?.close();
          checker.stop();
          reconciler.stop();
          source.close();
          await pools.closeAll(cut > 0);
          await admin.close();
          log.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    checker.stop();
    reconciler.stop();
    for (const fn of cleanup.reverse()) await fn();
    await pools.closeAll(true);
    throw err;
  }
}

function listen(server: Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function listenError(role: string, at: HostPort, err: unknown): SwyError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  return new SwyError(ErrorCode.LISTEN_FAILED, `cannot listen for ${role} on ${formatHostPort(at)}: ${code}`, { cause: err });
}

function formatHostPort(at: HostPort): string {
  return at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
}

export function formatAddress(a: AddressInfo): string {
  return formatHostPort({ host: a.address, port: a.port });
}
