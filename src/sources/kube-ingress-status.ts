/**
 * Ingress status write-back: publishes the address Switchyard is reachable at in
 * `status.loadBalancer.ingress` of the Ingresses it serves, as ingress controllers do (kubectl shows it
 * in ADDRESS; external-dns and Argo CD health checks read it). Opt-in. A failed write is logged and
 * retried later; it never stops the source.
 */
import { isIP } from 'node:net';
import { NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { describeKubeError } from './kube-api.ts';

/** One entry of status.loadBalancer.ingress, as far as Switchyard writes it. */
export interface LoadBalancerEntry {
  readonly ip?: string;
  readonly hostname?: string;
}

export interface IngressStatusTarget {
  readonly namespace: string;
  readonly name: string;
  /** What the Ingress's status says now. */
  readonly current: readonly LoadBalancerEntry[];
}

export interface IngressStatusView {
  readonly address: string;
  readonly writes: number;
  readonly failures: number;
  readonly lastError: { readonly code: string; readonly ingress: string; readonly message: string; readonly at: string } | undefined;
}

export interface IngressStatusOptions {
  readonly config: KubeConfig;
  /** An IP address (written as `ip`) or a DNS name (written as `hostname`). */
  readonly address: string;
  readonly log: Logger;
  /** How long to wait before writing the same Ingress again (after a failure, or when a write did not stick); default 30 s. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

/** The entries of a raw `status.loadBalancer.ingress`, reduced to ip/hostname. */
export function observedLoadBalancer(raw: unknown): LoadBalancerEntry[] {
  const list = (raw as { status?: { loadBalancer?: { ingress?: unknown } } } | undefined)?.status?.loadBalancer?.ingress;
  if (!Array.isArray(list)) return [];
  return list.map((e: { ip?: unknown; hostname?: unknown }) => ({
    ...(typeof e?.ip === 'string' && e.ip ? { ip: e.ip } : {}),
    ...(typeof e?.hostname === 'string' && e.hostname ? { hostname: e.hostname } : {}),
  }));
}

const fingerprint = (entries: readonly LoadBalancerEntry[]): string => entries.map((e) => `${e.ip ?? ''}|${e.hostname ?? ''}`).join(',');

export class IngressStatusWriter {
  readonly #api: NetworkingV1Api;
  readonly #address: string;
  readonly #desired: readonly LoadBalancerEntry[];
  readonly #log: Logger;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #inFlight = new Set<string>();
  /** Ingress → when it was last written (successfully or not). */
  readonly #attempted = new Map<string, number>();
  #last: readonly IngressStatusTarget[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  #writes = 0;
  #failures = 0;
  #lastError: IngressStatusView['lastError'];
  #closed = false;

  constructor(options: IngressStatusOptions) {
    this.#api = options.config.makeApiClient(NetworkingV1Api);
    this.#address = options.address;
    this.#desired = [isIP(options.address) ? { ip: options.address } : { hostname: options.address }];
    this.#log = options.log;
    this.#retryMs = options.retryMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Writes the status of every target whose status differs, unless written too recently or in flight. */
  sync(targets: readonly IngressStatusTarget[]): void {
    if (this.#closed) return;
    this.#last = targets;
    const want = fingerprint(this.#desired);
    let waiting = false;
    const seen = new Set<string>();
    for (const t of targets) {
      const key = `${t.namespace}/${t.name}`;
      seen.add(key);
      if (fingerprint(t.current) === want) {
        this.#attempted.delete(key);
        continue;
      }
      if (this.#inFlight.has(key)) continue;
      const at = this.#attempted.get(key);
      if (at !== undefined && this.#now() - at < this.#retryMs) {
        waiting = true;
        continue;
      }
      this.#write(t.namespace, t.name);
    }
    for (const key of this.#attempted.keys()) if (!seen.has(key)) this.#attempted.delete(key);
    if (waiting && !this.#retryTimer) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.sync(this.#last);
      }, this.#retryMs);
      this.#retryTimer.unref();
    }
  }

  status(): IngressStatusView {
    return { address: this.#address, writes: this.#writes, failures: this.#failures, lastError: this.#lastError };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
  }

  #write(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.#inFlight.add(key);
    this.#attempted.set(key, this.#now());
    const body = { status: { loadBalancer: { ingress: this.#desired } } };
    this.#api
      .patchNamespacedIngressStatus({ name, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
      .then(
        () => {
          this.#inFlight.delete(key);
          this.#writes++;
          this.#log.info({ ingress: key, address: this.#address }, 'ingress status written');
        },
        (err: unknown) => {
          this.#inFlight.delete(key);
          if (this.#closed) return;
          this.#failures++;
          const info = describeKubeError(err);
          this.#lastError = { code: ErrorCode.KUBE_STATUS_WRITE, ingress: key, message: info.message, at: new Date(this.#now()).toISOString() };
          this.#log.warn({ code: ErrorCode.KUBE_STATUS_WRITE, ingress: key, status: info.status, retryMs: this.#retryMs }, `cannot write the ingress status: ${info.message}`);
          this.sync(this.#last); // arms the retry timer
        },
      );
  }
}
