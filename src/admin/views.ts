/** JSON views of the snapshot and the sources for the admin API. Plain functions, no I/O. */
import type { Snapshot } from '../snapshot/types.ts';

export function servicesView(snapshot: Snapshot) {
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
          endpoints: (backend?.all ?? []).map((e) => ({
            address: e.address,
            port: e.port,
            ready: e.ready,
            serving: e.serving,
            terminating: e.terminating,
            hostname: e.hostname ?? null,
            nodeName: e.nodeName ?? null,
            targetRef: e.targetRef ?? null,
          })),
        };
      }),
    })),
  };
}

export function routesView(snapshot: Snapshot) {
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
    routes: snapshot.routes.list.map((r) => ({ host: r.host === '' ? '*' : r.host, path: r.path, pathType: r.pathType, ...target(r) })),
    defaultBackend: snapshot.routes.defaultBackend ? target(snapshot.routes.defaultBackend) : null,
  };
}
