import { afterEach, beforeEach } from 'vitest';
import { ManifestDir } from './manifests.ts';
import { killAll } from './processes.ts';

/**
 * Registers the hooks every reliability test file needs: a fresh manifest directory per test, and
 * every child process killed and the directory removed afterwards. Returns the current directory.
 */
export function useManifestDir(): () => ManifestDir {
  let dir: ManifestDir | undefined;
  beforeEach(async () => {
    dir = await ManifestDir.create();
  });
  afterEach(async () => {
    await killAll();
    await dir?.remove();
    dir = undefined;
  });
  return () => dir!;
}
