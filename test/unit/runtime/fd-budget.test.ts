/**
 * The file-descriptor budget: the default --max-client-connections drawn from the open-file limit,
 * the start-up line that states both, and the fact the module relies on: Node raises its soft
 * RLIMIT_NOFILE to the hard limit at start-up, in the process (worker threads share it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { clientConnectionBudget, clientConnectionCap, logClientConnectionCap, reservedDescriptors } from '../../../src/runtime/fd-budget.ts';

const run = promisify(execFile);
const PRLIMIT = '/usr/bin/prlimit';
const FD_BUDGET = fileURLToPath(new URL('../../../src/runtime/fd-budget.ts', import.meta.url));
const canPrlimit = process.platform === 'linux' && existsSync(PRLIMIT);

const NO_LISTENERS = { listenTls: undefined, serviceListen: undefined } as const;
const AT = { host: '127.0.0.1', port: 0 };

describe('clientConnectionBudget: ⌊(limit − reserve) / 2 / listeners⌋', () => {
  it.each([
    // limit, listeners, reserve, cap
    [1_048_576, 1, 256, 524_160],
    [65_536, 1, 256, 32_640],
    [4_096, 1, 256, 1_920],
    [1_024, 1, 256, 384],
    [1_024, 3, 256, 128],
    [256, 1, 64, 96],
    [64, 1, 16, 24],
    [4, 1, 1, 1],
    [1, 1, 0, 1],
  ])('limit %i, %i listener(s): reserve %i, cap %i', (limit, listeners, reserve, cap) => {
    expect(reservedDescriptors(limit)).toBe(reserve);
    expect(clientConnectionBudget(limit, listeners)).toBe(cap);
    // The invariant the formula is for: every client mid-request with one pod connection still fits.
    if (cap > 1) expect(2 * cap * listeners + reserve).toBeLessThanOrEqual(limit);
  });

  it('assumes 1,024 when the limit is unknown, and stays within the flag range when it is unlimited', () => {
    expect(clientConnectionBudget(undefined)).toBe(384);
    expect(clientConnectionBudget(Number.MAX_SAFE_INTEGER)).toBe(10_000_000);
  });
});

describe('clientConnectionCap', () => {
  it('counts the client listeners (ingress, ingress-tls, service) and splits the budget between them', () => {
    expect(clientConnectionCap({ maxClientConnections: undefined, workers: 1, ...NO_LISTENERS }, 1_024)).toEqual({ fdLimit: 1_024, listeners: 1, perListener: 384, fromFlag: false });
    expect(clientConnectionCap({ maxClientConnections: undefined, workers: 1, listenTls: AT, serviceListen: AT }, 1_024)).toMatchObject({ listeners: 3, perListener: 128 });
    // Worker threads share the process's descriptors: two workers' sockets split the same budget.
    expect(clientConnectionCap({ maxClientConnections: undefined, workers: 2, listenTls: AT, serviceListen: undefined }, 1_024)).toMatchObject({ listeners: 4, perListener: 96 });
  });

  it('--max-client-connections wins, per listener as given', () => {
    expect(clientConnectionCap({ maxClientConnections: 5, workers: 1, listenTls: AT, serviceListen: undefined }, 1_024)).toEqual({ fdLimit: 1_024, listeners: 2, perListener: 5, fromFlag: true });
  });
});

describe('logClientConnectionCap', () => {
  const capture = () => {
    const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
    return { lines, log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as (typeof lines)[number]) }) };
  };

  it('states the limit and the cap in one info line', () => {
    const { lines, log } = capture();
    logClientConnectionCap({ maxClientConnections: undefined, workers: 2, ...NO_LISTENERS }, log, 4_096);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, fdLimit: 4_096, maxClientConnections: 960, listeners: 2, workers: 2, from: 'fd budget' });
    expect(lines[0]!.msg).toContain('limit 4096');
  });

  it('warns when the flag leaves pods and manifest reads less than the budget', () => {
    const { lines, log } = capture();
    logClientConnectionCap({ maxClientConnections: 100_000, workers: 1, ...NO_LISTENERS }, log, 1_024);
    expect(lines.map((l) => l.level)).toEqual([30, 40]);
    expect(lines[1]).toMatchObject({ fdLimit: 1_024, maxClientConnections: 100_000, budget: 384 });
    const quiet = capture();
    logClientConnectionCap({ maxClientConnections: 5, workers: 1, ...NO_LISTENERS }, quiet.log, 1_024);
    expect(quiet.lines.map((l) => l.level)).toEqual([30]);
  });
});

describe.skipIf(!canPrlimit)('Node raises the soft open-file limit to the hard one (so Switchyard does not)', () => {
  it('in the process: started with soft 128, hard 512, openFileLimit() reads 512', async () => {
    const script = `import(${JSON.stringify(FD_BUDGET)}).then((m) => console.log(m.openFileLimit()))`;
    const { stdout } = await run(PRLIMIT, ['--nofile=128:512', '--', process.execPath, '-e', script], { timeout: 10_000 });
    expect(stdout.trim()).toBe('512');
  });

  it('in a cluster worker too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swy-fd-'));
    try {
      const file = join(dir, 'cluster.mjs');
      await writeFile(
        file,
        `import cluster from 'node:cluster';
import { openFileLimit } from ${JSON.stringify(FD_BUDGET)};
if (cluster.isPrimary) cluster.fork().on('message', (m) => { console.log(openFileLimit(), m); process.exit(0); });
else process.send(openFileLimit());
`,
      );
      const { stdout } = await run(PRLIMIT, ['--nofile=128:600', '--', process.execPath, file], { timeout: 10_000 });
      expect(stdout.trim()).toBe('600 600');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
