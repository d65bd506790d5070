/**
 * The Kubernetes API source: list-watches Services, EndpointSlices (v1 Endpoints where that API is not
 * served), Ingresses, IngressClasses and the TLS Secrets Ingresses reference (and the --default-certificate
 * one, in its namespace even when --namespace does not list it), the Gateway API kinds (GatewayClass,
 * Gateway, HTTPRoute, GRPCRoute, ReferenceGrant) and Namespaces where the cluster serves them
 * (kube-informer-set.ts), and hands the current set of records to its listeners, like the file source.
 *
 * - Every object goes through the manifests' validation (normalizeObject). One that does not validate is
 *   rejected alone (warn log, status().rejected), keeping its last valid version if it had one; a later
 *   valid version clears the rejection.
 * - Events are coalesced: the first one arms a short timer, and one update carries everything since.
 * - Losing the API server never drops routing: the last state stays, status() says since when it is
 *   disconnected, and the informers reconnect with backoff. Objects deleted meanwhile go away when the
 *   watch resumes, or with the relist that follows a 410 Gone.
 * - start() resolves once the first list of every informer has been applied (what /readyz waits for).
 * - Status write-back (Ingress, Gateway API), opt-in, follows every update (kube-status-writers.ts).
 */
import { ErrorCode, SwyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Rec } from '../model/records.ts';
import { KUBE_RESOURCES, createListers, type KubeErrorInfo, type KubeResource, type WatchableKind } from './kube-api.ts';
import { loadKubeConnection, type KubeConnection } from './kube-config.ts';
import type { InformerError, InformerHandlers, InformerStatus, KubeInformer } from './kube-informer.ts';
import { InformerSet } from './kube-informer-set.ts';
import type { StatusTableIn } from './gateway-status-merge.ts';
import type { GatewayStatusView } from './kube-gateway-status.ts';
import type { IngressStatusView } from './kube-ingress-status.ts';
import { KubeRecords, type RejectedObjectView } from './kube-records.ts';
import type { KubeSourceOptions, KubeSourceState, KubeSourceStatus } from './kube-source-types.ts';
import { KubeStatusWriters } from './kube-status-writers.ts';

export type { GatewayStatusView, InformerError as KubeErrorView, InformerStatus as KubeResourceStatus, IngressStatusView, RejectedObjectView, StatusTableIn };
export type { KubeSourceOptions, KubeSourceState, KubeSourceStatus };

type UpdateListener = (records: readonly Rec[]) => void;

