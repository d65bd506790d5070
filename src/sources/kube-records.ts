/**
 * The kube source's current objects: raw API objects in, validated records out, keyed
 * `kind/namespace/name`. An object that does not validate is rejected alone and keeps its last valid
 * version, if it had one, until a valid version or its deletion arrives.
 */
import { ErrorCode, SwyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { ingressClassIndex, isServedIngress, type IngressClassOptions } from '../model/ingress-class.ts';
import type { IngressClassRec, IngressRec, Origin, Rec, RecKind } from '../model/records.ts';
import type { KubeResource } from './kube-api.ts';
import { observedLoadBalancer, type IngressStatusTarget, type LoadBalancerEntry } from './kube-ingress-status.ts';
import { normalizeObject } from './normalize.ts';

export interface RejectedObjectView {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/** What is read of a raw object here (the rest is normalize's business). */
interface RawMeta {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly creationTimestamp?: unknown } | null;
}

const ORIGIN: Origin = { source: 'kubernetes' };
/** A Service's CA for pod certificates (compile/policy.ts reads it); its Secret must reach the store. */
const BACKEND_CA_SECRET_ANNOTATION = 'switchyard.dev/backend-ca-secret';

const EMIT_ORDER: readonly RecKind[] = ['Service', 'EndpointSlice', 'Endpoints', 'Ingress', 'IngressClass', 'Secret', 'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'Namespace'];
/** Kinds whose status Switchyard may write back (kube-gateway-status.ts): their last seen status is kept. */
const STATUS_KINDS: ReadonlySet<string> = new Set(['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute']);

/** An object's status and resourceVersion as last seen, for a status write that must not undo others'. */
export interface ObservedStatus {
  readonly status: unknown;
  readonly resourceVersion: string | undefined;
}

export class KubeRecords {
  readonly #log: Logger;
  readonly #records = new Map<RecKind, Map<string, Rec>>(EMIT_ORDER.map((k) => [k, new Map()]));
  readonly #rejected = new Map<string, RejectedObjectView>();
  /** Ingress key → its status.loadBalancer.ingress as last seen. */
  readonly #loadBalancer = new Map<string, LoadBalancerEntry[]>();
  /** `kind/namespace/name` → status as last seen, of the STATUS_KINDS. */
  readonly #observed = new Map<string, ObservedStatus>();
  /** `namespace/name` of Secrets handed over whether an Ingress references them or not. */
  readonly #keptSecrets: ReadonlySet<string>;

  /** `keepSecrets`: `namespace/name` of Secrets always handed over (the --default-certificate); default none. */
  constructor(log: Logger, keepSecrets: readonly string[] = []) {
    this.#log = log;
    this.#keptSecrets = new Set(keepSecrets);
  }

  /** Validates and stores an added or modified object; a rejection is logged at warn. */
  upsert(res: KubeResource, raw: object): void {
    const { key, namespace, name, where } = identify(res, raw);
    let result;
    try {
      result = normalizeObject(toWire(res, raw), ORIGIN, where);
    } catch (err) {
      result = { error: new SwyError(ErrorCode.MANIFEST_INVALID, `${where}: cannot be read: ${(err as Error).message}`, { cause: err }) };
    }
    const records = this.#records.get(res.kind)!;
    if (result.record) {
      records.set(key, result.record);
      if (this.#rejected.delete(key)) this.#log.info({ kind: res.kind, namespace, name }, 'object accepted again');
    } else if (result.error) {
      const { code, message } = result.error;
      this.#rejected.set(key, { kind: res.kind, namespace, name, code, message, at: new Date().toISOString() });
      const kept = records.has(key) ? '; keeping its last valid version' : '';
      this.#log.warn({ code, kind: res.kind, namespace, name }, `object rejected${kept}: ${message}`);
    }
    if (res.kind === 'Ingress') this.#loadBalancer.set(key, observedLoadBalancer(raw));
    if (STATUS_KINDS.has(res.kind)) {
      const r = raw as { status?: unknown; metadata?: { resourceVersion?: unknown } };
      const rv = r.metadata?.resourceVersion;
      this.#observed.set(key, { status: r.status, resourceVersion: typeof rv === 'string' ? rv : undefined });
    }
  }

  /** The status of each GatewayClass, Gateway and route of this source as last seen, by `kind/namespace/name` (live). */
  observedStatuses(): ReadonlyMap<string, ObservedStatus> {
    return this.#observed;
  }

  remove(res: KubeResource, raw: object): void {
    const { key } = identify(res, raw);
    this.#records.get(res.kind)!.delete(key);
    this.#rejected.delete(key);
    this.#loadBalancer.delete(key);
    this.#observed.delete(key);
  }

  /** Forgets every object of `kind` (an API the server turned out not to serve). */
  dropKind(kind: RecKind): void {
    this.#records.get(kind)!.clear();
    for (const [key, r] of this.#rejected) if (r.kind === kind) this.#rejected.delete(key);
    for (const key of this.#observed.keys()) if (key.startsWith(`${kind}/`)) this.#observed.delete(key);
  }

  /**
   * Every current record; of the TLS Secrets only those referenced: by an Ingress `tls:` entry or a
   * Service's `switchyard.dev/backend-ca-secret` in their namespace, and the kept ones.
   */
  collect(): Rec[] {
    const referenced = new Set<string>(this.#keptSecrets);
    for (const ing of this.#ingresses()) for (const t of ing.tls) if (t.secretName) referenced.add(`${ing.meta.namespace}/${t.secretName}`);
    for (const svc of this.#records.get('Service')!.values()) {
      const ca = svc.meta.annotations[BACKEND_CA_SECRET_ANNOTATION];
      if (ca !== undefined && ca.trim() !== '') referenced.add(`${svc.meta.namespace}/${ca.trim()}`);
    }
    const out: Rec[] = [];
    for (const kind of EMIT_ORDER) {
      for (const rec of this.#records.get(kind)!.values()) {
        if (kind === 'Secret' && !referenced.has(`${rec.meta.namespace}/${rec.meta.name}`)) continue;
        out.push(rec);
      }
    }
    return out;
  }

  /**
   * The Ingresses Switchyard serves, decided against this source's IngressClasses by the rule compile applies
   * (model/ingress-class.ts), with their current status.
   */
  servedIngresses(options: IngressClassOptions): IngressStatusTarget[] {
    const classes = ingressClassIndex(this.#records.get('IngressClass')!.values() as Iterable<IngressClassRec>, options);
    const out: IngressStatusTarget[] = [];
    for (const ing of this.#ingresses()) {
      if (!isServedIngress(ing, classes)) continue;
      const { namespace, name } = ing.meta;
      out.push({ namespace, name, current: this.#loadBalancer.get(`Ingress/${namespace}/${name}`) ?? [] });
    }
    return out;
  }

  rejected(): RejectedObjectView[] {
    return [...this.#rejected.values()];
  }

  #ingresses(): Iterable<IngressRec> {
    return this.#records.get('Ingress')!.values() as Iterable<IngressRec>;
  }
}

function identify(res: KubeResource, raw: object): { key: string; namespace: string; name: string; where: string } {
  const meta = (raw as RawMeta).metadata;
  const namespace = res.namespaced ? (meta?.namespace ?? '') : '';
  const name = meta?.name ?? '';
  const where = `${res.kind} ${namespace ? `${namespace}/` : ''}${name}`;
  return { key: `${res.kind}/${namespace}/${name}`, namespace, name, where };
}

/**
 * The object as the wire shows it: list items come without kind and apiVersion (set from the resource),
 * and the client turns a list item's timestamps into Dates while watch events keep the RFC 3339 text, so
 * creationTimestamp is written back as the API server writes it (whole seconds) for both to agree.
 */
function toWire(res: KubeResource, raw: object): Record<string, unknown> {
  const meta = (raw as RawMeta).metadata;
  const ts = meta?.creationTimestamp;
  const metadata = ts instanceof Date ? { ...meta, creationTimestamp: ts.toISOString().replace(/\.000Z$/, 'Z') } : meta;
  return { ...raw, kind: res.kind, apiVersion: res.apiVersion, metadata };
}
