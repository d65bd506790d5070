/** compile/policy.ts: every `switchyard.dev/*` annotation, its default, and what a bad value does. */
import { describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS, servicePolicy } from '../../../src/compile/policy.ts';
import type { BackendPolicy, Diagnostic } from '../../../src/snapshot/types.ts';
import { service } from './fixtures.ts';

const P = 'switchyard.dev/';

function policyOf(annotations: Record<string, string>): { policy: BackendPolicy; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const policy = servicePolicy(service('web', annotations), diagnostics);
  return { policy, diagnostics };
}

const DEFAULT_OUTLIER = { consecutive5xx: 5, consecutiveConnectFailures: 1, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 };
const DEFAULT_CHECK = { protocol: 'http', path: '/healthz', port: 0, intervalMs: 10_000, timeoutMs: 2_000, healthyThreshold: 2, unhealthyThreshold: 3, expectedStatuses: [[200, 399]] };

describe('servicePolicy: defaults', () => {
  it('without annotations: retries 2, budget 20 %, outlier detection on with Envoy-like defaults, no active check, no timeouts', () => {
    const { policy, diagnostics } = policyOf({});
    expect(diagnostics).toEqual([]);
    expect(policy).toEqual({
      retries: 2,
      retryBudgetPercent: 20,
      connectTimeoutMs: undefined,
      responseTimeoutMs: undefined,
      idleTimeoutMs: undefined,
      outlier: DEFAULT_OUTLIER,
      healthCheck: undefined,
    });
  });

  it('POLICY_DEFAULTS lists the same defaults', () => {
    expect(POLICY_DEFAULTS).toEqual({
      healthCheckIntervalMs: 10_000,
      healthCheckTimeoutMs: 2_000,
      healthCheckHealthyThreshold: 2,
      healthCheckUnhealthyThreshold: 3,
      healthCheckExpectedStatuses: '200-399',
      outlierConsecutive5xx: 5,
      outlierConsecutiveConnectFailures: 1,
      outlierBaseEjectionMs: 30_000,
      outlierMaxEjectionMs: 300_000,
      outlierMaxEjectionPercent: 50,
      retries: 2,
      retryBudgetPercent: 20,
    });
  });

  it('annotations of other prefixes are ignored without a diagnostic', () => {
    const { policy, diagnostics } = policyOf({ 'example.com/retries': '9', 'kubernetes.io/description': 'x', 'switchyard.io/retries': '1' });
    expect(diagnostics).toEqual([]);
    expect(policy.retries).toBe(2);
  });
});

