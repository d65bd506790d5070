/** JSON views of the snapshot and the sources for the admin API. Plain functions, no I/O. */
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { Backend, EndpointView, Snapshot } from '../snapshot/types.ts';
import { routeExtras, routeParentsIndex, unattachedRoutes } from './gateways-view.ts';

/** One endpoint of a backend with its state as the health registry derives it (also used by `explain`). */
export function endpointView(e: EndpointView, backend: Backend, health: EndpointHealth) {
  const h = health.view(e, backend.policy.healthCheck !== undefined);
  return {
    address: e.address,
    port: e.port,
    ready: e.ready,
    serving: e.serving,
    terminating: e.terminating,
    hostname: e.hostname ?? null,
    nodeName: e.nodeName ?? null,
    targetRef: e.targetRef ?? null,
    state: h.state,
    reason: h.reason,
    since: h.since,
    activeCheck: h.active,
    ejections: h.ejections,
    ejectedUntil: h.ejectedUntil ?? null,
  };
}

/** Every endpoint of every backend with its state, plus endpoints draining after removal. */
export function endpointsView(snapshot: Snapshot, health: EndpointHealth, draining: ReadonlyMap<string, number>) {
  const endpoints = [];
  for (const backend of snapshot.backends.values()) {
    // A protocol variant's endpoints are its Service port's: listed (and counted by the metrics) once, under the port.
    if (backend.variantOf !== undefined) continue;
    for (const e of backend.all) endpoints.push({ backend: backend.key, key: e.key, ...endpointView(e, backend, health) });
  }
  for (const [key, since] of draining) {
    endpoints.push({ backend: null, key, state: 'draining', reason: 'removed from the configuration; finishing requests in flight', since: new Date(since).toISOString() });
  }
  return { version: snapshot.version, endpoints };
}

export function servicesView(snapshot: Snapshot, health: EndpointHealth) {
  return {
    version: snapshot.version,
    services: [...snapshot.services.values()].map((svc) => ({
      namespace: svc.namespace,
      name: svc.name,
      type: svc.type,
      names: svc.names,
      clusterIPs: svc.clusterIPs,
      headless: svc.headless,
      externalName: svc.externalName ?? null,
      ports: svc.ports.map((p) => {
        const backend = snapshot.backends.get(p.backend);
        return {
          name: p.name,
          port: p.port,
          targetPort: p.targetPort ?? null,
          protocol: p.protocol,
          appProtocol: p.appProtocol ?? null,
          backend: p.backend,
          panic: health.isPanicking(p.backend),
          terminatingFallback: backend?.terminatingFallback ?? false,
          endpoints: backend ? backend.all.map((e) => endpointView(e, backend, health)) : [],
        };
      }),
    })),
  };
}

export function routesView(snapshot: Snapshot) {
  const parents = routeParentsIndex(snapshot);
  const target = (t: { backend: string | undefined; problem: string | undefined; describe: string; ingress: string }) => {
    const backend = t.backend === undefined ? undefined : snapshot.backends.get(t.backend);
    return {
      backend: t.backend ?? null,
      service: t.describe,
      ingress: t.ingress,
      problem: t.problem ?? null,
      readyEndpoints: backend ? backend.ready.length : 0,
    };
  };
  return {
    version: snapshot.version,
    // `ingress` stays for clients of the Ingress-only view; `kind`, `name`, `parents` and `backends` came with the Gateway API.
    routes: snapshot.routes.list.map((r) => ({ host: r.host === '' ? '*' : r.host, path: r.path, pathType: r.pathType, ...target(r), ...routeExtras(snapshot, r, parents) })),
    defaultBackend: snapshot.routes.defaultBackend ? target(snapshot.routes.defaultBackend) : null,
    unattached: unattachedRoutes(snapshot, parents),
  };
}

const DAY_MS = 86_400_000;

/**
 * Every certificate in use (each Secret an Ingress `tls:` entry or --default-certificate names, and the
 * generated default when it is the default) with what it says about itself, days left counted from
 * `now`, and why it cannot be used when it cannot. Never the private key.
 */
export function certificatesView(snapshot: Snapshot, now: number) {
  const { tls } = snapshot;
  return {
    version: snapshot.version,
    /** `namespace/name` of the default certificate's Secret; null for the generated self-signed one. */
    defaultCertificate: tls.defaultKey === '' ? null : tls.defaultKey,
    certificates: tls.uses.map((u) => {
      const info = u.info;
      return {
        secret: u.secret === '' ? null : u.secret,
        generated: u.secret === '',
        hosts: u.hosts,
        ingresses: u.ingresses,
        isDefault: u.isDefault,
        subject: info?.subject ?? null,
        sans: info?.sans ?? [],
        issuer: info?.issuer ?? null,
        notBefore: info?.notBefore ?? null,
        notAfter: info?.notAfter ?? null,
        daysLeft: info ? Math.floor((Date.parse(info.notAfter) - now) / DAY_MS) : null,
        fingerprint256: info?.fingerprint256 ?? null,
        error: u.error ?? null,
      };
    }),
  };
}
