/**
 * Health of endpoints, keyed by `address:port` so it outlives snapshot swaps: active-check verdicts,
 * passive outlier ejections (as Envoy does them: consecutive 5xx, or consecutive connect failures
 * and timeouts; ejection time = base × times ejected, capped; at most a share of a backend ejected at
 * once), and since-when for every state change, for the admin API.
 */
import type { Logger } from '../log.ts';
import type { Backend, EndpointView, HealthCheckPolicy, OutlierPolicy, Snapshot } from '../snapshot/types.ts';

export type FailureKind = 'connect' | 'timeout' | '5xx';

interface State {
  /** Active check verdict: unknown until the first check (counts as healthy: readiness already vouched). */
  active: 'unknown' | 'healthy' | 'unhealthy';
  activeReason: string;
  activeSince: number;
  /** Result of the latest check, and how many in a row gave it. */
  activeLast: boolean | undefined;
  activeStreak: number;
  ejectedUntil: number;
  ejectedSince: number;
  ejectReason: string;
  ejections: number;
  lastEjectionEnd: number;
  consecutive5xx: number;
  consecutiveConnect: number;
  /** Configuration state (ready / not-ready / terminating) and when it last changed. */
  config: string;
  configSince: number;
}

/** One endpoint's state as the admin API shows it. */
export interface EndpointHealthView {
  readonly state: 'ready' | 'not-ready' | 'unhealthy' | 'ejected' | 'terminating';
  readonly reason: string;
  readonly since: string;
  readonly ejections: number;
  readonly ejectedUntil: string | undefined;
  readonly active: 'unknown' | 'healthy' | 'unhealthy' | 'off';
}

/** A health decision, as sent between processes so every data-plane worker applies it. */
export type HealthEvent =
  | { readonly type: 'ejected'; readonly key: string; readonly since: number; readonly until: number; readonly reason: string; readonly ejections: number }
  | { readonly type: 'active'; readonly key: string; readonly state: 'unknown' | 'healthy' | 'unhealthy'; readonly reason: string; readonly since: number }
  | { readonly type: 'panic'; readonly backend: string; readonly on: boolean };

export interface HealthOptions {
  readonly log: Logger;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Called for every decision this instance takes (not for those applied with apply()). */
  readonly onEvent?: (event: HealthEvent) => void;
}

export class EndpointHealth {
  readonly #states = new Map<string, State>();
  readonly #panicking = new Set<string>();
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #onEvent: ((event: HealthEvent) => void) | undefined;
  /** Ejections decided here or applied from elsewhere, since start (for /metrics). */
  ejectionsTotal = 0;

  constructor(options: HealthOptions) {
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#onEvent = options.onEvent;
  }

  /**
   * Applies a decision taken elsewhere (another worker's ejection, the control plane's active-check
   * verdict), without logging or re-announcing it.
   */
  apply(event: HealthEvent): void {
    if (event.type === 'panic') {
      if (event.on) this.#panicking.add(event.backend);
      else this.#panicking.delete(event.backend);
      return;
    }
    const s = this.#state(event.key, this.#now());
    if (event.type === 'ejected') {
      if (event.until <= s.ejectedUntil) return;
      this.ejectionsTotal++;
      s.ejectedSince = event.since;
      s.ejectedUntil = event.until;
      s.ejectReason = event.reason;
      s.ejections = Math.max(s.ejections, event.ejections);
      s.consecutive5xx = 0;
      s.consecutiveConnect = 0;
    } else {
      s.active = event.state;
      s.activeReason = event.reason;
      s.activeSince = event.since;
      s.activeLast = undefined;
      s.activeStreak = 0;
    }
  }

