/**
 * Hot reload without restart: every manifest change (edit, new file, delete, rename, editor-style
 * replace, an endpoint turning not-ready) shows in the proxy's answers within 1 s, and the process
 * that serves them is the same one throughout.
 */
import { writeFileSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { endpointSlice, ingress, podEndpoints, service, tempManifestDir, toYaml, writeManifest, writeManifestAtomic, type Manifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { fileSourceStatus, waitUntilWatching } from '../helpers/reload.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

/** How quickly a change must show (the checklist's bound; the periodic rescan alone would take 2 s). */
const RELOAD_MS = 1000;

interface Fixture {
  sy: RunningSwitchyard;
  dir: string;
  pods: Pod[];
  slice(names: readonly string[], notReady?: readonly string[]): Manifest[];
}

/** Pods a, b, c on one port; Service web (slice file svc.yaml with a and b) and an Ingress for web.example. */
async function fixture(): Promise<Fixture> {
  const pods = await startPods(['pod-a', 'pod-b', 'pod-c'], { hosts: [2, 3, 4] });
  const dir = await tempManifestDir();
  const slice = (names: readonly string[], notReady: readonly string[] = []): Manifest[] => [
    service({ name: 'web', namespace: 'shop' }),
    endpointSlice({ service: 'web', namespace: 'shop', port: pods[0]!.port, endpoints: podEndpoints(pods.filter((p) => names.includes(p.name)), notReady) }),
  ];
  await writeManifest(dir, 'svc.yaml', slice(['pod-a', 'pod-b']));
  await writeManifest(dir, 'ingress.yaml', [ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'web.example', paths: [{ path: '/', service: 'web' }] }] })]);
  const sy = await startSwitchyard({ manifests: dir });
  await waitUntilWatching(sy, dir);
  return { sy, dir, pods, slice };
}

/** Pods answering `n` sequential requests (status ≠ 200 recorded as `status:<code>`). */
async function podsSeen(sy: RunningSwitchyard, host: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await get(sy.ingress, host, '/');
    out.push(res.status === 200 ? res.json<EchoBody>().pod : `status:${res.status}`);
  }
  return out;
}

/** Polls until `probe` holds, failing if that takes longer than RELOAD_MS. */
function withinReload(probe: () => Promise<boolean>, what: string): Promise<true> {
  return waitFor(async () => (await probe()) || undefined, { timeoutMs: RELOAD_MS, intervalMs: 10, what });
}

async function statusOf(sy: RunningSwitchyard, host: string): Promise<number> {
  return (await get(sy.ingress, host, '/')).status;
}

