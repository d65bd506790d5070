/**
 * The manifest file source: files and directories (recursively: *.yaml, *.yml, *.json), watched.
 *
 * Each file is accepted or rejected whole. At start-up any broken file is fatal (every problem is
 * reported). At run time a broken edit is rejected: that file keeps its last good records, the rest
 * of the change applies, and the error stays visible until the file is fixed. A change is noticed
 * through a non-recursive fs.watch on every directory involved (which also sees editors'
 * write-temp-then-rename) and, as a safety net for events the platform drops, a periodic stat rescan.
 * Not `recursive: true`: on Linux Node implements it with one watch per file, which keeps watching
 * the old inode after a rename-replace and then misses every later in-place edit.
 *
 * A path that cannot be read (out of file descriptors, permissions, I/O errors, a --manifests root
 * gone with its mount) is not a deletion: what was loaded at or under it stays, status().readError says
 * so, and the source retries with backoff until a pass reads everything (read-retry.ts). Only a file
 * missing from a directory listing that succeeded is removed (manifest-scan.ts).
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ErrorCode, SwyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { recordKey } from '../model/keys.ts';
import type { Rec } from '../model/records.ts';
import type { BackoffOptions } from './backoff.ts';
import { emptyRoots, errorCode, isAtOrUnder, NODE_FS, scanManifests, type ManifestFs, type ReadFailure } from './manifest-scan.ts';
import { parseManifest } from './normalize.ts';
import { ReadRetry, type ReadErrorView } from './read-retry.ts';

export interface FileSourceOptions {
  readonly paths: readonly string[];
  readonly log: Logger;
  /** Quiet time after a file event before re-reading; default 50 ms. */
  readonly debounceMs?: number;
  /** Stat rescan period, in case a watch event is lost; default 2000 ms; 0 disables it. */
  readonly rescanMs?: number;
  /** Retry delays while something cannot be read; default 500 ms doubling to 10 s, with jitter. */
  readonly retry?: BackoffOptions;
  /** The file system; default node:fs (tests inject failures). */
  readonly fs?: ManifestFs;
  /** Clock for readError.since; default Date.now. */
  readonly now?: () => number;
}

/** An error as the admin API shows it. */
export interface ManifestErrorView {
  readonly code: string;
  readonly message: string;
  readonly file: string | undefined;
  readonly document: number | undefined;
  readonly path: string | undefined;
  /** 1-based line of the field (or of the syntax error's document), when known. */
  readonly line: number | undefined;
}

export interface ReloadResult {
  readonly at: string;
  readonly result: 'ok' | 'rejected' | 'unchanged';
  /** Files whose change was applied. */
  readonly applied: readonly string[];
  readonly errors: readonly ManifestErrorView[];
}

export interface FileSourceStatus {
  readonly name: string;
  readonly paths: readonly string[];
  readonly files: number;
  readonly objects: number;
  readonly loaded: boolean;
  readonly lastReload: ReloadResult | undefined;
  /** The most recent rejected change, until a later reload of the same files succeeds. */
  readonly lastError: ManifestErrorView | undefined;
  /** Reload passes (start-up included) that rejected a change. */
  readonly rejectedReloads: number;
  /** Files currently rejected (serving their last good content, or nothing if they never loaded). */
  readonly rejectedFiles: readonly ManifestErrorView[];
  /** Paths that cannot be read right now (their last good state is kept, reads are retried); null when all can. */
  readonly readError: ReadErrorView | null;
  /** --manifests paths that hold no manifests (no file, or only empty ones): valid, but likely a mistake. */
  readonly emptyPaths: readonly string[];
}

interface FileState {
  /** Fingerprint of what was last read: mtime, size, inode. */
  fingerprint: string;
  /** Last good records of this file. */
  records: Rec[];
  /** Objects in it, of any kind: 0 for a file of comments or empty documents. */
  objects: number;
  /** Set while the current content is rejected. */
  error: SwyError[] | undefined;
}

type UpdateListener = (records: readonly Rec[]) => void;

