/**
 * A --manifests path that holds no manifests (issue 18, "friendly edges"): a warning naming the path at
 * start-up and when a path becomes empty, status().emptyPaths listing it, and never a failure: an empty
 * directory filled later is a valid way to start.
 */
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSource } from '../../../src/sources/file-source.ts';
import { emptyRoots, NODE_FS, type ManifestFs } from '../../../src/sources/manifest-scan.ts';
import { cleanupAll, defer } from '../../helpers/cleanup.ts';
import { service, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { waitFor } from '../../helpers/wait.ts';

afterEach(cleanupAll);

interface Harness {
  readonly source: FileSource;
  readonly logs: { level: number; msg: string; path?: string }[];
  names(): string[];
  emptyWarnings(): { level: number; msg: string; path?: string }[];
}

async function startSource(paths: string[], fs: ManifestFs = NODE_FS): Promise<Harness> {
  const logs: Harness['logs'] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Harness['logs'][number]) });
  const source = new FileSource({ paths, log, fs, debounceMs: 5, rescanMs: 20, retry: { initialMs: 10, maxMs: 40 } });
  defer(() => source.close());
  let names: string[] = [];
  source.onUpdate((records) => {
    names = records.map((r) => r.meta.name).sort();
  });
  await source.start();
  return { source, logs, names: () => names, emptyWarnings: () => logs.filter((l) => l.level === 40 && l.msg.includes('no manifests found')) };
}

const SERVICE = [service({ name: 'web', namespace: 'default' })];
const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n';

describe('FileSource: a --manifests path with no manifests', () => {
  it.each<[string, Record<string, string | readonly Record<string, unknown>[]>, boolean]>([
    ['an empty directory', {}, true],
    ['only files of other extensions', { 'README.md': '# hi', 'web.yaml.bak': DEPLOYMENT, 'notes.txt': 'x' }, true],
    ['an empty .yaml file', { 'a.yaml': '' }, true],
    ['whitespace, comments and separators only', { 'a.yaml': '# todo\n\n---\n---\n', 'b.yml': '   \n' }, true],
    ['a .json file holding null', { 'a.json': 'null' }, true],
    ['a hidden manifest only (editors\' files are skipped)', { '.web.yaml': SERVICE }, true],
    ['a Service', { 'a.yaml': SERVICE }, false],
    ['an empty file beside a Service', { 'a.yaml': '', 'b.yaml': SERVICE }, false],
    ['a kind Switchyard does not read (a Deployment): not empty, only unused', { 'a.yaml': DEPLOYMENT }, false],
    ['an empty List', { 'a.yaml': 'apiVersion: v1\nkind: List\nitems: []\n' }, true],
    ['a Service in a subdirectory', { 'team/a.yaml': SERVICE }, false],
    ['an empty subdirectory only', { 'team/.keep': '' }, true],
  ])('%s → empty: %s', async (_name, files, empty) => {
    const dir = await tempManifestDir('swy-empty-');
    for (const [name, content] of Object.entries(files)) {
      if (name.includes('/')) await mkdir(join(dir, name.split('/')[0]!), { recursive: true });
      await (typeof content === 'string' ? writeFile(join(dir, name), content) : writeManifest(dir, name, content));
    }
    const h = await startSource([dir]);
    expect(h.source.status().emptyPaths).toEqual(empty ? [dir] : []);
    expect(h.emptyWarnings().map((l) => [l.path, l.msg])).toEqual(
      empty ? [[dir, `--manifests ${dir}: no manifests found (no *.yaml, *.yml or *.json file with an object in it); starting anyway; files added to it later are loaded`]] : [],
    );
  });

  it('an empty file named directly is empty; of two paths only the empty one is named', async () => {
    const dir = await tempManifestDir('swy-empty-');
    const emptyFile = join(dir, 'empty.yaml');
    await writeFile(emptyFile, '# nothing yet\n');
    const full = await tempManifestDir('swy-empty-');
    await writeManifest(full, 'a.yaml', SERVICE);
    const h = await startSource([emptyFile, full]);
    expect(h.source.status().emptyPaths).toEqual([emptyFile]);
    expect(h.emptyWarnings().map((l) => l.path)).toEqual([emptyFile]);
    expect(h.names()).toEqual(['web']);
  });

  it('an empty directory filled later is loaded; emptied again, it warns again (once per change), then recovers', async () => {
    const dir = await tempManifestDir('swy-empty-');
    const h = await startSource([dir]);
    expect(h.emptyWarnings()).toHaveLength(1);

    await writeManifest(dir, 'a.yaml', SERVICE);
    await waitFor(() => h.names().join() === 'web' || undefined, { timeoutMs: 5000, what: 'the Service added later' });
    expect(h.source.status().emptyPaths).toEqual([]);
    expect(h.logs.filter((l) => l.msg === `--manifests ${dir}: holds manifests again`)).toHaveLength(1);

    await writeFile(join(dir, 'a.yaml'), '# emptied\n');
    await waitFor(() => h.source.status().emptyPaths.length === 1 || undefined, { timeoutMs: 5000, what: 'the path to be empty again' });
    expect(h.names()).toEqual([]);
    // Rescans of an unchanged empty directory do not repeat the warning.
    await new Promise((r) => setTimeout(r, 100));
    expect(h.emptyWarnings().map((l) => l.msg)).toEqual([
      expect.stringContaining('starting anyway'),
      `--manifests ${dir}: no manifests found (no *.yaml, *.yml or *.json file with an object in it); nothing is served from it until files are added`,
    ]);

    await unlink(join(dir, 'a.yaml'));
    await new Promise((r) => setTimeout(r, 100));
    expect(h.emptyWarnings()).toHaveLength(2);
  });

  it('a directory whose only file becomes invalid is not empty: the rejection is the news', async () => {
    const dir = await tempManifestDir('swy-empty-');
    await writeManifest(dir, 'a.yaml', SERVICE);
    const h = await startSource([dir]);
    await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {}\n');
    await waitFor(() => h.source.status().rejectedFiles.length === 1 || undefined, { timeoutMs: 5000, what: 'the rejection' });
    expect(h.source.status().emptyPaths).toEqual([]);
    expect(h.emptyWarnings()).toEqual([]);
  });
});

describe('emptyRoots', () => {
  const failure = { op: 'list' as const, error: Object.assign(new Error('EACCES'), { code: 'EACCES' }) };
  it.each<[string, string[], string[], string[], string[]]>([
    ['no files', ['/m'], [], [], ['/m']],
    ['a file with an object', ['/m'], ['/m/a.yaml'], [], []],
    ['a file without one', ['/m'], ['/m/empty.yaml'], [], ['/m']],
    ['a file under another root only', ['/m', '/n'], ['/n/a.yaml'], [], ['/m']],
    ['a sibling with a common prefix is not under the root', ['/m'], ['/mm/a.yaml'], [], ['/m']],
    ['an unreadable subdirectory: unknown, not empty', ['/m'], [], ['/m/team'], []],
    ['an unreadable root: unknown, not empty', ['/m'], [], ['/m'], []],
    ['a root that is a file', ['/m/a.yaml'], ['/m/a.yaml'], [], []],
  ])('%s', (_name, roots, files, unreadable, expected) => {
    const holds = (f: string) => !f.endsWith('empty.yaml');
    expect(emptyRoots(roots, files, holds, new Map(unreadable.map((p) => [p, failure])))).toEqual(expected);
  });
});
