/**
 * The composition root: wires sources → store → reconcile → snapshot → data plane and admin, and
 * stops them in order. Nothing imports this module but the CLI, the demo and tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/server.ts';
import { emptySnapshot } from './compile/compile.ts';
import { RoundRobin } from './dataplane/balancer.ts';
import { createIngressListener, type ClientLimits } from './dataplane/ingress-listener.ts';
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
  /** Bound addresses, `host:port`. */
  readonly addresses: { readonly ingress: string; readonly admin: string };
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
  const admin = createAdminServer({ holder, health, draining: () => pools.draining(), ready: () => ready, sources: () => [source.status()], startedAt });
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
  const ingress = createIngressListener({ holder, proxy, limits, log: log.child({ component: 'ingress' }) });

  const cleanup: (() => Promise<unknown> | void)[] = [];
  try {
    await admin.listen({ host: config.admin.host, port: config.admin.port }).catch((err: unknown) => {
      throw listenError('admin', config.admin, err);
    });
    cleanup.push(() => admin.close());
    const adminAddress = formatAddress(admin.server.address() as AddressInfo);
    log.info({ role: 'admin', address: adminAddress }, `listening role=admin address=${adminAddress}`);

    cleanup.push(() => source.close());
    await source.start();
    reconciler.rebuildNow();

    await listen(ingress.server, config.listen).catch((err: unknown) => {
      throw listenError('ingress', config.listen, err);
    });
    const ingressAddress = formatAddress(ingress.server.address() as AddressInfo);
    log.info({ role: 'ingress', address: ingressAddress }, `listening role=ingress address=${ingressAddress}`);
    ready = true;

    let stopping: Promise<void> | undefined;
    return {
      addresses: { ingress: ingressAddress, admin: adminAddress },
      holder,
      stop(options = {}) {
        stopping ??= (async () => {
          ready = false;
          const delayMs = options.delayMs ?? 0;
          if (delayMs > 0) {
            log.info({ delayMs }, 'stopping: /readyz is 503; still serving during the shutdown delay');
            await new Promise((resolve) => setTimeout(resolve, delayMs));
          }
          log.info({ inFlight: ingress.inFlight(), drainTimeoutMs: config.drainTimeoutMs }, 'stopping: no longer accepting; draining in-flight requests');
          const { cut } = await ingress.drain(config.drainTimeoutMs);
          if (cut > 0) log.warn({ cut }, 'drain timeout reached; cut requests still in flight');
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
