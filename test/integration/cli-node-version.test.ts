/**
 * The CLI runs on a Node that package.json `engines` allows, however it is started: `./bin/switchyard.js`
 * or `node_modules/.bin/switchyard` with an old `node` first on PATH, `npx switchyard`, `node bin/…`.
 * An old Node in a checkout with its pinned Node re-runs the CLI under that Node (exit code and signals
 * pass through); without one it stops with one line naming the Node found and how to fix it.
 *
 * The old Node is the machine's own (`node` on PATH outside node_modules, or /usr/bin/node); the cases
 * that need it are skipped, saying so, when the machine has none older than 22.20.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { REPO_ROOT } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const BIN = path.join(REPO_ROOT, 'bin', 'switchyard.js');
const PINNED = path.join(REPO_ROOT, 'node_modules', 'node', 'bin', 'node');
const PINNED_VERSION = execFileSync(PINNED, ['--version'], { encoding: 'utf8' }).trim();
const PACKAGE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const VERSION_LINE = `switchyard ${PACKAGE.version} (node ${PINNED_VERSION})\n`;

/** PATH without node_modules/.bin directories (npm and npx put those first): what a user's shell has. */
const SYSTEM_PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir !== '' && !dir.split(path.sep).includes('node_modules'))
  .join(path.delimiter);

