/**
 * Helpers for tests that change manifests while switchyard runs: the admin view of the file source,
 * and a handshake that waits until the file watcher is attached before a test starts editing.
 */
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getJson } from './http.ts';
import type { RunningSwitchyard } from './switchyard.ts';
import { waitFor } from './wait.ts';

export interface ManifestErrorView {
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly document?: number;
  readonly path?: string;
}

export interface SourceStatus {
  readonly name: string;
  readonly files: number;
  readonly objects: number;
  readonly loaded: boolean;
  readonly lastReload?: { readonly at: string; readonly result: string; readonly applied: readonly string[]; readonly errors: readonly ManifestErrorView[] };
  readonly lastError?: ManifestErrorView;
  readonly rejectedFiles: readonly ManifestErrorView[];
}

export interface ConfigView {
  readonly startedAt: string;
  readonly snapshot: { readonly version: number; readonly hash: string };
  readonly sources: readonly SourceStatus[];
  readonly diagnostics: readonly { severity: string; code: string; kind: string; namespace: string; name: string; message: string }[];
}

/** GET /api/v1/config; the first (file) source's status. */
export async function fileSourceStatus(sy: RunningSwitchyard): Promise<SourceStatus> {
  const res = await getJson<ConfigView>(sy.admin, '/api/v1/config');
  if (res.status !== 200) throw new Error(`/api/v1/config answered ${res.status}`);
  return res.body.sources[0]!;
}

/**
 * Waits until switchyard reacts to file changes in `dir`: writes a probe manifest (an object of a kind
 * Switchyard ignores, so routing is untouched) until a reload applies it, then removes it again.
 *
 * Needed because the watcher is attached asynchronously after start-up: a change made right after the
 * `listening` line can be missed until the periodic rescan (see the test "notices a change made as
 * soon as the proxy reports it is listening"). Tests about other behaviour start editing after this.
 */
export async function waitUntilWatching(sy: RunningSwitchyard, dir: string): Promise<void> {
  const probe = join(dir, 'zz-watch-probe.yaml');
  const filesBefore = (await fileSourceStatus(sy)).files;
  let n = 0;
  await waitFor(
    async () => {
      await writeFile(probe, `# probe ${n++}\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: watch-probe, namespace: default }\n`);
      const picked = await waitFor(async () => (await fileSourceStatus(sy)).lastReload?.applied.includes(probe) || undefined, { timeoutMs: 250, intervalMs: 10 }).catch(() => false);
      return picked;
    },
    { timeoutMs: 5000, intervalMs: 0, what: 'the manifest watcher to report a probe file' },
  );
  await unlink(probe);
  await waitFor(async () => (await fileSourceStatus(sy)).files === filesBefore || undefined, { timeoutMs: 3000, what: 'the probe file to be forgotten' });
}
