/**
 * The glibc malloc settings deploy/ gives Switchyard (docs/performance.md, "Memory tuning"): the bench's
 * children run with them, so Switchyard runs as shipped. Values set by whoever runs the bench are kept.
 */

// Read before applyMallocEnv() can set it (this module is evaluated before anything calls it).
const arenasFromUser = process.env.MALLOC_ARENA_MAX !== undefined;

/**
 * For every child: the trim threshold the image sets (freed socket buffers go back to the system) and one
 * malloc arena, as the single-process manifests set it.
 */
export function applyMallocEnv(): void {
  process.env.MALLOC_TRIM_THRESHOLD_ ??= '131072';
  process.env.MALLOC_ARENA_MAX ??= '1';
}

/** What a Switchyard with `workers` (null: its default, one per core) changes: worker threads get the image's 2 arenas. */
export function switchyardMallocEnv(workers: number | null): Record<string, string> {
  return arenasFromUser || workers === 1 ? {} : { MALLOC_ARENA_MAX: '2' };
}
