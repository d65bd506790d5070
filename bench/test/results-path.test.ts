/**
 * Bench hygiene: `npm run bench` must never dirty a clone. Its default output lands in a git-ignored
 * place, and the only tracked files under bench/results/ are the reference runs the docs quote.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RESULTS_FILE, parseSettings, type Settings } from '../settings.ts';

const repoDir = fileURLToPath(new URL('../..', import.meta.url));
const isGitCheckout = existsSync(path.join(repoDir, '.git'));
const REFERENCES = ['bench/results/reference-protocols.json', 'bench/results/reference.json'];

function git(...args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('git', args, { cwd: repoDir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
}

describe.skipIf(!isGitCheckout)('bench results and git (skipped outside a git checkout)', () => {
  it('writes to bench/results/latest.json by default, and that path is git-ignored', () => {
    expect((parseSettings([]) as Settings).out).toBe(DEFAULT_RESULTS_FILE);
    expect(path.relative(repoDir, DEFAULT_RESULTS_FILE)).toBe(path.join('bench', 'results', 'latest.json'));
    // --no-index: the rule itself, whatever the index holds; the tracked-files check is below.
    for (const file of [DEFAULT_RESULTS_FILE, DEFAULT_RESULTS_FILE.replace(/\.json$/, '.tmp.json')]) {
      expect(git('check-ignore', '--no-index', '-q', file).status, `${file} is not git-ignored`).toBe(0);
    }
  });

  it('keeps the reference runs tracked and not ignored, and tracks nothing else under bench/results/', () => {
    for (const file of REFERENCES) {
      expect(existsSync(path.join(repoDir, file)), file).toBe(true);
      expect(git('check-ignore', '--no-index', '-q', file).status, `${file} is git-ignored`).toBe(1);
    }
    const tracked = execFileSync('git', ['ls-files', '--', 'bench/results'], { cwd: repoDir, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '' && l !== 'bench/results/.gitkeep');
    expect(tracked.sort()).toEqual(REFERENCES);
  });
});
