/**
 * What the HTTP/1.1 probe (active-checker.ts) and the HTTP/2 probes (h2-probe.ts) share: the verdict on
 * an answer's status, and how a probe checks a pod's certificate — the same rule as traffic
 * (dataplane/upstream-connect.ts, which health must not import): with a CA the chain must lead to it,
 * the name is not checked (pods are dialled by IP); without one nothing is verified; an unusable CA ('')
 * fails every check rather than skipping verification.
 */

export interface ProbeResult {
  readonly ok: boolean;
  readonly reason: string;
}

/** Why a probe to a backend whose CA Secret is unusable fails without dialling. */
export const NO_USABLE_CA = 'no usable CA (switchyard.dev/backend-ca-secret is missing or invalid)';

/** Node TLS client options for a pod whose certificate must chain to `caPem` (undefined: not verified). */
export function podTlsOptions(caPem: string | undefined): { rejectUnauthorized: boolean; ca?: string; checkServerIdentity?: () => undefined } {
  return caPem === undefined ? { rejectUnauthorized: false } : { rejectUnauthorized: true, ca: caPem, checkServerIdentity: () => undefined };
}

/** Healthy when `status` is in one of the `expected` ranges. */
export function statusVerdict(path: string, status: number, expected: readonly (readonly [number, number])[]): ProbeResult {
  const ok = expected.some(([lo, hi]) => status >= lo && status <= hi);
  return { ok, reason: ok ? `status ${status}` : `health check ${path} answered ${status}` };
}
