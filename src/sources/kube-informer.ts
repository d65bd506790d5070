/**
 * One list-watch of one resource (in one namespace or all), built on the client's informer (ListWatch),
 * with what it lacks for a data plane that must not lose its state:
 *
 * - ListWatch stops for good on any watch or list error other than 410 and a client timeout (it only
 *   emits `error`); here every error schedules a restart with capped exponential backoff and jitter. A
 *   restart watches again from the last resourceVersion; the server answers 410 when that is too old,
 *   and ListWatch then relists and reports the objects that vanished meanwhile as deletions.
 * - ListWatch does not ask for bookmarks; the watch here adds allowWatchBookmarks=true, so a quiet
 *   resource's resourceVersion keeps moving and a restart rarely needs a full relist.
 * - ListWatch's own delay between clean watch restarts has no jitter: jittered here through delayFn.
 * - ListWatch.start() resolves even when the list failed: `listed` here fires only once a list has
 *   been fully applied. The list pages (limit/continue), as client-go's reflector does.
 * - ListWatch starts a watch after stop() when stop() came during a list or a delay; the watch here
 *   refuses to start once closed.
 * - ListWatch cannot be told to relist: resync() ends the open watch as if the server had answered
 *   410, which makes ListWatch relist (the optional periodic safety net against a lost event).
 * - Connection state, counters and the last error, which ListWatch does not keep.
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { backoffDelay, jitter, type BackoffOptions } from './backoff.ts';
import { describeKubeError, resourcePath, type KubeErrorInfo, type KubeResource, type Lister, type RawList } from './kube-api.ts';

export type InformerState = 'syncing' | 'connected' | 'disconnected';

export interface InformerHandlers {
  upsert(obj: object): void;
  remove(obj: object): void;
  /** A list (the first, or a relist) has been applied: its upserts and removals were all delivered. */
  listed(informer: KubeInformer): void;
  /** The informer became connected or disconnected. */
  stateChanged(informer: KubeInformer): void;
  /** A list or watch failed; the informer retries after a backoff. */
  failed?(informer: KubeInformer, info: KubeErrorInfo): void;
  /** A list answered 404 (the API is not served). Return true when the owner replaces this informer. */
  notFound?(informer: KubeInformer): boolean;
}

export interface InformerOptions {
  readonly config: KubeConfig;
  readonly resource: KubeResource;
  /** undefined: every namespace. */
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  readonly list: Lister;
  readonly handlers: InformerHandlers;
  readonly backoff: BackoffOptions;
  /** Objects per list page; default 500 (as client-go's reflector). */
  readonly pageSize?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface InformerError {
  readonly code: string;
  readonly status: number | undefined;
  readonly message: string;
  readonly at: string;
}

export interface InformerStatus {
  readonly kind: string;
  /** null: every namespace (or a cluster-scoped kind). */
  readonly namespace: string | null;
  readonly state: InformerState;
  readonly since: string;
  /** Of the last list, event or bookmark; undefined before the first list. */
  readonly resourceVersion: string | undefined;
  readonly objects: number;
  readonly lists: number;
  readonly watches: number;
  /** Times the connection came back after being lost. */
  readonly reconnects: number;
  /** Watches the server ended with 410 Gone (each followed by a relist). */
  readonly expired: number;
  readonly lastError: InformerError | undefined;
}

export class KubeInformer {
  readonly resource: KubeResource;
  readonly namespace: string | undefined;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #options: InformerOptions;
  readonly #now: () => number;
  #state: InformerState = 'syncing';
  #since: number;
  #closed = false;
  #attempt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #delayTimer: NodeJS.Timeout | undefined;
  #lists = 0;
  #watches = 0;
  #reconnects = 0;
  #expired = 0;
  #lastError: InformerError | undefined;
  #resyncDue = false;
  readonly #watch: InformerWatch;

