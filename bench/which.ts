/**
 * Finds an executable on PATH, as a shell would: the bench uses nginx and wrk only when they are there.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** The absolute path of `command` on PATH, or null. */
export function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}
