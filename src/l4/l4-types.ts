/** Shapes shared by the userspace service proxy's listeners and the module that manages them. */
import type { EventEmitter } from 'node:events';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Backend, EndpointView, L4PortView } from '../snapshot/types.ts';
import type { EndpointPicker } from './endpoint-picker.ts';
import type { PortStats } from './l4-stats.ts';

/** What a node-port listener forwards to now: swapped by the manager on each snapshot. */
export interface L4Target {
  readonly port: L4PortView;
  /** The endpoints node-port traffic is balanced over (externalTrafficPolicy applied). */
  readonly backend: Backend;
  readonly stats: PortStats;
}

/** One proxied TCP connection or UDP flow, as the manager tracks it. */
export interface ProxiedFlow {
  readonly protocol: 'TCP' | 'UDP';
  /** Key of the Service port (L4PortView.key). */
  readonly portKey: string;
  /** `address:port` of the client. */
  readonly client: string;
  readonly endpoint: EndpointView;
  /** ms since the epoch. */
  readonly openedAt: number;
  /** When its endpoint went away (ms since the epoch); undefined while it is in place. */
  drainingSince: number | undefined;
  /** Ends it now: a TCP connection is reset both ways, a UDP flow forgotten. */
  close(): void;
}

/** What a listener needs from its manager. */
export interface ListenerContext {
  readonly picker: EndpointPicker;
  readonly log: Logger;
  /** Gives up on an endpoint that neither accepts nor refuses a connection within this, ms. */
  readonly connectTimeoutMs: number;
  /** A UDP flow without a datagram either way for this long is forgotten, ms. */
  readonly udpFlowTimeoutMs: number;
  readonly now: () => number;
  /** True once the proxy stops: a connection that finishes connecting then is closed instead. */
  stopped(): boolean;
  opened(flow: ProxiedFlow): void;
  closed(flow: ProxiedFlow): void;
}

/** A node-port listener of either protocol. */
export interface NodePortListener {
  readonly protocol: 'TCP' | 'UDP';
  readonly address: string;
  readonly port: number;
  target: L4Target | undefined;
  /** Binds; resolves either way (a failure is left in `error`). */
  listen(): Promise<void>;
  /** Why the last bind failed; undefined once listening. */
  readonly error: BindError | undefined;
  /** Forgets what has been idle too long (UDP flows; a TCP connection ends with its sockets). */
  sweep(now: number): void;
  /** Stops accepting; open TCP connections are the manager's to close, UDP flows end here. */
  close(): Promise<void>;
}

/** Why a node port could not be bound, as a listener keeps it. */
export type BindError = { readonly code: string; readonly message: string };

/**
 * Binds a node port's server or socket: `bind` starts the bind and calls `done` once bound. Resolves with
 * the error when it fails (a port in use must not stop the proxy), undefined when bound; later errors of
 * the bound port are logged.
 */
export function bindNodePort(target: EventEmitter, bind: (done: () => void) => void, log: Logger, port: number): Promise<BindError | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException): void => resolve({ code: err.code ?? ErrorCode.LISTEN_FAILED, message: err.message });
    target.once('error', onError);
    bind(() => {
      target.off('error', onError);
      target.on('error', (err) => log.error({ err, port }, 'node-port listener error'));
      resolve(undefined);
    });
  });
}

