import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { tempManifestDir } from '../../helpers/manifests.ts';
import { decideGrpc } from '../../gateway-conformance/grpc-scope.ts';
import { compareEchoedHeaders, compareGrpc, type GrpcReply } from '../../gateway-conformance/grpc-runner.ts';
import { readGrpcTestFile, type GrpcCase } from '../../gateway-conformance/grpc-suite-source.ts';

afterEach(cleanupAll);

// The shapes of the suite's grpcroute-*.go files (a table, metadata.MD, codes, sections, a weighted distribution).
const GO = `package tests
var GRPCSample = confsuite.ConformanceTest{
	ShortName:   "GRPCSample",
	Description: "sample",
	Manifests:   []string{"tests/grpcroute-sample.yaml"},
	Features:    []features.FeatureName{features.SupportGateway, features.SupportGRPCRoute},
	Provisional: true,
	Test: func(t *testing.T, suite *confsuite.ConformanceTestSuite) {
		ns := confsuite.InfrastructureNamespace
		gwNN := types.NamespacedName{Name: "gw", Namespace: ns}
		gwAddr := kubernetes.GatewayAndRoutesMustBeAccepted(t, suite.Client, suite.TimeoutConfig, suite.ControllerName, kubernetes.NewGatewayRef(gwNN, "listener-3"), &v1.GRPCRoute{}, true, routeNN)
		testCases := []grpc.ExpectedResponse{{
			EchoRequest: &pb.EchoRequest{},
			RequestMetadata: &grpc.RequestMetadata{Authority: "bar.com", Metadata: map[string]string{"Version": "two", "Color": "orange"}},
			Response: grpc.Response{Headers: &metadata.MD{"X-Add": {"a", "b"}}},
			Backend:   "grpc-infra-backend-v1",
			Namespace: ns,
		}, {
			EchoThreeRequest: &pb.EchoRequest{},
			Response:         grpc.Response{Code: codes.Unimplemented},
		}}
		expectedWeights := map[string]float64{"grpc-infra-backend-v1": 0.7, "grpc-infra-backend-v2": 0.3}
		weight.TestWeightedDistribution(sender, expectedWeights)
	},
}`;

async function parse(src: string) {
  const dir = await tempManifestDir('swy-grpc-suite-');
  await mkdir(join(dir, 'tests'));
  await writeFile(join(dir, 'tests', 'grpcroute-sample.go'), src);
  return readGrpcTestFile(dir, 'grpcroute-sample.go', new Map([['InfrastructureNamespace', 'gateway-conformance-infra']]));
}

const reply = (code: number, pod = '', method = 'Echo', namespace = 'gateway-conformance-infra', headers: { key: string; value: string }[] = []): GrpcReply => ({
  code,
  details: '',
  response: code === 0 ? { assertions: { fully_qualified_method: `/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/${method}`, headers, context: { namespace, pod } } } : undefined,
});

describe('GRPCRoute conformance tests read from Go', () => {
  it('reads the table, the Gateway sections, the weights and the suite names of the rows', async () => {
    const [test] = await parse(GO);
    expect(test).toMatchObject({ shortName: 'GRPCSample', features: ['Gateway', 'GRPCRoute'], manifests: ['tests/grpcroute-sample.yaml'], provisional: true, notParsed: undefined });
    expect(test!.weights).toEqual({ 'grpc-infra-backend-v1': 0.7, 'grpc-infra-backend-v2': 0.3 });
    expect(test!.cases.map((c) => [c.name, c.method, c.authority, c.metadata, c.code, c.headers, c.backend, c.namespace, c.gateway.sections])).toEqual([
      ["0 request to 'bar.com/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo' with headers '{Color:orange,Version:two}' should go to grpc-infra-backend-v1", 'Echo', 'bar.com', { Version: 'two', Color: 'orange' }, 0, { 'X-Add': ['a', 'b'] }, 'grpc-infra-backend-v1', 'gateway-conformance-infra', ['listener-3']],
      ["1 request to '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoThree' should receive a Unimplemented (12)", 'EchoThree', undefined, {}, 12, undefined, '', '', ['listener-3']],
    ]);
    expect(decideGrpc(test!, new Set(['Gateway', 'GRPCRoute']), true)).toEqual({ run: true, notes: ['provisional in the suite'] });
    expect(decideGrpc(test!, new Set(['Gateway']), true)).toMatchObject({ run: false, kind: 'out of scope' });
  });

  it('marks a row it cannot read as not parsed, never as a row', async () => {
    const [test] = await parse(GO.replace('Backend:   "grpc-infra-backend-v1"', 'Backend: fmt.Sprintf("b-%d", i)'));
    expect(test!.notParsed).toMatch(/computed value: fmt.Sprintf/);
    expect(decideGrpc(test!, 'all', true)).toMatchObject({ run: false, kind: 'not parsed' });
    const [two] = await parse(GO.replace('EchoThreeRequest: &pb.EchoRequest{},', 'EchoThreeRequest: &pb.EchoRequest{}, EchoRequest: &pb.EchoRequest{},'));
    expect(two!.notParsed).toMatch(/one request type/);
  });

  it("compares as the suite's compareResponse: code, then method, namespace and pod prefix for OK", async () => {
    const [test] = await parse(GO);
    const [ok, unimplemented] = test!.cases as [GrpcCase, GrpcCase];
    expect(compareGrpc(ok, reply(0, 'grpc-infra-backend-v1-5d8f7c9b4-ax0'))).toBeUndefined();
    expect(compareGrpc(ok, reply(0, 'grpc-infra-backend-v2-5d8f7c9b4-ax0'))).toMatch(/pod name to start with grpc-infra-backend-v1/);
    expect(compareGrpc(ok, reply(0, 'grpc-infra-backend-v1-x', 'EchoTwo'))).toMatch(/expected path/);
    expect(compareGrpc(ok, reply(0, 'grpc-infra-backend-v1-x', 'Echo', 'other'))).toMatch(/namespace/);
    expect(compareGrpc(ok, reply(12))).toMatch(/Unimplemented \(12\)/);
    expect(compareGrpc(unimplemented, reply(12))).toBeUndefined();
    expect(compareGrpc(unimplemented, reply(5))).toMatch(/expected status code to be Unimplemented \(12\), but got NotFound \(5\)/);
    // Response.Headers: only a note, values joined as a proxy may fold them.
    expect(compareEchoedHeaders(ok, reply(0, 'p', 'Echo', 'n', [{ key: 'x-add', value: 'a' }, { key: 'x-add', value: 'b' }]))).toBeUndefined();
    expect(compareEchoedHeaders(ok, reply(0, 'p', 'Echo', 'n', [{ key: 'x-add', value: 'a' }]))).toMatch(/X-Add: want/);
  });
});
