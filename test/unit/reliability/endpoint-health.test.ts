/**
 * health/endpoint-health.ts with an injected clock: passive ejection (consecutive 5xx, consecutive
 * connect failures and timeouts), ejection times, decay, the max-ejection share, active-check
 * thresholds, panic, and the states the admin API shows.
 */
import { describe, expect, it } from 'vitest';
import { EndpointHealth, type FailureKind } from '../../../src/health/endpoint-health.ts';
import type { Backend, OutlierPolicy } from '../../../src/snapshot/types.ts';
import { HEALTH_CHECK, OUTLIER, backend, clock, endpoint, recordingLogger, snapshotOf } from './fixtures.ts';

const A = '10.0.0.1:8080';
const B = '10.0.0.2:8080';
const C = '10.0.0.3:8080';

function setup(outlier: Partial<OutlierPolicy> = {}, eps: readonly string[] = [A, B, C]) {
  const c = clock();
  const { log, lines } = recordingLogger();
  const health = new EndpointHealth({ log, now: c.now });
  const be = backend(eps, { outlier: { ...OUTLIER, ...outlier } });
  health.observe(snapshotOf([be]));
  return { c, health, be, lines };
}

type Event = FailureKind | 'ok';

/** Plays events on one endpoint; returns what recordFailure said (true: ejected) or '-' for a success. */
function play(health: EndpointHealth, be: Backend, key: string, events: readonly Event[]): (boolean | '-')[] {
  return events.map((e) => {
    if (e === 'ok') {
      health.recordSuccess(key);
      return '-';
    }
    return health.recordFailure(key, e, be);
  });
}

describe('EndpointHealth: ejection on consecutive failures', () => {
  const cases: [string, Partial<OutlierPolicy>, Event[], (boolean | '-')[], string | undefined][] = [
    ['5 consecutive 5xx eject (default)', {}, ['5xx', '5xx', '5xx', '5xx', '5xx'], [false, false, false, false, true], '5 consecutive 5xx responses'],
    ['4 are not enough', {}, ['5xx', '5xx', '5xx', '5xx'], [false, false, false, false], undefined],
    ['a success resets the 5xx streak', {}, ['5xx', '5xx', '5xx', '5xx', 'ok', '5xx', '5xx', '5xx', '5xx', '5xx'], [false, false, false, false, '-', false, false, false, false, true], '5 consecutive 5xx responses'],
    ['consecutive-5xx 2', { consecutive5xx: 2 }, ['5xx', 'ok', '5xx', '5xx'], [false, '-', false, true], '2 consecutive 5xx responses'],
    ['one refused connection ejects (default 1)', {}, ['connect'], [true], 'connection failed'],
    ['one timeout ejects (default 1)', {}, ['timeout'], [true], 'upstream timeout'],
    ['3 connect failures in a row', { consecutiveConnectFailures: 3 }, ['connect', 'connect', 'connect'], [false, false, true], 'connection failed (3 in a row)'],
    ['timeouts count with connect failures', { consecutiveConnectFailures: 3 }, ['connect', 'timeout', 'timeout'], [false, false, true], 'upstream timeout (3 in a row)'],
    ['a success resets the connect streak', { consecutiveConnectFailures: 2 }, ['connect', 'ok', 'connect', 'ok', 'connect', 'connect'], [false, '-', false, '-', false, true], 'connection failed (2 in a row)'],
  ];
  it.each(cases)('%s', (_name, outlier, events, expected, reason) => {
    const { health, be } = setup(outlier);
    expect(play(health, be, A, events)).toEqual(expected);
    const view = health.view(endpoint(A), false);
    if (reason === undefined) {
      expect(health.available(A)).toBe(true);
      expect(view.state).toBe('ready');
    } else {
      expect(health.available(A)).toBe(false);
      expect(view).toMatchObject({ state: 'ejected', reason, ejections: 1 });
    }
    // Other endpoints are untouched.
    expect(health.available(B)).toBe(true);
  });

  it('outlier detection off: failures never eject', () => {
    const { c, health } = setup();
    const be = backend([A, B, C], { outlier: undefined });
    expect(play(health, be, A, Array<Event>(20).fill('5xx'))).toEqual(Array(20).fill(false));
    expect(play(health, be, A, ['connect', 'timeout'])).toEqual([false, false]);
    c.advance(1);
    expect(health.available(A)).toBe(true);
  });

  it('failures of requests that were in flight when it was ejected add nothing', () => {
    const { c, health, be } = setup({ baseEjectionMs: 1000 });
    expect(play(health, be, A, ['connect'])).toEqual([true]);
    expect(play(health, be, A, ['5xx', '5xx', '5xx', '5xx', '5xx', 'connect'])).toEqual([false, false, false, false, false, false]);
    c.advance(1000);
    expect(health.available(A)).toBe(true);
    // Counters started over at the ejection: 4 more 5xx do not eject.
    expect(play(health, be, A, ['5xx', '5xx', '5xx', '5xx'])).toEqual([false, false, false, false]);
    expect(health.view(endpoint(A), false).ejections).toBe(1);
  });
});

