/**
 * FileSource when the file system fails (issue 14, "running out of file descriptors empties the routing
 * table"): a path that cannot be read keeps what was loaded at or under it, status().readError says so,
 * the log says it once per episode, and reads are retried until they succeed. Only a file missing from
 * a listing that succeeded is removed. Failures are injected through the `fs` seam over real temp files.
 */
import { mkdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import type { Rec } from '../../../src/model/records.ts';
import { FileSource } from '../../../src/sources/file-source.ts';
import { NODE_FS, type ManifestFs } from '../../../src/sources/manifest-scan.ts';
import { cleanupAll, defer } from '../../helpers/cleanup.ts';
import { service, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { waitFor } from '../../helpers/wait.ts';

afterEach(cleanupAll);

type Op = 'stat' | 'readdir' | 'readFile';

/** node:fs with failures injected per operation and path. */
function faultyFs() {
  const faults = new Map<string, string>();
  const calls = { stat: 0, readdir: 0, readFile: 0 };
  const check = (op: Op, path: string): void => {
    calls[op]++;
    const code = faults.get(`${op} ${path}`);
    if (code !== undefined) throw Object.assign(new Error(`${code}: injected failure, ${op} '${path}'`), { code });
  };
  const fs: ManifestFs = {
    stat: async (p) => (check('stat', p), NODE_FS.stat(p)),
    readdir: async (p) => (check('readdir', p), NODE_FS.readdir(p)),
    readFile: async (p) => (check('readFile', p), NODE_FS.readFile(p)),
  };
  return {
    fs,
    calls,
    fail: (op: Op, path: string, code: string) => faults.set(`${op} ${path}`, code),
    heal: () => faults.clear(),
  };
}

interface Harness {
  readonly source: FileSource;
  readonly updates: (readonly Rec[])[];
  readonly logs: { level: number; msg: string; [k: string]: unknown }[];
  names(): string[];
}

async function startSource(dir: string, fs: ManifestFs, options: { paths?: string[]; rescanMs?: number } = {}): Promise<Harness> {
  const logs: Harness['logs'] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Harness['logs'][number]) });
  const source = new FileSource({ paths: options.paths ?? [dir], log, fs, debounceMs: 5, rescanMs: options.rescanMs ?? 20, retry: { initialMs: 10, maxMs: 40 } });
  defer(() => source.close());
  const updates: (readonly Rec[])[] = [];
  source.onUpdate((records) => updates.push(records));
  await source.start();
  return { source, updates, logs, names: () => (updates.at(-1) ?? []).map((r) => r.meta.name).sort() };
}

const svc = (name: string) => [service({ name, namespace: 'default' })];
const warnings = (h: Harness) => h.logs.filter((l) => l.level === 40 && l.msg.startsWith('cannot read manifests'));
const recoveries = (h: Harness) => h.logs.filter((l) => l.msg.startsWith('manifests readable again'));
const readError = (h: Harness) => h.source.status().readError;

