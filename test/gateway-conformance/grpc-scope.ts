/**
 * Which GRPCRoute conformance tests the gRPC runner runs: the features Switchyard claims for GRPCRoute
 * (issue 17, item 4: match by service, method and header, the same filters where they apply, weighted
 * backends), and as not parsed the tests whose checks are not a request table (or a weighted
 * distribution) this runner reads.
 */
import type { GrpcSuiteTest } from './grpc-suite-source.ts';

/** Features claimed for GRPCRoute, without the suite's `Support` prefix. */
export const GRPC_CLAIMED_FEATURES: readonly string[] = ['Gateway', 'GRPCRoute', 'GRPCRouteNamedRouteRule', 'GRPCRouteRequestHeaderModifier', 'ReferenceGrant'];

/** Calls the runner carries out: set-up waits, the request table, the weighted distribution. */
const HANDLED = new Set([
  'kubernetes.GatewayAndRoutesMustBeAccepted',
  'kubernetes.NewGatewayRef',
  'kubernetes.NamespacesMustBeReady',
  'grpc.MakeRequestAndExpectEventuallyConsistentResponse',
  'weight.NewFunctionBasedSender',
  'grpc.AddEntropy',
  'weight.TestWeightedDistribution',
]);
const STATUS_CALL = /^kubernetes\.(GRPCRouteMust|HTTPRouteMust|RouteMust|GatewayMust|GatewayStatusMust|GatewayClassMust|ListenerMust)/;

export type GrpcVerdict =
  | { readonly run: true; readonly notes: readonly string[] }
  | { readonly run: false; readonly kind: 'out of scope' | 'not parsed'; readonly reason: string };

/** Decides one test; `haveEcho`: the echo service's .proto was found. */
export function decideGrpc(test: GrpcSuiteTest, features: ReadonlySet<string> | 'all', haveEcho: boolean): GrpcVerdict {
  if (features !== 'all') {
    const missing = test.features.filter((f) => !features.has(f));
    if (missing.length > 0) return { run: false, kind: 'out of scope', reason: `feature${missing.length > 1 ? 's' : ''} not claimed: ${missing.join(', ')}` };
  }
  const status = test.calls.filter((c) => STATUS_CALL.test(c));
  const other = test.calls.filter((c) => !HANDLED.has(c) && !STATUS_CALL.test(c));
  if (other.length > 0) return { run: false, kind: 'not parsed', reason: `checks beyond the request table (${other.join(', ')})` };
  if (test.notParsed !== undefined) return { run: false, kind: 'not parsed', reason: test.notParsed };
  if (test.cases.length === 0) return { run: false, kind: 'not parsed', reason: 'no grpc.ExpectedResponse found' };
  if (!haveEcho) return { run: false, kind: 'not parsed', reason: 'no grpcecho.proto: set GATEWAY_CONFORMANCE_GRPC_PROTO' };
  const notes = status.length > 0 ? [`status checks not run: ${status.join(', ')}`] : [];
  return { run: true, notes: test.provisional ? [...notes, 'provisional in the suite'] : notes };
}

/** The claimed set from GATEWAY_CONFORMANCE_FEATURES, read as scope.ts reads it but from GRPC_CLAIMED_FEATURES. */
export function grpcFeaturesFromEnv(value: string | undefined): ReadonlySet<string> | 'all' {
  if (value === undefined || value.trim() === '') return new Set(GRPC_CLAIMED_FEATURES);
  if (value.trim() === 'all') return 'all';
  const items = value.split(',').map((s) => s.trim().replace(/^\+?Support/, (m) => (m.startsWith('+') ? '+' : ''))).filter((s) => s !== '' && s !== '+');
  if (items.every((s) => s.startsWith('+'))) return new Set([...GRPC_CLAIMED_FEATURES, ...items.map((s) => s.slice(1))]);
  return new Set(items.map((s) => s.replace(/^\+/, '')));
}
