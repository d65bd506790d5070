#!/usr/bin/env -S node --max-semi-space-size=4
// The V8 flag above caps the young generation at 4 MB per semi-space (Node's default grows it to 16): a
// proxy's garbage is short-lived, and the cap saves ~40 MB of peak RSS per process under load at the
// same req/s. It applies when this file is run as a program (`switchyard`, `./bin/switchyard.js`); with
// `node bin/switchyard.js` pass it yourself. The bench and the image read or repeat this line.
// Runs the JavaScript build in dist/ (made by `npm install` / `npm run build`) when it is at least as new
// as every file under src/ (or src/ is absent, as in the image), else the TypeScript sources directly
// (Node ≥ 22.18 strips types). Both behave the same; the build saves each process the type stripper (about
// 20 MB of RSS) and the stripping at start-up.
//
// This file must parse and reach the Node version check on any Node that runs ES modules (a user's PATH may
// lead `#!/usr/bin/env node` to an old one): no syntax newer than Node 12's (no top-level await, no `??`
// or `?.`) and no static import of a module that needs a newer Node; the program is imported dynamically
// after the check.
import { spawn } from 'node:child_process';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// The same range as package.json `engines`: the HTTP/2 server answers with node:http2's raw header lists
// (respond() takes them from 22.20 and 24.7; before, every HTTP/2 request is reset), undici 8 (through
// @kubernetes/client-node) needs 22.19, and Node 23 (end-of-life) has neither that respond() nor a place in
// vitest's engines. The range covers process.getBuiltinModule (22.3) and type
// stripping (22.18) too. Before 24.9 (node:http's shouldUpgradeCallback) the `--http1-server node` fallback
// answers 400 to an upgrade request with a body; the default server does not need it.
const REQUIRED = '22.20+ or 24.7+';
function nodeIsSupported(version) {
  const parts = version.split('.').map(Number);
  return (parts[0] === 22 && parts[1] >= 20) || (parts[0] === 24 && parts[1] >= 7) || parts[0] >= 25;
}

// A checkout's own Node (the devDependency `node`, which `npx switchyard` and `npm start` put first on
// PATH); undefined when it is missing or is the Node running now.
function pinnedNode() {
  try {
    const pinned = realpathSync(`${root}node_modules/node/bin/node`);
    return pinned === realpathSync(process.execPath) ? undefined : pinned;
  } catch (err) {
    return undefined;
  }
}

function refuse(why) {
  process.stderr.write(
    `switchyard: needs Node.js ${REQUIRED}, found ${process.version} (${process.execPath})${why}; ` +
      'put Node.js 24 first on PATH, or run `npm install` and then `npx switchyard` in the Switchyard checkout (it brings Node 24)\n',
  );
  process.exit(1);
}

// Started by a too-old Node in a checkout that has its pinned Node: run this file again under that Node,
// as a child (process.execve, which would keep the pid, is itself newer than such a Node). The child gets
// its own session (detached) so that a terminal's Ctrl-C, sent to the whole foreground process group,
// reaches it once, through here, like every other signal: Switchyard stops gracefully on the first SIGINT
// and at once on a second. Its exit code, or the signal that ended it, becomes this process's. The old Node
// stays as the parent (some 40 MB): `npx switchyard` or a current Node on PATH spares it.
function runUnder(node) {
  const child = spawn(node, process.execArgv.concat(process.argv.slice(1)), { stdio: 'inherit', detached: true });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (signal) => {
    child.kill(signal);
  };
  for (const signal of signals) process.on(signal, forward);
  child.on('error', (err) => refuse(`, and starting ${node} failed (${err.message})`));
  child.on('exit', (code, signal) => {
    for (const s of signals) process.off(s, forward);
    if (signal === null) process.exit(code);
    process.kill(process.pid, signal);
    // A signal whose default action is not to end the process (SIGUSR1 starts the inspector).
    process.exit(128 + (constants.signals[signal] || 0));
  });
}

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

if (nodeIsSupported(process.versions.node)) {
  import(buildIsCurrent() ? '../dist/cli.js' : '../src/cli.ts')
    .then(({ runCli }) => runCli(process.argv.slice(2)))
    // Exit explicitly: a stop that left a stray handle must not keep the process alive.
    .then((code) => process.exit(code));
} else {
  const node = pinnedNode();
  if (node === undefined) refuse('');
  else runUnder(node);
}
