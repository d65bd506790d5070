/**
 * Every command a README shows must work as written. In each README.md (the top level, examples/*,
 * deploy/, docs/): fenced blocks marked ```sh runnable run line by line in the repository (bounded in
 * time, each must exit 0); in every other ```sh block, each `npx switchyard …` line must parse with the
 * flags the CLI really has (nothing is started), each `npm run X` must name a script of package.json and
 * each `node FILE` must name a file that exists.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/flags.ts';
import { parseCheckArgs } from '../../src/runtime/check.ts';
import { parseExplainArgs } from '../../src/runtime/explain-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPTS = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

interface Command {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly runnable: boolean;
}

function readmes(): string[] {
  const found = [join(ROOT, 'README.md')];
  for (const dir of ['examples', 'deploy', 'docs']) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name === 'README.md') found.push(join(entry.parentPath, entry.name));
    }
  }
  return found;
}

/** The commands of a Markdown file's ```sh blocks: continuation lines joined, comments and prompts dropped. */
export function shellCommands(file: string, markdown: string): Command[] {
  const out: Command[] = [];
  let block: { runnable: boolean } | undefined;
  let pending: { text: string; line: number } | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const fence = /^\s*```(.*)$/.exec(raw);
    if (fence) {
      const info = fence[1]!.trim().split(/\s+/);
      block = block === undefined && (info[0] === 'sh' || info[0] === 'bash' || info[0] === 'shell') ? { runnable: info.includes('runnable') } : undefined;
      return;
    }
    if (block === undefined) return;
    const line = raw.trim().replace(/^\$ /, '');
    if (pending === undefined && (line === '' || line.startsWith('#'))) return;
    const text = `${pending?.text ?? ''}${stripComment(line)}`;
    if (text.endsWith('\\')) {
      pending = { text: `${text.slice(0, -1)} `, line: pending?.line ?? i + 1 };
      return;
    }
    out.push({ file, line: pending?.line ?? i + 1, text: text.trim(), runnable: block.runnable });
    pending = undefined;
  });
  return out;
}

/** `cmd arg  # why` → `cmd arg` (a # inside quotes stays). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line;
}

/** A POSIX-shell-like split: quotes and backslashes; no expansion. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word = (word ?? '') + c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < text.length) word = (word ?? '') + text[++i];
    else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** Why a `switchyard …` command line would not parse; undefined when it would. */
function switchyardProblem(args: readonly string[]): string | undefined {
  if (args[0] === '--version' || args[0] === '-v') return undefined;
  if (args[0] === 'check') {
    const parsed = parseCheckArgs(args.slice(1));
    return parsed.kind === 'error' ? parsed.errors.join('; ') : undefined;
  }
  if (args[0] === 'explain') {
    const parsed = parseExplainArgs(args.slice(1));
    return parsed.kind === 'error' ? parsed.errors.join('; ') : undefined;
  }
  const parsed = parseFlags(args);
  return parsed.kind === 'error' ? parsed.errors.join('; ') : undefined;
}

function run(command: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: ROOT, timeout: 60_000, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, output: `${stdout}${stderr}`.slice(-2000) });
    });
  });
}

const commands = readmes().flatMap((file) => shellCommands(relative(ROOT, file), readFileSync(file, 'utf8')));

describe('README commands', () => {
  it('finds the commands of every README', () => {
    expect(commands.filter((c) => c.file === 'README.md').length).toBeGreaterThan(10);
    expect(commands.some((c) => c.runnable)).toBe(true);
  });

  it.each(commands.filter((c) => !c.runnable).map((c) => [`${c.file}:${c.line}`, c] as const))('%s parses as the project has it', (_where, c) => {
    const words = shellWords(c.text);
    // `HTTP_PROXY=… curl …`: the assignments before the command.
    while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) words.shift();
    const [cmd, ...rest] = words;
    if (cmd === 'npx' && rest[0] === 'switchyard') expect(switchyardProblem(rest.slice(1)), c.text).toBeUndefined();
    else if (cmd === 'switchyard') throw new Error(`${c.file}:${c.line}: "${c.text}" starts with a bare switchyard; write npx switchyard (a bare one is "command not found" without npm link)`);
    else if (cmd === 'npm' && rest[0] === 'run') expect(Object.keys(SCRIPTS), c.text).toContain(rest[1]);
    else if (cmd === 'npm' && (rest[0] === 'start' || rest[0] === 'test')) expect(Object.keys(SCRIPTS), c.text).toContain(rest[0]);
    else if (cmd === 'node' && rest[0] !== undefined && !rest[0].startsWith('-')) expect(existsSync(join(ROOT, rest[0])), c.text).toBe(true);
  });

  it.each(commands.filter((c) => c.runnable).map((c) => [`${c.file}:${c.line}`, c] as const))('%s runs and exits 0', async (_where, c) => {
    const { code, output } = await run(c.text);
    expect(code, `${c.text}\n${output}`).toBe(0);
  }, 70_000);
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\p{M}_ -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

const MARKDOWN = [...readmes(), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];

describe('README links', () => {
  it.each(MARKDOWN.map((f) => [relative(ROOT, f), f] as const))('%s links only to files and headings that exist', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // http:, mailto:
      const [path, anchor] = target!.split('#');
      const resolved = path === '' ? file : join(file, '..', path!);
      if (!existsSync(resolved)) broken.push(`${target} (no file ${relative(ROOT, resolved)})`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${target} (no heading #${anchor})`);
    }
    expect(broken).toEqual([]);
  });
});

describe('shellCommands', () => {
  it('joins continuation lines, drops comments and prompts, and tells runnable blocks apart', () => {
    const md = ['```sh runnable', '$ npx switchyard --help   # usage', '', '```', 'text', '```sh', 'npx switchyard \\', '  --manifests a', "echo '#not a comment'", '```', '```yaml', 'a: b', '```'].join('\n');
    expect(shellCommands('R.md', md)).toEqual([
      { file: 'R.md', line: 2, text: 'npx switchyard --help', runnable: true },
      { file: 'R.md', line: 7, text: 'npx switchyard  --manifests a', runnable: false },
      { file: 'R.md', line: 9, text: "echo '#not a comment'", runnable: false },
    ]);
  });

  it('splits words as a shell does', () => {
    expect(shellWords(`curl -H 'Host: a b' "x y" c\\ d`)).toEqual(['curl', '-H', 'Host: a b', 'x y', 'c d']);
  });
});
