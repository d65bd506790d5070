/**
 * Which listeners of Switchyard's Gateways are served (gateway.networking.k8s.io/v1, Listener docs):
 * - protocols HTTP and HTTPS; the others are reported (reason UnsupportedProtocol);
 * - every Gateway of ours opens its ports on the one --gateway-address, so listeners sharing a port must
 *   be compatible across ALL of them: the same port with HTTP and HTTPS is a ProtocolConflict, the same
 *   port, protocol and hostname a HostnameConflict. Within one Gateway every listener in a conflict is
 *   left out (the spec: a Gateway is accepted with only the listeners not in conflict); across Gateways
 *   the older Gateway (creationTimestamp, then namespace/name) keeps its listener, the younger one's is
 *   conflicted, so adding a Gateway never takes a port away from one already serving;
 * - HTTPS terminates TLS (`tls.mode: Terminate`, the default) with `certificateRefs` to
 *   `kubernetes.io/tls` Secrets, of the Gateway's namespace or of another one whose ReferenceGrant
 *   allows Gateways of the Gateway's namespace; a listener with any reference that does not resolve is
 *   not served (InvalidCertificateRef, RefNotPermitted). Certificates are parsed here, once per change.
 * Pure, and memoised per store view: attachRoutes and compile ask for the same plan.
 */
import { DEFAULT_GATEWAY_CONTROLLER, GATEWAY_GROUP, type GatewayListenerRec, type GatewayRec, type ReferenceGrantRec } from '../model/gateway-records.ts';
import { serviceKey } from '../model/keys.ts';
import type { StoreView } from '../model/store-view.ts';
import type { Diagnostic, GatewayListenerState, ListenerCondition, TlsCertificate } from '../snapshot/types.ts';
import { tlsSecretChecker } from './certificates.ts';
import { diag } from './diagnostics.ts';
import type { ListenerProblem } from './gateway-attach.ts';
import { compareByAge } from './routes.ts';

/** A listener Switchyard serves, with its certificate when HTTPS. */
export interface ServedListener {
  readonly gateway: GatewayRec;
  readonly listener: GatewayListenerRec;
  readonly cert?: { readonly certificate: TlsCertificate; readonly fingerprint: string };
}

export interface ListenerPlan {
  /** `Gateway/ns/name` → its served listeners, in listener order. */
  readonly served: ReadonlyMap<string, readonly ServedListener[]>;
  /** `Gateway/ns/name` → listener name → why it is not served. */
  readonly problems: ReadonlyMap<string, ReadonlyMap<string, ListenerProblem>>;
  /** Every listener of Switchyard's Gateways, oldest Gateway first, in listener order. */
  readonly states: readonly GatewayListenerState[];
  readonly diagnostics: readonly Diagnostic[];
}

const SERVED_PROTOCOLS: ReadonlySet<string> = new Set(['HTTP', 'HTTPS']);
const OK_ACCEPTED: ListenerCondition = { status: true, reason: 'Accepted', message: 'listener accepted' };
const NO_CONFLICTS: ListenerCondition = { status: false, reason: 'NoConflicts', message: 'no conflicts' };
const REFS_OK: ListenerCondition = { status: true, reason: 'ResolvedRefs', message: 'all references resolved' };
const PROGRAMMED: ListenerCondition = { status: true, reason: 'Programmed', message: 'served' };

/** The Gateways whose GatewayClass's controllerName is `controllerName` (default Switchyard's), oldest first. */
export function ourGateways(view: StoreView, controllerName: string | undefined): GatewayRec[] {
  const controller = controllerName ?? DEFAULT_GATEWAY_CONTROLLER;
  const ours = new Set<string>();
  for (const c of view.gatewayClasses?.values() ?? []) if (c.controllerName === controller) ours.add(c.meta.name);
  return [...(view.gateways?.values() ?? [])].filter((g) => ours.has(g.gatewayClassName)).sort(compareByAge);
}

const memo = new WeakMap<StoreView, { readonly key: string; readonly now: number | undefined; readonly plan: ListenerPlan }>();

/**
 * The listener plan of `gateways` (Switchyard's, any order) in `view`, certificates checked at `now`;
 * computed once per view, Gateway set and `now`. Without `now`, the plan last made for the view and
 * Gateways is reused whatever its time (what compile made before attaching routes); if none, certificates
 * are not checked against a time.
 */
