/**
 * The Kubernetes API source: list-watches Services, EndpointSlices (v1 Endpoints where that API is not
 * served), Ingresses, IngressClasses and the TLS Secrets Ingresses reference (and the --default-certificate
 * one, in its namespace even when --namespace does not list it), the Gateway API kinds (GatewayClass,
 * Gateway, HTTPRoute, GRPCRoute, ReferenceGrant) and Namespaces where the cluster serves them
 * (kube-optional-kinds.ts), and hands the current set of records to its listeners, like the file source.
 *
 * - Every object goes through the manifests' validation (normalizeObject). One that does not validate is
 *   rejected alone (warn log, status().rejected), keeping its last valid version if it had one; a later
 *   valid version clears the rejection.
 * - Events are coalesced: the first one arms a short timer, and one update carries everything since.
 * - Losing the API server never drops routing: the last state stays, status() says since when it is
 *   disconnected, and the informers reconnect with backoff. Objects deleted meanwhile go away when the
 *   watch resumes, or with the relist that follows a 410 Gone.
 * - start() resolves once the first list of every informer has been applied (what /readyz waits for).
 */
import { ErrorCode, SwyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Rec, RecKind } from '../model/records.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { KUBE_RESOURCES, createListers, type KubeErrorInfo, type KubeResource, type Lister, type WatchableKind } from './kube-api.ts';
import { loadKubeConnection, type KubeConnectOptions, type KubeConnection } from './kube-config.ts';
import { KubeInformer, type InformerError, type InformerStatus } from './kube-informer.ts';
import type { StatusTableIn } from './gateway-status-merge.ts';
import { GatewayStatusWriter, type GatewayStatusView } from './kube-gateway-status.ts';
import { IngressStatusWriter, type IngressStatusView } from './kube-ingress-status.ts';
import { OptionalKinds } from './kube-optional-kinds.ts';
import { KubeRecords, type RejectedObjectView } from './kube-records.ts';

export type { GatewayStatusView, InformerError as KubeErrorView, InformerStatus as KubeResourceStatus, IngressStatusView, RejectedObjectView, StatusTableIn };

export interface KubeSourceOptions extends KubeConnectOptions {
  /** Watch only these namespaces (one informer per namespace and kind); empty or absent: every namespace. */
  readonly namespaces?: readonly string[];
  /** Label selector for Services, EndpointSlices (or Endpoints) and Ingresses, e.g. `app.kubernetes.io/part-of=shop`. */
  readonly labelSelector?: string;
  readonly log: Logger;
  /** Events within this window after the first become one update; default 10 ms. */
  readonly coalesceMs?: number;
  /** Reconnect backoff; default 500 ms doubling to 30 s, with jitter. */
  readonly backoff?: BackoffOptions;
  /** Reject start() with SWY_ERR_KUBE_UNAVAILABLE when the initial sync takes longer; default 0: wait (and retry) forever. */
  readonly syncTimeoutMs?: number;
  /**
   * Period of a full relist of every resource, a safety net against an event lost between the API
   * server and here (what vanished is removed, what changed is updated); default 0: off, since watches
   * resume from their resourceVersion and relist after 410 Gone.
   */
  readonly resyncMs?: number;
  /** Objects per list page; default 500. */
  readonly pageSize?: number;
  /**
   * For the status write-back, which Ingresses are served (model/ingress-class.ts, as compile decides):
   * --ingress-class; default `switchyard`.
   */
  readonly ingressClass?: string;
  /** --ingress-controller-name; default `switchyard.dev/ingress-controller`. */
  readonly ingressControllerName?: string;
  /** --watch-ingress-without-class; default false. */
  readonly watchIngressWithoutClass?: boolean;
  /** When set, write `status.loadBalancer.ingress: [{ip|hostname: statusAddress}]` on every served Ingress. */
  readonly statusAddress?: string;
  /** Pause before writing the same Ingress (or Gateway API) status again after a failure; default 30 s. */
  readonly statusRetryMs?: number;
  /**
   * When set, write the Gateway API status (setGatewayStatus) of the GatewayClasses, Gateways and routes
   * watched, with this address in the Gateways' `status.addresses`; default: no status written.
   */
  readonly gatewayStatusAddress?: string;
  /** --gateway-controller-name: the controllerName of the route status entries written; default `switchyard.dev/gateway-controller`. */
  readonly gatewayControllerName?: string;
  /** How often kinds the cluster did not serve (the Gateway API's, 404) are looked for again; default 60 s. */
  readonly absentKindRetryMs?: number;
  /** `namespace/name` of the --default-certificate Secret, read whether an Ingress references it or not; default none. */
  readonly defaultCertificate?: string;
}

