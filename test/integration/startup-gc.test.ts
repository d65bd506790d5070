/**
 * The one garbage collection at the end of start-up (src/runtime/startup-gc.ts): by default it runs
 * before the process takes traffic whatever the heap (--startup-gc-heap skips it below a size), in the
 * main thread and once in each worker thread before it listens, without Node's --expose-gc (and without
 * leaving `gc` behind).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods } from '../helpers/pods.ts';
import { REPO_ROOT, startSwitchyard, type LogLine } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

/** The Node flags of bin/switchyard.js's #! line, as `switchyard` run as a program gets them. */
const shebangFlags = (): string[] => {
  const first = readFileSync(join(REPO_ROOT, 'bin', 'switchyard.js'), 'utf8').split('\n', 1)[0]!;
  return first.replace(/^#!\S*env\s+-S\s+node\b/, '').trim().split(/\s+/).filter(Boolean);
};

async function manifests(): Promise<string> {
  const pods = await startPods(['gc-a']);
  const dir = await tempManifestDir();
  await writeManifest(dir, 'app.yaml', [...serviceWithPods('app', 'g', pods), ingress({ name: 'app', namespace: 'g', rules: [{ host: 'app.example', paths: [{ path: '/', service: 'app' }] }] })]);
  return dir;
}

const collected = (l: LogLine): boolean => l.msg === 'collected start-up garbage';

describe('start-up garbage collection', () => {
  it('run as the CLI runs, with its defaults, one process collects once, before it listens, and then serves', async () => {
    const sy = await startSwitchyard({ manifests: await manifests(), nodeFlags: shebangFlags(), args: ['--log-level', 'debug'] });
    const gcLines = sy.logs.filter(collected);
    expect(gcLines).toHaveLength(1);
    expect(gcLines[0]!['ms']).toEqual(expect.any(Number));
    const listening = sy.logs.findIndex((l) => typeof l.msg === 'string' && l.msg.startsWith('listening role=ingress'));
    expect(sy.logs.indexOf(gcLines[0]!)).toBeLessThan(listening);
    expect((await get(sy.ingress, 'app.example', '/')).status).toBe(200);
  });

  it('--startup-gc-heap 32 leaves a small configuration to V8', async () => {
    const sy = await startSwitchyard({ manifests: await manifests(), nodeFlags: shebangFlags(), args: ['--log-level', 'debug', '--startup-gc-heap', '32'] });
    expect(sy.logs.some(collected)).toBe(false);
    const skipped = sy.logs.find((l) => l.msg === 'start-up garbage left to V8: the heap is below --startup-gc-heap');
    expect(skipped?.['minHeapMb']).toBe(32);
    expect(skipped?.['heapUsedMB']).toBeLessThan(32);
    expect((await get(sy.ingress, 'app.example', '/')).status).toBe(200);
  });

  it('with worker threads, the main thread and each worker collect once', async () => {
    const sy = await startSwitchyard({ manifests: await manifests(), args: ['--log-level', 'debug', '--workers', '2'] });
    expect((await get(sy.ingress, 'app.example', '/')).status).toBe(200);
    const gcLines = sy.logs.filter(collected);
    expect(gcLines.map((l) => l['worker']).sort()).toEqual([0, 1, undefined]);
  });

  it('--startup-gc-heap leaves the workers\' small heaps to V8 too', async () => {
    const sy = await startSwitchyard({ manifests: await manifests(), args: ['--log-level', 'debug', '--workers', '2', '--startup-gc-heap', '1000'] });
    expect((await get(sy.ingress, 'app.example', '/')).status).toBe(200);
    expect(sy.logs.some(collected)).toBe(false);
  });
});
