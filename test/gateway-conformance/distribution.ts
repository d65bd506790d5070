/**
 * The suite's weighted-distribution check (conformance/utils/weight/weight.go TestWeightedDistribution):
 * 500 requests, 10 at a time, each the row's request with a random `X-Jitter` header (http.AddEntropy) and
 * checked like the row (CompareRoundTrip); each response's pod name, less its last two `-` parts, is its
 * backend; every backend with a share above 0 must be hit, no other, and each share must be within ±5 % of
 * the expected one. Tried up to 10 times, as the suite does (weight.MaxTestRetries).
 */
import { randomBytes } from 'node:crypto';
import { compareRoundTrip } from './compare.ts';
import { roundTrip } from './round-trip.ts';
import type { ListenerPort, TestEnv } from './environment.ts';
import type { SuiteCase } from './suite-source.ts';

const TOTAL = 500;
const CONCURRENT = 10;
const TOLERANCE = 0.05;
const MAX_TRIES = 10;

/** The suite's extractBackendName: `infra-backend-v1-5d8f7c9b4-ax0` → `infra-backend-v1`. */
export function backendOfPod(pod: string): string {
  const parts = pod.split('-');
  return parts.length < 3 ? pod : parts.slice(0, -2).join('-');
}

/** The suite's verdict on one batch of pod names: undefined when it holds, else its errors joined. */
export function judgeDistribution(pods: readonly string[], weights: Readonly<Record<string, number>>): string | undefined {
  const seen = new Map<string, number>();
  for (const pod of pods) {
    const b = backendOfPod(pod);
    if (!(b in weights)) return `request was handled by an unexpected pod "${pod}" (extracted backend: "${b}")`;
    seen.set(b, (seen.get(b) ?? 0) + 1);
  }
  const errs: string[] = [];
  const active = Object.values(weights).filter((w) => w > 0).length;
  if (seen.size !== active) errs.push(`expected ${active} backends to receive traffic, but got ${seen.size}`);
  for (const [backend, want] of Object.entries(weights)) {
    const got = seen.get(backend);
    if (got === undefined && want !== 0) {
      errs.push(`expect traffic to hit backend "${backend}" - but none was received`);
      continue;
    }
    const share = (got ?? 0) / pods.length;
    if (Math.abs(share - want) > TOLERANCE) errs.push(`backend "${backend}" weighted traffic of ${share} not within tolerance ${want} (+/-${TOLERANCE})`);
  }
  return errs.length === 0 ? undefined : errs.sort().join('; ');
}

/** Runs the check against `listener` (already picked for the row); never throws. */
export async function runDistribution(env: TestEnv, listener: ListenerPort, row: SuiteCase, weights: Readonly<Record<string, number>>): Promise<{ ok: boolean; detail: string }> {
  const port = env.perListenerSockets ? listener.port : env.switchyard.ingress.port;
  const defaultHost = listener.original === 80 ? '127.0.0.1' : `127.0.0.1:${listener.original}`;
  const originalPort = (p: string): string => (p === '' ? p : String(env.originalPort.get(Number(p)) ?? p));
  let last = '';
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const pods: string[] = [];
    let failure: string | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < TOTAL) {
        next++;
        // AddEntropy replaces the row's headers with one random X-Jitter.
        const request = { ...row.request, headers: { 'X-Jitter': randomBytes(8).toString('hex') } };
        try {
          const rt = await roundTrip(port, request, defaultHost, row.backendSetResponseHeaders);
          const message = compareRoundTrip(row, rt, { originalPort });
          if (message !== undefined) failure = `response expectation failed: ${message}`;
          else pods.push(rt.captured?.pod ?? '');
        } catch (err) {
          failure = `failed to roundtrip request: ${(err as Error).message}`;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT }, worker));
    last = failure ?? judgeDistribution(pods, weights) ?? '';
    if (last === '') return { ok: true, detail: '' };
  }
  return { ok: false, detail: `Weighted distribution tests failed ${MAX_TRIES} times; last: ${last}` };
}