const versionOf = (node: string): string | undefined => {
  try {
    return execFileSync(node, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return undefined;
  }
};
const tooOld = (version: string): boolean => {
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  return !((major === 22 && minor >= 20) || (major === 24 && minor >= 7) || major >= 25);
};

/** The machine's Node older than 22.20, if it has one. */
const OLD_NODE = ((): { path: string; version: string } | undefined => {
  const onPath = SYSTEM_PATH.split(path.delimiter).map((dir) => path.join(dir, 'node'));
  for (const candidate of [...onPath, '/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = versionOf(candidate);
    if (version !== undefined && tooOld(version)) return { path: realpathSync(candidate), version };
  }
  return undefined;
})();
const NO_OLD_NODE = 'skipped: this machine has no Node older than 22.20 to start the CLI with';

/** A PATH on which `node` (and `npx`, if the machine's is there) is the old Node. */
const oldFirstPath = (): string => `${path.dirname(OLD_NODE!.path)}${path.delimiter}${SYSTEM_PATH}`;

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'swy-node-version-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A copy of the launcher beside a stand-in dist/cli.js (built, no src/, as in the image); with `pinned`,
 * a node_modules/node/bin/node that is the project's pinned Node.
 */
function launcherCopy(cliJs: string, pinned: boolean): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist'));
  copyFileSync(BIN, path.join(dir, 'bin', 'switchyard.js'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'dist', 'cli.js'), cliJs);
  writeFileSync(path.join(dir, 'dist', '.built'), '');
  if (pinned) {
    mkdirSync(path.join(dir, 'node_modules', 'node', 'bin'), { recursive: true });
    symlinkSync(PINNED, path.join(dir, 'node_modules', 'node', 'bin', 'node'));
  }
  return dir;
}

// What the stand-in CLI saw, as one JSON line.
const REPORT_CLI = `export async function runCli(args) {
  console.log(JSON.stringify({ node: process.version, pid: process.pid, execArgv: process.execArgv, args, malloc: process.env.MALLOC_TRIM_THRESHOLD_ ?? null }));
  return 7;
}
`;

// Reports its pid, then stops on the first SIGINT/SIGTERM after 200 ms (counting every signal that came
// meanwhile) and exits 3; `die` ends it by SIGKILL. The timer keeps it alive (as the proxy's listeners
// do), and ends it after 20 s whatever happens.
const SIGNAL_CLI = `export function runCli(args) {
  setTimeout(() => process.exit(99), 20000);
  if (args[0] === 'die') process.kill(process.pid, 'SIGKILL');
  const seen = [];
  return new Promise((resolve) => {
    const on = (signal) => {
      seen.push(signal);
      if (seen.length === 1) setTimeout(() => { console.log('signals ' + seen.join(',')); resolve(3); }, 200);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    console.log('ready ' + process.pid);
  });
}
`;

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(command: string, args: readonly string[], options: { detached?: boolean } = {}): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: oldFirstPath() }, detached: options.detached ?? false });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  defer(async () => {
    // The stand-in under the pinned Node runs in its own session: end it too.
    const grandchild = /ready (\d+)/.exec(stdout)?.[1];
    if (grandchild !== undefined) {
      try {
        process.kill(Number(grandchild), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

describe('package.json engines', () => {
  it('is the range the launcher checks: 22.20+ on Node 22, 24.7+ from 24', () => {
    expect(PACKAGE.engines.node).toBe('^22.20.0 || >=24.7.0');
    expect(tooOld(PINNED_VERSION)).toBe(false);
  });
});

describe('the CLI on a Node the engines allow', () => {
  it('node bin/switchyard.js --version prints the version and the Node, exit 0', () => {
    const r = spawnSync(PINNED, [BIN, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('-v is --version', () => {
    const r = spawnSync(PINNED, [BIN, '-v'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('check --version is a flag error that points at switchyard --version, exit 2', () => {
    const r = spawnSync(PINNED, [BIN, 'check', '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toContain('switchyard check: --version: not an option of this command (`switchyard --version` prints the version)\n');
    expect(r.status).toBe(2);
  });

  it('npx switchyard --version, npm on the pinned Node: the version, and no engine warning', () => {
    const env = { ...process.env, PATH: `${path.dirname(PINNED)}${path.delimiter}${SYSTEM_PATH}` };
    const r = spawnSync('npx', ['--no-install', 'switchyard', '--version'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.stderr).not.toContain('EBADENGINE');
    expect(r.status).toBe(0);
  });
});

describe.skipIf(OLD_NODE === undefined)(`the CLI started by an old Node (${OLD_NODE?.version ?? NO_OLD_NODE})`, () => {
  it('node bin/switchyard.js --version in the checkout runs under the pinned Node', () => {
    const r = spawnSync(OLD_NODE!.path, [BIN, '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('./bin/switchyard.js --version with the old node first on PATH (the #! line) runs under the pinned Node', () => {
    const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: oldFirstPath() } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('node_modules/.bin/switchyard --version (the link npm makes for a dependency) runs under the pinned Node', () => {
    const project = tempDir();
    mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(REPO_ROOT, path.join(project, 'node_modules', 'switchyard'));
    symlinkSync('../switchyard/bin/switchyard.js', path.join(project, 'node_modules', '.bin', 'switchyard'));
    const r = spawnSync(path.join(project, 'node_modules', '.bin', 'switchyard'), ['--version'], { cwd: project, encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: oldFirstPath() } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('npx switchyard --version with the old Node first on PATH runs under the pinned Node', () => {
    const r = spawnSync('npx', ['--no-install', 'switchyard', '--version'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH: oldFirstPath() } });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(VERSION_LINE);
    expect(r.status).toBe(0);
  });

  it('passes the arguments, the #! line Node flags, the environment and the exit code through', () => {
    const dir = launcherCopy(REPORT_CLI, true);
    const { MALLOC_TRIM_THRESHOLD_: _drop, GLIBC_TUNABLES: _drop2, ...env } = process.env;
    const r = spawnSync(path.join(dir, 'bin', 'switchyard.js'), ['--a', 'b c', ''], { encoding: 'utf8', timeout: 20_000, env: { ...env, PATH: oldFirstPath() } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(7);
    const seen = JSON.parse(r.stdout) as { node: string; pid: number; execArgv: string[]; args: string[]; malloc: string | null };
    expect(seen.node).toBe(PINNED_VERSION);
    expect(seen.pid, 'a child process, not the old Node itself').not.toBe(r.pid);
    expect(seen.execArgv).toEqual(['--max-semi-space-size=4']);
    expect(seen.args).toEqual(['--a', 'b c', '']);
    expect(seen.malloc).toBeNull();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('forwards %s to the CLI once and exits with its code', async (signal) => {
    const dir = launcherCopy(SIGNAL_CLI, true);
    const s = start(OLD_NODE!.path, [path.join(dir, 'bin', 'switchyard.js')], { detached: true });
    await waitFor(() => s.stdout().includes('ready '), { timeoutMs: 10_000, what: `the stand-in CLI to start; stderr: ${s.stderr()}` });
    // To the whole process group, as a terminal's Ctrl-C is: the CLI must still see it once.
    process.kill(-s.child.pid!, signal);
    const exit = await s.exited;
    expect(s.stdout()).toContain(`signals ${signal}\n`);
    expect(exit).toEqual({ code: 3, signal: null });
  });

  it('ends by the signal that ended the CLI', async () => {
    const dir = launcherCopy(SIGNAL_CLI, true);
    const s = start(OLD_NODE!.path, [path.join(dir, 'bin', 'switchyard.js'), 'die']);
    expect(await s.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('without a pinned Node, stops with one line naming the Node found and the fix, exit 1', () => {
    const dir = launcherCopy(REPORT_CLI, false);
    const r = spawnSync(OLD_NODE!.path, [path.join(dir, 'bin', 'switchyard.js'), '--version'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines, r.stderr).toHaveLength(2); // one line and its newline
    expect(lines[0]).toBe(
      `switchyard: needs Node.js 22.20+ or 24.7+, found ${OLD_NODE!.version} (${OLD_NODE!.path}); put Node.js 24 first on PATH, or run \`npm install\` and then \`npx switchyard\` in the Switchyard checkout (it brings Node 24)`,
    );
  });
});
