/**
 * Runs one conformance test's request table against its environment, as the suite's
 * MakeRequestAndExpectEventuallyConsistentResponse does: each row is repeated until it has matched
 * `requiredSuccesses` times in a row, within `consistencyMs`; the configuration here is static once
 * Switchyard is ready, so a row that keeps failing the same way for `stableFailureMs` fails at once.
 * Rows with MirroredTo get the suite's request-id query parameter and then wait for the mirror pods to
 * have received that exact request target.
 */
import { randomUUID } from 'node:crypto';
import { compareRoundTrip } from './compare.ts';
import type { ExpectedCase } from './expected.ts';
import { roundTrip, type RoundTrip } from './round-trip.ts';
import type { SuiteCase } from './suite-source.ts';
import type { ListenerPort, TestEnv } from './environment.ts';

export interface RunOptions {
  /** Default 3 (the suite's RequiredConsecutiveSuccesses). */
  readonly requiredSuccesses: number;
  /** Longest time a row may take to converge; default 10 s. */
  readonly consistencyMs: number;
  /** A row failing with the same message this long fails; default 1.5 s. */
  readonly stableFailureMs: number;
}

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** Request, expectation and what came back, for a failure. */
  readonly detail: string;
}

const REQUEST_ID = 'gateway-api-conformance-request-id';

function withRequestId(path: string, id: string): string {
  const [p, q] = path.split('?', 2) as [string, string | undefined];
  const params = new URLSearchParams(q ?? '');
  params.set(REQUEST_ID, id);
  params.sort();
  return `${p}?${params.toString()}`;
}

/**
 * The listener a row is sent to: of the Gateway's HTTP listeners (HTTPS for a TLS row), the Host header's
 * port when the Gateway listens there, else 80 (443), else the named sections'.
 */
export function pickListener(listeners: readonly ListenerPort[], sections: readonly string[], host: string, tls = false): ListenerPort | undefined {
  const http = listeners.filter((l) => l.protocol === (tls ? 'HTTPS' : 'HTTP'));
  const m = /:(\d+)$/.exec(host);
  const byHost = m ? http.find((l) => l.original === Number(m[1])) : undefined;
  return byHost ?? http.find((l) => l.original === (tls ? 443 : 80)) ?? http.find((l) => sections.includes(l.name)) ?? http[0];
}

// The Secret whose certificate the suite's TLS tests trust (they read it with kubernetes.GetTLSSecret).
const TLS_TRUST = 'gateway-conformance-infra/tls-validity-checks-certificate';

function describe(e: ExpectedCase, rt: RoundTrip | undefined, tlsNote = ''): string {
  const want = { status: e.response.statusCodes, backend: e.backend || undefined, namespace: e.namespace || undefined, expectedRequest: e.expectedRequest, redirect: e.redirect, responseHeaders: e.response.headers, absentResponseHeaders: e.response.absentHeaders.length ? e.response.absentHeaders : undefined };
  const lines = [`request: ${tlsNote}${rt?.sent.method ?? e.request.method} ${rt?.sent.target ?? e.request.path} Host: ${rt?.sent.host ?? e.request.host}${Object.keys(e.request.headers).length ? ` headers ${JSON.stringify(e.request.headers)}` : ''}`, `expected: ${JSON.stringify(want)}`];
  if (rt) {
    const c = rt.captured;
    lines.push(`got: ${rt.response.statusCode} headers ${JSON.stringify(rt.response.headers)}${rt.response.redirect ? ` location ${JSON.stringify(rt.response.redirect)}` : ''}`);
    lines.push(c ? `pod saw: ${c.method} ${c.path} Host: ${c.host} pod ${c.namespace}/${c.pod} headers ${JSON.stringify(c.headers)}` : `body: ${rt.response.body.slice(0, 200)}`);
  }
  return lines.join('\n    ');
}

/** Runs one row; never throws (a transport error is a failed attempt). */
export async function runCase(env: TestEnv, row: SuiteCase, options: RunOptions): Promise<CaseResult> {
  const listeners = env.gateways.get(`${row.gateway.namespace}/${row.gateway.name}`) ?? [];
  const listener = pickListener(listeners, row.gateway.sections, row.request.host, row.tls !== undefined);
  if (listener === undefined) return { name: row.name, ok: false, detail: `Gateway ${row.gateway.namespace}/${row.gateway.name} has no ${row.tls ? 'HTTPS' : 'HTTP'} listener in the manifests` };
  const port = env.perListenerSockets ? listener.port : env.switchyard.ingress.port;
  // What Go's CalculateHost puts in Host for the Gateway's address: the port only when it is not the scheme's.
  const defaultHost = listener.original === (row.tls ? 443 : 80) ? '127.0.0.1' : `127.0.0.1:${listener.original}`;
  const tls = row.tls === undefined ? undefined : { serverName: row.tls.serverName, ca: env.certificates.get(TLS_TRUST) ?? '', h2: row.request.protocol === 'H2' };

  let e: ExpectedCase = row;
  if (row.mirroredTo.length > 0) {
    const id = randomUUID();
    const path = withRequestId(row.request.path, id);
    const er = row.expectedRequest;
    e = { ...row, request: { ...row.request, path }, expectedRequest: er === undefined ? undefined : { ...er, path: er.path === undefined || er.path === '' ? path : withRequestId(er.path, id) } };
  }
  const originalPort = (p: string): string => (p === '' ? p : String(env.originalPort.get(Number(p)) ?? p));

  const start = Date.now();
  let successes = 0;
  let last: { message: string; key: string; since: number; rt: RoundTrip | undefined } | undefined;
  while (successes < options.requiredSuccesses) {
    let rt: RoundTrip | undefined;
    let message: string | undefined;
    try {
      rt = await roundTrip(port, e.request, defaultHost, e.backendSetResponseHeaders, 10_000, tls);
      message = compareRoundTrip(e, rt, { originalPort });
    } catch (err) {
      message = `request failed: ${(err as Error).message}`;
    }
    if (message === undefined) {
      successes++;
      continue;
    }
    successes = 0;
    const now = Date.now();
    // The same failure, but for values that change per response (Date, X-Request-Id).
    const key = message.replace(/"(date|x-request-id)":\[[^\]]*\]/g, '');
    if (last?.key !== key) last = { message, key, since: now, rt };
    else last.rt = rt;
    if (now - last.since >= options.stableFailureMs || now - start >= options.consistencyMs) return { name: row.name, ok: false, detail: `${message}\n    ${describe(e, rt, row.tls ? `[TLS SNI ${row.tls.serverName}${row.request.protocol === 'H2' ? ', h2' : ''}] ` : '')}` };
    await new Promise((r) => setTimeout(r, 100));
  }

  for (const m of row.mirroredTo) {
    const pods = env.pods.get(`${m.namespace}/${m.name}`) ?? [];
    const deadline = Date.now() + 5000;
    while (!pods.some((p) => p.received.includes(e.request.path))) {
      if (Date.now() > deadline) return { name: row.name, ok: false, detail: `the mirror ${m.namespace}/${m.name} did not receive ${e.request.path} within 5 s (its pods received: ${JSON.stringify(pods.flatMap((p) => p.received).slice(-5))})` };
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { name: row.name, ok: true, detail: '' };
}
