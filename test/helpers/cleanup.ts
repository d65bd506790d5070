/**
 * One place that remembers everything a test opened (child processes, servers, sockets, temp dirs)
 * and closes it in `afterEach`, even when the test failed half-way.
 * Each test file runs in its own worker with its own module graph, so this module-level list is per file.
 */
type Closer = () => Promise<unknown> | unknown;

const closers: Closer[] = [];

/** Registers something to close after the current test; the last registered is closed first. */
export function defer(fn: Closer): void {
  closers.push(fn);
}

/** Closes everything registered so far (in reverse order); errors are collected and rethrown together. */
export async function cleanupAll(): Promise<void> {
  const errors: unknown[] = [];
  while (closers.length > 0) {
    const fn = closers.pop()!;
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'several cleanups failed');
}
