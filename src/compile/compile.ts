/** Store view → the next Snapshot. Pure: no I/O, no timers, no logging. */
import { createHash } from 'node:crypto';
import { ingressClassIndex, isServedIngress } from '../model/ingress-class.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Diagnostic, Snapshot } from '../snapshot/types.ts';
import { compileServices } from './backends.ts';
import { compileCertificates, tlsHostsOf, type PemPair } from './certificates.ts';
import { compileGatewayPorts, listGatewayRoutes, planGatewayListeners } from './gateway-ports.ts';
import { compileGatewayRoutes } from './gateway-routes.ts';
import { compileGrpcRoutes } from './grpc-routes.ts';
import { computeGatewayStatus } from './gateway-status.ts';
import { compileL4 } from './l4-services.ts';
import { compileRegistry } from './registry.ts';
import { compareByAge, compileRoutes } from './routes.ts';

export interface CompileOptions {
  /** DNS suffix of Service names; default `cluster.local`. */
  readonly clusterDomain: string;
  /**
   * --ingress-class (default `switchyard`): the legacy `kubernetes.io/ingress.class` value served, and the class
   * assumed to be ours and the default while no IngressClass object is known (model/ingress-class.ts).
   */
  readonly ingressClass: string;
  /** --ingress-controller-name: the IngressClass `spec.controller` that is ours; default `switchyard.dev/ingress-controller`. */
  readonly ingressControllerName?: string;
  /** --watch-ingress-without-class: serve Ingresses without a class even when no IngressClass of ours is the default; default false. */
  readonly watchIngressWithoutClass?: boolean;
  /** `namespace/name` of the --default-certificate Secret; default none (the generated certificate is the default). */
  readonly defaultCertificate?: string;
  /** The self-signed certificate generated at start-up; default none (SNI names no Ingress covers then get no certificate). */
  readonly generatedCertificate?: PemPair;
  /** The time certificates are checked against, ms since the epoch; default: not checked (compile reads no clock). */
  readonly now?: number;
  /** Whether hosts with a `tls:` entry redirect plain HTTP to https unless their Ingress says otherwise (--ssl-redirect); default true. */
  readonly sslRedirect?: boolean;
  /** --gateway-controller-name: the GatewayClass `spec.controllerName` that is ours; default `switchyard.dev/gateway-controller`. */
  readonly gatewayControllerName?: string;
}

/** Everything of a snapshot except its version and timestamps, which the caller stamps. */
export type CompiledState = Omit<Snapshot, 'version' | 'createdAt'>;

export function compile(view: StoreView, options: CompileOptions): CompiledState {
  const { services, backends: serviceBackends, diagnostics: serviceDiagnostics } = compileServices(view, options.clusterDomain);
  const registry = compileRegistry(services);
  const l4 = compileL4(view.services.values());
  const classes = ingressClassIndex(view.ingressClasses.values(), options);
  const served = [...view.ingresses.values()].filter((ing) => isServedIngress(ing, classes)).sort(compareByAge);
  const certs = compileCertificates(served, view.secrets, {
    defaultCertificate: options.defaultCertificate,
    generatedCertificate: options.generatedCertificate,
    now: options.now,
  });
  const ingressRoutes = compileRoutes(view.ingresses.values(), services, { classes, tlsHosts: tlsHostsOf(served), sslRedirect: options.sslRedirect ?? true });
  // Before the routes attach: they find the listeners planned (and certificates checked at `now`).
  const listenerPlan = planGatewayListeners(view, options.gatewayControllerName, options.now);
  const gateway = compileGatewayRoutes(view, services, { controllerName: options.gatewayControllerName });
  // GRPCRoutes attach through the same report (status) and join the HTTPRoutes' tables; their h2c backend variants join the backends.
  const grpc = compileGrpcRoutes(view, services, serviceBackends, { controllerName: options.gatewayControllerName }, gateway.attach);
  const backends = grpc.backends.size === 0 ? serviceBackends : new Map([...serviceBackends, ...grpc.backends]);
  const gatewayRanked = grpc.routes.length === 0 ? gateway.routes : [...gateway.routes, ...grpc.routes];
  const routeDiagnostics = [...ingressRoutes.diagnostics, ...gateway.diagnostics, ...grpc.diagnostics];
  // Gateway API routes are served on their Gateway's ports only; the Ingress table lists them for the admin API.
  const routes = listGatewayRoutes(ingressRoutes.routes, gatewayRanked);
  const gatewayPorts = compileGatewayPorts(listenerPlan, gatewayRanked, routeDiagnostics);
  const gatewayStatus = computeGatewayStatus({ view, attach: gateway.attach, services, diagnostics: routeDiagnostics });
  const conflictDiagnostics = view.conflicts.map((c): Diagnostic => {
    const [kind = '', namespace = '', name = ''] = c.key.split('/');
    return { severity: 'warning', code: 'SOURCE_CONFLICT', kind, namespace, name, message: `defined by source ${c.winner} and by source ${c.loser}; using ${c.winner}'s` };
  });
  // Sorted, so the same objects in another file or document order hash the same.
  const diagnostics = [...serviceDiagnostics, ...l4.diagnostics, ...routeDiagnostics, ...certs.diagnostics, ...conflictDiagnostics].sort(compareDiagnostics);
  // Fed piece by piece: one JSON string of the whole state was a transient of several MB with 10,000 routes.
  const digest = createHash('sha256');
  const feed = (tag: string, items: Iterable<unknown>): void => {
    digest.update(`\n${tag}`);
    for (const item of items) digest.update(`\n${JSON.stringify(item)}`);
  };
  feed('d', [options.clusterDomain]);
  feed('s', services.values());
  feed('b', backends.values());
  feed('r', routes.list);
  feed('db', [routes.defaultBackend ?? null]);
  feed('l4', l4.ports);
  // Certificates by digest of chain and key: a renewed certificate changes the hash, no key is fed.
  const { tls } = certs;
  feed('tls', [tls.defaultKey, [...tls.hosts], [...tls.wildcards], [...certs.fingerprints]]);
  feed('diag', diagnostics);
  feed('gw', [gatewayPorts.listeners, gatewayPorts.fingerprints]);
  // Status too: a new generation with the same routing must still swap, for its observedGeneration.
  feed('gs', [...gatewayStatus.classes, ...gatewayStatus.gateways, ...gatewayStatus.routes]);
  const hash = digest.digest('hex').slice(0, 16);
  return { hash, storeVersion: view.version, clusterDomain: options.clusterDomain, services, backends, registry, routes, tls, l4: l4.ports, diagnostics, gatewayStatus, gatewayPorts: gatewayPorts.ports, gatewayListeners: gatewayPorts.listeners };
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  for (const f of ['kind', 'namespace', 'name', 'code', 'message'] as const) {
    if (a[f] !== b[f]) return a[f] < b[f] ? -1 : 1;
  }
  return 0;
}

export { emptySnapshot, emptyTlsTable } from '../snapshot/empty.ts';