export class FileSource {
  readonly name = 'manifests';
  readonly #paths: string[];
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #rescanMs: number;
  readonly #fs: ManifestFs;
  readonly #retry: ReadRetry;
  readonly #files = new Map<string, FileState>();
  readonly #listeners: UpdateListener[] = [];
  /** Directory → its watcher; follows the directories each rescan finds. */
  readonly #watchers = new Map<string, FSWatcher>();
  #timer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #loading: Promise<unknown> | undefined;
  #again = false;
  #loaded = false;
  #closed = false;
  #lastReload: ReloadResult | undefined;
  #lastError: ManifestErrorView | undefined;
  #rejectedReloads = 0;
  #emptyPaths: readonly string[] = [];

  constructor(options: FileSourceOptions) {
    this.#paths = options.paths.map((p) => resolve(p));
    this.#log = options.log;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#rescanMs = options.rescanMs ?? 2000;
    this.#fs = options.fs ?? NODE_FS;
    this.#retry = new ReadRetry({ log: this.#log, retry: () => this.#schedule(0), ...(options.retry ? { backoff: options.retry } : {}), ...(options.now ? { now: options.now } : {}) });
  }

  onUpdate(fn: UpdateListener): void {
    this.#listeners.push(fn);
  }

  /**
   * Loads every file once and starts watching. Rejects with SWY_ERR_MANIFEST_* naming every broken
   * file (document and field) when the initial configuration is not entirely valid.
   */
  async start(): Promise<void> {
    for (const p of this.#paths) {
      try {
        await this.#fs.stat(p);
      } catch (err) {
        throw new SwyError(ErrorCode.MANIFEST_PATH_MISSING, `--manifests ${p}: no such file or directory`, { cause: err, location: { file: p } });
      }
    }
    // Watch before the first read, so a change made while it runs is not missed.
    this.#syncWatchers(new Set(await Promise.all(this.#paths.map(async (p) => ((await this.#fs.stat(p)).isDirectory() ? p : dirname(p))))));
    const initial = this.#reload(true);
    this.#loading = initial;
    const errors = await initial.finally(() => {
      this.#loading = undefined;
    });
    if (errors.length > 0) {
      const first = errors[0]!;
      const message = errors.length === 1 ? first.message : `${errors.length} manifest errors:\n  ${errors.map((e) => e.message).join('\n  ')}`;
      throw new SwyError(first.code, message, { cause: errors.length === 1 ? first : new AggregateError(errors), ...(first.location ? { location: first.location } : {}) });
    }
    this.#loaded = true;
    if (this.#again) {
      this.#again = false;
      this.#schedule(0);
    }
    if (this.#rescanMs > 0) {
      // During a read-error episode the backoff retries replace the rescan.
      this.#rescanTimer = setInterval(() => {
        if (!this.#retry.active) this.#schedule(0);
      }, this.#rescanMs);
      this.#rescanTimer.unref();
    }
  }

  status(): FileSourceStatus {
    let objects = 0;
    const rejectedFiles: ManifestErrorView[] = [];
    for (const f of this.#files.values()) {
      objects += f.records.length;
      for (const e of f.error ?? []) rejectedFiles.push(toView(e));
    }
    return {
      name: this.name,
      paths: this.#paths,
      files: this.#files.size,
      objects,
      loaded: this.#loaded,
      lastReload: this.#lastReload,
      lastError: this.#lastError,
      rejectedReloads: this.#rejectedReloads,
      rejectedFiles,
      readError: this.#retry.view(),
      emptyPaths: this.#emptyPaths,
    };
  }

  close(): void {
    this.#closed = true;
    this.#retry.close();
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#rescanTimer) clearInterval(this.#rescanTimer);
  }

