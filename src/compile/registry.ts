/** DNS-style names of Services: `<svc>.<ns>.svc.<domain>`, `<svc>.<ns>.svc`, `<svc>.<ns>`. */
import type { ServiceView } from '../snapshot/types.ts';

/** A Service's registry names, most specific first. */
export function serviceNames(name: string, namespace: string, clusterDomain: string): string[] {
  return [`${name}.${namespace}.svc.${clusterDomain}`, `${name}.${namespace}.svc`, `${name}.${namespace}`];
}

/** Name → `namespace/name` for every Service. Names are lower-case, as DNS compares them. */
export function compileRegistry(services: ReadonlyMap<string, ServiceView>): Map<string, string> {
  const registry = new Map<string, string>();
  for (const [key, svc] of services) for (const n of svc.names) registry.set(n.toLowerCase(), key);
  return registry;
}