// The Gateway API kinds and Namespaces are optional (KubeResource.optional): read where the cluster serves them.
const WATCHED: readonly WatchableKind[] = ['Service', 'EndpointSlice', 'Ingress', 'IngressClass', 'Secret', 'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'Namespace'];

export class KubeSource {
  readonly name = 'kubernetes';
  readonly #options: KubeSourceOptions;
  readonly #log: Logger;
  readonly #namespaces: readonly string[];
  readonly #listeners: UpdateListener[] = [];
  readonly #records: KubeRecords;
  readonly #statusWriters: KubeStatusWriters;
  /** Informers whose failure was already logged while syncing. */
  readonly #warned = new Set<string>();
  #connection: KubeConnection | undefined;
  #informers: InformerSet | undefined;
  #state: KubeSourceState = 'starting';
  #since = Date.now();
  #startedAt = 0;
  #syncDurationMs: number | undefined;
  #reconnects = 0;
  #emitted = 0;
  #timer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #settle: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(options: KubeSourceOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#namespaces = [...new Set(options.namespaces ?? [])];
    this.#records = new KubeRecords(options.log, options.defaultCertificate !== undefined ? [options.defaultCertificate] : []);
    this.#statusWriters = new KubeStatusWriters(options, options.log);
  }

  onUpdate(fn: UpdateListener): void {
    this.#listeners.push(fn);
  }

  /**
   * Loads the kubeconfig (SWY_ERR_KUBE_CONFIG), starts every informer and resolves once each has
   * applied its first list, after handing the listeners the initial records. Unreachable API servers
   * are retried; with `syncTimeoutMs` the wait is bounded (SWY_ERR_KUBE_UNAVAILABLE).
   */
  async start(): Promise<void> {
    if (this.#state !== 'starting') throw new Error('KubeSource.start() called twice');
    this.#connection = loadKubeConnection(this.#options);
    const { config, server, description } = this.#connection;
    const o = this.#options;
    const informers = new InformerSet({
      config,
      server,
      lister: createListers(config),
      namespaces: this.#namespaces,
      labelSelector: o.labelSelector,
      defaultCertificate: o.defaultCertificate,
      backoff: o.backoff,
      pageSize: o.pageSize,
      absentKindRetryMs: o.absentKindRetryMs,
      log: this.#log,
      syncing: () => this.#state === 'syncing',
      handlers: (res) => this.#handlers(res),
      dropped: (kind) => {
        this.#records.dropKind(kind);
        this.#updateState();
        this.#schedule();
        this.#checkSynced();
      },
      unpended: () => this.#checkSynced(),
    });
    this.#informers = informers;
    this.#statusWriters.start(config);
    this.#startedAt = Date.now();
    this.#setState('syncing');
    const synced = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#log.info({ server, config: description, namespaces: this.#namespaces, labelSelector: o.labelSelector }, 'watching the Kubernetes API');
    for (const kind of WATCHED) informers.add(KUBE_RESOURCES[kind]);
    const timeoutMs = o.syncTimeoutMs ?? 0;
    const timer = timeoutMs > 0 ? setTimeout(() => this.#failStart(this.#timeoutError(timeoutMs)), timeoutMs) : undefined;
    try {
      await synced;
    } finally {
      clearTimeout(timer);
    }
    const resyncMs = o.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.#resyncTimer = setInterval(() => informers.resync(), resyncMs);
      this.#resyncTimer.unref();
    }
  }

  status(): KubeSourceStatus {
    const resources = this.#informers?.statuses() ?? [];
    let lastError: InformerError | undefined;
    for (const r of resources) if (r.lastError && (!lastError || r.lastError.at >= lastError.at)) lastError = r.lastError;
    return {
      name: this.name,
      server: this.#connection?.server,
      context: this.#connection?.context,
      state: this.#state,
      connected: this.#state === 'connected',
      since: new Date(this.#since).toISOString(),
      synced: this.#syncDurationMs !== undefined,
      syncDurationMs: this.#syncDurationMs,
      reconnects: this.#reconnects,
      namespaces: this.#namespaces,
      labelSelector: this.#options.labelSelector,
      endpointsApi: this.#informers?.endpointsApi ?? 'EndpointSlice',
      objects: this.#emitted,
      resources,
      lastError,
      rejected: this.#records.rejected(),
      ingressStatus: this.#statusWriters.ingressView(),
      gatewayStatus: this.#statusWriters.gatewayView(),
      absentKinds: this.#informers?.absentKinds() ?? [],
    };
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#timer);
    clearInterval(this.#resyncTimer);
    this.#informers?.close();
    this.#statusWriters.close();
    this.#failStart(new SwyError(ErrorCode.KUBE_UNAVAILABLE, 'the Kubernetes source was closed before its initial sync completed'));
  }

  /**
   * The Gateway API status compiled from the current objects (every source's: Snapshot.gatewayStatus), to
   * write back on the objects of this source when --gateway-status-address is set; a no-op otherwise.
   */
  setGatewayStatus(table: StatusTableIn): void {
    this.#statusWriters.setGatewayTable(table, this.#records);
  }

  #handlers(res: KubeResource): Omit<InformerHandlers, 'notFound'> {
    return {
      upsert: (obj) => {
        this.#records.upsert(res, obj);
        this.#schedule();
      },
      remove: (obj) => {
        this.#records.remove(res, obj);
        this.#schedule();
      },
      listed: (i) => {
        if (this.#informers!.listed(i)) this.#checkSynced();
      },
      stateChanged: () => this.#updateState(),
      failed: (i, info) => this.#informerFailed(i, info),
    };
  }

  /** Completes the initial sync once no informer is pending. */
  #checkSynced(): void {
    if (this.#informers!.pendingCount() > 0 || this.#state !== 'syncing') return;
    this.#syncDurationMs = Date.now() - this.#startedAt;
    this.#updateState();
    this.#flush();
    this.#log.info({ durationMs: this.#syncDurationMs, objects: this.#emitted, rejected: this.#records.rejected().length, endpointsApi: this.#informers!.endpointsApi }, 'initial sync of the Kubernetes API complete');
    this.#informers!.synced();
    this.#settle?.resolve();
    this.#settle = undefined;
  }

  #informerFailed(informer: KubeInformer, info: KubeErrorInfo): void {
    if (this.#state === 'syncing' && this.#informers!.isPending(informer)) {
      // A selector the server cannot parse will not get better with retries.
      if (info.status === 400) {
        this.#failStart(new SwyError(ErrorCode.KUBE_CONFIG, `${this.#connection!.server}: the API server rejected the list of ${informer.describe()}: ${info.message}`));
        return;
      }
      if (!this.#warned.has(informer.describe())) {
        this.#warned.add(informer.describe());
        const hint = info.code === ErrorCode.KUBE_FORBIDDEN ? ' (check the credentials and RBAC: list and watch are needed)' : '';
        this.#log.warn({ code: info.code, resource: informer.describe(), status: info.status }, `cannot list ${informer.describe()} yet, retrying: ${info.message}${hint}`);
      }
    }
  }

  #updateState(): void {
    if (this.#state === 'closed' || this.#state === 'starting' || this.#syncDurationMs === undefined) return;
    const down = this.#informers!.disconnected();
    const next = down ? 'disconnected' : 'connected';
    if (next === this.#state) return;
    const previous = this.#state;
    this.#setState(next);
    if (next === 'disconnected') {
      const lastError = down?.lastError;
      this.#log.error({ code: lastError?.code, server: this.#connection?.server, err: lastError?.message }, 'lost the Kubernetes API server; keeping the last known state');
    } else if (previous === 'disconnected') {
      this.#reconnects++;
      this.#log.info({ server: this.#connection?.server, reconnects: this.#reconnects }, 'reconnected to the Kubernetes API server');
    }
  }

  #setState(state: KubeSourceState): void {
    this.#state = state;
    this.#since = Date.now();
  }

  #schedule(): void {
    if (this.#timer || this.#syncDurationMs === undefined || this.#state === 'closed') return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, this.#options.coalesceMs ?? 10);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const records = this.#records.collect();
    this.#emitted = records.length;
    for (const fn of this.#listeners) fn(records);
    this.#statusWriters.sync(this.#records);
  }

  #failStart(err: Error): void {
    if (!this.#settle) return;
    this.#settle.reject(err);
    this.#settle = undefined;
  }

  #timeoutError(timeoutMs: number): SwyError {
    const pending = this.#informers!.pending();
    const last = pending.map((i) => i.lastError?.message).find((m) => m !== undefined);
    return new SwyError(
      ErrorCode.KUBE_UNAVAILABLE,
      `${this.#connection!.server}: initial sync not complete after ${timeoutMs} ms (waiting for ${pending.map((i) => i.describe()).join(', ')})${last ? `: ${last}` : ''}`,
    );
  }
}
