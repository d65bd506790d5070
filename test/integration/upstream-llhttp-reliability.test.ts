/**
 * The reliability suites again, with `--upstream-client llhttp`: connection failures, resets, retries,
 * passive ejection, pods killed and replaced under load, draining (issue #19). The rest of the upstream
 * suites run in upstream-llhttp.test.ts, which explains how.
 */
import { useSwitchyardArgs } from '../helpers/switchyard.ts';

useSwitchyardArgs(['--upstream-client', 'llhttp']);

await import('./reliability/retries.test.ts');
await import('./reliability/outlier-detection.test.ts');
await import('./reliability/load-faults.test.ts');
await import('./reliability/lifecycle.test.ts');
