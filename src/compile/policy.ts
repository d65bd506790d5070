/**
 * Per-Service traffic policy from `switchyard.dev/*` annotations: active health checks, outlier
 * detection, retries and timeouts, and how pods are spoken to (protocol, CA). Pure. A bad value is a
 * diagnostic and the default applies: one mistyped annotation must not take a Service out of the
 * configuration.
 */
import { X509Certificate } from 'node:crypto';
import type { Rec, SecretRec, ServiceRec } from '../model/records.ts';
import type { BackendPolicy, Diagnostic, HealthCheckPolicy, OutlierPolicy, UpstreamProtocol } from '../snapshot/types.ts';
import { diag } from './diagnostics.ts';

export const ANNOTATION_PREFIX = 'switchyard.dev/';

/** Every annotation read, with its default, as the README documents them. */
export const POLICY_DEFAULTS = {
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
} as const;

/** The method a gRPC health check calls (grpc/doc/health-checking.md). */
export const GRPC_HEALTH_PATH = '/grpc.health.v1.Health/Check';

const KNOWN = new Set([
  'backend-protocol',
  'backend-ca-secret',
  'health-check-protocol',
  'health-check-path',
  'health-check-port',
  'health-check-interval',
  'health-check-timeout',
  'health-check-healthy-threshold',
  'health-check-unhealthy-threshold',
  'health-check-expected-statuses',
  'outlier-detection',
  'outlier-consecutive-5xx',
  'outlier-consecutive-connect-failures',
  'outlier-base-ejection-time',
  'outlier-max-ejection-time',
  'outlier-max-ejection-percent',
  'retries',
  'retry-budget-percent',
  'connect-timeout',
  'response-timeout',
  'idle-timeout',
]);

/** The policy of every port of `svc`, and a diagnostic per bad or unknown annotation. */
export function servicePolicy(svc: ServiceRec, diagnostics: Diagnostic[]): BackendPolicy {
  const a = new AnnotationReader(svc, diagnostics);
  for (const key of Object.keys(svc.meta.annotations)) {
    if (key.startsWith(ANNOTATION_PREFIX) && !KNOWN.has(key.slice(ANNOTATION_PREFIX.length))) {
      diagnostics.push(diag('warning', 'ANNOTATION_UNKNOWN', svc, `unknown annotation ${key} ignored`));
    }
  }
  const checkProtocol = a.choice('health-check-protocol', HEALTH_CHECK_PROTOCOLS, 'http');
  let path = a.string('health-check-path');
  if (checkProtocol === 'grpc') {
    // The standard gRPC health service has one method; the path annotation has nothing to choose.
    if (path !== undefined) diagnostics.push(diag('warning', 'ANNOTATION_IGNORED', svc, `${ANNOTATION_PREFIX}health-check-path is not used by gRPC health checks (they call ${GRPC_HEALTH_PATH}); ignored`));
    path = GRPC_HEALTH_PATH;
  }
  let healthCheck: HealthCheckPolicy | undefined;
  if (path !== undefined) {
    if (!path.startsWith('/')) {
      a.bad('health-check-path', path, 'an absolute path starting with "/"');
    } else {
      const intervalMs = a.duration('health-check-interval', POLICY_DEFAULTS.healthCheckIntervalMs);
      healthCheck = {
        protocol: checkProtocol,
        path,
        port: a.integer('health-check-port', 0, 1, 65535),
        intervalMs,
        timeoutMs: Math.min(a.duration('health-check-timeout', POLICY_DEFAULTS.healthCheckTimeoutMs), intervalMs),
        healthyThreshold: a.integer('health-check-healthy-threshold', POLICY_DEFAULTS.healthCheckHealthyThreshold, 1, 100),
        unhealthyThreshold: a.integer('health-check-unhealthy-threshold', POLICY_DEFAULTS.healthCheckUnhealthyThreshold, 1, 100),
        expectedStatuses: a.statuses('health-check-expected-statuses'),
      };
    }
  }
  const outlierOn = a.onOff('outlier-detection', true);
  const baseEjectionMs = a.duration('outlier-base-ejection-time', POLICY_DEFAULTS.outlierBaseEjectionMs);
  const outlier: OutlierPolicy | undefined = outlierOn
    ? {
        consecutive5xx: a.integer('outlier-consecutive-5xx', POLICY_DEFAULTS.outlierConsecutive5xx, 1, 1000),
        consecutiveConnectFailures: a.integer('outlier-consecutive-connect-failures', POLICY_DEFAULTS.outlierConsecutiveConnectFailures, 1, 1000),
        baseEjectionMs,
        maxEjectionMs: Math.max(baseEjectionMs, a.duration('outlier-max-ejection-time', POLICY_DEFAULTS.outlierMaxEjectionMs)),
        maxEjectionPercent: a.integer('outlier-max-ejection-percent', POLICY_DEFAULTS.outlierMaxEjectionPercent, 0, 100),
      }
    : undefined;
  return {
    retries: a.integer('retries', POLICY_DEFAULTS.retries, 0, 10),
    retryBudgetPercent: a.integer('retry-budget-percent', POLICY_DEFAULTS.retryBudgetPercent, 0, 100),
    connectTimeoutMs: a.optionalDuration('connect-timeout'),
    responseTimeoutMs: a.optionalDuration('response-timeout'),
    idleTimeoutMs: a.optionalDuration('idle-timeout'),
    outlier,
    healthCheck,
  };
}

const HEALTH_CHECK_PROTOCOLS = { http: 'http', grpc: 'grpc' } as const;

