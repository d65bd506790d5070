/**
 * The bench's flags: parsed and validated once, every error reported together (then exit 2).
 */
import { parseArgs } from 'node:util';

/** Candidate ids accepted by --only; `switchyard` stands for every Switchyard variant. */
export const CANDIDATE_IDS = ['direct', 'switchyard', 'switchyard-1', 'switchyard-n', 'http-proxy', 'fastify', 'nginx'] as const;

export const HELP = `Usage: npm run bench -- [options]   (or: node bench/proxy-bench.ts [options], Node 24)

Drives the same load, interleaved over several rounds, at a pod directly and through each proxy, on
loopback only; then a scale run of Switchyard over many routes and endpoints, with nginx as a reference.

Candidates (ids for --only):
  direct         straight to pod 1: the ceiling
  switchyard-1   Switchyard --workers 1         } only "switchyard" (its default) while
  switchyard-n   Switchyard --workers N (cores) } switchyard --help lists no --workers
  http-proxy     node http-proxy 1.18, keep-alive agent, round-robin over both pods
  fastify        @fastify/http-proxy 11, round-robin via replyOptions.getUpstream
  nginx          nginx, 1 worker, upstream keepalive to both pods (skipped when not on PATH)
Load: autocannon in this process; wrk as well when it is on PATH (skipped silently otherwise).

Options:
  --duration SECONDS   length of each measured run                              [default: 10]
  --connections N      concurrent keep-alive connections, pipelining 1          [default: 50]
  --rounds N           rounds; each round runs every candidate once             [default: 3]
  --quick              --duration 2 --rounds 1, a smoke test (explicit flags still win)
  --only LIST          comparison candidates, comma-separated (${CANDIDATE_IDS.join(', ')})
                                                                                [default: all]
  --skip-scale         run the comparison only
  --scale-only         run the scale run only
  --no-wrk             autocannon only, even when wrk is installed
  -h, --help           show this help

Scale run: Switchyard (--workers 1 when it has the flag) with 10 / 1,000 / 10,000 Ingress routes
(3 endpoints) and 100 / 1,000 endpoints (10 routes), and 10,000 routes with 1,000 endpoints; the load
hits the last-defined route. Also 10,000 routes with the default workers (with the flag), and as a
reference nginx (1 worker) with 3 and 1,000 upstream servers (skipped when not on PATH). req/s relative
to the same proxy's first case (10 routes / 3 endpoints; nginx: 3 servers) in the same round, peak RSS
per process.

Prints markdown tables on stdout, progress on stderr, and writes bench/results/latest.json.
`;

export interface Settings {
  readonly durationSeconds: number;
  readonly connections: number;
  readonly rounds: number;
  readonly pipelining: 1;
  readonly warmupSeconds: number;
  readonly pauseMs: number;
  /** Candidate ids asked for with --only; null for all. */
  readonly only: readonly string[] | null;
  readonly comparison: boolean;
  readonly scale: boolean;
  readonly wrk: boolean;
}

const WARMUP_SECONDS = 1;
const PAUSE_MS = 500;

/** The settings, or `{ help: true }`; throws with every problem found. */
export function parseSettings(argv: readonly string[]): Settings | { readonly help: true } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'skip-scale': { type: 'boolean', default: false },
      'scale-only': { type: 'boolean', default: false },
      'no-wrk': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true };
  const errors: string[] = [];
  const number = (flag: string, value: string | undefined, fallback: number, integer: boolean, max: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n))) {
      errors.push(`--${flag}: ${JSON.stringify(value)} is not ${integer ? `a whole number from 1 to ${max}` : `a number above 0, at most ${max}`}`);
    }
    return n;
  };
  let only: string[] | null = null;
  if (values.only !== undefined) {
    only = values.only.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    const unknown = only.filter((id) => !(CANDIDATE_IDS as readonly string[]).includes(id));
    if (unknown.length > 0 || only.length === 0) errors.push(`--only: ${JSON.stringify(values.only)} names ${unknown.length > 0 ? `unknown candidates (${unknown.join(', ')})` : 'no candidate'}; choose from ${CANDIDATE_IDS.join(', ')}`);
  }
  if (values['skip-scale'] && values['scale-only']) errors.push('--skip-scale and --scale-only exclude each other');
  const settings: Settings = {
    durationSeconds: number('duration', values.duration, values.quick ? 2 : 10, false, 3600),
    connections: number('connections', values.connections, 50, true, 10_000),
    rounds: number('rounds', values.rounds, values.quick ? 1 : 3, true, 100),
    pipelining: 1,
    warmupSeconds: WARMUP_SECONDS,
    pauseMs: PAUSE_MS,
    only,
    comparison: !values['scale-only'],
    scale: !values['skip-scale'],
    wrk: !values['no-wrk'],
  };
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return settings;
}
