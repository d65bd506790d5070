/**
 * The control plane, which runs once whatever the number of data-plane workers: sources → store →
 * reconcile → snapshot holder, the authoritative endpoint health (active checks run here; workers'
 * ejections are applied here), the admin API and the DNS server.
 */
import { isIP, type AddressInfo } from 'node:net';
import type { TrafficView } from '../admin/metrics.ts';
import { createAdminServer } from '../admin/server.ts';
import { emptySnapshot, type CompileOptions } from '../compile/compile.ts';
import { answerQuestion } from '../dns/answer-view.ts';
import type { DnsServer } from '../dns/server.ts';
import type { Config } from '../flags.ts';
import { ActiveChecker } from '../health/active-checker.ts';
import { EndpointHealth, type HealthEvent } from '../health/endpoint-health.ts';
import type { Logger } from '../log.ts';
import { startReconciler } from '../reconcile.ts';
import { SnapshotHolder } from '../snapshot/holder.ts';
import { FileSource } from '../sources/file-source.ts';
import type { KubeSource } from '../sources/kube-source.ts';
import { gatewayStatusOf } from '../snapshot/gateway-status.ts';
import type { Source } from '../sources/source.ts';
import { Store } from '../store/store.ts';
import { formatAddress, listenError } from './listen-address.ts';
import { generateSelfSigned } from './self-signed.ts';
import { createLiveExplainer } from './explain-live.ts';
import type { RoundRobin } from '../dataplane/balancer.ts';
import type { UserspaceProxy } from '../l4/userspace-proxy.ts';
import type { NftProxier } from '../l4/nft-proxier.ts';

export interface ControlPlaneOptions {
  readonly config: Config;
  readonly log: Logger;
  /** Endpoints draining in the data plane (all workers), for the admin API. */
  readonly draining: () => ReadonlyMap<string, number>;
  /** The data-plane workers, for the admin API. */
  readonly workers: () => readonly unknown[];
  /** Tunnel and in-flight figures of the data plane, for the admin API. */
  readonly traffic: () => TrafficView;
  /** Every data-plane process's metric families (prom-client JSON), collected now, for /metrics. */
  readonly dataPlaneMetrics: () => Promise<readonly (readonly object[])[]>;
  /** Health decisions taken here (active-check verdicts), to pass on to workers. */
  readonly onHealthEvent?: (event: HealthEvent) => void;
  /** The data plane's balancer (main thread's, or one on the workers' shared cursors), for /api/v1/explain's next pick; default none. */
  readonly balancer?: () => RoundRobin | undefined;
}

/**
 * The sources the flags ask for: manifest files, a cluster, or both. The cluster source is imported only
 * when asked for: @kubernetes/client-node alone costs about 90 MB of memory.
 */
async function createSources(config: Config, log: Logger): Promise<Source[]> {
  const sources: Source[] = [];
  if (config.manifests.length > 0) sources.push(new FileSource({ paths: config.manifests, log: log.child({ component: 'file-source' }) }));
  const kube = config.kube;
  if (kube !== undefined) {
    const { KubeSource } = await import('../sources/kube-source.ts');
    sources.push(
      new KubeSource({
        ...(kube.kubeconfig !== undefined ? { kubeconfigPath: kube.kubeconfig } : {}),
        ...(kube.context !== undefined ? { context: kube.context } : {}),
        inCluster: kube.inCluster,
        namespaces: kube.namespaces,
        ...(kube.labelSelector !== undefined ? { labelSelector: kube.labelSelector } : {}),
        ...(kube.ingressStatusAddress !== undefined ? { statusAddress: kube.ingressStatusAddress } : {}),
        ...(kube.gatewayStatusAddress !== undefined ? { gatewayStatusAddress: kube.gatewayStatusAddress } : {}),
        gatewayControllerName: config.gatewayControllerName,
        ingressClass: config.ingressClass,
        ingressControllerName: config.ingressControllerName,
        watchIngressWithoutClass: config.watchIngressWithoutClass,
        ...(config.defaultCertificate !== undefined ? { defaultCertificate: config.defaultCertificate } : {}),
        log: log.child({ component: 'kube-source' }),
      }),
    );
  }
  return sources;
}