  constructor(options: InformerOptions) {
    this.#options = options;
    this.resource = options.resource;
    this.namespace = options.resource.namespaced ? options.namespace : undefined;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    const watch = new InformerWatch(options.config, this);
    this.#watch = watch;
    const labelSelector = options.resource.selectable ? options.labelSelector : undefined;
    this.#lw = new ListWatch(resourcePath(options.resource, this.namespace), watch, () => this.#list(), false, labelSelector, options.resource.fieldSelector, {
      delayFn: (ms) => this.#delay(ms),
    });
    const { handlers } = options;
    this.#lw.on('add', (obj) => handlers.upsert(obj));
    this.#lw.on('update', (obj) => handlers.upsert(obj));
    this.#lw.on('delete', (obj) => handlers.remove(obj));
    this.#lw.on('error', (err) => this.#failed(err));
  }

  get state(): InformerState {
    return this.#state;
  }

  get lastError(): InformerError | undefined {
    return this.#lastError;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts listing and watching; progress is reported through the handlers. */
  start(): void {
    void this.#lw.start().catch((err: unknown) => this.#failed(err));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#delayTimer);
    void this.#lw.stop();
  }

  /** Relists now (through ListWatch's 410 path) when a watch is open; otherwise the next connection lists anyway or resumes. */
  resync(): void {
    if (this.#closed || this.#state !== 'connected' || !this.#watch.open) return;
    this.#resyncDue = true;
    this.#watch.interrupt();
  }

  status(): InformerStatus {
    return {
      kind: this.resource.kind,
      namespace: this.namespace ?? null,
      state: this.#state,
      since: new Date(this.#since).toISOString(),
      resourceVersion: this.#lw.latestResourceVersion() || undefined,
      objects: this.#lw.list().length,
      lists: this.#lists,
      watches: this.#watches,
      reconnects: this.#reconnects,
      expired: this.#expired,
      lastError: this.#lastError,
    };
  }

  /** `services` or `services in shop`, for log lines. */
  describe(): string {
    return this.namespace === undefined ? this.resource.plural : `${this.resource.plural} in ${this.namespace}`;
  }

  async #list(): Promise<RawList> {
    const { resource, labelSelector, pageSize = 500 } = this.#options;
    const query = {
      ...(resource.selectable && labelSelector ? { labelSelector } : {}),
      ...(resource.fieldSelector ? { fieldSelector: resource.fieldSelector } : {}),
      limit: pageSize,
    };
    const items: KubernetesObject[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page = await this.#options.list(next === undefined ? query : { ...query, _continue: next });
      resourceVersion ??= page.metadata?.resourceVersion;
      for (const item of page.items) items.push(item);
      next = page.metadata?._continue || undefined;
    } while (next !== undefined);
    this.#lists++;
    this.#up();
    // ListWatch applies the items right after this promise settles, in the same turn: `listed` runs after.
    setImmediate(() => {
      if (!this.#closed) this.#options.handlers.listed(this);
    });
    return { metadata: { resourceVersion: resourceVersion ?? '' }, items };
  }

  /** ListWatch's own pause between clean watch restarts, jittered; never ends once closed. */
  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed) return;
      this.#delayTimer = setTimeout(() => {
        this.#delayTimer = undefined;
        if (!this.#closed) resolve();
      }, jitter(ms, this.#options.backoff.maxMs));
    });
  }

  /** ListWatch gave up (a list or watch error): note it and restart after a backoff. */
  #failed(err: unknown): void {
    if (this.#closed) return;
    const info = describeKubeError(err);
    this.#down(info);
    if (info.status === 404 && this.#options.handlers.notFound?.(this)) {
      this.close();
      return;
    }
    this.#options.handlers.failed?.(this, info);
    if (this.#closed) return;
    const delayMs = backoffDelay(this.#attempt++, this.#options.backoff);
    this.#options.log.debug({ resource: this.describe(), err: info.message, status: info.status, delayMs }, 'list/watch failed; retrying');
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (!this.#closed) this.start();
    }, delayMs);
  }

  #up(): void {
    this.#attempt = 0;
    if (this.#state === 'connected') return;
    if (this.#state === 'disconnected') this.#reconnects++;
    this.#state = 'connected';
    this.#since = this.#now();
    this.#options.handlers.stateChanged(this);
  }

  #down(info: KubeErrorInfo): void {
    this.#lastError = { code: info.code, status: info.status, message: `${this.describe()}: ${info.message}`, at: new Date(this.#now()).toISOString() };
    if (this.#state !== 'connected') return;
    this.#state = 'disconnected';
    this.#since = this.#now();
    this.#options.handlers.stateChanged(this);
  }

  // Hooks of InformerWatch.

  /** True once, after resync() interrupted the watch. */
  takeResync(): boolean {
    const due = this.#resyncDue;
    this.#resyncDue = false;
    return due;
  }

  watchStarting(): void {
    this.#watches++;
  }

  watchOpened(): void {
    this.#up();
  }

  watchEvent(type: string, obj: unknown): void {
    if (type !== 'ERROR') return;
    const status = obj as { code?: unknown; message?: unknown } | undefined;
    if (status?.code === 410) {
      this.#expired++;
      this.#options.log.info({ resource: this.describe(), message: status.message }, 'watch expired (410 Gone); relisting');
    } else {
      this.#options.log.warn({ resource: this.describe(), status }, 'watch error event');
    }
  }

  watchEnded(err: unknown, opened: boolean): void {
    if (this.#closed || err === null || err === undefined) return;
    const info = describeKubeError(err);
    if (info.status === 410) {
      this.#expired++;
      return; // ListWatch relists at once
    }
    // An idle timeout of an open watch is routine (ListWatch watches again at once); failing to connect is not.
    if ((err as { name?: unknown }).name === 'TimeoutError' && opened) return;
    this.#down(info);
  }
}

/** The client's Watch, asking for bookmarks and reporting to its informer. */
/** What ListWatch reads as "the resourceVersion is gone": it relists at once. */
const RELIST = Object.assign(new Error('relist requested'), { statusCode: 410 });

class InformerWatch extends Watch {
  readonly #owner: KubeInformer;
  #current: AbortController | undefined;

  constructor(config: KubeConfig, owner: KubeInformer) {
    super(config);
    this.#owner = owner;
  }

  get open(): boolean {
    return this.#current !== undefined;
  }

  /** Ends the open watch. */
  interrupt(): void {
    this.#current?.abort();
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const aborted = (): AbortController => {
      const c = new AbortController();
      c.abort();
      return c;
    };
    if (this.#owner.closed) return aborted();
    const owner = this.#owner;
    let opened = false;
    let ended = false;
    let controller: AbortController | undefined;
    const onDone = (err: unknown): void => {
      if (ended) return;
      ended = true;
      if (this.#current === controller) this.#current = undefined;
      if (owner.takeResync()) {
        done(RELIST);
        return;
      }
      owner.watchEnded(err, opened);
      done(err);
    };
    const onEvent = (phase: string, obj: unknown, raw?: unknown): void => {
      owner.watchEvent(phase, obj);
      callback(phase, obj, raw);
    };
    owner.watchStarting();
    try {
      controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true }, onEvent, onDone);
      // Closed while connecting: ListWatch.stop() could not abort a request it did not have yet.
      if (owner.closed) controller.abort();
      else if (!ended) {
        opened = true;
        this.#current = controller;
        owner.watchOpened();
      }
      return controller;
    } catch (err) {
      onDone(err);
      return aborted();
    }
  }
}
