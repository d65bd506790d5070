/**
 * bin/switchyard.js picks the JavaScript build in dist/ only when it is current: a copy of the launcher
 * beside stand-in dist/ and src/ entry points that say which one ran.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let dir: string;
const at = (seconds: number): Date => new Date(Date.UTC(2026, 0, 1) + seconds * 1000);

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'swy-launcher-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist'));
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  copyFileSync(path.join(import.meta.dirname, '..', '..', 'bin', 'switchyard.js'), path.join(dir, 'bin', 'switchyard.js'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'dist', 'cli.js'), 'export async function runCli() { console.log("dist"); return 0; }\n');
  writeFileSync(path.join(dir, 'src', 'cli.ts'), 'export async function runCli(): Promise<number> { console.log("src"); return 0; }\n');
  writeFileSync(path.join(dir, 'src', 'sub', 'deep.ts'), 'export {};\n');
  for (const f of ['src/cli.ts', 'src/sub/deep.ts']) utimesSync(path.join(dir, f), at(100), at(100));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (): string => execFileSync(process.execPath, [path.join(dir, 'bin', 'switchyard.js')], { encoding: 'utf8', timeout: 10_000 }).trim();
const markBuilt = (seconds: number): void => {
  writeFileSync(path.join(dir, 'dist', '.built'), '');
  utimesSync(path.join(dir, 'dist', '.built'), at(seconds), at(seconds));
};

describe('bin/switchyard.js', () => {
  it('runs dist/ when the build is newer than every source file', () => {
    markBuilt(200);
    expect(run()).toBe('dist');
  });

  it('runs the sources when any source file, however deep, changed after the build', () => {
    markBuilt(200);
    utimesSync(path.join(dir, 'src', 'sub', 'deep.ts'), at(300), at(300));
    expect(run()).toBe('src');
  });

  it('runs the sources when the build never finished (no dist/.built)', () => {
    expect(run()).toBe('src');
  });

  it('run as a program, passes the Node flags of its #! line (the young-generation cap)', () => {
    markBuilt(200);
    writeFileSync(path.join(dir, 'dist', 'cli.js'), 'export async function runCli() { console.log(process.execArgv.join(" ")); return 0; }\n');
    const out = execFileSync(path.join(dir, 'bin', 'switchyard.js'), [], {
      encoding: 'utf8',
      timeout: 10_000,
      // `env node` must find the Node running the tests (24), not the machine's.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
    });
    expect(out.trim()).toBe('--max-semi-space-size=4');
  });

  it('leaves the environment as it is (malloc tuning belongs to the image and the docs) and passes the arguments through', () => {
    markBuilt(200);
    writeFileSync(
      path.join(dir, 'dist', 'cli.js'),
      'export async function runCli() { console.log(JSON.stringify([process.env.MALLOC_TRIM_THRESHOLD_ ?? null, process.pid, process.argv.slice(2)])); return 0; }\n',
    );
    const start = (env: NodeJS.ProcessEnv): string | null => {
      const child = spawnSync(process.execPath, [path.join(dir, 'bin', 'switchyard.js'), '--a', 'b c'], { encoding: 'utf8', timeout: 10_000, env });
      expect(child.status, child.stderr).toBe(0);
      const [threshold, pid, args] = JSON.parse(child.stdout) as [string | null, number, string[]];
      expect(pid, 'no restart: the same process').toBe(child.pid);
      expect(args, 'arguments pass through unchanged').toEqual(['--a', 'b c']);
      return threshold;
    };
    const { MALLOC_TRIM_THRESHOLD_: _drop, GLIBC_TUNABLES: _drop2, ...base } = process.env;
    expect(start(base)).toBeNull();
    expect(start({ ...base, MALLOC_TRIM_THRESHOLD_: '65536' })).toBe('65536');
  });

  it('runs dist/ when there are no sources (the image)', () => {
    markBuilt(50);
    rmSync(path.join(dir, 'src'), { recursive: true });
    expect(run()).toBe('dist');
  });
});
