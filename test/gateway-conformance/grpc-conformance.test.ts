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
  const { existsSync } = await import('node:fs');
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { cleanupAll } = await import('../helpers/cleanup.ts');
  const { readSuiteConstants } = await import('./suite-source.ts');
  const { readGrpcRouteTests } = await import('./grpc-suite-source.ts');
  const { decideGrpc, grpcFeaturesFromEnv } = await import('./grpc-scope.ts');
  const { findEchoProto, loadEchoService, startGrpcEcho } = await import('./grpc-echo.ts');
  const { runGrpcCase, runGrpcDistribution } = await import('./grpc-runner.ts');
  const { startTestEnv } = await import('./environment.ts');

  const env = process.env;
  const dir = existsSync(join(dirEnv, 'tests')) && existsSync(join(dirEnv, 'base')) ? dirEnv : join(dirEnv, 'conformance');
  const features = grpcFeaturesFromEnv(env['GATEWAY_CONFORMANCE_FEATURES']);
  const num = (name: string, fallback: number): number => (env[name] ? Number(env[name]) : fallback);
  const options = {
    requiredSuccesses: num('GATEWAY_CONFORMANCE_SUCCESSES', 3),
    consistencyMs: num('GATEWAY_CONFORMANCE_CONSISTENCY_MS', 10_000),
    stableFailureMs: num('GATEWAY_CONFORMANCE_STABLE_FAILURE_MS', 1_500),
  };
  const protoPath = findEchoProto(dir, env['GATEWAY_CONFORMANCE_GRPC_PROTO']);
  const service = protoPath === undefined ? undefined : loadEchoService(protoPath);
  const envOptions = {
    gatewayClass: env['GATEWAY_CONFORMANCE_CLASS'] || 'switchyard',
    controllerName: env['GATEWAY_CONFORMANCE_CONTROLLER'] || 'switchyard.dev/gateway-controller',
    extraArgs: (env['GATEWAY_CONFORMANCE_SWITCHYARD_ARGS'] ?? '').split(/\s+/).filter((a) => a !== ''),
    // The suite's gRPC backends are echo-basic with GRPC_ECHO_SERVER set; the other Deployments stay HTTP.
    startPod: (dep: Record<string, any>, context: { namespace: string; pod: string }) => {
      const containers = (dep['spec']?.['template']?.['spec']?.['containers'] ?? []) as { env?: { name: string; value?: string }[] }[];
      const grpc = containers.some((c) => (c.env ?? []).some((e) => e.name === 'GRPC_ECHO_SERVER' && e.value !== undefined && e.value !== ''));
      return grpc && service !== undefined ? startGrpcEcho(service, context) : undefined;
    },
  };
  const tests = await readGrpcRouteTests(dir, await readSuiteConstants(dir));
  const summary: { test: string; result: string; reason: string; rows?: { name: string; ok: boolean; detail: string }[] }[] = [];

  describe(`gateway-api conformance, GRPCRoute (${dir})`, () => {
    afterEach(cleanupAll, 30_000);
    afterAll(async () => {
      const width = Math.max(...summary.map((s) => s.test.length));
      const lines = summary.map((s) => `${s.test.padEnd(width)}  ${s.result.padEnd(12)}  ${s.reason}`);
      const count = (r: string): number => summary.filter((s) => s.result === r).length;
      lines.push('', `pass ${count('pass')}, fail ${count('fail')}, out of scope ${count('out of scope')}, not parsed ${count('not parsed')} (of ${summary.length} GRPCRoute tests)`);
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
        const started = await startTestEnv(dir, test.manifests, { ...envOptions, ...(env['GATEWAY_CONFORMANCE_KEEP_DIR'] ? { keepDir: join(env['GATEWAY_CONFORMANCE_KEEP_DIR'], test.shortName) } : {}) }).catch((err: unknown) => {
          summary.push({ test: test.shortName, result: 'fail', reason: `did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}` });
          throw err;
        });
        const admin = `http://${started.switchyard.admin.host}:${started.switchyard.admin.port}/readyz`;
        for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
          if ((await fetch(admin).catch(() => undefined))?.status === 200) break;
        }
        const notes = [...verdict.notes];
        const rows = [];
        for (const row of test.cases) rows.push(await runGrpcCase(started, service!, row, options, (n) => notes.push(n)));
        if (test.weights !== undefined && test.cases[0] !== undefined) rows.push(await runGrpcDistribution(started, service!, test.cases[0], test.weights));
        const failed = rows.filter((r) => !r.ok);
        if (!started.perListenerSockets) notes.push('sent to the --listen port (no per-listener sockets)');
        summary.push({ test: test.shortName, result: failed.length === 0 ? 'pass' : 'fail', reason: [`${rows.length - failed.length}/${rows.length} rows`, ...notes].join('; '), rows });
        if (failed.length > 0) throw new Error(`${failed.length} of ${rows.length} rows failed:\n${failed.map((f) => `  ${f.name}: ${f.detail}`).join('\n')}`);
      }, 300_000);
    }
  });
}