/** `switchyard.dev/backend-protocol` values (any case; `grpcs` as ingress-nginx spells gRPC over TLS). */
const BACKEND_PROTOCOLS = { http: 'http1', https: 'tls', h2c: 'h2c', grpc: 'h2c', grpcs: 'tls' } as const satisfies Record<string, UpstreamProtocol>;

/** What the Service's annotations say about speaking to its pods, for every port of it. */
export interface ServiceUpstream {
  /** `switchyard.dev/backend-protocol`; undefined: each port's appProtocol decides. */
  readonly protocol: UpstreamProtocol | undefined;
  /**
   * `ca.crt` of `switchyard.dev/backend-ca-secret`; undefined when not annotated; '' when the Secret is
   * missing or unusable (fail-closed: TLS connections to the pods then fail with SWY_ERR_UPSTREAM_TLS
   * rather than skip the verification the Service asked for).
   */
  readonly caPem: string | undefined;
}

/**
 * The upstream annotations of `svc`, reading its CA Secret (same namespace) from `secrets` (keyed
 * `Secret/namespace/name`).
 */
export function serviceUpstream(svc: ServiceRec, secrets: ReadonlyMap<string, SecretRec>, diagnostics: Diagnostic[]): ServiceUpstream {
  const a = new AnnotationReader(svc, diagnostics);
  const protocol = a.choice('backend-protocol', BACKEND_PROTOCOLS, undefined);
  const secretName = a.string('backend-ca-secret');
  if (secretName === undefined) return { protocol, caPem: undefined };
  const problem = (reason: string): ServiceUpstream => {
    diagnostics.push(diag('warning', 'BACKEND_CA_SECRET_INVALID', svc, `${ANNOTATION_PREFIX}backend-ca-secret: Secret ${svc.meta.namespace}/${secretName} ${reason}; connections to its pods over TLS fail until it is fixed`));
    return { protocol, caPem: '' };
  };
  if (secretName === '') return problem('is not named');
  const secret = secrets.get(`Secret/${svc.meta.namespace}/${secretName}`);
  if (secret === undefined) return problem('does not exist');
  const pem = secret.data['ca.crt'];
  if (pem === undefined || pem.trim() === '') return problem('has no ca.crt');
  const reason = pemCertificatesProblem(pem);
  return reason === undefined ? { protocol, caPem: pem } : problem(`ca.crt ${reason}`);
}

/** Why `pem` is not a bundle of PEM certificates, or undefined when it is. */
function pemCertificatesProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (blocks === null) return 'holds no PEM certificate';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} does not parse (${(err as Error).message})`;
    }
  }
  return undefined;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Reads `switchyard.dev/*` annotations of one object (a Service, an Ingress): a bad value is an
 * ANNOTATION_INVALID warning on that object and the fallback applies.
 */
export class AnnotationReader {
  readonly #svc: Pick<Rec, 'kind' | 'meta'>;
  readonly #diagnostics: Diagnostic[];

  constructor(svc: Pick<Rec, 'kind' | 'meta'>, diagnostics: Diagnostic[]) {
    this.#svc = svc;
    this.#diagnostics = diagnostics;
  }

  string(name: string): string | undefined {
    const v = this.#svc.meta.annotations[ANNOTATION_PREFIX + name];
    return v === undefined ? undefined : v.trim();
  }

  bad(name: string, value: string, expected: string, fallback?: string): void {
    const tail = fallback === undefined ? 'ignored' : `using the default ${fallback}`;
    this.#diagnostics.push(diag('warning', 'ANNOTATION_INVALID', this.#svc, `${ANNOTATION_PREFIX}${name}: ${JSON.stringify(value)} is not ${expected}; ${tail}`));
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (n >= min && n <= max) return n;
    this.bad(name, v, `a whole number from ${min} to ${max}`, String(fallback));
    return fallback;
  }

  optionalDuration(name: string): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const m = DURATION.exec(v);
    const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : NaN;
    if (ms > 0 && ms <= 2_147_483_647) return ms;
    this.bad(name, v, 'a duration above zero such as 500ms, 10s or 2m');
    return undefined;
  }

  duration(name: string, fallback: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    return this.optionalDuration(name) ?? fallback;
  }

  /** One of `choices`' keys, any case, mapped to its value. */
  choice<T extends string, F extends T | undefined>(name: string, choices: Readonly<Record<string, T>>, fallback: F): T | F {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const chosen = Object.hasOwn(choices, v.toLowerCase()) ? choices[v.toLowerCase()] : undefined;
    if (chosen !== undefined) return chosen;
    this.bad(name, v, `one of ${Object.keys(choices).join(', ')}`, fallback);
    return fallback;
  }

  onOff(name: string, fallback: boolean): boolean {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    if (lower === 'on' || lower === 'true') return true;
    if (lower === 'off' || lower === 'false') return false;
    this.bad(name, v, '"on" or "off"', fallback ? 'on' : 'off');
    return fallback;
  }

  /** `200-399`, `200,204`, `200-299,404`: inclusive ranges of status codes. */
  statuses(name: string): readonly (readonly [number, number])[] {
    const v = this.string(name) ?? POLICY_DEFAULTS.healthCheckExpectedStatuses;
    const ranges: [number, number][] = [];
    for (const part of v.split(',')) {
      const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
      const lo = m ? Number(m[1]) : NaN;
      const hi = m ? Number(m[2] ?? m[1]) : NaN;
      if (!(lo >= 100 && hi <= 599 && lo <= hi)) {
        this.bad(name, v, 'a list of status codes or ranges such as 200-399 or 200,204', POLICY_DEFAULTS.healthCheckExpectedStatuses);
        return [[200, 399]];
      }
      ranges.push([lo, hi]);
    }
    return ranges;
  }
}
