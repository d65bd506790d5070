/**
 * Gateway API status write-back (--gateway-status-address, opt-in like the Ingress status): the conditions
 * compile computed, written through the `status` subresource of the GatewayClasses, Gateways and routes
 * this source watches — Gateways with `addresses: [{type: IPAddress|Hostname, value}]` and their listeners,
 * routes with one `parents[]` entry per parentRef of Switchyard's (controllerName = --gateway-controller-name),
 * other controllers' entries untouched. An object whose status already says the same is not written
 * (gateway-status-merge.ts). Route writes carry the resourceVersion seen: a concurrent write by another
 * controller makes ours fail with 409 rather than erase theirs, and ours is redone on the next update. A
 * failed write is logged and retried after a pause; it never stops the source.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { describeKubeError } from './kube-api.ts';
import { apiTime, gatewayClassStatus, gatewayStatus, routeParents, sameJson, type AddressOut, type StatusTableIn } from './gateway-status-merge.ts';
import type { ObservedStatus } from './kube-records.ts';

export interface GatewayStatusWriterOptions {
  readonly config: KubeConfig;
  /** --gateway-status-address: an IP address (type IPAddress) or a DNS name (type Hostname). */
  readonly address: string;
  /** --gateway-controller-name, the `controllerName` of Switchyard's route parent entries. */
  readonly controllerName: string;
  readonly log: Logger;
  /** Pause before writing the same status of an object again (after a failure, or a write not yet seen back); default 30 s. */
  readonly retryMs?: number;
  readonly now?: () => number;
}

export interface GatewayStatusView {
  readonly address: string;
  readonly writes: number;
  readonly failures: number;
  readonly lastError: { readonly code: string; readonly object: string; readonly message: string; readonly at: string } | undefined;
}

const GROUP = 'gateway.networking.k8s.io';
const PLURALS: Readonly<Record<string, string>> = { GatewayClass: 'gatewayclasses', Gateway: 'gateways', HTTPRoute: 'httproutes', GRPCRoute: 'grpcroutes' };
/** After a 409, the object changed under us: its watch event brings the new version within moments. */
const CONFLICT_PAUSE_MS = 500;

interface Write {
  readonly key: string;
  /** The status body (a merge patch of `status`). */
  readonly body: Record<string, unknown>;
  /** Identifies what is written, lastTransitionTime aside: the same is not rewritten within the pause. */
  readonly fingerprint: string;
}

export class GatewayStatusWriter {
  readonly #api: CustomObjectsApi;
  readonly #address: string;
  readonly #addresses: readonly AddressOut[];
  readonly #controller: string;
  readonly #log: Logger;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #inFlight = new Set<string>();
  readonly #attempted = new Map<string, { at: number; fingerprint: string; pauseMs: number }>();
  #last: { table: StatusTableIn; observed: ReadonlyMap<string, ObservedStatus> } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #writes = 0;
  #failures = 0;
  #lastError: GatewayStatusView['lastError'];
  #closed = false;

