import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendOfPod, judgeDistribution } from '../../gateway-conformance/distribution.ts';
import { goCheckServerIdentity } from '../../gateway-conformance/round-trip.ts';
import { decide } from '../../gateway-conformance/scope.ts';
import { checkStatus, type AdminStatus } from '../../gateway-conformance/status.ts';
import { readTestFile, type SuiteTest } from '../../gateway-conformance/suite-source.ts';

// A test file in the suite's style with what this round taught the reader: a range loop over an anonymous
// struct table sent over TLS, status assertions, a weighted-distribution check and a mid-test Delete.
const GO = `
package tests

var TLSLoop = confsuite.ConformanceTest{
	ShortName: "TLSLoop",
	Features:  []features.FeatureName{features.SupportGateway, features.SupportHTTPRoute},
	Manifests: []string{"tests/tls-loop.yaml"},
	Test: func(t *testing.T, suite *confsuite.ConformanceTestSuite) {
		ns := confsuite.InfrastructureNamespace
		routeNN := types.NamespacedName{Name: "r", Namespace: ns}
		gwNN := types.NamespacedName{Name: "gw", Namespace: ns}
		gwAddr := kubernetes.GatewayAndHTTPRoutesMustBeAccepted(t, suite.Client, suite.TimeoutConfig, suite.ControllerName, kubernetes.NewGatewayRef(gwNN), routeNN)
		kubernetes.HTTPRouteMustHaveCondition(t, suite.Client, suite.TimeoutConfig, routeNN, gwNN, metav1.Condition{
			Type:   string(v1.RouteConditionAccepted),
			Status: metav1.ConditionFalse,
			Reason: string(v1.RouteReasonNoMatchingParent),
		})
		serverCertPem, _, err := kubernetes.GetTLSSecret(suite.Client, certNN)
		cases := []struct {
			host       string
			statusCode int
			backend    string
			serverName string
		}{
			{serverName: "a.org", host: "a.org", statusCode: 200, backend: confsuite.InfraBackendServiceNameV1},
			{serverName: "a.org", host: "b.org", statusCode: 421},
		}
		for i, tc := range cases {
			expected := http.ExpectedResponse{
				Request:   http.Request{Host: tc.host, Path: "/", Protocol: roundtripper.H2Protocol},
				Response:  http.Response{StatusCodes: []int{tc.statusCode}},
				Backend:   tc.backend,
				Namespace: ns,
			}
			t.Run(expected.GetTestCaseName(i), func(t *testing.T) {
				tls.MakeTLSRequestAndExpectEventuallyConsistentResponse(t, suite.RoundTripper, suite.TimeoutConfig, gwAddr, serverCertPem, nil, nil, tc.serverName, expected)
			})
		}
	},
}

var FillSlices = confsuite.ConformanceTest{
	ShortName: "FillSlices",
	Features:  []features.FeatureName{features.SupportGateway},
	Manifests: []string{"tests/f.yaml"},
	Test: func(t *testing.T, suite *confsuite.ConformanceTestSuite) {
		var (
			manual = []string{"manual"}
			managed = []string{"headless"}
			all = make([]string, 0, len(manual)+len(managed))
			ns = confsuite.InfrastructureNamespace
			gwNN = types.NamespacedName{Name: "gw", Namespace: ns}
		)
		all = append(all, manual...)
		all = append(all, managed...)
		gwAddr := kubernetes.GatewayAndHTTPRoutesMustBeAccepted(t, suite.Client, suite.TimeoutConfig, suite.ControllerName, kubernetes.NewGatewayRef(gwNN))
		deployment := &appsv1.Deployment{}
		err := suite.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: confsuite.InfraBackendServiceNameV1}, deployment)
		pods := &corev1.PodList{}
		err = suite.Client.List(ctx, pods, client.InNamespace(ns))
		setupEndpointSlices(t, suite.Client, manual, ns, pods)
		for i, path := range all {
			expected := http.ExpectedResponse{Request: http.Request{Path: "/" + path}, Backend: confsuite.InfraBackendServiceNameV1}
			http.MakeRequestAndExpectEventuallyConsistentResponse(t, suite.RoundTripper, suite.TimeoutConfig, gwAddr, expected)
		}
	},
}

var WeightAndDelete = confsuite.ConformanceTest{
	ShortName: "WeightAndDelete",
	Features:  []features.FeatureName{features.SupportGateway},
	Manifests: []string{"tests/w.yaml"},
	Test: func(t *testing.T, suite *confsuite.ConformanceTestSuite) {
		gwNN := types.NamespacedName{Name: "gw", Namespace: "infra"}
		gwAddr := kubernetes.GatewayAndHTTPRoutesMustBeAccepted(t, suite.Client, suite.TimeoutConfig, suite.ControllerName, kubernetes.NewGatewayRef(gwNN))
		expected := http.ExpectedResponse{Request: http.Request{Path: "/"}, Response: http.Response{StatusCodes: []int{200}}}
		http.MakeRequestAndExpectEventuallyConsistentResponse(t, suite.RoundTripper, suite.TimeoutConfig, gwAddr, expected)
		expectedWeights := map[string]float64{confsuite.InfraBackendServiceNameV1: 0.7, "v2": 0.3, "v3": 0.0}
		sender := weight.NewFunctionBasedSender(func() (string, error) { return "", nil })
		weight.TestWeightedDistribution(sender, expectedWeights)
		rg := v1beta1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Name: "grant", Namespace: "web"}}
		require.NoError(t, suite.Client.Delete(ctx, &rg))
		http.MakeRequestAndExpectEventuallyConsistentResponse(t, suite.RoundTripper, suite.TimeoutConfig, gwAddr, http.ExpectedResponse{
			Request: http.Request{Path: "/"}, Response: http.Response{StatusCode: 500},
		})
	},
}
`;

