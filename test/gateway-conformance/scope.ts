/**
 * Which conformance tests this runner runs, and why the others do not: the features Switchyard claims
 * (issue 17, item 3: the Core HTTPRoute features and the Extended ones listed there), and tests whose
 * checks this runner cannot reproduce from files ("out of scope": a Patch of a live object) or read
 * ("not parsed").
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
  // Any listener port is served (the runner moves them all to free loopback ports).
  'GatewayPort8080',
  // Several RequestMirror filters per rule (docs/gateway-api.md, Filters).
  'HTTPRouteRequestMultipleMirrors',
  // 421 when the Host belongs to another HTTPS listener of the port than the SNI's (dataplane/misdirected.ts).
  'GatewayHTTPSListenerDetectMisdirectedRequests',
];

/** Calls that only wait for the suite's set-up (their status side is not checked here). */
const SETUP_CALLS = new Set(['kubernetes.GatewayAndHTTPRoutesMustBeAccepted', 'kubernetes.NewGatewayRef', 'kubernetes.NamespacesMustBeReady', 'kubernetes.GetTLSSecret']);
const REQUEST_CALLS = new Set(['http.MakeRequestAndExpectEventuallyConsistentResponse', 'http.ExpectMirroredRequest', 'tls.MakeTLSRequestAndExpectEventuallyConsistentResponse']);
const WEIGHT_CALLS = new Set(['weight.NewFunctionBasedSender', 'http.AddEntropy', 'http.MakeRequest', 'http.CompareRoundTrip', 'weight.TestWeightedDistribution']);
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
  const tlsOther = test.calls.filter((c) => c.startsWith('tls.') && !REQUEST_CALLS.has(c));
  if (tlsOther.length > 0) return { run: false, kind: 'out of scope', reason: `TLS checks beyond a request table (${tlsOther.join(', ')})` };
  const unread = [...new Set(test.status.flatMap((s) => (s.kind === 'unread' ? [s.call] : [])))];
  // The calls of a weighted-distribution check (its sender and the check itself), run by distribution.ts.
  const weighted = typeof test.distribution === 'object' ? WEIGHT_CALLS : new Set<string>();
  if (typeof test.distribution === 'string') return { run: false, kind: 'not parsed', reason: test.distribution };
  const other = test.calls.filter((c) => !SETUP_CALLS.has(c) && !REQUEST_CALLS.has(c) && !STATUS_CALL.test(c) && !weighted.has(c));
  const notes = unread.length > 0 ? [`status checks not run: ${unread.join(', ')}`] : [];
  if (!test.calls.some((c) => c.endsWith('RequestAndExpectEventuallyConsistentResponse'))) {
    const mutating = other.filter((c) => c.startsWith('suite.Client.') || c.startsWith('suite.Applier.'));
    if (mutating.length > 0) return { run: false, kind: 'out of scope', reason: `status checks after changing cluster objects (${mutating.join(', ')}); files carry no metadata.generation` };
    if (other.length > 0) return { run: false, kind: 'not parsed', reason: `its checks are not a request table (${other.join(', ')})` };
    if (unread.length > 0) return { run: false, kind: 'not parsed', reason: `status checks this runner does not read (${unread.join(', ')})` };
    return { run: true, notes };
  }
  // Deletions of literal objects are made by the runner (the manifest file rewritten without them).
  // So are the reads (Get the Deployment, List its pods) of setupEndpointSlices, emulated from the manifests.
  const handled = (c: string): boolean => (c === 'suite.Client.Delete' && test.deletions.length > 0) || ((c === 'suite.Client.Get' || c === 'suite.Client.List') && test.endpointFills.length > 0);
  const mutations = other.filter((c) => (c.startsWith('suite.Client.') || c.startsWith('suite.Applier.')) && !handled(c));
  if (mutations.length > 0) return { run: false, kind: 'not parsed', reason: `changes or reads cluster objects between its requests (${mutations.join(', ')})` };
  const beyond = other.filter((c) => !handled(c));
  if (beyond.length > 0) return { run: false, kind: 'not parsed', reason: `checks beyond the request table (${beyond.join(', ')})` };
  if (test.notParsed !== undefined) return { run: false, kind: 'not parsed', reason: test.notParsed };
  if (test.cases.length === 0) return { run: false, kind: 'not parsed', reason: 'no ExpectedResponse found' };
  return { run: true, notes };
}

/** The claimed set from GATEWAY_CONFORMANCE_FEATURES: unset → CLAIMED_FEATURES; `all`; or `+A,+B` to add, `A,B` to replace. */
export function featuresFromEnv(value: string | undefined): ReadonlySet<string> | 'all' {
  if (value === undefined || value.trim() === '') return new Set(CLAIMED_FEATURES);
  if (value.trim() === 'all') return 'all';
  const items = value.split(',').map((s) => s.trim().replace(/^Support/, '')).filter((s) => s !== '' && s !== '+');
  if (items.every((s) => s.startsWith('+'))) return new Set([...CLAIMED_FEATURES, ...items.map((s) => s.slice(1).replace(/^Support/, ''))]);
  return new Set(items.map((s) => s.replace(/^\+/, '')));
}
