/**
 * The public ingress-controller-conformance suite's scenarios against the Switchyard CLI.
 *
 * Runs only when CONFORMANCE_FEATURES names a directory of the suite's `*.feature` files (they are not
 * part of this repository): `npm run conformance` or test/conformance/run.sh, see README.md there.
 * Without it this file is one skipped test and loads nothing else, so `npm test` stays fast.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';

const featuresDir = process.env['CONFORMANCE_FEATURES'];

if (featuresDir === undefined || featuresDir === '') {
  describe('ingress-controller-conformance', () => {
    it.skip('set CONFORMANCE_FEATURES to the suite\'s features/ directory to run it (test/conformance/run.sh does; see test/conformance/README.md)', () => {});
  });
} else {
  const { cleanupAll } = await import('../helpers/cleanup.ts');
  const { loadFeatures, optionsFromEnv, pickleTitle, runPickle, startFeatureEnv } = await import('./runner.ts');
  const options = optionsFromEnv();
  const features = await loadFeatures(featuresDir);

  for (const { file, feature, pickles } of features) {
    describe(`${feature.name} (${file})`, () => {
      let env: Awaited<ReturnType<typeof startFeatureEnv>> | undefined;
      beforeAll(async () => {
        env = await startFeatureEnv(options);
      }, 60_000);
      afterAll(cleanupAll, 30_000);

      for (const pickle of pickles) {
        it(pickleTitle(pickle), async () => {
          if (!env) throw new Error('the feature environment did not start');
          await runPickle(env, pickle);
        }, 150_000);
      }
    });
  }
}
