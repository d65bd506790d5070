/** What to change when `explain` finds that the proxy answers a request itself (400, 404, 503). */
import type { Backend, Diagnostic, RouteTarget } from '../snapshot/types.ts';
import type { HostChoice } from './explain-candidates.ts';
import type { ExplainRequest } from './explain-request.ts';

export interface HintFacts {
  readonly request: ExplainRequest;
  readonly choice?: HostChoice;
  readonly winner?: RouteTarget;
  readonly diagnostics?: readonly Diagnostic[];
  readonly backend?: Backend;
}

/** Diagnostic codes compile gives a route whose backend does not resolve, by RouteTarget.problem. */
const PROBLEM_CODES: Record<string, readonly string[]> = {
  'unknown-service': ['INGRESS_BACKEND_SERVICE_MISSING'],
  'unknown-port': ['INGRESS_BACKEND_PORT_MISSING'],
  'unsupported-backend': ['INGRESS_RESOURCE_BACKEND_UNSUPPORTED', 'INGRESS_BACKEND_EXTERNALNAME'],
};

/** One line per thing to change, most useful first; the compile diagnostic behind a 503 is quoted with its code. */
export function hintsFor(outcome: 'bad-path' | 'no-route' | 'backend-unresolved' | 'no-endpoints', facts: HintFacts): string[] {
  const { request } = facts;
  switch (outcome) {
    case 'bad-path':
      return [`the path ${request.path} has a malformed percent-escape, or an encoded slash (%2F, %5C) while --escaped-slashes is reject: fix the URL or the flag`];
    case 'no-route': {
      const choice = facts.choice!;
      const name = request.host === '' ? 'the host' : request.host;
      if (choice.match === 'none') {
        const hint = request.host === '' ? 'give the request a host (a URL with a host, or --header "Host: NAME"), or ' : `add an Ingress rule with host: ${request.host} (or a wildcard covering it), `;
        return [`${hint}a rule without a host, or a spec.defaultBackend`];
      }
      return [`host rule ${choice.rule} has no path covering ${request.path}: add one (e.g. path: / with pathType: Prefix) for ${name}, or a spec.defaultBackend; rules of other hosts are not consulted once ${choice.rule} is chosen`];
    }
    case 'backend-unresolved': {
      const winner = facts.winner!;
      const [namespace = '', name = ''] = winner.ingress.split('/');
      const kind = winner.routeKind;
      if (kind !== undefined) {
        // A route's backendRefs: compile's diagnostic names the reference and the spec's reason.
        const code = `${kind.toUpperCase()}_BACKEND_UNRESOLVED`;
        const found = (facts.diagnostics ?? []).filter((d) => d.kind === kind && d.namespace === namespace && d.name === name && d.code === code);
        const fix = winner.describe === '(no backend)' ? `give a backendRef of ${kind} ${winner.ingress} a weight above 0` : `make ${winner.describe} resolve (create the Service or port, or a ReferenceGrant for another namespace), or take it out of ${kind} ${winner.ingress}`;
        return [fix, ...found.map((d) => `${d.code}: ${d.message}`)];
      }
      const codes = PROBLEM_CODES[winner.problem ?? ''] ?? [];
      const found = (facts.diagnostics ?? []).filter((d) => d.kind === 'Ingress' && d.namespace === namespace && d.name === name && codes.includes(d.code));
      const generic: Record<string, string> = {
        'unknown-service': `create the Service ${winner.describe.replace(/:[^:]*$/, '')}, or point Ingress ${winner.ingress} at an existing one`,
        'unknown-port': `give the Service a TCP port ${winner.describe.replace(/^.*:/, '')}, or fix the port in Ingress ${winner.ingress}`,
        'unsupported-backend': `point Ingress ${winner.ingress} at a Service of type ClusterIP or NodePort: resource backends and ExternalName Services are not proxied`,
      };
      return [generic[winner.problem ?? ''] ?? `fix the backend of Ingress ${winner.ingress}`, ...found.map((d) => `${d.code}: ${d.message}`)];
    }
    case 'no-endpoints': {
      const backend = facts.backend!;
      if (backend.all.length === 0) {
        return [`${backend.key} has no endpoints at all: check that an EndpointSlice labelled kubernetes.io/service-name: ${backend.service} in namespace ${backend.namespace} lists a port named ${JSON.stringify(backend.portName)}`];
      }
      const notReady = backend.all.filter((e) => !e.ready).length;
      return [`none of the ${backend.all.length} endpoints of ${backend.key} is ready or serving (${notReady} not ready): check the pods' readiness probes`];
    }
  }
}