let dir = '';
let tests: SuiteTest[] = [];
const constants = new Map([
  ['InfrastructureNamespace', 'infra'],
  ['InfraBackendServiceNameV1', 'infra-backend-v1'],
  ['roundtripper.H2Protocol', 'H2'],
]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swy-gwconf-unit-'));
  await mkdir(join(dir, 'tests'));
  await writeFile(join(dir, 'tests', 'x.go'), GO);
  tests = await readTestFile(dir, 'x.go', constants);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('reading suite tests', () => {
  it('expands a range loop over a struct table, one row per element, with the TLS send\'s SNI', () => {
    const t = tests.find((x) => x.shortName === 'TLSLoop')!;
    expect(t.notParsed).toBeUndefined();
    expect(t.cases.map((c) => [c.request.host, c.request.protocol, c.response.statusCodes, c.backend, c.tls?.serverName, c.gateway.name])).toEqual([
      ['a.org', 'H2', [200], 'infra-backend-v1', 'a.org', 'gw'],
      // A field left out of the element is Go's zero value.
      ['b.org', 'H2', [421], '', 'a.org', 'gw'],
    ]);
    expect(decide(t, 'all')).toMatchObject({ run: true });
  });

  it('reads status assertions with the API\'s condition names', () => {
    const t = tests.find((x) => x.shortName === 'TLSLoop')!;
    expect(t.status).toEqual([
      { kind: 'routeCondition', call: 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted', route: { namespace: 'infra', name: 'r' }, gateway: { namespace: 'infra', name: 'gw' }, condition: { type: 'Accepted', status: 'True', reason: 'Accepted' } },
      { kind: 'routeCondition', call: 'kubernetes.HTTPRouteMustHaveCondition', route: { namespace: 'infra', name: 'r' }, gateway: { namespace: 'infra', name: 'gw' }, condition: { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' } },
    ]);
  });

  it('reads a weighted-distribution check and a mid-test Delete, rows after it marked', () => {
    const t = tests.find((x) => x.shortName === 'WeightAndDelete')!;
    expect(t.notParsed).toBeUndefined();
    expect(t.distribution).toMatchObject({ weights: { 'infra-backend-v1': 0.7, v2: 0.3, v3: 0 }, row: { request: { path: '/' } } });
    expect(t.deletions).toEqual([{ kind: 'ReferenceGrant', namespace: 'web', name: 'grant' }]);
    expect(t.cases.map((c) => [c.response.statusCodes, c.afterDeletions])).toEqual([[[200], 0], [[500], 1]]);
    expect(decide(t, 'all')).toMatchObject({ run: true });
  });
});

describe('reading a test that fills its own EndpointSlices', () => {
  it('evaluates make/append and the loop over the result, and reads setupEndpointSlices\' Deployment', () => {
    const t = tests.find((x) => x.shortName === 'FillSlices')!;
    expect(t.notParsed).toBeUndefined();
    expect(t.cases.map((c) => c.request.path)).toEqual(['/manual', '/headless']);
    expect(t.endpointFills).toEqual([{ namespace: 'infra', slices: ['manual-ip4', 'manual-ip6'], deployment: 'infra/infra-backend-v1' }]);
    expect(decide(t, 'all')).toMatchObject({ run: true });
  });
});

describe('the suite\'s checks', () => {
  it('judges a distribution as weight.TestWeightedDistribution does', () => {
    expect(backendOfPod('infra-backend-v1-5d8f7c9b4-ax0')).toBe('infra-backend-v1');
    const weights = { a: 0.7, b: 0.3, c: 0 };
    const pods = (na: number, nb: number, nc = 0): string[] => [...Array(na).fill('a-1-x'), ...Array(nb).fill('b-1-x'), ...Array(nc).fill('c-1-x')];
    expect(judgeDistribution(pods(350, 150), weights)).toBeUndefined();
    expect(judgeDistribution(pods(370, 130), weights)).toBeUndefined();
    expect(judgeDistribution(pods(400, 100), weights)).toMatch(/backend "a" weighted traffic of 0.8 not within tolerance 0.7/);
    expect(judgeDistribution(pods(349, 150, 1), weights)).toMatch(/expected 2 backends to receive traffic, but got 3/);
    expect(judgeDistribution(['zz-1-x'], weights)).toMatch(/unexpected pod/);
  });

  it('checks route and Gateway status from the admin API', () => {
    const status: AdminStatus = {
      routes: [{ kind: 'HTTPRoute', name: 'infra/r', parents: [{ parentRef: { namespace: 'infra', name: 'gw' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }] }] }],
      gateways: [{ namespace: 'infra', name: 'gw', listeners: [{ name: 'http', attachedRoutes: 0 }] }],
    };
    const route = { namespace: 'infra', name: 'r' };
    const gateway = { namespace: 'infra', name: 'gw' };
    expect(checkStatus({ kind: 'routeCondition', call: 'c', route, gateway, condition: { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' } }, status)).toBeUndefined();
    expect(checkStatus({ kind: 'routeCondition', call: 'c', route, gateway, condition: { type: 'Accepted', status: 'False', reason: '' } }, status)).toBeUndefined();
    expect(checkStatus({ kind: 'routeCondition', call: 'c', route, gateway, condition: { type: 'Accepted', status: 'True', reason: '' } }, status)).toMatch(/expected Accepted=True/);
    expect(checkStatus({ kind: 'routeCondition', call: 'c', route: { namespace: 'infra', name: 'other' }, gateway, condition: { type: 'Accepted', status: '', reason: '' } }, status)).toMatch(/not in \/api\/v1\/routes/);
    expect(checkStatus({ kind: 'routeNoAcceptedParents', call: 'c', route }, status)).toBeUndefined();
    expect(checkStatus({ kind: 'gatewayZeroRoutes', call: 'c', gateway }, status)).toBeUndefined();
    expect(checkStatus({ kind: 'gatewayZeroRoutes', call: 'c', gateway }, { ...status, gateways: [{ namespace: 'infra', name: 'gw', listeners: [{ name: 'http', attachedRoutes: 1 }] }] })).toMatch(/expected no listeners/);
  });

  it('verifies a certificate name as Go does (a wildcard for one label, even *.org)', () => {
    const cert = { subjectaltname: 'DNS:*, DNS:*.org, DNS:*.wildcard.org' } as Parameters<typeof goCheckServerIdentity>[1];
    expect(goCheckServerIdentity('example.org', cert)).toBeUndefined();
    expect(goCheckServerIdentity('third.wildcard.org', cert)).toBeUndefined();
    expect(goCheckServerIdentity('a.b.example.org', cert)).toBeInstanceOf(Error);
    expect(goCheckServerIdentity('example.com', cert)).toBeInstanceOf(Error);
  });
});
