/**
 * The Gateway API conformance suite's GRPCRoute tests (`tests/grpcroute-*.go`) against the Switchyard CLI,
 * black-box, from manifest files, with @grpc/grpc-js clients and echo pods (grpc-*.ts; README.md here).
 *
 * Runs only when GATEWAY_CONFORMANCE_DIR names the suite; the echo service's .proto is read at run time
 * from GATEWAY_CONFORMANCE_GRPC_PROTO or the suite's `echo-basic/grpcecho.proto`. Without the suite this
 * file is one skipped test and loads nothing else.
 */
import { afterAll, afterEach, describe, it } from 'vitest';

const dirEnv = process.env['GATEWAY_CONFORMANCE_DIR'];

if (dirEnv === undefined || dirEnv === '') {
  describe('gateway-api conformance, GRPCRoute', () => {
    it.skip('set GATEWAY_CONFORMANCE_DIR to the suite\'s conformance/ directory to run it (see test/gateway-conformance/README.md)', () => {});
  });
} else {
  const { writeFile } = await import('node:fs/promises');
  const { cleanupAll } = await import('../helpers/cleanup.ts');
  const { readSuiteConstants } = await import('./suite-source.ts');
  const { readGrpcRouteTests } = await import('./grpc-suite-source.ts');
  const { decideGrpc, grpcFeaturesFromEnv } = await import('./grpc-scope.ts');
  const { findEchoProto, loadEchoService, startGrpcEcho } = await import('./grpc-echo.ts');
  const { runGrpcCase, runGrpcDistribution } = await import('./grpc-runner.ts');
  const { startTestEnv } = await import('./environment.ts');
  const { keepDirOf, rowOptionsFrom, settle, suiteDir, summaryLines, switchyardOptionsFrom, waitReady } = await import('./run-common.ts');

  const env = process.env;
  const dir = suiteDir(dirEnv);
  const features = grpcFeaturesFromEnv(env['GATEWAY_CONFORMANCE_FEATURES']);
  const options = rowOptionsFrom(env);
  const protoPath = findEchoProto(dir, env['GATEWAY_CONFORMANCE_GRPC_PROTO']);
  const service = protoPath === undefined ? undefined : loadEchoService(protoPath);
  const envOptions = {
    ...switchyardOptionsFrom(env),
    // The suite's gRPC backends are echo-basic with GRPC_ECHO_SERVER set; the other Deployments stay HTTP.
    startPod: (dep: Record<string, any>, context: { namespace: string; pod: string }) => {
      const containers = (dep['spec']?.['template']?.['spec']?.['containers'] ?? []) as { env?: { name: string; value?: string }[] }[];
      const grpc = containers.some((c) => (c.env ?? []).some((e) => e.name === 'GRPC_ECHO_SERVER' && e.value !== undefined && e.value !== ''));
      return grpc && service !== undefined ? startGrpcEcho(service, context) : undefined;
    },
  };
  const tests = await readGrpcRouteTests(dir, await readSuiteConstants(dir));
  const summary: import('./run-common.ts').SummaryEntry[] = [];

  describe(`gateway-api conformance, GRPCRoute (${dir})`, () => {
    afterEach(cleanupAll, 30_000);
    afterAll(async () => {
      const lines = summaryLines(summary, 'GRPCRoute tests');
      lines.push(`echo service: ${protoPath ?? 'no grpcecho.proto found (set GATEWAY_CONFORMANCE_GRPC_PROTO)'}`);
      console.log(`\nGateway API conformance summary (GRPCRoute)\n${lines.join('\n')}`);
      if (env['GATEWAY_CONFORMANCE_REPORT']) await writeFile(`${env['GATEWAY_CONFORMANCE_REPORT'].replace(/\.json$/, '')}-grpc.json`, JSON.stringify({ tests: summary }, null, 2));
    });

    for (const test of tests) {
      const verdict = decideGrpc(test, features, service !== undefined);
      const title = `${test.shortName} [${test.file}]`;
      if (!verdict.run) {
        summary.push({ test: test.shortName, result: verdict.kind, reason: verdict.reason });
        it.skip(`${title} — ${verdict.kind}: ${verdict.reason}`, () => {});
        continue;
      }
      it(title, async () => {
        const started = await startTestEnv(dir, test.manifests, { ...envOptions, ...keepDirOf(env, test.shortName) }).catch((err: unknown) => {
          summary.push({ test: test.shortName, result: 'fail', reason: `did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}` });
          throw err;
        });
        await waitReady(started.switchyard.admin);
        const notes = [...verdict.notes];
        const rows = [];
        for (const row of test.cases) rows.push(await runGrpcCase(started, service!, row, options, (n) => notes.push(n)));
        if (test.weights !== undefined && test.cases[0] !== undefined) rows.push(await runGrpcDistribution(started, service!, test.cases[0], test.weights));
        if (!started.perListenerSockets) notes.push('sent to the --listen port (no per-listener sockets)');
        settle(summary, test.shortName, rows, notes);
      }, 300_000);
    }
  });
}
