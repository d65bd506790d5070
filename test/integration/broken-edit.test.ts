/**
 * A broken edit at run time is rejected whole: the last good configuration keeps serving, the admin
 * API names the file, the document and the field, and fixing the file applies it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { endpointSlice, ingress, podEndpoints, service, tempManifestDir, toYaml, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { fileSourceStatus, waitUntilWatching } from '../helpers/reload.ts';
import { startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

async function podsSeen(sy: RunningSwitchyard, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await get(sy.ingress, 'web.example', '/');
    out.push(res.status === 200 ? res.json<EchoBody>().pod : `status:${res.status}`);
  }
  return out;
}

/** web.yaml: document 0 the Service, 1 its EndpointSlice, 2 the Ingress. */
function webDocs(pods: readonly Pod[]): Manifest[] {
  return [
    service({ name: 'web', namespace: 'shop' }),
    endpointSlice({ service: 'web', namespace: 'shop', port: pods[0]!.port, endpoints: podEndpoints(pods) }),
    ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'web.example', paths: [{ path: '/', service: 'web' }] }] }),
  ];
}

describe('a broken edit', () => {
  it('keeps the old config serving through invalid YAML and a missing required field, reports both, and applies the fix', async () => {
    const pods = await startPods(['pod-a', 'pod-b', 'pod-c'], { hosts: [2, 3, 4] });
    const [a, b] = pods;
    const dir = await tempManifestDir();
    const file = await writeManifest(dir, 'web.yaml', webDocs([a!, b!]));
    const sy = await startSwitchyard({ manifests: dir });
    await waitUntilWatching(sy, dir);
    const good = await podsSeen(sy, 4);
    expect(good.sort()).toEqual(['pod-a', 'pod-a', 'pod-b', 'pod-b']);

    // 1. Invalid YAML in document 1 (an unclosed flow mapping).
    const [svc] = webDocs(pods);
    await writeManifest(dir, 'web.yaml', `${toYaml([svc!])}---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: web-slice, namespace: shop\n`);
    const parseError = await waitFor(async () => {
      const s = await fileSourceStatus(sy);
      return s.lastError?.code === 'SWY_ERR_MANIFEST_PARSE' ? s : undefined;
    }, { what: 'the YAML error in /api/v1/config' });
    expect(parseError.lastError).toMatchObject({ file, document: 1 });
    expect(parseError.lastError!.message).toContain(file);
    expect(parseError.lastError!.message).toContain('document 1');
    expect(parseError.rejectedFiles).toEqual([expect.objectContaining({ code: 'SWY_ERR_MANIFEST_PARSE', file, document: 1 })]);
    expect((await podsSeen(sy, 4)).sort()).toEqual(['pod-a', 'pod-a', 'pod-b', 'pod-b']);

    // 2. Valid YAML, but the Ingress (document 2) misses a required field; the same file also adds pod-c,
    //    which must not apply: a file is accepted or rejected whole.
    const broken = webDocs(pods);
    const paths = ((broken[2]!['spec'] as { rules: { http: { paths: Record<string, unknown>[] } }[] }).rules[0]!.http.paths);
    delete paths[0]!['pathType'];
    await writeManifest(dir, 'web.yaml', broken);
    const fieldError = await waitFor(async () => {
      const s = await fileSourceStatus(sy);
      return s.lastError?.code === 'SWY_ERR_MANIFEST_INVALID' ? s : undefined;
    }, { what: 'the missing-field error in /api/v1/config' });
    const fieldPath = 'spec.rules[0].http.paths[0].pathType';
    expect(fieldError.lastError).toMatchObject({ file, document: 2, path: fieldPath });
    expect(fieldError.lastError!.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+ document 2 field ${fieldPath.replace(/[.[\]]/g, '\\$&')}: Required value`));
    expect(fieldError.rejectedFiles).toEqual([expect.objectContaining({ code: 'SWY_ERR_MANIFEST_INVALID', file, document: 2, path: fieldPath })]);
    const during = await podsSeen(sy, 6);
    expect(during.sort()).toEqual(['pod-a', 'pod-a', 'pod-a', 'pod-b', 'pod-b', 'pod-b']);
    expect(pods[2]!.requests).toHaveLength(0);

    // 3. The fix applies (pod-c joins) and the error clears.
    await writeManifest(dir, 'web.yaml', webDocs(pods));
    await waitFor(async () => (await podsSeen(sy, 3)).includes('pod-c'), { timeoutMs: 1000, intervalMs: 10, what: 'the fixed file to apply' });
    const fixed = await fileSourceStatus(sy);
    expect(fixed.lastError).toBeUndefined();
    expect(fixed.rejectedFiles).toEqual([]);
    expect(fixed.lastReload?.result).toBe('ok');
    expect(sy.child.exitCode).toBeNull();
  });
});