export type KubeSourceState = 'starting' | 'syncing' | 'connected' | 'disconnected' | 'closed';

export interface KubeSourceStatus {
  readonly name: string;
  /** API server URL and context; undefined before start(). */
  readonly server: string | undefined;
  readonly context: string | undefined;
  readonly state: KubeSourceState;
  readonly connected: boolean;
  /** When `state` last changed. */
  readonly since: string;
  readonly synced: boolean;
  /** Milliseconds from start() to the end of the initial sync. */
  readonly syncDurationMs: number | undefined;
  /** Times the source came back after losing the API server. */
  readonly reconnects: number;
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly labelSelector: string | undefined;
  /** Which endpoint API is read: EndpointSlice, or Endpoints where discovery.k8s.io/v1 is not served. */
  readonly endpointsApi: 'EndpointSlice' | 'Endpoints';
  /** Records in the last update. */
  readonly objects: number;
  /** One entry per informer (kind × namespace). */
  readonly resources: readonly InformerStatus[];
  readonly lastError: InformerError | undefined;
  readonly rejected: readonly RejectedObjectView[];
  readonly ingressStatus: IngressStatusView | undefined;
  readonly gatewayStatus: GatewayStatusView | undefined;
  /** Optional kinds the cluster does not serve (Gateway API CRDs not installed), looked for again periodically. */
  readonly absentKinds: readonly string[];
}

type UpdateListener = (records: readonly Rec[]) => void;