  /** May this endpoint take traffic? False while ejected or failing its active check. */
  available(key: string): boolean {
    const s = this.#states.get(key);
    if (s === undefined) return true;
    if (s.active === 'unhealthy') return false;
    if (s.ejectedUntil === 0) return true;
    if (s.ejectedUntil > this.#now()) return false;
    this.#endEjection(key, s);
    return true;
  }

  /** The decisions in force (ejections not yet over, active verdicts, panics), to bring a new worker up to date. */
  currentEvents(): HealthEvent[] {
    const now = this.#now();
    const events: HealthEvent[] = [];
    for (const [key, s] of this.#states) {
      if (s.ejectedUntil > now) events.push({ type: 'ejected', key, since: s.ejectedSince, until: s.ejectedUntil, reason: s.ejectReason, ejections: s.ejections });
      if (s.active !== 'unknown') events.push({ type: 'active', key, state: s.active, reason: s.activeReason, since: s.activeSince });
    }
    for (const backend of this.#panicking) events.push({ type: 'panic', backend, on: true });
    return events;
  }

  /**
   * Follows a new snapshot: records configuration-state changes, forgets endpoints that left, and drops
   * the active verdict of endpoints no Service checks any more (nothing would ever lift it).
   */
  observe(snapshot: Snapshot): void {
    const now = this.#now();
    const live = new Set<string>();
    const checked = new Set<string>();
    for (const backend of snapshot.backends.values()) {
      for (const ep of backend.all) {
        live.add(ep.key);
        if (backend.policy.healthCheck !== undefined) checked.add(ep.key);
        const config = configState(ep);
        const s = this.#state(ep.key, now);
        if (s.config !== config) {
          s.config = config;
          s.configSince = now;
        }
      }
    }
    for (const [key, s] of this.#states) {
      if (!live.has(key)) {
        this.#states.delete(key);
      } else if (!checked.has(key) && s.active !== 'unknown') {
        s.active = 'unknown';
        s.activeLast = undefined;
        s.activeStreak = 0;
        s.activeSince = now;
      }
    }
    for (const key of this.#panicking) if (!snapshot.backends.has(key)) this.#panicking.delete(key);
  }

  /** A response below 500 (or a 5xx that does not count) resets the failure streaks. */
  recordSuccess(key: string): void {
    const s = this.#states.get(key);
    if (s === undefined) return;
    s.consecutive5xx = 0;
    s.consecutiveConnect = 0;
  }

  /** Counts a failure; ejects when the backend's outlier policy says so. Returns true when it ejected. */
  recordFailure(key: string, kind: FailureKind, backend: Backend): boolean {
    const policy = backend.policy.outlier;
    if (policy === undefined) return false;
    const now = this.#now();
    const s = this.#state(key, now);
    // Requests that were already in flight when it was ejected add nothing.
    if (s.ejectedUntil > now) return false;
    let reason: string | undefined;
    if (kind === '5xx') {
      s.consecutive5xx++;
      if (s.consecutive5xx >= policy.consecutive5xx) reason = `${s.consecutive5xx} consecutive 5xx responses`;
    } else {
      s.consecutiveConnect++;
      if (s.consecutiveConnect >= policy.consecutiveConnectFailures) {
        reason = kind === 'timeout' ? 'upstream timeout' : 'connection failed';
        if (s.consecutiveConnect > 1) reason += ` (${s.consecutiveConnect} in a row)`;
      }
    }
    if (reason === undefined) return false;
    if (!this.#mayEject(backend, policy, now)) return false;
    this.#eject(key, s, policy, reason, now);
    return true;
  }

  /** An active check's verdict; flips the endpoint after the policy's threshold of equal results. */
  recordCheck(key: string, ok: boolean, reason: string, policy: HealthCheckPolicy): void {
    const now = this.#now();
    const s = this.#state(key, now);
    const want = ok ? 'healthy' : 'unhealthy';
    if (s.activeLast !== ok) {
      s.activeLast = ok;
      s.activeStreak = 0;
    }
    s.activeStreak++;
    if (s.active === want) return;
    const threshold = ok ? policy.healthyThreshold : policy.unhealthyThreshold;
    if (s.activeStreak < threshold) return;
    const previous = s.active;
    s.active = want;
    s.activeReason = reason;
    s.activeSince = now;
    if (want === 'unhealthy') this.#log.warn({ endpoint: key, reason }, 'endpoint failed its health check; out of rotation');
    else if (previous === 'unhealthy') this.#log.info({ endpoint: key }, 'endpoint passed its health check; back in rotation');
    this.#onEvent?.({ type: 'active', key, state: want, reason, since: now });
  }

  /** Remembers whether a backend is in panic mode (no available endpoint); logs transitions. */
  setPanic(backend: Backend, panic: boolean): void {
    if (panic === this.#panicking.has(backend.key)) return;
    if (panic) {
      this.#panicking.add(backend.key);
      this.#log.warn({ backend: backend.key, endpoints: backend.rotation.length }, 'panic mode: no healthy endpoint, spreading traffic over all of them');
    } else {
      this.#panicking.delete(backend.key);
      this.#log.info({ backend: backend.key }, 'panic mode over: healthy endpoints available');
    }
    this.#onEvent?.({ type: 'panic', backend: backend.key, on: panic });
  }

  isPanicking(backendKey: string): boolean {
    return this.#panicking.has(backendKey);
  }

  view(ep: EndpointView, activeConfigured: boolean): EndpointHealthView {
    const now = this.#now();
    const s = this.#state(ep.key, now);
    const ejected = s.ejectedUntil > now;
    const iso = (t: number): string => new Date(t).toISOString();
    const active = activeConfigured ? s.active : 'off';
    const base = { ejections: s.ejections, ejectedUntil: ejected ? iso(s.ejectedUntil) : undefined, active } as const;
    if (s.config !== 'ready') {
      const reason = s.config === 'terminating' ? (ep.serving ? 'terminating, still serving' : 'terminating') : 'not ready in the endpoint conditions';
      return { state: s.config === 'terminating' ? 'terminating' : 'not-ready', reason, since: iso(s.configSince), ...base };
    }
    if (ejected) return { state: 'ejected', reason: s.ejectReason, since: iso(s.ejectedSince), ...base };
    if (activeConfigured && s.active === 'unhealthy') return { state: 'unhealthy', reason: s.activeReason, since: iso(s.activeSince), ...base };
    return { state: 'ready', reason: 'ready', since: iso(Math.max(s.configSince, s.activeSince, s.lastEjectionEnd)), ...base };
  }

  #state(key: string, now: number): State {
    let s = this.#states.get(key);
    if (s === undefined) {
      s = {
        active: 'unknown',
        activeReason: '',
        activeSince: now,
        activeLast: undefined,
        activeStreak: 0,
        ejectedUntil: 0,
        ejectedSince: 0,
        ejectReason: '',
        ejections: 0,
        lastEjectionEnd: 0,
        consecutive5xx: 0,
        consecutiveConnect: 0,
        config: 'ready',
        configSince: now,
      };
      this.#states.set(key, s);
    }
    return s;
  }

  /** At most maxEjectionPercent of the backend's rotation may be ejected at once. */
  #mayEject(backend: Backend, policy: OutlierPolicy, now: number): boolean {
    const n = backend.rotation.length;
    if (n === 0) return false;
    let ejected = 0;
    for (const ep of backend.rotation) if ((this.#states.get(ep.key)?.ejectedUntil ?? 0) > now) ejected++;
    return ((ejected + 1) * 100) / n <= policy.maxEjectionPercent;
  }

  #eject(key: string, s: State, policy: OutlierPolicy, reason: string, now: number): void {
    // Like Envoy, the multiplier decays: a host that stayed in for the max ejection time starts over.
    if (s.lastEjectionEnd > 0 && now - s.lastEjectionEnd > policy.maxEjectionMs) s.ejections = 0;
    s.ejections++;
    const duration = Math.min(policy.baseEjectionMs * s.ejections, policy.maxEjectionMs);
    this.ejectionsTotal++;
    s.ejectedSince = now;
    s.ejectedUntil = now + duration;
    s.ejectReason = reason;
    s.consecutive5xx = 0;
    s.consecutiveConnect = 0;
    this.#log.warn({ endpoint: key, reason, ejectedForMs: duration, ejections: s.ejections }, 'endpoint ejected');
    this.#onEvent?.({ type: 'ejected', key, since: now, until: s.ejectedUntil, reason, ejections: s.ejections });
  }

  #endEjection(key: string, s: State): void {
    s.lastEjectionEnd = s.ejectedUntil;
    s.ejectedUntil = 0;
    this.#log.info({ endpoint: key }, 'ejection over; endpoint back in rotation');
  }
}

function configState(ep: EndpointView): string {
  if (ep.ready) return 'ready';
  return ep.terminating ? 'terminating' : 'not-ready';
}
