/**
 * Active health checks: an HTTP GET per endpoint of every backend whose Service sets
 * `switchyard.dev/health-check-path`. Each target fires at its own random offset within the interval
 * and then every interval ±10 %, and at most `concurrency` checks run at once, so a thousand endpoints
 * never fire together. Targets follow snapshot swaps; a target that stays keeps its schedule.
 */
import type { Logger } from '../log.ts';
import type { HealthCheckPolicy, Snapshot } from '../snapshot/types.ts';
import type { EndpointHealth } from './endpoint-health.ts';

// Not an ESM import of node:http: that loads Node's bundled undici (see dataplane/http-listener.ts).
const { request } = process.getBuiltinModule('node:http');

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
        const key = `${ep.key}|${port}|${policy.path}`;
        if (!wanted.has(key)) wanted.set(key, { key, endpointKey: ep.key, host: ep.address, port, policy });
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
    probe(t.host, t.port, t.policy).then(({ ok, reason }) => {
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

/** One GET; resolves (never rejects) with the verdict and a reason naming what failed. */
export function probe(host: string, port: number, policy: HealthCheckPolicy): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      resolve({ ok, reason });
    };
    const req = request({ host, port, path: policy.path, method: 'GET', agent: false, timeout: policy.timeoutMs, headers: { 'user-agent': 'switchyard-health-check', connection: 'close' } }, (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const ok = policy.expectedStatuses.some(([lo, hi]) => status >= lo && status <= hi);
      done(ok, ok ? `status ${status}` : `health check ${policy.path} answered ${status}`);
    });
    req.once('timeout', () => {
      req.destroy();
      done(false, `health check ${policy.path} timed out after ${policy.timeoutMs} ms`);
    });
    req.once('error', (err: NodeJS.ErrnoException) => done(false, `health check ${policy.path} failed: ${err.code ?? err.message}`));
    req.end();
  });
}
