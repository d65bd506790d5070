/**
 * Active health checks: an HTTP GET per endpoint of every backend whose Service sets
 * `switchyard.dev/health-check-path`, or a gRPC health check (`grpc.health.v1.Health/Check`) with
 * `switchyard.dev/health-check-protocol: grpc`. Each target fires at its own random offset within the
 * interval and then every interval ±10 %, and at most `concurrency` checks run at once, so a thousand
 * endpoints never fire together. Targets follow snapshot swaps; a target that stays keeps its schedule.
 *
 * A check speaks to the pod the way traffic does (the backend's `upstream`): an HTTP GET goes over
 * HTTP/1.1, h2c, or HTTPS (HTTP/1.1 over TLS, the CA verified as for traffic); a gRPC check over h2c, or
 * h2 over TLS for a TLS backend.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.ts';
import type { HealthCheckPolicy, Snapshot, UpstreamSpec } from '../snapshot/types.ts';
import type { EndpointHealth } from './endpoint-health.ts';
import { grpcHealthProbe, h2HttpProbe } from './h2-probe.ts';
import { NO_USABLE_CA, podTlsOptions, statusVerdict, type ProbeResult } from './probe-common.ts';

// Not an ESM import of node:http(s): that loads Node's bundled undici (see dataplane/http-listener.ts).
const { request } = process.getBuiltinModule('node:http');
const { request: httpsRequest } = process.getBuiltinModule('node:https');

export interface ActiveCheckerOptions {
  readonly health: EndpointHealth;
  readonly log: Logger;
  /** Most checks in flight at once; default 64. */
  readonly concurrency?: number;
  /** Random source in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

interface Target {
  readonly key: string;
  readonly endpointKey: string;
  readonly host: string;
  readonly port: number;
  /** Refreshed on every snapshot, so a changed status list or threshold applies to a running check. */
  policy: HealthCheckPolicy;
  /** Refreshed likewise (a new CA applies to the next check). */
  upstream: UpstreamSpec;
  timer: NodeJS.Timeout | undefined;
  running: boolean;
}

export class ActiveChecker {
  readonly #targets = new Map<string, Target>();
  readonly #queue: Target[] = [];
  readonly #health: EndpointHealth;
  readonly #log: Logger;
  readonly #concurrency: number;
  readonly #random: () => number;
  #inFlight = 0;
  #stopped = false;

  constructor(options: ActiveCheckerOptions) {
    this.#health = options.health;
    this.#log = options.log;
    this.#concurrency = options.concurrency ?? 64;
    this.#random = options.random ?? Math.random;
  }

  get targets(): number {
    return this.#targets.size;
  }

  /** Follows a new snapshot: starts checks for new targets, stops those that left. */
  update(snapshot: Snapshot): void {
    if (this.#stopped) return;
    const wanted = new Map<string, Omit<Target, 'timer' | 'running'>>();
    for (const backend of snapshot.backends.values()) {
      const policy = backend.policy.healthCheck;
      if (policy === undefined) continue;
      for (const ep of backend.all) {
        const port = policy.port || ep.port;
        const key = `${ep.key}|${port}|${policy.protocol}|${policy.path}|${backend.upstream.protocol}`;
        if (!wanted.has(key)) wanted.set(key, { key, endpointKey: ep.key, host: ep.address, port, policy, upstream: backend.upstream });
      }
    }
    for (const [key, t] of this.#targets) {
      if (wanted.has(key)) continue;
      if (t.timer) clearTimeout(t.timer);
      this.#targets.delete(key);
    }
    for (const [key, w] of wanted) {
      const existing = this.#targets.get(key);
      if (existing !== undefined) {
        existing.policy = w.policy;
        existing.upstream = w.upstream;
        continue;
      }
      const t: Target = { ...w, timer: undefined, running: false };
      this.#targets.set(key, t);
      this.#schedule(t, this.#random() * w.policy.intervalMs);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#targets.values()) if (t.timer) clearTimeout(t.timer);
    this.#targets.clear();
    this.#queue.length = 0;
  }

  #schedule(t: Target, delayMs: number): void {
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.#enqueue(t);
    }, delayMs);
    t.timer.unref();
  }

  #enqueue(t: Target): void {
    if (this.#stopped || this.#targets.get(t.key) !== t) return;
    if (this.#inFlight >= this.#concurrency) {
      this.#queue.push(t);
      return;
    }
    this.#run(t);
  }

  #run(t: Target): void {
    this.#inFlight++;
    t.running = true;
    checkEndpoint(t.host, t.port, t.policy, t.upstream).then(({ ok, reason }) => {
      this.#inFlight--;
      t.running = false;
      if (this.#targets.get(t.key) === t) {
        this.#health.recordCheck(t.endpointKey, ok, reason, t.policy);
        this.#log.debug({ endpoint: t.endpointKey, ok, reason }, 'health check');
        this.#schedule(t, t.policy.intervalMs * (0.9 + 0.2 * this.#random()));
      }
      const next = this.#queue.shift();
      if (next) this.#enqueue(next);
    });
  }
}

/** One check of one endpoint as its policy and upstream say; resolves (never rejects) with the verdict and a reason naming what failed. */
export function checkEndpoint(host: string, port: number, policy: HealthCheckPolicy, upstream: UpstreamSpec): Promise<ProbeResult> {
  const tls = upstream.protocol === 'tls' ? { caPem: upstream.caPem } : undefined;
  if (policy.protocol === 'grpc') return grpcHealthProbe(host, port, tls, policy.timeoutMs);
  if (upstream.protocol === 'h2c') return h2HttpProbe(host, port, undefined, policy.path, policy.timeoutMs, policy.expectedStatuses);
  return probe(host, port, policy, tls);
}

/** One GET over HTTP/1.1 (HTTPS with `tls`); resolves (never rejects) with the verdict and a reason naming what failed. */
export function probe(host: string, port: number, policy: HealthCheckPolicy, tls?: { readonly caPem: string | undefined }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (tls?.caPem === '') {
      resolve({ ok: false, reason: `health check ${policy.path} failed: ${NO_USABLE_CA}` });
      return;
    }
    let settled = false;
    const done = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      resolve({ ok, reason });
    };
    const options = { host, port, path: policy.path, method: 'GET', agent: false, timeout: policy.timeoutMs, headers: { 'user-agent': 'switchyard-health-check', connection: 'close' } } as const;
    const onResponse = (res: IncomingMessage): void => {
      res.resume();
      const { ok, reason } = statusVerdict(policy.path, res.statusCode ?? 0, policy.expectedStatuses);
      done(ok, reason);
    };
    const req = tls === undefined ? request(options, onResponse) : httpsRequest({ ...options, ...podTlsOptions(tls.caPem) }, onResponse);
    req.once('timeout', () => {
      req.destroy();
      done(false, `health check ${policy.path} timed out after ${policy.timeoutMs} ms`);
    });
    req.once('error', (err: NodeJS.ErrnoException) => done(false, `health check ${policy.path} failed: ${err.code ?? err.message}`));
    req.end();
  });
}