describe('servicePolicy: every annotation, valid values', () => {
  // [annotations, selector, expected]
  const cases: [string, Record<string, string>, (p: BackendPolicy) => unknown, unknown][] = [
    ['retries 0', { retries: '0' }, (p) => p.retries, 0],
    ['retries 10 (max)', { retries: '10' }, (p) => p.retries, 10],
    ['retries trimmed', { retries: ' 3 ' }, (p) => p.retries, 3],
    ['retry-budget-percent 0', { 'retry-budget-percent': '0' }, (p) => p.retryBudgetPercent, 0],
    ['retry-budget-percent 100', { 'retry-budget-percent': '100' }, (p) => p.retryBudgetPercent, 100],
    ['connect-timeout 250ms', { 'connect-timeout': '250ms' }, (p) => p.connectTimeoutMs, 250],
    ['response-timeout 1.5s', { 'response-timeout': '1.5s' }, (p) => p.responseTimeoutMs, 1500],
    ['idle-timeout 2m', { 'idle-timeout': '2m' }, (p) => p.idleTimeoutMs, 120_000],
    ['idle-timeout 1h', { 'idle-timeout': '1h' }, (p) => p.idleTimeoutMs, 3_600_000],
    ['outlier-detection off', { 'outlier-detection': 'off' }, (p) => p.outlier, undefined],
    ['outlier-detection false', { 'outlier-detection': 'false' }, (p) => p.outlier, undefined],
    ['outlier-detection OFF (case-insensitive)', { 'outlier-detection': 'OFF' }, (p) => p.outlier, undefined],
    ['outlier-detection on', { 'outlier-detection': 'on' }, (p) => p.outlier, DEFAULT_OUTLIER],
    ['outlier-detection true', { 'outlier-detection': 'true' }, (p) => p.outlier, DEFAULT_OUTLIER],
    ['outlier-consecutive-5xx 3', { 'outlier-consecutive-5xx': '3' }, (p) => p.outlier?.consecutive5xx, 3],
    ['outlier-consecutive-connect-failures 4', { 'outlier-consecutive-connect-failures': '4' }, (p) => p.outlier?.consecutiveConnectFailures, 4],
    ['outlier-base-ejection-time 1s', { 'outlier-base-ejection-time': '1s' }, (p) => p.outlier?.baseEjectionMs, 1000],
    ['outlier-max-ejection-time 2m', { 'outlier-max-ejection-time': '2m' }, (p) => p.outlier?.maxEjectionMs, 120_000],
    ['max ejection time is at least the base', { 'outlier-base-ejection-time': '10m', 'outlier-max-ejection-time': '1m' }, (p) => [p.outlier?.baseEjectionMs, p.outlier?.maxEjectionMs], [600_000, 600_000]],
    ['outlier-max-ejection-percent 100', { 'outlier-max-ejection-percent': '100' }, (p) => p.outlier?.maxEjectionPercent, 100],
    ['outlier-max-ejection-percent 0', { 'outlier-max-ejection-percent': '0' }, (p) => p.outlier?.maxEjectionPercent, 0],
    ['health-check-path alone: defaults', { 'health-check-path': '/healthz' }, (p) => p.healthCheck, DEFAULT_CHECK],
    ['health-check-port', { 'health-check-path': '/healthz', 'health-check-port': '8081' }, (p) => p.healthCheck?.port, 8081],
    ['health-check-interval', { 'health-check-path': '/healthz', 'health-check-interval': '5s' }, (p) => p.healthCheck?.intervalMs, 5000],
    ['health-check-timeout', { 'health-check-path': '/healthz', 'health-check-timeout': '1500ms' }, (p) => p.healthCheck?.timeoutMs, 1500],
    ['health-check-timeout capped at the interval', { 'health-check-path': '/h', 'health-check-interval': '1s', 'health-check-timeout': '3s' }, (p) => p.healthCheck?.timeoutMs, 1000],
    ['health-check-healthy-threshold', { 'health-check-path': '/h', 'health-check-healthy-threshold': '4' }, (p) => p.healthCheck?.healthyThreshold, 4],
    ['health-check-unhealthy-threshold', { 'health-check-path': '/h', 'health-check-unhealthy-threshold': '1' }, (p) => p.healthCheck?.unhealthyThreshold, 1],
    ['expected statuses: list', { 'health-check-path': '/h', 'health-check-expected-statuses': '200,204' }, (p) => p.healthCheck?.expectedStatuses, [[200, 200], [204, 204]]],
    ['expected statuses: ranges and codes', { 'health-check-path': '/h', 'health-check-expected-statuses': '200-299,404' }, (p) => p.healthCheck?.expectedStatuses, [[200, 299], [404, 404]]],
    ['expected statuses: spaces', { 'health-check-path': '/h', 'health-check-expected-statuses': ' 200 - 204 , 418 ' }, (p) => p.healthCheck?.expectedStatuses, [[200, 204], [418, 418]]],
    ['expected statuses: bounds 100-599', { 'health-check-path': '/h', 'health-check-expected-statuses': '100-599' }, (p) => p.healthCheck?.expectedStatuses, [[100, 599]]],
    ['health-check-* without a path: no active check', { 'health-check-interval': '1s', 'health-check-port': '81' }, (p) => p.healthCheck, undefined],
  ];
  it.each(cases)('%s', (_name, annotations, select, expected) => {
    const prefixed = Object.fromEntries(Object.entries(annotations).map(([k, v]) => [P + k, v]));
    const { policy, diagnostics } = policyOf(prefixed);
    expect(diagnostics).toEqual([]);
    expect(select(policy)).toEqual(expected);
  });
});

