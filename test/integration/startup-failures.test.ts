/**
 * Start-up failures: broken manifests and a missing path exit 1 with a coded message naming the file,
 * the document and the field; bad flags exit 2 with the usage.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { ingress, service, tempManifestDir, toYaml, writeManifest } from '../helpers/manifests.ts';
import { runSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

/** Flags for a run that must fail before it serves anything; port 0 in case it does not. */
const listenArgs = ['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'];

describe('start-up failures', () => {
  it('exits 1 on a file with invalid YAML, naming the file and the document', async () => {
    const dir = await tempManifestDir();
    await writeManifest(dir, 'good.yaml', [service({ name: 'web', namespace: 'shop' })]);
    // Document 0 is fine; document 1 has an unclosed flow sequence.
    const file = await writeManifest(dir, 'broken.yaml', `${toYaml([service({ name: 'api', namespace: 'shop' })])}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n`);
    const run = await runSwitchyard(['--manifests', dir, ...listenArgs]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^switchyard: SWY_ERR_MANIFEST_PARSE: /m);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toContain('document 1');
    expect(run.stdout).not.toMatch(/listening role=ingress/);
  });

  it('exits 1 on a file with a missing required field, naming the file, the document and the field path', async () => {
    const dir = await tempManifestDir();
    const svc = service({ name: 'web', namespace: 'shop' });
    const noPort = service({ name: 'api', namespace: 'shop' });
    delete ((noPort['spec'] as { ports: Record<string, unknown>[] }).ports[0]!)['port'];
    const file = await writeManifest(dir, 'services.yaml', [svc, ingress({ name: 'web', namespace: 'shop', rules: [{ paths: [{ path: '/', service: 'web' }] }] }), noPort]);
    const run = await runSwitchyard(['--manifests', dir, ...listenArgs]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^switchyard: SWY_ERR_MANIFEST_INVALID: /m);
    expect(run.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+ document 2 field spec\\.ports\\[0\\]\\.port: Required value`));
    expect(run.stdout).not.toMatch(/listening role=ingress/);
  });

  it('exits 1 when a --manifests path does not exist', async () => {
    const dir = await tempManifestDir();
    const missing = join(dir, 'no-such-dir');
    const run = await runSwitchyard(['--manifests', missing, ...listenArgs]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^switchyard: SWY_ERR_MANIFEST_PATH_MISSING: /m);
    expect(run.stderr).toContain(missing);
  });

  it('exits 2 with the usage on an unknown flag', async () => {
    const dir = await tempManifestDir();
    const run = await runSwitchyard(['--manifests', dir, ...listenArgs, '--no-such-flag']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--no-such-flag');
    expect(run.stderr).toContain('Usage: switchyard');
    expect(run.stdout).toBe('');
  });

  it.each([['nonsense'], ['127.0.0.1:99999'], ['127.0.0.1']])('exits 2 with the usage on --listen %s', async (value) => {
    const dir = await tempManifestDir();
    const run = await runSwitchyard(['--manifests', dir, '--admin', '127.0.0.1:0', '--listen', value]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--listen');
    expect(run.stderr).toContain(JSON.stringify(value));
    expect(run.stderr).toContain('Usage: switchyard');
  });
});
