/**
 * Which conformance tests this runner runs, and why the others do not: the features Switchyard claims
 * (issue 17, item 3: the Core HTTPRoute features and the Extended ones listed there), TLS listeners and
 * status-only tests out of scope, and tests whose checks are not a request table "not parsed".
 */
import type { SuiteTest } from './suite-source.ts';

/** Features Switchyard claims, without the suite's `Support` prefix. */
export const CLAIMED_FEATURES: readonly string[] = [
  'Gateway',
  'HTTPRoute',
  'ReferenceGrant',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteMethodMatching',
  'HTTPRouteResponseHeaderModification',
  'HTTPRoutePortRedirect',
  'HTTPRouteSchemeRedirect',
  'HTTPRoutePathRedirect',
  'HTTPRouteHostRewrite',
  'HTTPRoutePathRewrite',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout',
  'HTTPRouteParentRefPort',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
];

/** Calls that only wait for the suite's set-up (their status side is not checked here). */
const SETUP_CALLS = new Set(['kubernetes.GatewayAndHTTPRoutesMustBeAccepted', 'kubernetes.NewGatewayRef', 'kubernetes.NamespacesMustBeReady']);
const REQUEST_CALLS = new Set(['http.MakeRequestAndExpectEventuallyConsistentResponse', 'http.ExpectMirroredRequest']);
const STATUS_CALL = /^kubernetes\.(HTTPRouteMust|GatewayMust|GatewayStatusMust|GatewayClassMust|ListenerMust)/;

export type Verdict =
  | { readonly run: true; readonly notes: readonly string[] }
  | { readonly run: false; readonly kind: 'out of scope' | 'not parsed'; readonly reason: string };

/** Decides one test; `features` is the claimed set (or 'all'). */
export function decide(test: SuiteTest, features: ReadonlySet<string> | 'all'): Verdict {
  if (features !== 'all') {
    const missing = test.features.filter((f) => !features.has(f));
    if (missing.length > 0) return { run: false, kind: 'out of scope', reason: `feature${missing.length > 1 ? 's' : ''} not claimed: ${missing.join(', ')}` };
  }
  if (test.calls.some((c) => c.startsWith('tls.') || c === 'kubernetes.GetTLSSecret')) return { run: false, kind: 'out of scope', reason: 'needs an HTTPS listener (TLS requests)' };
  const status = test.calls.filter((c) => STATUS_CALL.test(c));
  const other = test.calls.filter((c) => !SETUP_CALLS.has(c) && !REQUEST_CALLS.has(c) && !STATUS_CALL.test(c));
  if (!test.calls.includes('http.MakeRequestAndExpectEventuallyConsistentResponse')) {
    if (other.length === 0) return { run: false, kind: 'out of scope', reason: `status checks only (${status.join(', ') || 'none'}); status is not read by this runner` };
    return { run: false, kind: 'not parsed', reason: `its checks are not a request table (${other.join(', ')})` };
  }
  const mutations = other.filter((c) => c.startsWith('suite.Client.') || c.startsWith('suite.Applier.'));
  if (mutations.length > 0) return { run: false, kind: 'not parsed', reason: `changes or reads cluster objects between its requests (${mutations.join(', ')})` };
  if (other.length > 0) return { run: false, kind: 'not parsed', reason: `checks beyond the request table (${other.join(', ')})` };
  if (test.notParsed !== undefined) return { run: false, kind: 'not parsed', reason: test.notParsed };
  if (test.cases.length === 0) return { run: false, kind: 'not parsed', reason: 'no ExpectedResponse found' };
  return { run: true, notes: status.length > 0 ? [`status checks not run: ${status.join(', ')}`] : [] };
}

/** The claimed set from GATEWAY_CONFORMANCE_FEATURES: unset → CLAIMED_FEATURES; `all`; or `+A,+B` to add, `A,B` to replace. */
export function featuresFromEnv(value: string | undefined): ReadonlySet<string> | 'all' {
  if (value === undefined || value.trim() === '') return new Set(CLAIMED_FEATURES);
  if (value.trim() === 'all') return 'all';
  const items = value.split(',').map((s) => s.trim().replace(/^Support/, '')).filter((s) => s !== '' && s !== '+');
  if (items.every((s) => s.startsWith('+'))) return new Set([...CLAIMED_FEATURES, ...items.map((s) => s.slice(1).replace(/^Support/, ''))]);
  return new Set(items.map((s) => s.replace(/^\+/, '')));
}