  constructor(options: GatewayStatusWriterOptions) {
    this.#api = options.config.makeApiClient(CustomObjectsApi);
    this.#address = options.address;
    this.#addresses = [{ type: isIP(options.address) ? 'IPAddress' : 'Hostname', value: options.address }];
    this.#controller = options.controllerName;
    this.#log = options.log;
    this.#retryMs = options.retryMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /** Writes every status that differs from what its object says (`observed`: by `kind/namespace/name`), unless paused or in flight. */
  sync(table: StatusTableIn, observed: ReadonlyMap<string, ObservedStatus>): void {
    if (this.#closed) return;
    this.#last = { table, observed };
    let wait = Infinity;
    for (const w of this.#wanted(table, observed)) {
      if (w === undefined) continue;
      if (this.#inFlight.has(w.key)) continue;
      const prev = this.#attempted.get(w.key);
      const left = prev !== undefined && prev.fingerprint === w.fingerprint ? prev.pauseMs - (this.#now() - prev.at) : 0;
      if (left > 0) {
        wait = Math.min(wait, left);
        continue;
      }
      this.#write(w, observed.get(w.key)?.resourceVersion);
    }
    for (const key of this.#attempted.keys()) if (!observed.has(key)) this.#attempted.delete(key);
    if (wait !== Infinity && !this.#retryTimer) {
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        if (this.#last) this.sync(this.#last.table, this.#last.observed);
      }, wait);
      this.#retryTimer.unref();
    }
  }

  status(): GatewayStatusView {
    return { address: this.#address, writes: this.#writes, failures: this.#failures, lastError: this.#lastError };
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
  }

  /** What each watched object's status should be: a write, or undefined when it already is. */
  *#wanted(table: StatusTableIn, observed: ReadonlyMap<string, ObservedStatus>): Generator<Write | undefined> {
    const now = apiTime(this.#now());
    const status = (key: string) => (observed.get(key)?.status ?? {}) as Record<string, unknown>;
    const differs = (key: string, body: Record<string, unknown>): boolean => !sameJson(body, Object.fromEntries(Object.keys(body).map((k) => [k, status(key)[k]])));
    for (const c of table.classes) {
      const key = `GatewayClass//${c.name}`;
      if (!observed.has(key)) continue; // from another source (a manifest file)
      const body = gatewayClassStatus(c, status(key), now);
      yield differs(key, body) ? { key, body, fingerprint: JSON.stringify(c.conditions) } : this.#settled(key);
    }
    for (const gw of table.gateways) {
      const key = `Gateway/${gw.namespace}/${gw.name}`;
      if (!observed.has(key)) continue;
      const body = gatewayStatus(gw, status(key), this.#addresses, now);
      yield differs(key, body) ? { key, body, fingerprint: JSON.stringify([gw.conditions, gw.listeners]) } : this.#settled(key);
    }
    const routes = new Map(table.routes.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
    // Every watched route: one that no longer names a Gateway of Switchyard's loses Switchyard's entries.
    for (const key of observed.keys()) {
      if (!key.startsWith('HTTPRoute/') && !key.startsWith('GRPCRoute/')) continue;
      const desired = routes.get(key);
      const current = status(key)['parents'];
      const body = { parents: routeParents(desired, status(key), this.#controller, now) };
      if (desired === undefined && !Array.isArray(current)) continue; // nothing of Switchyard's there, nothing to say
      yield differs(key, body) ? { key, body, fingerprint: JSON.stringify(desired?.parents.filter((p) => p.ours) ?? []) } : this.#settled(key);
    }
  }

  #settled(key: string): undefined {
    this.#attempted.delete(key);
    return undefined;
  }

  #write(w: Write, resourceVersion: string | undefined): void {
    const [kind = '', namespace = '', name = ''] = w.key.split('/');
    const plural = PLURALS[kind]!;
    this.#inFlight.add(w.key);
    this.#attempted.set(w.key, { at: this.#now(), fingerprint: w.fingerprint, pauseMs: this.#retryMs });
    // Route parents are shared with other controllers: the resourceVersion makes a concurrent write a 409, not a loss.
    const routeKind = kind === 'HTTPRoute' || kind === 'GRPCRoute';
    const body = { ...(routeKind && resourceVersion !== undefined ? { metadata: { resourceVersion } } : {}), status: w.body };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const call =
      namespace === ''
        ? this.#api.patchClusterCustomObjectStatus({ group: GROUP, version: 'v1', plural, name, body }, options)
        : this.#api.patchNamespacedCustomObjectStatus({ group: GROUP, version: 'v1', plural, namespace, name, body }, options);
    const object = `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
    call.then(
      () => {
        this.#inFlight.delete(w.key);
        this.#writes++;
        this.#log.debug({ object, address: this.#address }, 'gateway status written');
        this.#again();
      },
      (err: unknown) => {
        this.#inFlight.delete(w.key);
        if (this.#closed) return;
        const info = describeKubeError(err);
        if (info.status === 409) {
          this.#attempted.set(w.key, { at: this.#now(), fingerprint: w.fingerprint, pauseMs: Math.min(CONFLICT_PAUSE_MS, this.#retryMs) });
          this.#log.debug({ object }, 'gateway status changed meanwhile (409); writing again on the new version');
        } else {
          this.#failures++;
          this.#lastError = { code: ErrorCode.KUBE_STATUS_WRITE, object, message: info.message, at: new Date(this.#now()).toISOString() };
          this.#log.warn({ code: ErrorCode.KUBE_STATUS_WRITE, object, status: info.status, retryMs: this.#retryMs }, `cannot write the gateway status: ${info.message}`);
        }
        this.#again();
      },
    );
  }

  /** Looks again with the latest inputs: changes that came while a write was in flight, and arms the retry. */
  #again(): void {
    if (this.#last && !this.#closed) this.sync(this.#last.table, this.#last.observed);
  }
}
