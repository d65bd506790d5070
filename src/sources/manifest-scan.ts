/**
 * One listing pass of the manifest paths for file-source.ts: which manifest files exist (with a
 * fingerprint), which directories to watch, and which paths could not be read.
 *
 * The distinction that matters is between "gone" and "unreadable". Only a file or directory missing
 * from a directory listing that succeeded is gone (ENOENT for an entry of a readable directory: deleted
 * between the listing and the stat). Everything else that fails — EMFILE/ENFILE when the process is out
 * of descriptors, EACCES, EIO, ENOMEM, a --manifests root that vanished with its mount — is unreadable,
 * and the caller keeps the last good state of everything at or under that path: an I/O error never
 * means "every file was removed".
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** What a scan needs of `fs`; a seam so tests can inject failures (EMFILE, EACCES, EIO). */
export interface ManifestFs {
  stat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean; readonly mtimeMs: number; readonly size: number; readonly ino: number }>;
  readdir(path: string): Promise<readonly { readonly name: string; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }[]>;
  readFile(path: string): Promise<string>;
}

/** The real file system. */
export const NODE_FS: ManifestFs = {
  stat: (path) => stat(path),
  readdir: (path) => readdir(path, { withFileTypes: true }),
  readFile: (path) => readFile(path, 'utf8'),
};

/** A path that could not be read, and how. */
export interface ReadFailure {
  readonly op: 'stat' | 'list' | 'read';
  readonly error: Error;
}

export interface ManifestScan {
  /** Manifest file → fingerprint (mtime, size, inode). */
  readonly files: Map<string, string>;
  /** Every directory to watch (for a top-level file, its parent). */
  readonly dirs: Set<string>;
  /** Unreadable path → why; what was known at or under it is kept. */
  readonly unreadable: Map<string, ReadFailure>;
}

/** The errno code of an error, `EUNKNOWN` when it has none. */
export function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/** Whether `path` is `prefix` or lies under it. */
export function isAtOrUnder(path: string, prefix: string): boolean {
  return path === prefix || (path.startsWith(prefix) && (prefix.endsWith(sep) || path[prefix.length] === sep));
}

/** Lists every manifest file under `roots` (absolute paths; recursively for directories). */
export async function scanManifests(roots: readonly string[], fs: ManifestFs): Promise<ManifestScan> {
  const scan: ManifestScan = { files: new Map(), dirs: new Set(), unreadable: new Map() };
  for (const root of roots) await visit(root, true, fs, scan);
  return scan;
}

async function visit(path: string, root: boolean, fs: ManifestFs, scan: ManifestScan): Promise<void> {
  let s;
  try {
    s = await fs.stat(path);
  } catch (err) {
    // Below a root, ENOENT means the entry went away after its directory was listed (or is a dangling
    // symlink): it is gone. A root the user named that is missing is a lost mount until proven otherwise.
    if (root || errorCode(err) !== 'ENOENT') scan.unreadable.set(path, { op: 'stat', error: err as Error });
    return;
  }
  if (s.isDirectory()) {
    scan.dirs.add(path);
    let entries;
    try {
      entries = await fs.readdir(path);
    } catch (err) {
      if (root || errorCode(err) !== 'ENOENT') scan.unreadable.set(path, { op: 'list', error: err as Error });
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue; // editors' swap and temp files
      const child = join(path, e.name);
      if (e.isDirectory()) await visit(child, false, fs, scan);
      else if ((e.isFile() || e.isSymbolicLink()) && MANIFEST_EXTENSIONS.has(extname(e.name).toLowerCase())) await visit(child, false, fs, scan);
    }
    return;
  }
  if (!s.isFile()) return;
  scan.files.set(path, `${s.mtimeMs}:${s.size}:${s.ino}`);
  if (root) scan.dirs.add(dirname(path)); // a top-level file is watched through its directory
}

/**
 * The roots that hold no manifests: no manifest file at or under them, or only files with no object in
 * them (empty, comments, `---` alone). `holds(file)` says whether a file has an object — a rejected file
 * counts, it is not empty. An unreadable root is not empty: what it held is unknown.
 */
export function emptyRoots(roots: readonly string[], files: Iterable<string>, holds: (file: string) => boolean, unreadable: ReadonlyMap<string, ReadFailure>): string[] {
  const full = [...files].filter(holds);
  return roots.filter((root) => {
    for (const p of unreadable.keys()) if (isAtOrUnder(root, p) || isAtOrUnder(p, root)) return false;
    return !full.some((f) => isAtOrUnder(f, root));
  });
}
