/** The kube source's options and the status it reports (`/api/v1/config`'s sources), beside kube-source.ts. */
import type { BackoffOptions } from './backoff.ts';
import type { KubeConnectOptions } from './kube-config.ts';
import type { GatewayStatusView } from './kube-gateway-status.ts';
import type { InformerError, InformerStatus } from './kube-informer.ts';
import type { IngressStatusView } from './kube-ingress-status.ts';
import type { RejectedObjectView } from './kube-records.ts';
import type { KubeStatusOptions } from './kube-status-writers.ts';
import type { Logger } from '../log.ts';

export interface KubeSourceOptions extends KubeConnectOptions, KubeStatusOptions {
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