  /** Watches exactly `dirs`: new directories get a watcher, vanished ones lose theirs. */
  #syncWatchers(dirs: ReadonlySet<string>): void {
    if (this.#closed) return;
    for (const [dir, w] of this.#watchers) {
      if (dirs.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.#schedule(this.#debounceMs));
        w.on('error', (err) => {
          // Usually the directory was deleted; the next rescan decides whether to watch it again.
          this.#log.debug({ err, path: dir }, 'directory watch ended');
          w.close();
          if (this.#watchers.get(dir) === w) this.#watchers.delete(dir);
          this.#schedule(this.#debounceMs);
        });
        this.#watchers.set(dir, w);
      } catch (err) {
        this.#log.warn({ err, path: dir }, 'cannot watch directory; relying on the periodic rescan');
      }
    }
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reloadSerialized();
    }, delayMs);
  }

  /** One reload at a time; a change seen during a reload triggers one more afterwards. */
  async #reloadSerialized(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    try {
      this.#loading = this.#reload(false).then(() => undefined);
      await this.#loading;
    } catch (err) {
      this.#log.error({ err }, 'manifest reload failed');
    } finally {
      this.#loading = undefined;
    }
    if (this.#again && !this.#closed) {
      this.#again = false;
      void this.#reloadSerialized();
    }
  }

  /**
   * Re-reads the files whose fingerprint changed; returns the errors of this pass (at start-up, the
   * read errors too: there is no last good state to keep yet).
   */
  async #reload(initial: boolean): Promise<SwyError[]> {
    const scan = await scanManifests(this.#paths, this.#fs);
    const { files: found, unreadable } = scan;
    const kept = (path: string): boolean => {
      for (const p of unreadable.keys()) if (isAtOrUnder(path, p)) return true;
      return false;
    };
    // Watchers below a path that exists but cannot be read stay: a watch event is how its repair is noticed
    // soonest. Below a path that is gone (ENOENT) they watch deleted inodes: dropped, made anew when it is back.
    const dead = (dir: string): boolean => [...unreadable].some(([p, f]) => errorCode(f.error) === 'ENOENT' && isAtOrUnder(dir, p));
    for (const dir of this.#watchers.keys()) if (kept(dir) && !dead(dir)) scan.dirs.add(dir);
    this.#syncWatchers(scan.dirs);

    const changed: string[] = [];
    for (const [file, fp] of found) if (this.#files.get(file)?.fingerprint !== fp) changed.push(file);
    // Removed: absent from a listing that succeeded. Under an unreadable path, absence proves nothing.
    const removed = [...this.#files.keys()].filter((f) => !found.has(f) && !kept(f));

    for (const file of removed) this.#files.delete(file);
    const errors: SwyError[] = [];
    const applied: string[] = [...removed];
    changed.sort();
    const parsed = new Map<string, Rec[]>();
    const objects = new Map<string, number>();
    for (const file of changed) {
      let text: string;
      try {
        text = await this.#fs.readFile(file);
      } catch (err) {
        // Gone between listing and reading (a rename in progress): the next event reloads it.
        if (errorCode(err) === 'ENOENT') continue;
        // Its records and its old fingerprint stay, so that the retry reads it again.
        unreadable.set(file, { op: 'read', error: err as Error });
        continue;
      }
      const result = parseManifest(text, file, this.name);
      for (const s of result.skipped) this.#log.debug({ file, document: s.document, kind: s.kind }, 'skipped object of unsupported kind');
      if (result.errors.length > 0) {
        errors.push(...result.errors);
        this.#reject(file, found.get(file)!, result.errors);
        continue;
      }
      parsed.set(file, result.records);
      objects.set(file, result.records.length + result.skipped.length);
    }
    if (initial) errors.unshift(...[...unreadable].map(([path, failure]) => readError(path, failure)));
    else this.#retry.settle(unreadable);
    if (applied.length === 0 && parsed.size === 0 && errors.length === 0) {
      if (initial) this.#noteEmptyPaths(initial, unreadable);
      return [];
    }

    // Duplicates: an object already defined by a file that did not change wins over a changed file.
    const owners = new Map<string, string>();
    for (const [file, state] of this.#files) if (!parsed.has(file)) for (const r of state.records) owners.set(recordKey(r), file);
    for (const [file, records] of parsed) {
      const dup = findDuplicate(file, records, owners);
      if (dup) {
        errors.push(dup);
        this.#reject(file, found.get(file)!, [dup]);
        continue;
      }
      for (const r of records) owners.set(recordKey(r), file);
      this.#files.set(file, { fingerprint: found.get(file)!, records, objects: objects.get(file) ?? records.length, error: undefined });
      applied.push(file);
    }

    const at = new Date().toISOString();
    this.#lastReload = { at, result: errors.length > 0 ? 'rejected' : 'ok', applied, errors: errors.map(toView) };
    if (errors.length > 0) this.#rejectedReloads++;
    if (errors.length > 0) {
      this.#lastError = toView(errors[errors.length - 1]!);
      if (!initial) for (const e of errors) this.#log.error({ code: e.code, file: e.location?.file, document: e.location?.document, path: e.location?.path }, `manifest change rejected, keeping the last good version: ${e.message}`);
    } else if ([...this.#files.values()].every((f) => !f.error)) {
      this.#lastError = undefined;
    }
    if (applied.length > 0 && !(initial && errors.length > 0)) {
      if (!initial) this.#log.info({ files: applied }, 'manifests reloaded');
      this.#emit();
    }
    if (!(initial && errors.length > 0)) this.#noteEmptyPaths(initial, unreadable);
    return errors;
  }

  /**
   * Warns once about each --manifests path that holds no manifests (at start-up, or when it becomes
   * empty). Never an error: an empty directory filled later (by a CI job, a config-map sync) is a
   * valid way to start.
   */
  #noteEmptyPaths(initial: boolean, unreadable: ReadonlyMap<string, ReadFailure>): void {
    const before = new Set(this.#emptyPaths);
    const holds = (file: string): boolean => {
      const f = this.#files.get(file)!;
      return f.objects > 0 || f.error !== undefined;
    };
    this.#emptyPaths = emptyRoots(this.#paths, this.#files.keys(), holds, unreadable);
    for (const path of this.#emptyPaths) {
      if (!before.has(path)) this.#log.warn({ path }, emptyPathMessage(path, initial));
    }
    if (!initial) for (const path of before) if (!this.#emptyPaths.includes(path)) this.#log.info({ path }, `--manifests ${path}: holds manifests again`);
  }

  #reject(file: string, fingerprint: string, errors: SwyError[]): void {
    const state = this.#files.get(file);
    if (state) {
      state.fingerprint = fingerprint;
      state.error = errors;
    } else {
      this.#files.set(file, { fingerprint, records: [], objects: 0, error: errors });
    }
  }

  #emit(): void {
    const all: Rec[] = [];
    for (const file of [...this.#files.keys()].sort()) all.push(...this.#files.get(file)!.records);
    for (const fn of this.#listeners) fn(all);
  }
}

function findDuplicate(file: string, records: readonly Rec[], owners: ReadonlyMap<string, string>): SwyError | undefined {
  const inFile = new Set<string>();
  for (const r of records) {
    const key = recordKey(r);
    const other = inFile.has(key) ? file : owners.get(key);
    if (other !== undefined) {
      const location = { file, ...(r.origin.document !== undefined ? { document: r.origin.document } : {}), path: 'metadata.name' };
      const where = other === file ? 'earlier in the same file' : `in ${other}`;
      return new SwyError(ErrorCode.MANIFEST_DUPLICATE, `${file} document ${r.origin.document} field metadata.name: duplicate object ${key}, already defined ${where}`, { location });
    }
    inFile.add(key);
  }
  return undefined;
}

/** The warning about a --manifests path with no manifests, at start-up (as `switchyard check` prints it too) or after a change. */
export function emptyPathMessage(path: string, atStart: boolean): string {
  return `--manifests ${path}: ${emptyPathProblem(atStart)}`;
}

/** emptyPathMessage without the path. */
export function emptyPathProblem(atStart: boolean): string {
  const then = atStart ? 'starting anyway; files added to it later are loaded' : 'nothing is served from it until files are added';
  return `no manifests found (no *.yaml, *.yml or *.json file with an object in it); ${then}`;
}

function readError(path: string, failure: ReadFailure): SwyError {
  const what = failure.op === 'list' ? 'cannot list directory' : failure.op === 'stat' ? 'cannot stat' : 'cannot read';
  return new SwyError(ErrorCode.MANIFEST_READ, `${path}: ${what}: ${failure.error.message}`, { cause: failure.error, location: { file: path } });
}

function toView(e: SwyError): ManifestErrorView {
  return { code: e.code, message: e.message, file: e.location?.file, document: e.location?.document, path: e.location?.path, line: e.location?.line };
}