// The Gateway API kinds and Namespaces are optional (KubeResource.optional): read where the cluster serves them.
const WATCHED: readonly WatchableKind[] = ['Service', 'EndpointSlice', 'Ingress', 'IngressClass', 'Secret', 'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'Namespace'];

export class KubeSource {
  readonly name = 'kubernetes';
  readonly #options: KubeSourceOptions;
  readonly #log: Logger;
  readonly #namespaces: readonly string[];
  readonly #listeners: UpdateListener[] = [];
  readonly #informers = new Set<KubeInformer>();
  /** Informers whose first list has not been applied yet. */
  readonly #pending = new Set<KubeInformer>();
  readonly #records: KubeRecords;
  readonly #optional: OptionalKinds;
  /** Informers whose failure was already logged while syncing. */
  readonly #warned = new Set<string>();
  #connection: KubeConnection | undefined;
  #lister: ((res: KubeResource, namespace: string | undefined) => Lister) | undefined;
  #statusWriter: IngressStatusWriter | undefined;
  #gatewayStatusWriter: GatewayStatusWriter | undefined;
  /** The last status table handed over (setGatewayStatus). */
  #gatewayTable: StatusTableIn | undefined;
  #endpointsApi: 'EndpointSlice' | 'Endpoints' = 'EndpointSlice';
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
    this.#optional = new OptionalKinds({ log: options.log, retryMs: options.absentKindRetryMs, readd: (res) => this.#addInformers(res) });
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
    this.#lister = createListers(config);
    if (this.#options.statusAddress) {
      this.#statusWriter = new IngressStatusWriter({ config, address: this.#options.statusAddress, log: this.#log, retryMs: this.#options.statusRetryMs });
    }
    if (this.#options.gatewayStatusAddress) {
      const controllerName = this.#options.gatewayControllerName ?? 'switchyard.dev/gateway-controller';
      this.#gatewayStatusWriter = new GatewayStatusWriter({ config, address: this.#options.gatewayStatusAddress, controllerName, log: this.#log, retryMs: this.#options.statusRetryMs });
    }
    this.#startedAt = Date.now();
    this.#setState('syncing');
    const synced = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#log.info({ server, config: description, namespaces: this.#namespaces, labelSelector: this.#options.labelSelector }, 'watching the Kubernetes API');
    for (const kind of WATCHED) this.#addInformers(KUBE_RESOURCES[kind]);
    const timeoutMs = this.#options.syncTimeoutMs ?? 0;
    const timer = timeoutMs > 0 ? setTimeout(() => this.#failStart(this.#timeoutError(timeoutMs)), timeoutMs) : undefined;
    try {
      await synced;
    } finally {
      clearTimeout(timer);
    }
    const resyncMs = this.#options.resyncMs ?? 0;
    if (resyncMs > 0) {
      this.#resyncTimer = setInterval(() => {
        for (const i of this.#informers) i.resync();
      }, resyncMs);
      this.#resyncTimer.unref();
    }
  }

  status(): KubeSourceStatus {
    const resources = [...this.#informers].map((i) => i.status());
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
      endpointsApi: this.#endpointsApi,
      objects: this.#emitted,
      resources,
      lastError,
      rejected: this.#records.rejected(),
      ingressStatus: this.#statusWriter?.status(),
      gatewayStatus: this.#gatewayStatusWriter?.status(),
      absentKinds: this.#optional.kinds(),
    };
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    clearTimeout(this.#timer);
    clearInterval(this.#resyncTimer);
    for (const i of this.#informers) i.close();
    this.#informers.clear();
    this.#pending.clear();
    this.#statusWriter?.close();
    this.#gatewayStatusWriter?.close();
    this.#optional.close();
    this.#failStart(new SwyError(ErrorCode.KUBE_UNAVAILABLE, 'the Kubernetes source was closed before its initial sync completed'));
  }

  #addInformers(res: KubeResource): void {
    const scopes: (string | undefined)[] = res.namespaced && this.#namespaces.length > 0 ? [...this.#namespaces] : [undefined];
    const defaultNamespace = this.#options.defaultCertificate?.split('/')[0];
    if (res.kind === 'Secret' && scopes[0] !== undefined && defaultNamespace !== undefined && !scopes.includes(defaultNamespace)) scopes.push(defaultNamespace);
    for (const namespace of scopes) {
      const informer = new KubeInformer({
        config: this.#connection!.config,
        resource: res,
        namespace,
        labelSelector: this.#options.labelSelector,
        list: this.#lister!(res, namespace),
        backoff: { ...DEFAULT_BACKOFF, ...this.#options.backoff },
        pageSize: this.#options.pageSize,
        log: this.#log,
        handlers: {
          upsert: (obj) => {
            this.#records.upsert(res, obj);
            this.#schedule();
          },
          remove: (obj) => {
            this.#records.remove(res, obj);
            this.#schedule();
          },
          listed: (i) => this.#listed(i),
          stateChanged: () => this.#updateState(),
          failed: (i, info) => this.#informerFailed(i, info),
          notFound: (i) => this.#notFound(i),
        },
      });
      this.#informers.add(informer);
      this.#pending.add(informer);
      informer.start();
    }
  }

  #listed(informer: KubeInformer): void {
    if (informer.resource.optional) this.#optional.listed(informer.resource);
    if (!this.#pending.delete(informer)) return;
    this.#checkSynced();
  }

  /** Completes the initial sync once no informer is pending. */
  #checkSynced(): void {
    if (this.#pending.size > 0 || this.#state !== 'syncing') return;
    this.#syncDurationMs = Date.now() - this.#startedAt;
    this.#updateState();
    this.#flush();
    this.#log.info({ durationMs: this.#syncDurationMs, objects: this.#emitted, rejected: this.#records.rejected().length, endpointsApi: this.#endpointsApi }, 'initial sync of the Kubernetes API complete');
    this.#optional.synced();
    this.#settle?.resolve();
    this.#settle = undefined;
  }

  #informerFailed(informer: KubeInformer, info: KubeErrorInfo): void {
    if (this.#state === 'syncing' && this.#pending.has(informer)) {
      // A selector the server cannot parse will not get better with retries.
      if (info.status === 400) {
        this.#failStart(new SwyError(ErrorCode.KUBE_CONFIG, `${this.#connection!.server}: the API server rejected the list of ${informer.describe()}: ${info.message}`));
        return;
      }
      // RBAC without an optional kind: sync without it; the informer keeps trying (with backoff) in case it is granted.
      if (informer.resource.optional && info.code === ErrorCode.KUBE_FORBIDDEN) {
        this.#optional.forbidden(informer.resource, info.message);
        this.#pending.delete(informer);
        this.#checkSynced();
        return;
      }
      if (!this.#warned.has(informer.describe())) {
        this.#warned.add(informer.describe());
        const hint = info.code === ErrorCode.KUBE_FORBIDDEN ? ' (check the credentials and RBAC: list and watch are needed)' : '';
        this.#log.warn({ code: info.code, resource: informer.describe(), status: info.status }, `cannot list ${informer.describe()} yet, retrying: ${info.message}${hint}`);
      }
    }
  }

  /** A 404 on EndpointSlices: the cluster does not serve discovery.k8s.io/v1, so read v1 Endpoints instead. */
  #notFound(informer: KubeInformer): boolean {
    if (informer.resource.optional) {
      this.#informers.delete(informer);
      this.#pending.delete(informer);
      // Objects of an API the server says it does not serve (any more) are gone.
      this.#records.dropKind(informer.resource.kind);
      this.#optional.absent(informer.resource);
      this.#updateState();
      this.#schedule();
      this.#checkSynced();
      return true;
    }
    if (informer.resource.kind !== 'EndpointSlice') return false;
    if (this.#endpointsApi === 'EndpointSlice') {
      this.#endpointsApi = 'Endpoints';
      this.#log.warn({ server: this.#connection?.server }, 'the EndpointSlice API (discovery.k8s.io/v1) is not served; reading v1 Endpoints instead');
      for (const i of [...this.#informers]) {
        if (i.resource.kind !== 'EndpointSlice') continue;
        if (i !== informer) i.close();
        this.#informers.delete(i);
        this.#pending.delete(i);
      }
      // Slices of an API the server says it does not serve are gone (before the first sync there are none).
      this.#records.dropKind('EndpointSlice');
      this.#addInformers(KUBE_RESOURCES.Endpoints);
      this.#schedule();
    }
    return true;
  }

  #updateState(): void {
    if (this.#state === 'closed' || this.#state === 'starting' || this.#syncDurationMs === undefined) return;
    const down = [...this.#informers].some((i) => i.state === 'disconnected');
    const next = down ? 'disconnected' : 'connected';
    if (next === this.#state) return;
    const previous = this.#state;
    this.#setState(next);
    if (next === 'disconnected') {
      const lastError = [...this.#informers].find((i) => i.state === 'disconnected')?.lastError;
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
    this.#writeStatuses();
  }

  /**
   * The Gateway API status compiled from the current objects (every source's: Snapshot.gatewayStatus), to
   * write back on the objects of this source when --gateway-status-address is set; a no-op otherwise.
   */
  setGatewayStatus(table: StatusTableIn): void {
    this.#gatewayTable = table;
    if (this.#state !== 'closed') this.#gatewayStatusWriter?.sync(table, this.#records.observedStatuses());
  }

  #writeStatuses(): void {
    const { ingressClass = 'switchyard', ingressControllerName, watchIngressWithoutClass } = this.#options;
    this.#statusWriter?.sync(this.#records.servedIngresses({ ingressClass, ingressControllerName, watchIngressWithoutClass }));
    // The objects' own status may have changed (by another writer): compared again with the last table.
    if (this.#gatewayTable) this.#gatewayStatusWriter?.sync(this.#gatewayTable, this.#records.observedStatuses());
  }

  #failStart(err: Error): void {
    if (!this.#settle) return;
    this.#settle.reject(err);
    this.#settle = undefined;
  }

  #timeoutError(timeoutMs: number): SwyError {
    const waiting = [...this.#pending].map((i) => i.describe());
    const last = [...this.#pending].map((i) => i.lastError?.message).find((m) => m !== undefined);
    return new SwyError(
      ErrorCode.KUBE_UNAVAILABLE,
      `${this.#connection!.server}: initial sync not complete after ${timeoutMs} ms (waiting for ${waiting.join(', ')})${last ? `: ${last}` : ''}`,
    );
  }
}
