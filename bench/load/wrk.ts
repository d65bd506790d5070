/**
 * wrk (C, epoll), when it is on PATH: a load generator that costs far less CPU per request than
 * autocannon, so on a small machine it leaves more of the cores to the proxy. One thread, like
 * autocannon. A Lua `done` hook prints the summary as one JSON line.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runToCompletion } from '../children.ts';
import { onPath } from '../which.ts';
import type { LoadOptions, LoadResult, LoadTool, Target } from './types.ts';

const SCRIPT = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"durationUs":%f,"requests":%f,"connect":%f,"read":%f,"write":%f,"status":%f,"timeout":%f,"mean":%f,"max":%f,"p50":%f,"p90":%f,"p99":%f}\\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
`;

interface WrkSummary {
  readonly durationUs: number;
  readonly requests: number;
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
  readonly mean: number;
  readonly max: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/**
 * `Host`, not `host`: wrk adds its own Host header unless one spelled exactly `Host` is given, and a
 * request with two is rejected (400) by nginx and node alike.
 */
function canonical(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

/** wrk as a load tool, its Lua script written to `scratchDir`; null when wrk is not on PATH. */
export function wrkTool(scratchDir: string): LoadTool | null {
  const wrk = onPath('wrk');
  if (wrk === null) return null;
  const script = path.join(scratchDir, 'wrk-summary.lua');
  writeFileSync(script, SCRIPT);
  const run = async (target: Target, options: LoadOptions): Promise<LoadResult> => {
    const seconds = Math.max(1, Math.round(options.seconds));
    const headerArgs = Object.entries(target.headers).flatMap(([name, value]) => ['-H', `${canonical(name)}: ${value}`]);
    const args = ['-t1', `-c${options.connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, ...headerArgs, target.url];
    const stdout = await runToCompletion('wrk', wrk, args, (seconds + 15) * 1000);
    const line = stdout.split('\n').reverse().find((l) => l.startsWith('{'));
    if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
    const s = JSON.parse(line) as WrkSummary;
    const runSeconds = s.durationUs / 1e6;
    return {
      tool: 'wrk',
      seconds: runSeconds,
      requests: s.requests,
      reqPerSec: s.requests / runSeconds,
      latencyMs: { mean: s.mean / 1000, p50: s.p50 / 1000, p90: s.p90 / 1000, p99: s.p99 / 1000, max: s.max / 1000 },
      errors: s.connect + s.read + s.write,
      timeouts: s.timeout,
      non2xx: s.status,
    };
  };
  return { name: 'wrk', run };
}
