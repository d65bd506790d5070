#!/usr/bin/env -S node --max-semi-space-size=4
// The V8 flag above caps the young generation at 4 MB per semi-space (Node's default grows it to 16): a
// proxy's garbage is short-lived, and the cap saves ~40 MB of peak RSS per process under load at the
// same req/s. It applies when this file is run as a program (`switchyard`, `./bin/switchyard.js`); with
// `node bin/switchyard.js` pass it yourself. The bench and the image read or repeat this line.
// Runs the JavaScript build in dist/ (made by `npm install` / `npm run build`) when it is at least as new
// as every file under src/ (or src/ is absent, as in the image), else the TypeScript sources directly
// (Node 24 strips types). Both behave the same; the build saves each process the type stripper (about
// 20 MB of RSS) and the stripping at start-up.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// glibc's malloc returns freed memory at the top of its heap to the system only above a trim threshold,
// and by default it raises that threshold to twice the largest freed mmap'd block (up to 64 MB). One
// large transient allocation is enough, and from then on memory freed by the socket read buffers of a
// busy proxy stays in the process: 10 routes under the same load peaked at 134 MB in one run, 182 MB in
// the next. A fixed threshold (glibc's own default, 128 KiB) turns the raising off: 110–121 MB, with no
// CPU cost seen. An environment variable is read by malloc only at start, so the launcher sets it and starts
// itself over (execve: same pid, same stdio; Node ≥ 22.15). Workers inherit it. Set
// MALLOC_TRIM_THRESHOLD_ (or glibc.malloc.trim_threshold in GLIBC_TUNABLES) yourself to choose another.
const MALLOC_TRIM_THRESHOLD = String(128 * 1024);
if (
  process.platform === 'linux' &&
  process.env.MALLOC_TRIM_THRESHOLD_ === undefined &&
  !(process.env.GLIBC_TUNABLES ?? '').includes('malloc.trim_threshold') &&
  typeof process.execve === 'function'
) {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      MALLOC_TRIM_THRESHOLD_: MALLOC_TRIM_THRESHOLD,
    });
  } catch (err) {
    // Only memory is at stake: run as we are, and say why.
    process.stderr.write(`switchyard: could not restart with MALLOC_TRIM_THRESHOLD_ set (${err.message}); running without it\n`);
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));

function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  const built = statSync(`${root}dist/.built`, { throwIfNoEntry: false });
  if (built === undefined) return false; // never built, or a build that did not finish
  if (statSync(`${root}src`, { throwIfNoEntry: false }) === undefined) return true;
  return built.mtimeMs >= newestMtimeMs(`${root}src`);
}

const { runCli } = buildIsCurrent() ? await import('../dist/cli.js') : await import('../src/cli.ts');

// Exit explicitly: a stop that left a stray handle must not keep the process alive.
process.exit(await runCli(process.argv.slice(2)));
