/**
 * The kube source's informers: one per resource and watched namespace (one across the cluster without
 * --watch-namespace, and for cluster-scoped kinds), which of them have not applied their first list yet
 * (what the initial sync waits for), and the APIs a cluster may not serve: the optional kinds
 * (kube-optional-kinds.ts: a 404 drops the kind and it is looked for again later, a 403 while syncing is
 * not waited for) and EndpointSlices (a 404 switches to v1 Endpoints for good).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { KUBE_RESOURCES, type KubeErrorInfo, type KubeResource, type Lister, type WatchableKind } from './kube-api.ts';
import { KubeInformer, type InformerHandlers, type InformerStatus } from './kube-informer.ts';
import { OptionalKinds } from './kube-optional-kinds.ts';

export interface InformerSetOptions {
  readonly config: KubeConfig;
  /** The API server's URL, for the log. */
  readonly server: string;
  readonly lister: (res: KubeResource, namespace: string | undefined) => Lister;
  /** Empty: every namespace. */
  readonly namespaces: readonly string[];
  readonly labelSelector: string | undefined;
  /** `namespace/name` of the --default-certificate Secret: its namespace's Secrets are read even when not watched. */
  readonly defaultCertificate: string | undefined;
  /** Reconnect backoff over DEFAULT_BACKOFF. */
  readonly backoff: BackoffOptions | undefined;
  readonly pageSize: number | undefined;
  /** How often absent optional kinds are looked for again; default 60 s. */
  readonly absentKindRetryMs: number | undefined;
  readonly log: Logger;
  /** Whether the source is in its initial sync. */
  readonly syncing: () => boolean;
  /** The handlers of the informers of `res` (404s are handled here). */
  readonly handlers: (res: KubeResource) => Omit<InformerHandlers, 'notFound'>;
  /** The objects of `kind` are gone (its API is not served); informers may have stopped being pending. */
  readonly dropped: (kind: WatchableKind) => void;
  /** An informer is no longer waited for without having listed (an optional kind RBAC forbids). */
  readonly unpended: () => void;
}

export class InformerSet {
  readonly #o: InformerSetOptions;
  readonly #all = new Set<KubeInformer>();
  /** Informers whose first list has not been applied yet. */
  readonly #pending = new Set<KubeInformer>();
  readonly #optional: OptionalKinds;
  #endpointsApi: 'EndpointSlice' | 'Endpoints' = 'EndpointSlice';

  constructor(options: InformerSetOptions) {
    this.#o = options;
    this.#optional = new OptionalKinds({ log: options.log, retryMs: options.absentKindRetryMs, readd: (res) => this.add(res) });
  }

  /** Which endpoint API is read: EndpointSlice, or Endpoints once discovery.k8s.io/v1 answered 404. */
  get endpointsApi(): 'EndpointSlice' | 'Endpoints' {
    return this.#endpointsApi;
  }

  /** Starts the informers of `res`, pending until their first list. */
  add(res: KubeResource): void {
    const o = this.#o;
    const scopes: (string | undefined)[] = res.namespaced && o.namespaces.length > 0 ? [...o.namespaces] : [undefined];
    const defaultNamespace = o.defaultCertificate?.split('/')[0];
    if (res.kind === 'Secret' && scopes[0] !== undefined && defaultNamespace !== undefined && !scopes.includes(defaultNamespace)) scopes.push(defaultNamespace);
    const base = o.handlers(res);
    const handlers: InformerHandlers = {
      ...base,
      listed: (i) => {
        if (res.optional) this.#optional.listed(res);
        base.listed(i);
      },
      failed: (i, info) => {
        if (!this.#forbiddenOptional(i, info)) base.failed?.(i, info);
      },
      notFound: (i) => this.#notFound(i),
    };
    for (const namespace of scopes) {
      const informer = new KubeInformer({
        config: o.config,
        resource: res,
        namespace,
        labelSelector: o.labelSelector,
        list: o.lister(res, namespace),
        backoff: { ...DEFAULT_BACKOFF, ...o.backoff },
        pageSize: o.pageSize,
        log: o.log,
        handlers,
      });
      this.#all.add(informer);
      this.#pending.add(informer);
      informer.start();
    }
  }

  /** `informer` applied its first list; false when it was not pending. */
  listed(informer: KubeInformer): boolean {
    return this.#pending.delete(informer);
  }

  isPending(informer: KubeInformer): boolean {
    return this.#pending.has(informer);
  }

  pendingCount(): number {
    return this.#pending.size;
  }

  pending(): KubeInformer[] {
    return [...this.#pending];
  }

  statuses(): InformerStatus[] {
    return [...this.#all].map((i) => i.status());
  }

  /** The first informer that lost the API server, if any. */
  disconnected(): KubeInformer | undefined {
    return [...this.#all].find((i) => i.state === 'disconnected');
  }

  /** Optional kinds the cluster does not serve now, sorted. */
  absentKinds(): string[] {
    return this.#optional.kinds();
  }

  /** The initial sync is complete (the optional kinds found missing during it are logged now). */
  synced(): void {
    this.#optional.synced();
  }

  resync(): void {
    for (const i of this.#all) i.resync();
  }

  close(): void {
    for (const i of this.#all) i.close();
    this.#all.clear();
    this.#pending.clear();
    this.#optional.close();
  }

  /** RBAC without an optional kind: sync without it; the informer keeps trying (with backoff) in case it is granted. */
  #forbiddenOptional(informer: KubeInformer, info: KubeErrorInfo): boolean {
    if (!informer.resource.optional || info.code !== ErrorCode.KUBE_FORBIDDEN || !this.#o.syncing() || !this.#pending.has(informer)) return false;
    this.#optional.forbidden(informer.resource, info.message);
    this.#pending.delete(informer);
    this.#o.unpended();
    return true;
  }

  /** A 404: an optional kind is dropped until looked for again; EndpointSlices are replaced by v1 Endpoints. */
  #notFound(informer: KubeInformer): boolean {
    if (informer.resource.optional) {
      this.#all.delete(informer);
      this.#pending.delete(informer);
      this.#optional.absent(informer.resource);
      // Objects of an API the server says it does not serve (any more) are gone.
      this.#o.dropped(informer.resource.kind);
      return true;
    }
    if (informer.resource.kind !== 'EndpointSlice') return false;
    if (this.#endpointsApi === 'EndpointSlice') {
      this.#endpointsApi = 'Endpoints';
      this.#o.log.warn({ server: this.#o.server }, 'the EndpointSlice API (discovery.k8s.io/v1) is not served; reading v1 Endpoints instead');
      for (const i of [...this.#all]) {
        if (i.resource.kind !== 'EndpointSlice') continue;
        if (i !== informer) i.close();
        this.#all.delete(i);
        this.#pending.delete(i);
      }
      // Before `dropped`, so that the initial sync waits for the Endpoints (before it there are no slices to drop).
      this.add(KUBE_RESOURCES.Endpoints);
      this.#o.dropped('EndpointSlice');
    }
    return true;
  }
}