export function planListeners(view: StoreView, gateways: readonly GatewayRec[], now?: number): ListenerPlan {
  const sorted = [...gateways].sort(compareByAge);
  const key = sorted.map((g) => `${g.meta.namespace}/${g.meta.name}`).join('|');
  const hit = memo.get(view);
  if (hit?.key === key && (now === undefined || hit.now === now)) return hit.plan;
  const plan = buildPlan(view, sorted, now);
  memo.set(view, { key, now, plan });
  return plan;
}

interface Verdict {
  problem: ListenerProblem | undefined;
  cert: ServedListener['cert'];
  refs: ListenerCondition;
}

function buildPlan(view: StoreView, gateways: readonly GatewayRec[], now: number | undefined): ListenerPlan {
  const diagnostics: Diagnostic[] = [];
  const served = new Map<string, ServedListener[]>();
  const problems = new Map<string, Map<string, ListenerProblem>>();
  const states: GatewayListenerState[] = [];
  /** Port → protocol and owner, claimed by the older Gateways' served-or-valid listeners. */
  const portProtocol = new Map<number, { protocol: string; owner: string }>();
  const claimed = new Map<string, string>();
  const check = tlsSecretChecker(now);
  const grants = [...(view.referenceGrants?.values() ?? [])];
  for (const gw of gateways) {
    const gwKey = `Gateway/${gw.meta.namespace}/${gw.meta.name}`;
    const verdicts = new Map<GatewayListenerRec, Verdict>();
    const fail = (l: GatewayListenerRec, problem: ListenerProblem, code: string): void => {
      verdicts.set(l, { problem, cert: undefined, refs: REFS_OK });
      diagnostics.push(diag('warning', code, gw, `listener ${l.name} (port ${l.port}): ${problem.message}; not served (reason ${problem.reason})`));
    };
    const candidates = gw.listeners.filter((l) => {
      if (SERVED_PROTOCOLS.has(l.protocol)) return true;
      fail(l, { condition: 'Accepted', reason: 'UnsupportedProtocol', message: `protocol ${l.protocol} is not served (HTTP and HTTPS only)` }, 'GATEWAY_LISTENER_UNSUPPORTED');
      return false;
    });
    // Within the Gateway: every listener in a conflict is left out.
    const inConflict = new Set<GatewayListenerRec>();
    for (const l of candidates) {
      const others = candidates.filter((o) => o !== l && o.port === l.port);
      const protocolClash = others.find((o) => o.protocol !== l.protocol);
      const hostClash = others.filter((o) => o.protocol === l.protocol && o.hostname === l.hostname);
      if (protocolClash) {
        fail(l, { condition: 'Conflicted', reason: 'ProtocolConflict', message: `port ${l.port} is also ${protocolClash.protocol} for listener ${protocolClash.name} of this Gateway` }, 'GATEWAY_LISTENER_CONFLICT');
      } else if (hostClash.length > 0) {
        const names = [l, ...hostClash].map((o) => o.name).join(', ');
        fail(l, { condition: 'Conflicted', reason: 'HostnameConflict', message: `listeners ${names} have the same port ${l.port}, protocol and hostname ${l.hostname ?? '(none)'}` }, 'GATEWAY_LISTENER_CONFLICT');
      } else continue;
      inConflict.add(l);
    }
    // Against the older Gateways' listeners on the same address.
    for (const l of candidates) {
      if (inConflict.has(l)) continue;
      const taken = portProtocol.get(l.port);
      const owner = claimed.get(`${l.port}|${l.protocol}|${l.hostname ?? ''}`);
      if (taken !== undefined && taken.protocol !== l.protocol) {
        fail(l, { condition: 'Conflicted', reason: 'ProtocolConflict', message: `port ${l.port} is ${taken.protocol} for the older listener ${taken.owner}` }, 'GATEWAY_LISTENER_CONFLICT');
        continue;
      }
      if (owner !== undefined) {
        fail(l, { condition: 'Conflicted', reason: 'HostnameConflict', message: `the older listener ${owner} has the same port ${l.port}, protocol ${l.protocol} and hostname ${l.hostname ?? '(none)'}` }, 'GATEWAY_LISTENER_CONFLICT');
        continue;
      }
      const name = `${gw.meta.namespace}/${gw.meta.name}/${l.name}`;
      portProtocol.set(l.port, { protocol: l.protocol, owner: name });
      claimed.set(`${l.port}|${l.protocol}|${l.hostname ?? ''}`, name);
      if (l.protocol !== 'HTTPS') {
        verdicts.set(l, { problem: undefined, cert: undefined, refs: REFS_OK });
        continue;
      }
      const verdict = resolveCertificate(gw, l, view, grants, check);
      verdicts.set(l, verdict);
      if (verdict.problem) diagnostics.push(diag('warning', 'GATEWAY_LISTENER_TLS_INVALID', gw, `listener ${l.name} (port ${l.port}): ${verdict.problem.message}; not served (reason ${verdict.problem.reason})`));
    }
    const servedHere: ServedListener[] = [];
    const problemsHere = new Map<string, ListenerProblem>();
    for (const l of gw.listeners) {
      const v = verdicts.get(l)!;
      if (v.problem) problemsHere.set(l.name, v.problem);
      else servedHere.push({ gateway: gw, listener: l, ...(v.cert ? { cert: v.cert } : {}) });
      states.push(stateOf(gw, l, v));
    }
    served.set(gwKey, servedHere);
    problems.set(gwKey, problemsHere);
  }
  return { served, problems, states, diagnostics };
}

