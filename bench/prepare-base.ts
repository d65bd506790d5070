/**
 * Builds an earlier commit of this repository into a directory of its own, for the protocols run's
 * before-after section (`npm run bench -- --base-dir DIR`). Reads git, never changes it: the tree comes
 * from `git archive COMMIT`, not a worktree or a checkout; then `npm ci` there (its `prepare` script
 * builds dist/), and `.bench-base-commit` records what it is.
 *
 *   node bench/prepare-base.ts COMMIT DIR        e.g. node bench/prepare-base.ts e9a3bbc /tmp/switchyard-base
 *
 * DIR must not exist, or be empty, or hold an earlier preparation of the same commit (then nothing is
 * done). npm ci fetches the packages of that commit's lock file from the registry.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const repoDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [ref, dirArg] = process.argv.slice(2);
if (ref === undefined || dirArg === undefined || process.argv.length > 4) {
  process.stderr.write('usage: node bench/prepare-base.ts COMMIT DIR\n');
  process.exit(2);
}
const dir = path.resolve(dirArg);
const git = (...args: string[]): string => execFileSync('git', args, { cwd: repoDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

let commit: string;
try {
  commit = git('rev-parse', '--verify', `${ref}^{commit}`);
} catch {
  process.stderr.write(`prepare-base: ${JSON.stringify(ref)} is not a commit of ${repoDir}\n`);
  process.exit(2);
}
const marker = path.join(dir, '.bench-base-commit');
if (existsSync(marker) && readFileSync(marker, 'utf8').startsWith(commit) && existsSync(path.join(dir, 'dist', '.built'))) {
  process.stdout.write(`${dir} already holds ${commit.slice(0, 12)}, built\n`);
  process.exit(0);
}
if (existsSync(dir) && readdirSync(dir).length > 0) {
  process.stderr.write(`prepare-base: ${dir} exists and is not empty; choose a new directory\n`);
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

function run(command: string, args: readonly string[], options: { cwd: string; stdin?: NodeJS.ReadableStream }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, stdio: [options.stdin ? 'pipe' : 'ignore', 'inherit', 'inherit'] });
    if (options.stdin && child.stdin) options.stdin.pipe(child.stdin);
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${signal ?? `code ${code}`}`))));
  });
}

process.stdout.write(`prepare-base: ${commit.slice(0, 12)} ${git('log', '-1', '--format=%s', commit).slice(0, 100)}\n`);
const archive = spawn('git', ['archive', '--format=tar', commit], { cwd: repoDir, stdio: ['ignore', 'pipe', 'inherit'] });
const archived = new Promise<void>((resolve, reject) => archive.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`git archive exited with code ${code}`)))));
await Promise.all([archived, run('tar', ['-x', '-C', dir], { cwd: dir, stdin: archive.stdout! })]);
await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir });
if (!existsSync(path.join(dir, 'dist', '.built'))) await run('npm', ['run', 'build'], { cwd: dir });
writeFileSync(marker, `${commit}\n${git('log', '-1', '--format=%s', commit)}\n`);
process.stdout.write(`prepare-base: ${dir} is ready: npm run bench -- --base-dir ${dir}\n`);
