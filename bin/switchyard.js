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
