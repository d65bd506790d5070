/**
 * The suite calls beside the request table that this runner reproduces: its status assertions (turned into
 * status.ts checks) and the Deployment HTTPRouteServiceTypes lists pods of for its EndpointSlices.
 */
import { evaluate, NotParsed, type Plain, type Scope } from './go-eval.ts';
import { GoParser, type GoValue, type Token } from './go-literal.ts';
import type { StatusCheck } from './status.ts';
import { scopeAt, type Local } from './suite-scope.ts';

/** A status assertion of the test, ready to check; or the call that could not be read. */
export type SuiteStatus = StatusCheck | { readonly kind: 'unread'; readonly call: string; readonly why: string };

/** `namespace/name` of the Deployment a `suite.Client.Get(ctx, client.ObjectKey{...}, deployment)` before `until` reads. */
export function findDeploymentGet(tokens: readonly Token[], from: number, until: number, locals: readonly Local[], constants: ReadonlyMap<string, string>): string | undefined {
  let found: string | undefined;
  for (let i = from; i < until; i++) {
    if (tokens[i]!.v !== 'suite' || tokens[i + 2]?.v !== 'Client' || tokens[i + 4]?.v !== 'Get') continue;
    try {
      const call = new GoParser(tokens, i).parseExpr();
      if (call.k !== 'call' || call.args[1]?.k !== 'comp' || call.args[2]?.k !== 'ident') continue;
      const target = call.args[2].name;
      const local = locals.filter((l) => l.name === target && l.pos < i).at(-1);
      if (local?.value.k !== 'comp' || !local.value.type.endsWith('.Deployment')) continue;
      const key = evaluate(call.args[1], scopeAt(locals, constants, i)) as Record<string, Plain>;
      found = `${String(key['Namespace'])}/${String(key['Name'])}`;
    } catch {
      // Not a Get of the subset.
    }
  }
  return found;
}

/** Status calls this runner checks; the others are listed as not run. */
export const STATUS_CALLS = new Set(['kubernetes.HTTPRouteMustHaveCondition', 'kubernetes.HTTPRouteMustHaveResolvedRefsConditionsTrue', 'kubernetes.HTTPRouteMustHaveNoAcceptedParents', 'kubernetes.GatewayMustHaveZeroRoutes']);

function nn(v: Plain, what: string): { namespace: string; name: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof v['Name'] !== 'string') throw new NotParsed(`${what} is not a NamespacedName`);
  return { namespace: String(v['Namespace'] ?? ''), name: v['Name'] };
}

// The suite's helpers' arguments: (t, client, timeoutConfig, ...) then those below.
export function statusChecks(fn: string, args: readonly GoValue[], scope: Scope): SuiteStatus[] {
  const arg = (i: number): Plain => {
    const a = args[i];
    if (a === undefined) throw new NotParsed(`argument ${i} missing`);
    return evaluate(a, scope);
  };
  switch (fn) {
    case 'kubernetes.HTTPRouteMustHaveCondition': {
      const c = arg(5);
      if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new NotParsed('the condition is not a literal');
      return [{ kind: 'routeCondition', call: fn, route: nn(arg(3), 'route'), gateway: nn(arg(4), 'gateway'), condition: { type: String(c['Type'] ?? ''), status: String(c['Status'] ?? ''), reason: String(c['Reason'] ?? '') } }];
    }
    case 'kubernetes.HTTPRouteMustHaveResolvedRefsConditionsTrue':
      return [{ kind: 'routeCondition', call: fn, route: nn(arg(3), 'route'), gateway: nn(arg(4), 'gateway'), condition: { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' } }];
    case 'kubernetes.HTTPRouteMustHaveNoAcceptedParents':
      return [{ kind: 'routeNoAcceptedParents', call: fn, route: nn(arg(3), 'route') }];
    case 'kubernetes.GatewayMustHaveZeroRoutes':
      return [{ kind: 'gatewayZeroRoutes', call: fn, gateway: nn(arg(3), 'gateway') }];
    case 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted': {
      // (…, controllerName, kubernetes.NewGatewayRef(gwNN, sections...), routeNNs...): each route Accepted by the Gateway.
      const ref = args[4];
      if (ref?.k !== 'call' || ref.fn !== 'kubernetes.NewGatewayRef' || ref.args[0] === undefined) throw new NotParsed('the Gateway is not kubernetes.NewGatewayRef(...)');
      const gateway = nn(evaluate(ref.args[0], scope), 'gateway');
      const routes: Plain[] = [];
      for (const a of args.slice(5)) {
        const v = evaluate(a.k === 'spread' ? a.of : a, scope);
        routes.push(...(a.k === 'spread' && Array.isArray(v) ? v : [v]));
      }
      return routes.map((r) => ({ kind: 'routeCondition', call: fn, route: nn(r, 'route'), gateway, condition: { type: 'Accepted', status: 'True', reason: 'Accepted' } }));
    }
    default:
      return [{ kind: 'unread', call: fn, why: 'not checked by this runner' }];
  }
}