describe('servicePolicy: bad values are ANNOTATION_INVALID and the default applies', () => {
  // [annotation, bad value, selector, default that applies]
  const cases: [string, string, (p: BackendPolicy) => unknown, unknown][] = [
    ['retries', 'two', (p) => p.retries, 2],
    ['retries', '11', (p) => p.retries, 2],
    ['retries', '-1', (p) => p.retries, 2],
    ['retries', '1.5', (p) => p.retries, 2],
    ['retries', '', (p) => p.retries, 2],
    ['retry-budget-percent', '101', (p) => p.retryBudgetPercent, 20],
    ['retry-budget-percent', '20%', (p) => p.retryBudgetPercent, 20],
    ['outlier-detection', 'maybe', (p) => p.outlier, DEFAULT_OUTLIER],
    ['outlier-consecutive-5xx', '0', (p) => p.outlier?.consecutive5xx, 5],
    ['outlier-consecutive-5xx', '1001', (p) => p.outlier?.consecutive5xx, 5],
    ['outlier-consecutive-connect-failures', 'x', (p) => p.outlier?.consecutiveConnectFailures, 1],
    ['outlier-base-ejection-time', '30', (p) => p.outlier?.baseEjectionMs, 30_000],
    ['outlier-base-ejection-time', '0s', (p) => p.outlier?.baseEjectionMs, 30_000],
    ['outlier-base-ejection-time', '-1s', (p) => p.outlier?.baseEjectionMs, 30_000],
    ['outlier-base-ejection-time', '1 s', (p) => p.outlier?.baseEjectionMs, 30_000],
    ['outlier-max-ejection-time', '1000h', (p) => p.outlier?.maxEjectionMs, 300_000],
    ['outlier-max-ejection-percent', '150', (p) => p.outlier?.maxEjectionPercent, 50],
    ['connect-timeout', 'soon', (p) => p.connectTimeoutMs, undefined],
    ['response-timeout', '0ms', (p) => p.responseTimeoutMs, undefined],
    ['idle-timeout', '5d', (p) => p.idleTimeoutMs, undefined],
  ];
  it.each(cases)('%s: %j', (name, value, select, fallback) => {
    const { policy, diagnostics } = policyOf({ [P + name]: value });
    expect(select(policy)).toEqual(fallback);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 'warning', code: 'ANNOTATION_INVALID', kind: 'Service', namespace: 'shop', name: 'web' });
    expect(diagnostics[0]!.message).toContain(`${P}${name}: ${JSON.stringify(value.trim())}`);
  });

  const checkCases: [string, string, (p: BackendPolicy) => unknown, unknown][] = [
    ['health-check-port', '70000', (p) => p.healthCheck?.port, 0],
    ['health-check-interval', '0ms', (p) => p.healthCheck?.intervalMs, 10_000],
    ['health-check-timeout', 'fast', (p) => p.healthCheck?.timeoutMs, 2_000],
    ['health-check-healthy-threshold', '0', (p) => p.healthCheck?.healthyThreshold, 2],
    ['health-check-unhealthy-threshold', '101', (p) => p.healthCheck?.unhealthyThreshold, 3],
    ['health-check-expected-statuses', '600', (p) => p.healthCheck?.expectedStatuses, [[200, 399]]],
    ['health-check-expected-statuses', '299-200', (p) => p.healthCheck?.expectedStatuses, [[200, 399]]],
    ['health-check-expected-statuses', '200,ok', (p) => p.healthCheck?.expectedStatuses, [[200, 399]]],
    ['health-check-expected-statuses', '2xx', (p) => p.healthCheck?.expectedStatuses, [[200, 399]]],
  ];
  it.each(checkCases)('%s: %j (with a health-check-path)', (name, value, select, fallback) => {
    const { policy, diagnostics } = policyOf({ [P + 'health-check-path']: '/healthz', [P + name]: value });
    expect(select(policy)).toEqual(fallback);
    expect(diagnostics.map((d) => d.code)).toEqual(['ANNOTATION_INVALID']);
    expect(diagnostics[0]!.message).toContain(`${P}${name}: ${JSON.stringify(value)}`);
  });

  it('a relative health-check-path is invalid: no active check at all', () => {
    const { policy, diagnostics } = policyOf({ [P + 'health-check-path']: 'healthz' });
    expect(policy.healthCheck).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['ANNOTATION_INVALID']);
    expect(diagnostics[0]!.message).toContain(`${P}health-check-path: "healthz"`);
  });

  it('integer defaults are named in the message', () => {
    const { diagnostics } = policyOf({ [P + 'retries']: 'lots' });
    expect(diagnostics[0]!.message).toBe(`${P}retries: "lots" is not a whole number from 0 to 10; using the default 2`);
  });

  it('one diagnostic per bad annotation; the good ones still apply', () => {
    const { policy, diagnostics } = policyOf({ [P + 'retries']: 'x', [P + 'outlier-consecutive-5xx']: '-3', [P + 'outlier-base-ejection-time']: '5s', [P + 'response-timeout']: 'never' });
    expect(diagnostics.map((d) => [d.code, d.message.split(':')[0]])).toEqual([
      ['ANNOTATION_INVALID', `${P}outlier-consecutive-5xx`],
      ['ANNOTATION_INVALID', `${P}retries`],
      ['ANNOTATION_INVALID', `${P}response-timeout`],
    ]);
    expect(policy.outlier?.baseEjectionMs).toBe(5000);
    expect(policy.retries).toBe(2);
  });
});

describe('servicePolicy: unknown annotations', () => {
  it.each([['x'], ['retry'], ['health-check-paths'], ['Retries'], ['']])('switchyard.dev/%s is ANNOTATION_UNKNOWN', (name) => {
    const { policy, diagnostics } = policyOf({ [P + name]: '1' });
    expect(diagnostics).toEqual([
      { severity: 'warning', code: 'ANNOTATION_UNKNOWN', kind: 'Service', namespace: 'shop', name: 'web', message: `unknown annotation ${P}${name} ignored` },
    ]);
    expect(policy.retries).toBe(2);
  });

  it('unknown and invalid together: one of each', () => {
    const { diagnostics } = policyOf({ [P + 'x']: '1', [P + 'retries']: 'many' });
    expect(diagnostics.map((d) => d.code).sort()).toEqual(['ANNOTATION_INVALID', 'ANNOTATION_UNKNOWN']);
  });
});