describe('FileSource: a directory that cannot be listed', () => {
  it.each(['EMFILE', 'ENFILE', 'EACCES', 'EIO', 'ENOMEM'])('%s on readdir of the root keeps every file, reports it once, retries, and recovers', async (code) => {
    const dir = await tempManifestDir('swy-fs-');
    await writeManifest(dir, 'a.yaml', svc('a'));
    await writeManifest(dir, 'b.yaml', svc('b'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs);
    expect(h.names()).toEqual(['a', 'b']);
    const updatesBefore = h.updates.length;

    f.fail('readdir', dir, code);
    await waitFor(() => (readError(h)?.attempts ?? 0) >= 3 || undefined, { timeoutMs: 5000, what: 'three retries' });
    const view = readError(h)!;
    expect(view).toMatchObject({ code, path: dir, paths: [dir] });
    expect(typeof view.since).toBe('string');
    expect(view.retryInMs === null || (view.retryInMs >= 0 && view.retryInMs <= 40)).toBe(true);
    // Nothing was emitted: the store still has a and b (before the fix: an update with no records).
    expect(h.updates.length).toBe(updatesBefore);
    expect(h.source.status()).toMatchObject({ files: 2, objects: 2 });
    expect(warnings(h)).toHaveLength(1);
    expect(warnings(h)[0]).toMatchObject({ code, path: dir });

    f.heal();
    await waitFor(() => readError(h) === null || undefined, { timeoutMs: 5000, what: 'recovery' });
    expect(recoveries(h)).toHaveLength(1);
    expect(h.updates.length).toBe(updatesBefore);
    expect(warnings(h)).toHaveLength(1);
  });

  it('keeps the files of an unreadable subdirectory while changes elsewhere apply', async () => {
    const dir = await tempManifestDir('swy-fs-');
    const sub = join(dir, 'team');
    await mkdir(sub);
    await writeManifest(dir, 'a.yaml', svc('a'));
    await writeManifest(dir, 'gone.yaml', svc('gone'));
    await writeManifest(sub, 'b.yaml', svc('b'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs);
    expect(h.names()).toEqual(['a', 'b', 'gone']);

    f.fail('readdir', sub, 'EMFILE');
    await waitFor(() => readError(h) ?? undefined, { timeoutMs: 5000, what: 'the read error' });
    await writeManifest(dir, 'c.yaml', svc('c'));
    await unlink(join(dir, 'gone.yaml'));
    await waitFor(() => h.names().join() === 'a,b,c' || undefined, { timeoutMs: 5000, what: `a,b,c (have ${h.names().join()})` });
    expect(readError(h)).toMatchObject({ code: 'EMFILE', path: sub });

    f.heal();
    await waitFor(() => readError(h) === null || undefined, { timeoutMs: 5000, what: 'recovery' });
    expect(h.names()).toEqual(['a', 'b', 'c']);
  });

  it('keeps a file whose stat fails with EACCES, but drops one a readable listing no longer has', async () => {
    const dir = await tempManifestDir('swy-fs-');
    const a = await writeManifest(dir, 'a.yaml', svc('a'));
    await writeManifest(dir, 'b.yaml', svc('b'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs);
    f.fail('stat', a, 'EACCES');
    await unlink(join(dir, 'b.yaml'));
    await waitFor(() => h.names().join() === 'a' || undefined, { timeoutMs: 5000, what: `only a left (have ${h.names().join()})` });
    expect(readError(h)).toMatchObject({ code: 'EACCES', path: a });
  });
});

describe('FileSource: a file that cannot be read', () => {
  it('EMFILE on a changed file keeps its last records, and the change applies once reads succeed', async () => {
    const dir = await tempManifestDir('swy-fs-');
    const a = await writeManifest(dir, 'a.yaml', svc('a'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs);
    f.fail('readFile', a, 'EMFILE');
    await writeManifest(dir, 'a.yaml', svc('a2'));
    await waitFor(() => (readError(h)?.attempts ?? 0) >= 2 || undefined, { timeoutMs: 5000, what: 'retries of the read' });
    expect(readError(h)).toMatchObject({ code: 'EMFILE', path: a });
    expect(h.names()).toEqual(['a']);
    expect(h.source.status().rejectedFiles).toEqual([]);

    f.heal();
    // The fingerprint did not advance while the read failed, so the retry reads the new content.
    await waitFor(() => h.names().join() === 'a2' || undefined, { timeoutMs: 5000, what: 'the edit to apply after recovery' });
    expect(readError(h)).toBeNull();
  });

  it('EMFILE on a new file: not loaded yet, reported, loaded after recovery', async () => {
    const dir = await tempManifestDir('swy-fs-');
    await writeManifest(dir, 'a.yaml', svc('a'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs);
    f.fail('readFile', join(dir, 'b.yaml'), 'EMFILE');
    await writeManifest(dir, 'b.yaml', svc('b'));
    await waitFor(() => readError(h) ?? undefined, { timeoutMs: 5000, what: 'the read error' });
    expect(h.names()).toEqual(['a']);
    f.heal();
    await waitFor(() => h.names().join() === 'a,b' || undefined, { timeoutMs: 5000, what: 'b to load' });
  });

  it('a genuine deletion (unlink, the directory lists fine) removes the file and is no read error', async () => {
    const dir = await tempManifestDir('swy-fs-');
    await writeManifest(dir, 'a.yaml', svc('a'));
    await writeManifest(dir, 'b.yaml', svc('b'));
    const h = await startSource(dir, faultyFs().fs);
    await unlink(join(dir, 'b.yaml'));
    await waitFor(() => h.names().join() === 'a' || undefined, { timeoutMs: 5000, what: 'b to be removed' });
    expect(readError(h)).toBeNull();
    expect(warnings(h)).toEqual([]);
  });
});

describe('FileSource: genuine deletions below a readable root', () => {
  it('a deleted subdirectory (no longer in its parent\'s listing) removes its files and is no read error', async () => {
    const dir = await tempManifestDir('swy-fs-');
    const sub = join(dir, 'team');
    await mkdir(sub);
    await writeManifest(dir, 'a.yaml', svc('a'));
    await writeManifest(sub, 'b.yaml', svc('b'));
    const h = await startSource(dir, faultyFs().fs);
    await rm(sub, { recursive: true });
    await waitFor(() => h.names().join() === 'a' || undefined, { timeoutMs: 5000, what: `b to be removed (have ${h.names().join()})` });
    expect(readError(h)).toBeNull();
    expect(warnings(h)).toEqual([]);
  });
});

describe('FileSource: a --manifests root that is gone', () => {
  it('a deleted root directory (a lost mount) keeps its objects until it is back', async () => {
    const parent = await tempManifestDir('swy-fs-');
    const dir = join(parent, 'mount');
    await mkdir(dir);
    await writeManifest(dir, 'a.yaml', svc('a'));
    // No periodic rescan: after the recovery only a live watcher can notice the last edit below.
    const h = await startSource(dir, faultyFs().fs, { rescanMs: 0 });
    const updatesBefore = h.updates.length;
    await rm(dir, { recursive: true });
    await waitFor(() => readError(h) ?? undefined, { timeoutMs: 5000, what: 'the read error' });
    expect(readError(h)).toMatchObject({ code: 'ENOENT', path: dir });
    expect(h.updates.length).toBe(updatesBefore);

    await mkdir(dir);
    await writeManifest(dir, 'b.yaml', svc('b'));
    // Back, and listed: now what the listing lacks (a) is removed and what it has (b) is loaded.
    await waitFor(() => h.names().join() === 'b' || undefined, { timeoutMs: 5000, what: `b only (have ${h.names().join()})` });
    expect(readError(h)).toBeNull();
    expect(recoveries(h)).toHaveLength(1);
    await writeManifest(dir, 'c.yaml', svc('c'));
    await waitFor(() => h.names().join() === 'b,c' || undefined, { timeoutMs: 5000, what: `the recreated directory to be watched (have ${h.names().join()})` });
  });

  it('a top-level file whose stat fails with EIO keeps its records', async () => {
    const dir = await tempManifestDir('swy-fs-');
    const a = await writeManifest(dir, 'a.yaml', svc('a'));
    const b = await writeManifest(dir, 'b.yaml', svc('b'));
    const f = faultyFs();
    const h = await startSource(dir, f.fs, { paths: [a, b] });
    f.fail('stat', a, 'EIO');
    await waitFor(() => readError(h) ?? undefined, { timeoutMs: 5000, what: 'the read error' });
    expect(readError(h)).toMatchObject({ code: 'EIO', path: a });
    expect(h.source.status()).toMatchObject({ files: 2, objects: 2 });
  });
});

describe('FileSource: at start-up', () => {
  it('a directory that cannot be listed fails the start with SWY_ERR_MANIFEST_READ (no last good state to keep)', async () => {
    const dir = await tempManifestDir('swy-fs-');
    await writeManifest(dir, 'a.yaml', svc('a'));
    const f = faultyFs();
    f.fail('readdir', dir, 'EACCES');
    const log = pino({ level: 'silent' });
    const source = new FileSource({ paths: [dir], log, fs: f.fs, rescanMs: 0 });
    defer(() => source.close());
    await expect(source.start()).rejects.toMatchObject({ code: ErrorCode.MANIFEST_READ, message: expect.stringContaining('cannot list directory') });
  });
});