describe('EndpointHealth: ejection time', () => {
  it('is base × times ejected, capped at the max; the endpoint returns exactly when it ends', () => {
    const { c, health, be } = setup({ consecutive5xx: 1, baseEjectionMs: 1000, maxEjectionMs: 3500 });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(health.recordFailure(A, '5xx', be)).toBe(true);
      const v = health.view(endpoint(A), false);
      const duration = Date.parse(v.ejectedUntil!) - Date.parse(v.since);
      durations.push(duration);
      expect(v.since).toBe(new Date(c.t).toISOString());
      c.advance(duration - 1);
      expect(health.available(A)).toBe(false);
      c.advance(1);
      expect(health.available(A)).toBe(true);
      expect(health.view(endpoint(A), false)).toMatchObject({ state: 'ready', reason: 'ready', ejectedUntil: undefined, since: new Date(c.t).toISOString() });
    }
    expect(durations).toEqual([1000, 2000, 3000, 3500, 3500]);
  });

  it('decays: after staying in for longer than the max ejection time, the multiplier starts over', () => {
    const { c, health, be } = setup({ consecutive5xx: 1, baseEjectionMs: 1000, maxEjectionMs: 3000 });
    const ejectFor = (): number => {
      expect(health.recordFailure(A, '5xx', be)).toBe(true);
      const v = health.view(endpoint(A), false);
      const d = Date.parse(v.ejectedUntil!) - Date.parse(v.since);
      c.advance(d);
      expect(health.available(A)).toBe(true);
      return d;
    };
    expect([ejectFor(), ejectFor(), ejectFor()]).toEqual([1000, 2000, 3000]);
    c.advance(3000); // exactly the max: no decay yet
    expect(ejectFor()).toBe(3000);
    c.advance(3001); // longer than the max: starts over
    expect(ejectFor()).toBe(1000);
    expect(health.view(endpoint(A), false).ejections).toBe(1);
    expect(ejectFor()).toBe(2000);
  });
});

describe('EndpointHealth: max ejection percent', () => {
  it('3 endpoints at 50 %: only one ejected at once; the next goes when the first returns', () => {
    const { c, health, be } = setup({ baseEjectionMs: 1000 });
    expect(play(health, be, A, Array<Event>(5).fill('5xx'))).toEqual([false, false, false, false, true]);
    // B reaches its threshold but may not be ejected while A is.
    expect(play(health, be, B, Array<Event>(7).fill('5xx'))).toEqual(Array(7).fill(false));
    expect(play(health, be, C, ['connect'])).toEqual([false]);
    expect([A, B, C].map((k) => health.available(k))).toEqual([false, true, true]);
    c.advance(1000);
    expect(health.available(A)).toBe(true);
    // B's streak kept counting: its next failure ejects it.
    expect(play(health, be, B, ['5xx'])).toEqual([true]);
    expect(health.view(endpoint(B), false).reason).toBe('8 consecutive 5xx responses');
    expect([A, B, C].map((k) => health.available(k))).toEqual([true, false, true]);
  });

  // [endpoints, percent, most ejected at once]
  const cases: [number, number, number][] = [
    [3, 50, 1],
    [2, 50, 1],
    [4, 50, 2],
    [10, 10, 1],
    [10, 25, 2],
    [3, 100, 3],
    [3, 0, 0],
    [1, 100, 1],
  ];
  it.each(cases)('%i endpoints at %i percent: at most %i ejected', (n, percent, most) => {
    const keys = Array.from({ length: n }, (_, i) => `10.0.1.${i + 1}:80`);
    const { health, be } = setup({ consecutiveConnectFailures: 1, maxEjectionPercent: percent }, keys);
    const ejected = keys.filter((k) => health.recordFailure(k, 'connect', be)).length;
    expect(ejected).toBe(most);
    expect(keys.filter((k) => !health.available(k))).toHaveLength(most);
  });
});

