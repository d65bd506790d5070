/**
 * Services → the Service ports the layer-4 service proxy serves (Snapshot.l4), whatever the node. Like
 * kube-proxy, headless and ExternalName Services have no virtual IP and are left out. A Service field the
 * proxy cannot use (a bad node port or IP, an unknown affinity or policy) is a diagnostic and leaves out
 * its port, or its whole Service, rather than guessing: a guessed traffic policy would send traffic where
 * the user said it must not go.
 */
import { backendKey } from '../model/keys.ts';
import type { ServiceRec } from '../model/records.ts';
import type { Diagnostic, L4PortView } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';

export interface CompiledL4 {
  readonly ports: L4PortView[];
  readonly diagnostics: Diagnostic[];
}

/** `services`: the store's Service records (any order; the result is sorted by key). */
export function compileL4(services: Iterable<ServiceRec>): CompiledL4 {
  const diagnostics: Diagnostic[] = [];
  const ports: L4PortView[] = [];
  const sorted = [...services].sort((a, b) => compareStrings(`${a.meta.namespace}/${a.meta.name}`, `${b.meta.namespace}/${b.meta.name}`));
  /** `PROTOCOL/nodePort` → the port key that has it. */
  const nodePortOwners = new Map<string, string>();
  for (const svc of sorted) {
    const skippedPorts = new Set<number>();
    let skipService = false;
    for (const p of svc.problems) {
      const port = p.portIndex === undefined ? undefined : svc.ports[p.portIndex];
      const what = port === undefined ? 'this Service' : `port ${port.port}/${port.protocol}`;
      diagnostics.push(diag('warning', 'SERVICE_FIELD_INVALID', svc, `field ${p.path}: ${p.message}; the service proxy skips ${what}`));
      if (p.portIndex === undefined) skipService = true;
      else skippedPorts.add(p.portIndex);
    }
    if (skipService || svc.headless || svc.type === 'ExternalName') continue;
    const affinityTimeoutSeconds = svc.sessionAffinity === 'ClientIP' ? svc.sessionAffinityTimeoutSeconds : undefined;
    svc.ports.forEach((port, i) => {
      if (skippedPorts.has(i)) return;
      const key = backendKey(svc.meta.namespace, svc.meta.name, port.port, port.protocol);
      let nodePort = port.nodePort;
      if (nodePort !== undefined) {
        const claim = `${port.protocol}/${nodePort}`;
        const owner = nodePortOwners.get(claim);
        // The API server allocates node ports cluster-wide and never twice; two manifests may still say so.
        if (owner !== undefined) {
          diagnostics.push(diag('warning', 'SERVICE_NODEPORT_CONFLICT', svc, `node port ${nodePort}/${port.protocol} of port ${port.port} is already used by ${owner}; this port gets no node port`));
          nodePort = undefined;
        } else nodePortOwners.set(claim, key);
      }
      ports.push({
        key,
        namespace: svc.meta.namespace,
        service: svc.meta.name,
        portName: port.name,
        port: port.port,
        protocol: port.protocol,
        clusterIPs: svc.clusterIPs,
        externalIPs: svc.externalIPs,
        loadBalancerIPs: svc.loadBalancerIPs,
        nodePort,
        affinityTimeoutSeconds,
        internalTrafficPolicy: svc.internalTrafficPolicy,
        externalTrafficPolicy: svc.externalTrafficPolicy,
      });
    });
  }
  ports.sort((a, b) => compareStrings(a.key, b.key));
  return { ports, diagnostics };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
