/**
 * A canary Ingress (`switchyard.dev/canary: "true"`) joins the route of the main Ingress of the same host
 * and path, as ingress-nginx's canaries do, compiled into what HTTPRoutes compile to:
 * - `canary-weight` W of `canary-weight-total` T: the route's backends become weighted targets, the main
 *   Service T−W and the canary W (dataplane/weighted.ts: smooth weighted round-robin, W=10 of 100 sends
 *   exactly 10 of every 100 requests to the canary, interleaved);
 * - `canary-by-header` H: routes with a header condition ahead of it in the route's chain (Route.next,
 *   as route-merge.ts links HTTPRoute matches): H `always` → the canary, H `never` → the main Service only;
 *   with `canary-by-header-value` V instead, H = V → the canary. Any other value falls through to the
 *   weights.
 * Every route of the chain keeps the main route's filters and https redirect: the canary's other
 * annotations are not read, as ingress-nginx ignores them.
 */
import { serviceKey } from '../model/keys.ts';
import type { IngressBackendRec, IngressPathRec, IngressRec } from '../model/records.ts';
import type { Diagnostic, Route, RouteConditions, RouteTarget, WeightedTarget } from '../snapshot/types.ts';
import type { BackendUse } from './backend-problems.ts';
import { diag } from './diagnostics.ts';
import { canarySpec, type CanarySpec } from './ingress-annotations.ts';

/** The main route of a canary path's host and path, and how to put a chain in its place (table and list). */
export interface CanarySlot {
  readonly route: Route;
  replace(head: Route): void;
}

/**
 * Each path of the canary Ingresses (oldest first) joins the main route `find` gives for its host and path
 * (same path type); one without a main route is not served, and a second canary of one route is refused.
 * `resolve` resolves a backend as the Ingress compiler does, reporting what does not resolve.
 */
export function joinCanaries(
  canaries: readonly IngressRec[],
  find: (host: string, path: IngressPathRec) => CanarySlot | undefined,
  resolve: (ing: IngressRec, backend: IngressBackendRec, use: BackendUse) => RouteTarget,
  diagnostics: Diagnostic[],
): void {
  // Main routes and the chains that replaced them → the canary Ingress that joined them.
  const joined = new Map<Route, string>();
  for (const ing of canaries) {
    const spec = canarySpec(ing, diagnostics);
    const name = serviceKey(ing.meta.namespace, ing.meta.name);
    if (ing.defaultBackend) diagnostics.push(diag('info', 'INGRESS_CANARY_DEFAULT_BACKEND_IGNORED', ing, 'spec.defaultBackend of a canary Ingress is not served'));
    for (const rule of ing.rules) {
      const host = rule.host ?? '';
      for (const p of rule.paths) {
        const where = `host ${JSON.stringify(host || '*')} path ${JSON.stringify(p.path)} (${p.pathType})`;
        const slot = find(host, p);
        if (slot === undefined) {
          diagnostics.push(diag('warning', 'INGRESS_CANARY_WITHOUT_MAIN', ing, `${where}: no Ingress without the canary annotation routes this host and path; the canary is not served`));
          continue;
        }
        const earlier = joined.get(slot.route);
        if (earlier !== undefined) {
          diagnostics.push(diag('warning', 'INGRESS_CANARY_CONFLICT', ing, `${where} ignored: canary Ingress ${earlier} is older and already joins Ingress ${slot.route.ingress} there`));
          continue;
        }
        const target = resolve(ing, p.backend, { host, path: p.path, pathType: p.pathType });
        // An unresolved canary backend is reported by resolve; the main route keeps all its requests.
        if (target.backend === undefined) continue;
        const head = canaryChain(slot.route, target, spec);
        joined.set(slot.route, name);
        if (head === slot.route) continue;
        joined.set(head, name);
        slot.replace(head);
      }
    }
  }
}

/** The head of the chain that replaces `main` (`main` itself when the canary asks for no traffic). */
export function canaryChain(main: Route, canary: RouteTarget, spec: CanarySpec): Route {
  const toCanary = { backend: canary.backend, problem: canary.problem, describe: canary.describe, ingress: canary.ingress };
  const mainWeight = spec.total - spec.weight;
  let tail: Route = main;
  if (spec.weight > 0 && mainWeight <= 0) tail = { ...main, ...toCanary };
  else if (spec.weight > 0) {
    const weighted: WeightedTarget[] = [
      { backend: main.backend, problem: main.problem, describe: main.describe, ingress: main.ingress, weight: mainWeight },
      { ...toCanary, weight: spec.weight },
    ];
    const weightKey = `Ingress/${main.ingress} ${main.host || '*'} ${main.path} (${main.pathType})`;
    tail = { ...main, backend: undefined, problem: undefined, describe: weighted.map((t) => `${t.describe}×${t.weight}`).join(', '), weighted, weightKey };
  }
  if (spec.header === undefined) return tail;
  const when = (value: string): RouteConditions => ({ method: undefined, headers: [{ name: spec.header!, value, regex: false }], query: [] });
  if (spec.headerValue !== undefined) return { ...main, ...toCanary, conditions: when(spec.headerValue), next: tail };
  const never: Route = { ...main, conditions: when('never'), next: tail };
  return { ...main, ...toCanary, conditions: when('always'), next: never };
}

/** The routes of a chain, head first. */
export function chainRoutes(head: Route): Route[] {
  const out: Route[] = [];
  for (let r: Route | undefined = head; r !== undefined; r = r.next) out.push(r);
  return out;
}