describe('hot reload', () => {
  it('adds a pod edited into the EndpointSlice file to the rotation', async () => {
    const { sy, dir, slice } = await fixture();
    expect(new Set(await podsSeen(sy, 'web.example', 4))).toEqual(new Set(['pod-a', 'pod-b']));
    await writeManifest(dir, 'svc.yaml', slice(['pod-a', 'pod-b', 'pod-c']));
    await withinReload(async () => (await podsSeen(sy, 'web.example', 3)).includes('pod-c'), 'pod-c to receive traffic');
    // Now an even three-way rotation.
    const after = await podsSeen(sy, 'web.example', 9);
    expect(after.filter((p) => p === 'pod-c')).toHaveLength(3);
    expect(sy.child.exitCode).toBeNull();
  });

  it('serves an Ingress from a newly created file', async () => {
    const { sy, dir } = await fixture();
    expect(await statusOf(sy, 'new.example')).toBe(404);
    await writeManifest(dir, 'new-ingress.yaml', [ingress({ name: 'new', namespace: 'shop', rules: [{ host: 'new.example', paths: [{ path: '/', service: 'web' }] }] })]);
    await withinReload(async () => (await statusOf(sy, 'new.example')) === 200, 'new.example to be routed');
    expect(await statusOf(sy, 'web.example')).toBe(200);
  });

  it('removes the objects of a deleted file', async () => {
    const { sy, dir } = await fixture();
    await writeManifest(dir, 'extra.yaml', [ingress({ name: 'extra', namespace: 'shop', rules: [{ host: 'extra.example', paths: [{ path: '/', service: 'web' }] }] })]);
    await waitFor(async () => (await statusOf(sy, 'extra.example')) === 200, { what: 'extra.example to be routed' });
    await unlink(join(dir, 'extra.yaml'));
    await withinReload(async () => (await statusOf(sy, 'extra.example')) === 404, 'extra.example to be gone');
    expect(await statusOf(sy, 'web.example')).toBe(200);
  });

  it('follows a renamed file: to another manifest name it keeps serving, to a non-manifest name it is removed, and back', async () => {
    const { sy, dir } = await fixture();
    const extra = [ingress({ name: 'extra', namespace: 'shop', rules: [{ host: 'extra.example', paths: [{ path: '/', service: 'web' }] }] })];
    await writeManifest(dir, 'extra.yaml', extra);
    await waitFor(async () => (await statusOf(sy, 'extra.example')) === 200, { what: 'extra.example to be routed' });

    const renamed = join(dir, 'renamed.yaml');
    await rename(join(dir, 'extra.yaml'), renamed);
    await withinReload(async () => (await fileSourceStatus(sy)).lastReload?.applied.includes(renamed) ?? false, 'the rename to be picked up');
    const status = await fileSourceStatus(sy);
    expect(status.files).toBe(3);
    expect(status.rejectedFiles).toEqual([]); // not a duplicate of its old self
    expect(await statusOf(sy, 'extra.example')).toBe(200);

    await rename(renamed, join(dir, 'renamed.yaml.disabled'));
    await withinReload(async () => (await statusOf(sy, 'extra.example')) === 404, 'extra.example to be gone after renaming to .disabled');
    await rename(join(dir, 'renamed.yaml.disabled'), join(dir, 'back.yml'));
    await withinReload(async () => (await statusOf(sy, 'extra.example')) === 200, 'extra.example to be back after renaming to .yml');
  });

  it('applies an editor-style save (write a temp file, rename it over the original)', async () => {
    const { sy, dir, slice } = await fixture();
    await writeManifestAtomic(dir, 'svc.yaml', slice(['pod-b', 'pod-c']));
    await withinReload(async () => {
      const seen = await podsSeen(sy, 'web.example', 2);
      return seen.includes('pod-c') && !seen.includes('pod-a');
    }, 'the rotation to become pod-b, pod-c');
    expect(new Set(await podsSeen(sy, 'web.example', 6))).toEqual(new Set(['pod-b', 'pod-c']));
    // The temp file was a transient: nothing rejected, nothing left behind.
    const status = await fileSourceStatus(sy);
    expect(status.rejectedFiles).toEqual([]);
    expect(status.files).toBe(2);
  });

  it('keeps noticing in-place edits of a file that an editor-style save replaced', async () => {
    const { sy, dir, slice } = await fixture();
    const rotation = async (expected: readonly string[]): Promise<boolean> => {
      const seen = await podsSeen(sy, 'web.example', expected.length + 1);
      return expected.every((p) => seen.includes(p)) && seen.every((p) => expected.includes(p));
    };
    await writeManifestAtomic(dir, 'svc.yaml', slice(['pod-a', 'pod-b', 'pod-c']));
    await withinReload(() => rotation(['pod-a', 'pod-b', 'pod-c']), 'the editor-style save (a, b, c)');
    // The path now names a new inode: later in-place writes to it must still be seen.
    await writeManifest(dir, 'svc.yaml', slice(['pod-a', 'pod-c']));
    await withinReload(() => rotation(['pod-a', 'pod-c']), 'the first in-place edit after it (a, c)');
    await writeManifest(dir, 'svc.yaml', slice(['pod-b']));
    await withinReload(() => rotation(['pod-b']), 'the second in-place edit after it (b)');
  });

  it('notices a change made as soon as the proxy reports it is listening', async () => {
    // Racy by nature: repeated so that a window of a few milliseconds between "listening" and the
    // watcher being attached shows up with near certainty.
    const pods = await startPods(['pod-a', 'pod-b'], { hosts: [2, 3] });
    const docs = (names: readonly string[]): Manifest[] => [
      service({ name: 'web', namespace: 'shop' }),
      endpointSlice({ service: 'web', namespace: 'shop', port: pods[0]!.port, endpoints: podEndpoints(pods.filter((p) => names.includes(p.name))) }),
      ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'web.example', paths: [{ path: '/', service: 'web' }] }] }),
    ];
    for (let round = 0; round < 6; round++) {
      const dir = await tempManifestDir();
      await writeManifest(dir, 'web.yaml', docs(['pod-a']));
      const sy = await startSwitchyard({ manifests: dir });
      writeFileSync(join(dir, 'web.yaml'), toYaml(docs(['pod-a', 'pod-b'])));
      await withinReload(async () => (await podsSeen(sy, 'web.example', 2)).includes('pod-b'), `round ${round}: pod-b added right after start-up`);
      expect((await sy.stop()).code).toBe(0);
    }
  });

  it('takes an endpoint whose conditions.ready turns false out of the rotation', async () => {
    const { sy, dir, pods, slice } = await fixture();
    await writeManifest(dir, 'svc.yaml', slice(['pod-a', 'pod-b', 'pod-c']));
    await waitFor(async () => (await podsSeen(sy, 'web.example', 3)).includes('pod-c'), { what: 'pod-c in rotation' });

    await writeManifest(dir, 'svc.yaml', slice(['pod-a', 'pod-b', 'pod-c'], ['pod-c']));
    // Three pods in rotation: three consecutive requests without pod-c mean it has left.
    await withinReload(async () => !(await podsSeen(sy, 'web.example', 3)).includes('pod-c'), 'pod-c to leave the rotation');
    const before = pods[2]!.requests.length;
    const seen = await podsSeen(sy, 'web.example', 30);
    expect(seen.filter((p) => p === 'pod-a')).toHaveLength(15);
    expect(seen.filter((p) => p === 'pod-b')).toHaveLength(15);
    expect(pods[2]!.requests.length).toBe(before);
  });
});
