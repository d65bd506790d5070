/**
 * The bench's flags: parsed and validated once, every error reported together (then exit 2).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Where the JSON results go without --out: bench/results/, which .gitignore keeps out of git (all but
 * the committed reference runs), so a bench run never dirties a clone.
 */
export const DEFAULT_RESULTS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

/** Sections of the protocols run, as --sections names them. */
export const PROTOCOL_SECTIONS = ['tls', 'handshakes', 'http2', 'websocket', 'grpc', 'before-after'] as const;
export type ProtocolSection = (typeof PROTOCOL_SECTIONS)[number];

/** Candidate ids accepted by --only; `switchyard` stands for every Switchyard variant. */
export const CANDIDATE_IDS = ['direct', 'switchyard', 'switchyard-1', 'switchyard-n', 'http-proxy', 'http-proxy-3', 'fastify', 'node-relay', 'nginx'] as const;

export const HELP = `Usage: npm run bench -- [options]   (or: node bench/proxy-bench.ts [options], Node 24)

Drives the same load, interleaved over several rounds, at a pod directly and through each proxy, on
loopback only; then a scale run of Switchyard over many routes and endpoints, with nginx as a reference;
then the protocols run (TLS, HTTP/2, WebSocket, gRPC), Switchyard beside nginx.

Candidates (ids for --only):
  direct         straight to pod 1: the ceiling
  switchyard-1   Switchyard --workers 1         } only "switchyard" (its default) while
  switchyard-n   Switchyard --workers N (cores) } switchyard --help lists no --workers
  http-proxy     node http-proxy 1.18, keep-alive agent, round-robin over both pods
  http-proxy-3   http-proxy-3 2.x (its maintained rewrite), set up the same way
  fastify        @fastify/http-proxy 11, round-robin via replyOptions.getUpstream
  node-relay     not a proxy: a bare node:net relay per connection, no HTTP (the floor of any Node proxy)
  nginx          nginx, 1 worker, upstream keepalive to both pods (skipped when not on PATH)
Load: autocannon in this process; wrk as well when it is on PATH (skipped silently otherwise).

Options:
  --duration SECONDS   length of each measured run                              [default: 10]
  --connections N      concurrent keep-alive connections, pipelining 1          [default: 50]
  --rounds N           rounds; each round runs every candidate once             [default: 3]
  --quick              under 2 min: --duration 2 --rounds 3, one load tool (wrk when on PATH,
                       else autocannon), the scale run's 10 and 10,000 routes cases only, and no
                       protocols run unless --protocols-only or --sections asks for it (then
                       1 round with --protocols-only); explicit flags still win
  --only LIST          comparison candidates, comma-separated (${CANDIDATE_IDS.join(', ')})
                                                                                [default: all]
  --skip-scale         leave the scale run out
  --scale-only         run the scale run only
  --skip-protocols     leave the protocols run out
  --protocols-only     run the protocols run only
  --sections LIST      protocols run sections, comma-separated                  [default: all]
                       (${PROTOCOL_SECTIONS.join(', ')})
  --h2-streams N       protocols run: streams per HTTP/2 connection (4 connections);
                       also gRPC calls in flight per channel (4 channels)       [default: 25]
  --base-dir DIR       protocols run, before-after: a built Switchyard tree of an earlier commit,
                       run beside this one (make it with node bench/prepare-base.ts COMMIT DIR)
  --no-wrk             autocannon only, even when wrk is installed
  --out FILE           where the JSON results go   [default: bench/results/latest.json, git-ignored]
  -h, --help           show this help

Scale run: Switchyard (--workers 1 when it has the flag) with 10 / 1,000 / 10,000 Ingress routes
(3 endpoints) and 100 / 1,000 endpoints (10 routes), and 10,000 routes with 1,000 endpoints; the load
hits the last-defined route. Also 10,000 routes with the default workers (with the flag), and as a
reference nginx (1 worker) with 3 and 1,000 upstream servers (skipped when not on PATH). req/s relative
to the same proxy's first case (10 routes / 3 endpoints; nginx: 3 servers) in the same round, peak RSS
per process.

Protocols run (docs/performance.md): Switchyard --workers 1 beside nginx (1 worker) with the same
ECDSA P-256 certificate (made with openssl), on loopback: HTTP/1.1 keep-alive over TLS 1.3 and plaintext
(wrk, autocannon); new full TLS handshakes per second and per CPU-second of the proxy (a node tls.connect
loop); HTTP/2 over TLS and h2c, 4 connections × --h2-streams streams, beside HTTP/1.1 over 4 connections
(h2load, from nghttp2-client); WebSocket echo messages per second (the ws package, --connections
sockets); gRPC unary calls per second (@grpc/grpc-js client, and h2load with a gRPC body); each
also straight at a pod where that means something; and this Switchyard's plaintext HTTP/1.1 beside
--base-dir's. Whatever a tool or a proxy cannot do here is skipped with a note.

Prints markdown tables on stdout, progress on stderr, and writes bench/results/latest.json (or --out).
Every run ends with one summary table (per candidate: req/s, × nginx, × direct, proxy CPU µs/request,
p99, RSS of all its processes at rest and under load; Switchyard with 10,000 routes from the scale run)
and the targets, each met or not with its figure; --quick prints only that and the protocols run's
tables when it ran.
bench/results/ is git-ignored but for the committed reference runs the README's table and
docs/performance.md quote: reference.json (comparison and scale) and reference-protocols.json.
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
  readonly protocols: boolean;
  readonly sections: readonly ProtocolSection[];
  readonly h2Streams: number;
  /** A built Switchyard tree to compare plaintext HTTP/1.1 with; null: the before-after section is skipped. */
  readonly baseDir: string | null;
  /** The JSON results file, absolute; default DEFAULT_RESULTS_FILE (git-ignored). */
  readonly out: string;
  /** --quick: one load tool in the comparison, the scale run cut to its RSS cases, only the summary printed. */
  readonly quick: boolean;
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
      'skip-protocols': { type: 'boolean', default: false },
      'protocols-only': { type: 'boolean', default: false },
      sections: { type: 'string' },
      'h2-streams': { type: 'string' },
      'base-dir': { type: 'string' },
      out: { type: 'string' },
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
  if (values['skip-protocols'] && values['protocols-only']) errors.push('--skip-protocols and --protocols-only exclude each other');
  if (values['scale-only'] && values['protocols-only']) errors.push('--scale-only and --protocols-only exclude each other');
  // --quick fits in 2 minutes only without the protocols run (~30 cases): it runs when asked for by name.
  const protocols = values['protocols-only'] || (!values['skip-protocols'] && !values['scale-only'] && (!values.quick || values.sections !== undefined));
  let sections: ProtocolSection[] = [...PROTOCOL_SECTIONS];
  if (values.sections !== undefined) {
    const asked = values.sections.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    const unknown = asked.filter((id) => !(PROTOCOL_SECTIONS as readonly string[]).includes(id));
    if (unknown.length > 0 || asked.length === 0) errors.push(`--sections: ${JSON.stringify(values.sections)} names ${unknown.length > 0 ? `unknown sections (${unknown.join(', ')})` : 'no section'}; choose from ${PROTOCOL_SECTIONS.join(', ')}`);
    if (!protocols) errors.push('--sections applies to the protocols run, which --skip-protocols / --scale-only leave out');
    sections = PROTOCOL_SECTIONS.filter((id) => asked.includes(id));
  }
  let baseDir: string | null = null;
  if (values['base-dir'] !== undefined) {
    baseDir = path.resolve(values['base-dir']);
    if (!existsSync(path.join(baseDir, 'bin', 'switchyard.js'))) errors.push(`--base-dir: ${JSON.stringify(values['base-dir'])} holds no bin/switchyard.js (make one with node bench/prepare-base.ts COMMIT DIR)`);
  }
  const settings: Settings = {
    durationSeconds: number('duration', values.duration, values.quick ? 2 : 10, false, 3600),
    connections: number('connections', values.connections, 50, true, 10_000),
    // A quick protocols-only run stays the 1-round smoke test it always was; elsewhere 3 rounds give a median.
    rounds: number('rounds', values.rounds, values.quick && values['protocols-only'] ? 1 : 3, true, 100),
    pipelining: 1,
    warmupSeconds: WARMUP_SECONDS,
    pauseMs: PAUSE_MS,
    only,
    comparison: !values['scale-only'] && !values['protocols-only'],
    scale: !values['skip-scale'] && !values['protocols-only'],
    wrk: !values['no-wrk'],
    protocols,
    sections,
    h2Streams: number('h2-streams', values['h2-streams'], 25, true, 1000),
    baseDir,
    out: values.out === undefined ? DEFAULT_RESULTS_FILE : path.resolve(values.out),
    quick: values.quick,
  };
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return settings;
}