function stateOf(gw: GatewayRec, l: GatewayListenerRec, v: Verdict): GatewayListenerState {
  const p = v.problem;
  const cond = (reason: string): ListenerCondition => ({ status: false, reason, message: p!.message });
  return {
    namespace: gw.meta.namespace,
    gateway: gw.meta.name,
    listener: l.name,
    port: l.port,
    protocol: l.protocol,
    hostname: l.hostname,
    accepted: p?.condition === 'Accepted' ? cond(p.reason) : OK_ACCEPTED,
    conflicted: p?.condition === 'Conflicted' ? { status: true, reason: p.reason, message: p.message } : NO_CONFLICTS,
    resolvedRefs: p?.condition === 'ResolvedRefs' ? cond(p.reason) : v.refs,
    programmed: p === undefined ? PROGRAMMED : cond('Invalid'),
  };
}

/** An HTTPS listener's certificate: every reference must resolve; the first one serves. */
function resolveCertificate(gw: GatewayRec, l: GatewayListenerRec, view: StoreView, grants: readonly ReferenceGrantRec[], check: ReturnType<typeof tlsSecretChecker>): Verdict {
  const bad = (reason: string, message: string, condition: ListenerProblem['condition'] = 'ResolvedRefs'): Verdict => {
    const problem = { condition, reason, message } as ListenerProblem;
    return { problem, cert: undefined, refs: condition === 'ResolvedRefs' ? { status: false, reason, message } : REFS_OK };
  };
  const tls = l.tls;
  if (tls?.mode === 'Passthrough') return bad('UnsupportedProtocol', 'tls.mode Passthrough is not supported on an HTTPS listener (Terminate only)', 'Accepted');
  if (tls === undefined || tls.certificateRefs.length === 0) return bad('InvalidCertificateRef', 'an HTTPS listener needs tls.certificateRefs');
  let first: Verdict['cert'];
  for (const [i, ref] of tls.certificateRefs.entries()) {
    const what = `tls.certificateRefs[${i}] ${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} ${serviceKey(ref.namespace, ref.name)}`;
    if (ref.group !== '' || ref.kind !== 'Secret') return bad('InvalidCertificateRef', `${what}: only core Secrets are supported`);
    if (ref.namespace !== gw.meta.namespace && !granted(grants, gw.meta.namespace, ref)) {
      return bad('RefNotPermitted', `${what}: no ReferenceGrant in namespace ${ref.namespace} allows Gateways of namespace ${gw.meta.namespace} to refer to it`);
    }
    const checked = check(serviceKey(ref.namespace, ref.name), view.secrets.get(`Secret/${ref.namespace}/${ref.name}`));
    if (checked.cert === undefined) return bad('InvalidCertificateRef', `${what}: ${checked.reason}`);
    first ??= { certificate: checked.cert, fingerprint: checked.fingerprint };
  }
  return { problem: undefined, cert: first, refs: REFS_OK };
}

/** ReferenceGrant (v1beta1): in the Secret's namespace, from Gateways of `fromNamespace`, to that Secret or every Secret. */
function granted(grants: readonly ReferenceGrantRec[], fromNamespace: string, ref: { readonly namespace: string; readonly name: string }): boolean {
  return grants.some(
    (g) =>
      g.meta.namespace === ref.namespace &&
      g.from.some((f) => f.group === GATEWAY_GROUP && f.kind === 'Gateway' && f.namespace === fromNamespace) &&
      g.to.some((t) => t.group === '' && t.kind === 'Secret' && (t.name === undefined || t.name === ref.name)),
  );
}