describe('EndpointHealth: active check thresholds', () => {
  // Healthy threshold 2, unhealthy threshold 3. true: the check passed. Expected: the verdict after each check.
  type V = 'unknown' | 'healthy' | 'unhealthy';
  const u: V = 'unknown';
  const H: V = 'healthy';
  const X: V = 'unhealthy';
  const cases: [string, boolean[], V[]][] = [
    ['unhealthy after 3 failures', [false, false, false], [u, u, X]],
    ['healthy after 2 successes', [true, true], [u, H]],
    ['back after 2 successes', [false, false, false, true, true], [u, u, X, X, H]],
    ['healthy: a success between failures restarts the count', [true, true, false, false, true, false, false, false], [u, H, H, H, H, H, H, X]],
    ['unhealthy: a failure between successes restarts the count', [false, false, false, true, false, true, true], [u, u, X, X, X, X, H]],
    ['unknown at first: one success then two failures is not three failures', [true, false, false], [u, u, u]],
    ['unknown at first: two failures then one success is not two successes', [false, false, true, false], [u, u, u, u]],
  ];
  it.each(cases)('%s', (_name, results, expected) => {
    const { health } = setup();
    const seen = results.map((ok) => {
      health.recordCheck(A, ok, ok ? 'status 200' : 'health check /healthz answered 503', HEALTH_CHECK);
      return [health.view(endpoint(A), true).active, health.available(A)];
    });
    expect(seen).toEqual(expected.map((v) => [v, v !== 'unhealthy']));
  });

  it('unknown until the first verdict, then healthy / unhealthy with the reason and since', () => {
    const { c, health } = setup();
    expect(health.view(endpoint(A), true)).toMatchObject({ state: 'ready', active: 'unknown' });
    health.recordCheck(A, true, 'status 200', HEALTH_CHECK);
    health.recordCheck(A, true, 'status 200', HEALTH_CHECK);
    expect(health.view(endpoint(A), true).active).toBe('healthy');
    for (let i = 0; i < 3; i++) {
      c.advance(200);
      health.recordCheck(A, false, 'health check /healthz answered 503', HEALTH_CHECK);
    }
    expect(health.view(endpoint(A), true)).toMatchObject({ state: 'unhealthy', reason: 'health check /healthz answered 503', since: new Date(c.t).toISOString(), active: 'unhealthy' });
    expect(health.view(endpoint(A), false).active).toBe('off');
  });

  it('an endpoint left unhealthy when its Service drops the active check is not kept out of the rotation for ever', () => {
    const { health, be } = setup();
    for (let i = 0; i < 3; i++) health.recordCheck(A, false, 'health check /healthz answered 503', HEALTH_CHECK);
    expect(health.available(A)).toBe(false);
    // The Service's health-check annotations are removed: no more checks will ever run for A.
    health.observe(snapshotOf([{ ...be, policy: { ...be.policy, healthCheck: undefined } }]));
    const view = health.view(endpoint(A), false);
    expect(view.state).toBe('ready');
    // What the admin API says (ready) and what the balancer does must agree.
    expect(health.available(A)).toBe(true);
  });
});

