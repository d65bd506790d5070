/**
 * The Gateway API conformance suite's HTTPRoute tests against the Switchyard CLI, black-box.
 *
 * Runs only when GATEWAY_CONFORMANCE_DIR names the suite's `conformance/` directory (or a checkout holding
 * it); the suite is not part of this repository: test/gateway-conformance/run.sh or `npm run
 * conformance:gateway`, see README.md here. Without it this file is one skipped test and loads nothing
 * else, so `npm test` stays fast. Each suite test is one vitest test: skipped with the reason when it is
 * out of scope or its table cannot be read, else its rows run against a fresh Switchyard.
 */
import { afterAll, afterEach, describe, it } from 'vitest';

const dirEnv = process.env['GATEWAY_CONFORMANCE_DIR'];

if (dirEnv === undefined || dirEnv === '') {
  describe('gateway-api conformance', () => {
    it.skip('set GATEWAY_CONFORMANCE_DIR to the suite\'s conformance/ directory to run it (test/gateway-conformance/run.sh does; see test/gateway-conformance/README.md)', () => {});
  });
} else {
  const { writeFile } = await import('node:fs/promises');
  const { cleanupAll } = await import('../helpers/cleanup.ts');
  const { readHttpRouteTests } = await import('./suite-source.ts');
  const { decide, featuresFromEnv } = await import('./scope.ts');
  const { startTestEnv } = await import('./environment.ts');
  const { pickListener, runCase } = await import('./runner.ts');
  const { runDistribution } = await import('./distribution.ts');
  const { awaitStatus } = await import('./status.ts');
  const { keepDirOf, rowOptionsFrom, settle, suiteDir, summaryLines, switchyardOptionsFrom, waitReady } = await import('./run-common.ts');

  const env = process.env;
  const dir = suiteDir(dirEnv);
  const features = featuresFromEnv(env['GATEWAY_CONFORMANCE_FEATURES']);
  const options = rowOptionsFrom(env);
  const envOptions = switchyardOptionsFrom(env);
  const tests = await readHttpRouteTests(dir);
  const summary: import('./run-common.ts').SummaryEntry[] = [];
  let perListener: boolean | undefined;

  describe(`gateway-api conformance (${dir})`, () => {
    afterEach(cleanupAll, 30_000);
    afterAll(async () => {
      const lines = summaryLines(summary, 'HTTPRoute tests');
      lines.push(perListener === false ? 'requests went to the --listen port: Switchyard opened no socket on the Gateway listener ports' : 'requests went to the Gateway listener ports (--gateway-address 127.0.0.1)');
      console.log(`\nGateway API conformance summary\n${lines.join('\n')}`);
      if (env['GATEWAY_CONFORMANCE_REPORT']) await writeFile(env['GATEWAY_CONFORMANCE_REPORT'], JSON.stringify({ perListenerSockets: perListener, tests: summary }, null, 2));
    });

    for (const test of tests) {
      const verdict = decide(test, features);
      const title = `${test.shortName} [${test.file}]`;
      if (!verdict.run) {
        summary.push({ test: test.shortName, result: verdict.kind, reason: verdict.reason });
        it.skip(`${title} — ${verdict.kind}: ${verdict.reason}`, () => {});
        continue;
      }
      it(title, async () => {
        const started = await startTestEnv(dir, test.manifests, { ...envOptions, endpointFills: test.endpointFills, probeMs: perListener === false ? 300 : 3000, ...keepDirOf(env, test.shortName) }).catch((err: unknown) => {
          summary.push({ test: test.shortName, result: 'fail', reason: `did not start: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}` });
          throw err;
        });
        perListener = started.perListenerSockets;
        await waitReady(started.switchyard.admin);
        const rows = [];
        // The suite's status assertions come first in its tests: /api/v1/routes and /api/v1/gateways stand for the objects' status.
        const adminBase = `http://${started.switchyard.admin.host}:${started.switchyard.admin.port}`;
        for (const check of test.status) {
          if (check.kind === 'unread') continue;
          const subject = 'route' in check ? `HTTPRoute ${check.route.namespace}/${check.route.name}` : `Gateway ${check.gateway.namespace}/${check.gateway.name}`;
          const detail = await awaitStatus(adminBase, check, options.statusMs);
          rows.push({ name: `status ${check.call.replace(/^kubernetes\./, '')} ${subject}${check.kind === 'routeCondition' ? ` ${check.condition.type}=${check.condition.status}/${check.condition.reason}` : ''}`, ok: detail === undefined, detail: detail ?? '' });
        }
        let deleted = 0;
        for (const row of test.cases) {
          // The suite's mid-test deletions, made before the first row that follows them in its source.
          for (; deleted < row.afterDeletions; deleted++) {
            const d = test.deletions[deleted]!;
            if (!(await started.deleteObject(d.kind, d.namespace, d.name))) rows.push({ name: `delete ${d.kind} ${d.namespace}/${d.name}`, ok: false, detail: 'no manifest holds it' });
          }
          // After a change the configuration is no longer static: wait for it as the suite does, up to consistencyMs.
          rows.push(await runCase(started, row, deleted > 0 ? { ...options, stableFailureMs: options.consistencyMs } : options));
        }
        if (typeof test.distribution === 'object') {
          const { row, weights } = test.distribution;
          const listener = pickListener(started.gateways.get(`${row.gateway.namespace}/${row.gateway.name}`) ?? [], row.gateway.sections, row.request.host);
          const result = listener === undefined ? { ok: false, detail: 'no HTTP listener' } : await runDistribution(started, listener, row, weights);
          rows.push({ name: `weighted distribution ${JSON.stringify(weights)}`, ...result });
        }
        settle(summary, test.shortName, rows, [...verdict.notes, ...(started.perListenerSockets ? [] : ['sent to the --listen port (no per-listener sockets)'])]);
      }, 300_000);
    }
  });
}
