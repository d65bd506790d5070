/**
 * The kinds the kube source reads when the cluster serves them (the Gateway API's, Namespaces): a cluster
 * without the Gateway API CRDs answers 404, one whose RBAC predates them 403, and neither may keep
 * Switchyard from syncing or being ready. Absent kinds are logged once (one line for all that went
 * missing together) and looked for again periodically, so CRDs installed later are picked up.
 */
import type { Logger } from '../log.ts';
import type { KubeResource } from './kube-api.ts';

export interface OptionalKindsOptions {
  readonly log: Logger;
  /** How often absent kinds are looked for again; default 60 s. */
  readonly retryMs?: number;
  /** Starts watching `res` again (a new informer). */
  readonly readd: (res: KubeResource) => void;
}

export class OptionalKinds {
  readonly #log: Logger;
  readonly #retryMs: number;
  readonly #readd: (res: KubeResource) => void;
  /** Kind → resource, of the kinds not served now. */
  readonly #absent = new Map<string, KubeResource>();
  /** Kinds reported absent or forbidden, so that their coming back is logged once too. */
  readonly #reported = new Set<string>();
  #unlogged: string[] = [];
  #logTimer: NodeJS.Timeout | undefined;
  /** Before the initial sync completes, absences are gathered for one line at its end. */
  #synced = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: OptionalKindsOptions) {
    this.#log = options.log;
    this.#retryMs = options.retryMs ?? 60_000;
    this.#readd = options.readd;
  }

  /** The kinds the cluster does not serve now, sorted. */
  kinds(): string[] {
    return [...this.#absent.keys()].sort();
  }

  /** A 404 on `res`: its informer is gone; look again later. */
  absent(res: KubeResource): void {
    if (this.#closed || this.#absent.has(res.kind)) return;
    this.#absent.set(res.kind, res);
    if (!this.#reported.has(res.kind)) {
      this.#reported.add(res.kind);
      this.#unlogged.push(`${res.kind} (${res.apiVersion})`);
      // The kinds of one API group fail together, over a few round trips: one line for all of them.
      if (this.#synced) this.#logTimer ??= setTimeout(() => this.#logAbsent(), 200);
    }
    if (!this.#retryTimer) {
      this.#retryTimer = setTimeout(() => this.#retry(), this.#retryMs);
      this.#retryTimer.unref();
    }
  }

  /** The initial sync is complete: logs the kinds found missing during it. */
  synced(): void {
    this.#synced = true;
    this.#logAbsent();
  }

  /** A 403 on `res` while syncing: logged once; its informer keeps retrying with backoff. */
  forbidden(res: KubeResource, message: string): void {
    if (this.#reported.has(res.kind)) return;
    this.#reported.add(res.kind);
    this.#log.warn({ kind: res.kind, apiVersion: res.apiVersion }, `cannot read ${res.plural}: ${message}; carrying on without them (grant list and watch on ${res.plural} to use them)`);
  }

  /** `res` was listed: when it had been reported missing, say it is read now. */
  listed(res: KubeResource): void {
    if (!this.#reported.delete(res.kind)) return;
    this.#log.info({ kind: res.kind, apiVersion: res.apiVersion }, `${res.plural} are served now; reading them`);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#logTimer);
  }

  #logAbsent(): void {
    clearTimeout(this.#logTimer);
    this.#logTimer = undefined;
    if (this.#closed || this.#unlogged.length === 0) return;
    const kinds = this.#unlogged.join(', ');
    this.#unlogged = [];
    const every = this.#retryMs >= 1000 ? `${Math.round(this.#retryMs / 1000)} s` : `${this.#retryMs} ms`;
    this.#log.warn({ kinds, retryMs: this.#retryMs }, `the cluster does not serve ${kinds} (Gateway API CRDs not installed?); reading the other kinds, and looking again every ${every}`);
  }

  #retry(): void {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    const again = [...this.#absent.values()];
    this.#absent.clear();
    for (const res of again) this.#readd(res);
  }
}