describe('EndpointHealth: panic', () => {
  it('remembers panic per backend, logs each transition once, and forgets backends that left', () => {
    const { health, be, lines } = setup();
    const other = backend(['10.0.9.9:80'], {}, 'shop/other:80');
    expect(health.isPanicking(be.key)).toBe(false);
    health.setPanic(be, true);
    health.setPanic(be, true);
    expect([health.isPanicking(be.key), health.isPanicking(other.key)]).toEqual([true, false]);
    health.setPanic(be, false);
    expect(health.isPanicking(be.key)).toBe(false);
    expect(lines.filter(([, m]) => m.startsWith('panic mode'))).toEqual([
      ['warn', 'panic mode: no healthy endpoint, spreading traffic over all of them'],
      ['info', 'panic mode over: healthy endpoints available'],
    ]);
    health.setPanic(be, true);
    health.observe(snapshotOf([other]));
    expect(health.isPanicking(be.key)).toBe(false);
  });
});

describe('EndpointHealth: view() states and reasons', () => {
  it.each([
    ['ready', { ready: true }, false, 'ready', 'ready'],
    ['not ready', { ready: false }, false, 'not-ready', 'not ready in the endpoint conditions'],
    ['terminating, serving', { ready: false, serving: true, terminating: true }, false, 'terminating', 'terminating, still serving'],
    ['terminating, not serving', { ready: false, serving: false, terminating: true }, false, 'terminating', 'terminating'],
    ['terminating wins over ejected', { ready: false, serving: true, terminating: true }, true, 'terminating', 'terminating, still serving'],
    ['not-ready wins over ejected', { ready: false }, true, 'not-ready', 'not ready in the endpoint conditions'],
    ['ejected', { ready: true }, true, 'ejected', 'connection failed'],
  ] as const)('%s', (_name, conditions, eject, state, reason) => {
    const c = clock();
    const health = new EndpointHealth({ log: recordingLogger().log, now: c.now });
    const ep = endpoint(A, conditions);
    const be = backend([ep]);
    health.observe(snapshotOf([{ ...be, rotation: [endpoint(A)], ready: [endpoint(A)] }]));
    health.observe(snapshotOf([be]));
    if (eject) expect(health.recordFailure(A, 'connect', { ...be, policy: { ...be.policy, outlier: { ...OUTLIER, maxEjectionPercent: 100 } }, rotation: [endpoint(A)] })).toBe(true);
    expect(health.view(ep, false)).toMatchObject({ state, reason, since: new Date(c.t).toISOString() });
  });

  it('unhealthy only when the active check is configured for the backend', () => {
    const { health } = setup();
    for (let i = 0; i < 3; i++) health.recordCheck(A, false, 'health check /healthz timed out after 100 ms', HEALTH_CHECK);
    expect(health.view(endpoint(A), true)).toMatchObject({ state: 'unhealthy', reason: 'health check /healthz timed out after 100 ms' });
  });

  it('since follows configuration changes: ready → not-ready → terminating', () => {
    const { c, health, be } = setup();
    const t0 = c.t;
    c.advance(5000);
    health.observe(snapshotOf([be]));
    expect(health.view(endpoint(A), false).since).toBe(new Date(t0).toISOString());
    const notReady = endpoint(A, { ready: false });
    health.observe(snapshotOf([backend([notReady, B, C])]));
    expect(health.view(notReady, false)).toMatchObject({ state: 'not-ready', since: new Date(t0 + 5000).toISOString() });
    c.advance(1000);
    const term = endpoint(A, { ready: false, serving: true, terminating: true });
    health.observe(snapshotOf([backend([term, B, C])]));
    expect(health.view(term, false)).toMatchObject({ state: 'terminating', since: new Date(t0 + 6000).toISOString() });
  });

  it('forgets endpoints that left the configuration: a returning endpoint starts clean', () => {
    const { health, be } = setup();
    expect(health.recordFailure(A, 'connect', be)).toBe(true);
    health.observe(snapshotOf([backend([B, C])]));
    expect(health.available(A)).toBe(true);
    health.observe(snapshotOf([be]));
    expect(health.view(endpoint(A), false)).toMatchObject({ state: 'ready', ejections: 0 });
  });
});
