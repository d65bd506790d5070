/**
 * h2load (nghttp2-client), when it is on PATH: HTTP/2 over TLS (ALPN h2) or cleartext with prior
 * knowledge (h2c), and HTTP/1.1 with --h1, all from one C load generator, one thread. `-D` bounds each
 * run in time; `--connect-to` sends it to the loopback port while the URL's host is the SNI and the
 * :authority (or Host) the proxies route by. Its summary is parsed from stdout.
 */
import { runToCompletion } from '../../children.ts';

export interface H2loadSummary {
  readonly seconds: number;
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timeout: number;
  readonly status: { readonly '2xx': number; readonly '3xx': number; readonly '4xx': number; readonly '5xx': number };
  /** Mean of "time for request", ms; NaN when absent. */
  readonly meanMs: number;
  /** TLS protocol, cipher, key-exchange group ("Server Temp Key") and ALPN protocol, as h2load prints them. */
  readonly details: Readonly<Record<string, string>>;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

/** A duration as h2load prints it (`41us`, `4.26ms`, `2.00s`), in ms; NaN otherwise. */
export function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

/** Parses h2load's stdout; throws when the summary lines are missing (h2load failed or changed its format). */
export function parseH2load(stdout: string): H2loadSummary {
  const finished = /^finished in ([\d.]+(?:us|ms|s)),/m.exec(stdout);
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(stdout);
  const status = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(stdout);
  if (finished === null || requests === null || status === null) throw new Error(`h2load printed no summary:\n${stdout.slice(-2000)}`);
  const timeForRequest = /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(stdout);
  const details: Record<string, string> = {};
  for (const [key, label] of [['protocol', 'TLS Protocol'], ['cipher', 'Cipher'], ['group', 'Server Temp Key'], ['alpn', 'Application protocol']] as const) {
    const m = new RegExp(`^${label}: (.+)$`, 'm').exec(stdout);
    if (m) details[key] = m[1]!.trim();
  }
  const n = (m: RegExpExecArray, i: number): number => Number(m[i]);
  return {
    seconds: durationMs(finished[1]!) / 1000,
    done: n(requests, 3),
    succeeded: n(requests, 4),
    failed: n(requests, 5),
    errored: n(requests, 6),
    timeout: n(requests, 7),
    status: { '2xx': n(status, 1), '3xx': n(status, 2), '4xx': n(status, 3), '5xx': n(status, 4) },
    meanMs: timeForRequest === null ? NaN : durationMs(timeForRequest[3]!),
    details,
  };
}

export interface H2loadRun {
  /** https://HOST:PORT/… or http://HOST:PORT/…: HOST is the SNI and the :authority. */
  readonly url: string;
  /** `127.0.0.1:PORT`, where the connections really go. */
  readonly connectTo: string;
  readonly connections: number;
  /** Concurrent streams per connection (HTTP/2); with `h1` it would be pipelining, so keep it 1 there. */
  readonly streams: number;
  readonly seconds: number;
  /** HTTP/1.1 instead of HTTP/2 (ALPN http/1.1 over TLS, plain HTTP/1.1 in clear). */
  readonly h1: boolean;
  /** A file posted as every request's body (the gRPC frame). */
  readonly dataFile?: string;
  /** Extra `name: value` headers. */
  readonly headers?: readonly string[];
}

/** h2load's arguments for a run: one thread, TLS 1.3 group X25519 (h2load's default first choice). */
export function h2loadArgs(run: H2loadRun): string[] {
  if (run.h1 && run.streams !== 1) throw new Error('h2load --h1 with more than one stream per connection would pipeline');
  const args = ['-t', '1', '-c', String(run.connections), '-m', String(run.streams), '-D', String(run.seconds), '--connect-to', run.connectTo];
  if (run.h1) args.push('--h1');
  if (run.dataFile !== undefined) args.push('-d', run.dataFile);
  for (const h of run.headers ?? []) args.push('-H', h);
  args.push(run.url);
  return args;
}

export async function runH2load(h2load: string, run: H2loadRun): Promise<H2loadSummary> {
  const stdout = await runToCompletion('h2load', h2load, h2loadArgs(run), (run.seconds + 20) * 1000);
  return parseH2load(stdout);
}