export interface ControlPlane {
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  /** Binds the admin API, loads every source once and builds the first snapshot. Returns the admin address. */
  start(): Promise<string>;
  /** Binds the DNS server when configured; returns its address. */
  startDns(): Promise<string | undefined>;
  setReady(ready: boolean): void;
  stop(): Promise<void>;
}

export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { config, log } = options;
  const startedAt = new Date().toISOString();
  const sources = await createSources(config, log);
  // Listed first, manifests win a clash with the cluster: a local file is the deliberate override.
  const store = new Store(sources.map((s) => s.name));
  for (const source of sources) source.onUpdate((records) => store.replace(source.name, records));
  const holder = new SnapshotHolder(emptySnapshot(config.clusterDomain));
  // Gateway API status goes back to the cluster from the compiled snapshot, whichever source defined what.
  const kubeSource = sources.find((s) => s.name === 'kubernetes') as KubeSource | undefined;
  if (kubeSource !== undefined && config.kube?.gatewayStatusAddress !== undefined) holder.onSwap((next) => kubeSource.setGatewayStatus(gatewayStatusOf(next)));
  // Made whatever --default-certificate says: that Secret may be missing or bad now and fixed later.
  const generatedCertificate = config.listenTls !== undefined ? generateSelfSigned() : undefined;
  const reconciler = startReconciler(
    store,
    holder,
    { ...compileOptionsOf(config), ...(generatedCertificate ? { generatedCertificate } : {}) },
    log.child({ component: 'reconcile' }),
  );
  let servingGenerated = false;
  holder.onSwap((next) => {
    const generated = generatedCertificate !== undefined && next.tls.defaultKey === '';
    if (generated && !servingGenerated) {
      const why = config.defaultCertificate === undefined ? 'no --default-certificate is set' : `--default-certificate ${config.defaultCertificate} cannot be used (see /api/v1/config)`;
      log.warn({ component: 'tls', subject: next.tls.certificates.get('')?.info.subject }, `serving a generated self-signed certificate to TLS clients whose SNI matches no Ingress tls: host: ${why}`);
    }
    servingGenerated = generated;
  });
  const health = new EndpointHealth({ log: log.child({ component: 'health' }), ...(options.onHealthEvent ? { onEvent: options.onHealthEvent } : {}) });
  // The layer-4 service proxy runs here, once, whatever the number of data-plane workers (issue 16). Its
  // modules are imported only for the mode asked for: a start without --proxy-mode never loads them.
  const l4: UserspaceProxy | NftProxier | undefined =
    config.proxyMode === 'userspace'
      ? new (await import('../l4/userspace-proxy.ts')).UserspaceProxy({
          holder,
          health,
          nodePortAddresses: config.nodePortAddresses,
          nodeName: config.nodeName,
          udpFlowTimeoutMs: config.udpFlowTimeoutMs,
          drainTimeoutMs: config.drainTimeoutMs,
          connectTimeoutMs: config.upstreamConnectTimeoutMs,
          log: log.child({ component: 'service-proxy' }),
        })
      : config.proxyMode === 'nftables'
        ? new (await import('../l4/nft-proxier.ts')).NftProxier({
            holder,
            health,
            nodeName: config.nodeName,
            clusterCidrs: config.clusterCidrs,
            nodePortAddresses: config.nodePortAddresses,
            syncPeriodMs: config.nftablesSyncPeriodMs,
            log: log.child({ component: 'service-proxy' }),
          })
        : undefined;
  const checker = new ActiveChecker({ health, log: log.child({ component: 'health-check' }), concurrency: config.healthCheckConcurrency });
  holder.onSwap((next) => {
    health.observe(next);
    checker.update(next);
  });

  let ready = false;
  let dns: DnsServer | undefined;
  const admin = createAdminServer({
    holder,
    health,
    draining: options.draining,
    workers: options.workers,
    traffic: options.traffic,
    ready: () => ready,
    sources: () => sources.map((s) => s.status()),
    dnsAnswer: (name, type) => answerQuestion(holder.current(), name, type, config.dnsTtlSeconds),
    dnsQueries: () => dns?.queries(),
    dataPlane: l4 === undefined ? options.dataPlaneMetrics : async () => [...(await options.dataPlaneMetrics()), l4.metricFamilies()],
    l4: l4 === undefined ? undefined : () => l4.view(),
    // /api/v1/config's summary: the kernel mode's sync state (its last error with nft's failing line), or
    // the node ports the userspace mode could not bind.
    serviceProxy:
      l4 === undefined
        ? undefined
        : () => (isNft(l4) ? { mode: 'nftables', ...l4.state() } : { mode: 'userspace', failedListeners: l4.view().listeners.filter((l) => l.state === 'failed') }),
    nftables: l4 !== undefined && isNft(l4) ? () => l4.rulesetView() : undefined,
    startedAt,
    explain: createLiveExplainer({ holder, health, config, balancer: options.balancer ?? (() => undefined) }),
    ...(config.kube?.gatewayStatusAddress !== undefined ? { gatewayAddresses: [gatewayAddressOf(config.kube.gatewayStatusAddress)] } : {}),
  });

  const stop = async (): Promise<void> => {
    checker.stop();
    reconciler.stop();
    for (const source of sources) source.close();
    await l4?.stop();
    await dns?.close();
    await admin.close();
  };

  return {
    holder,
    health,
    async start() {
      await admin.listen({ host: config.admin.host, port: config.admin.port }).catch((err: unknown) => {
        throw listenError('admin', config.admin, err);
      });
      try {
        await Promise.all(sources.map((s) => s.start()));
      } catch (err) {
        await stop();
        throw err;
      }
      reconciler.rebuildNow();
      await l4?.start();
      return formatAddress(admin.server.address() as AddressInfo);
    },
    async startDns() {
      if (!config.dns) return undefined;
      // Imported only when asked for, like the cluster client: the DNS wire codec (dns-packet) is ~4 MB of
      // RSS a process without --dns never uses.
      const { startDnsServer } = await import('../dns/server.ts');
      dns = await startDnsServer({ holder, host: config.dns.host, port: config.dns.port, ttlSeconds: config.dnsTtlSeconds, log: log.child({ component: 'dns' }) });
      return formatAddress(dns.udpAddress);
    },
    setReady(value) {
      ready = value;
    },
    stop,
  };
}

/** The compile options the flags give: one place for the control plane and `switchyard check` (check.ts). */
export function compileOptionsOf(
  config: Pick<Config, 'clusterDomain' | 'ingressClass' | 'ingressControllerName' | 'gatewayControllerName' | 'watchIngressWithoutClass' | 'sslRedirect' | 'defaultCertificate'>,
): CompileOptions {
  return {
    clusterDomain: config.clusterDomain,
    ingressClass: config.ingressClass,
    ingressControllerName: config.ingressControllerName,
    gatewayControllerName: config.gatewayControllerName,
    watchIngressWithoutClass: config.watchIngressWithoutClass,
    sslRedirect: config.sslRedirect,
    ...(config.defaultCertificate !== undefined ? { defaultCertificate: config.defaultCertificate } : {}),
  };
}

/** Which service proxy runs, without its class at hand (only the mode asked for is imported). */
function isNft(l4: UserspaceProxy | NftProxier): l4 is NftProxier {
  return 'rulesetView' in l4;
}

/** --gateway-status-address as a Gateway `status.addresses` entry. */
function gatewayAddressOf(address: string): { type: 'IPAddress' | 'Hostname'; value: string } {
  return { type: isIP(address) ? 'IPAddress' : 'Hostname', value: address };
}
