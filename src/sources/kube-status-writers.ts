/**
 * The kube source's opt-in status write-back, both kinds wired in one place: Ingress status
 * (kube-ingress-status.ts, --ingress-status-address) after every update of the records, and Gateway API
 * status (kube-gateway-status.ts, --gateway-status-address) from the table compile computed, compared
 * again after every update since another writer may have changed the objects' own status. Neither
 * writer exists without its flag; nothing is written before start() or after close().
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { StatusTableIn } from './gateway-status-merge.ts';
import { GatewayStatusWriter, type GatewayStatusView } from './kube-gateway-status.ts';
import { IngressStatusWriter, type IngressStatusView } from './kube-ingress-status.ts';
import type { KubeRecords } from './kube-records.ts';

/** The status write-back part of KubeSourceOptions. */
export interface KubeStatusOptions {
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
}

export class KubeStatusWriters {
  readonly #options: KubeStatusOptions;
  readonly #log: Logger;
  #ingress: IngressStatusWriter | undefined;
  #gateway: GatewayStatusWriter | undefined;
  /** The last status table handed over (setGatewayTable), kept from before start(). */
  #table: StatusTableIn | undefined;
  #closed = false;

  constructor(options: KubeStatusOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
  }

  /** Creates the writers the flags ask for, on the source's connection. */
  start(config: KubeConfig): void {
    const o = this.#options;
    if (o.statusAddress) this.#ingress = new IngressStatusWriter({ config, address: o.statusAddress, log: this.#log, retryMs: o.statusRetryMs });
    if (o.gatewayStatusAddress) {
      const controllerName = o.gatewayControllerName ?? 'switchyard.dev/gateway-controller';
      this.#gateway = new GatewayStatusWriter({ config, address: o.gatewayStatusAddress, controllerName, log: this.#log, retryMs: o.statusRetryMs });
    }
  }

  /** The records changed: the served Ingresses' status, and the Gateway API table against the objects' own status. */
  sync(records: KubeRecords): void {
    const { ingressClass = 'switchyard', ingressControllerName, watchIngressWithoutClass } = this.#options;
    this.#ingress?.sync(records.servedIngresses({ ingressClass, ingressControllerName, watchIngressWithoutClass }));
    if (this.#table) this.#gateway?.sync(this.#table, records.observedStatuses());
  }

  /** A new Gateway API status table (Snapshot.gatewayStatus): written where it differs. */
  setGatewayTable(table: StatusTableIn, records: KubeRecords): void {
    this.#table = table;
    if (!this.#closed) this.#gateway?.sync(table, records.observedStatuses());
  }

  ingressView(): IngressStatusView | undefined {
    return this.#ingress?.status();
  }

  gatewayView(): GatewayStatusView | undefined {
    return this.#gateway?.status();
  }

  close(): void {
    this.#closed = true;
    this.#ingress?.close();
    this.#gateway?.close();
  }
}
