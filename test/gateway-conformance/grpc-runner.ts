/**
 * Runs one GRPCRoute test's rows as the suite's grpc package does: one client (one HTTP/2 cleartext
 * connection, its `:authority` the row's Authority else the Gateway address as grpc-go's default) per
 * row, the call repeated until it matched `requiredSuccesses` times in a row (the connection is redialled
 * after an INTERNAL, as the suite's DefaultClient does), compared by compareResponse's rules: the status
 * code, and for OK the fully-qualified method echoed, the namespace (when given) and the pod name's
 * prefix (the backend). Response.Headers, which the suite does not compare, are checked as well but only
 * reported as notes. A distribution check runs weight.TestWeightedDistribution's: 500 calls, 10 at a
 * time, each backend's share within ±5 %, up to 10 attempts.
 */
import * as grpc from '@grpc/grpc-js';
import { ECHO_SERVICE, type EchoClient, type EchoResponse, type GrpcEchoService } from './grpc-echo.ts';
import { codeName, type GrpcCase } from './grpc-suite-source.ts';
import type { ListenerPort, TestEnv } from './environment.ts';
import type { CaseResult, RunOptions } from './runner.ts';

export interface GrpcReply {
  readonly code: number;
  readonly details: string;
  readonly response: EchoResponse | undefined;
}

/** The HTTP listener a row goes to: the named sections' first, else the port-80 one, else the first. */
export function pickGrpcListener(listeners: readonly ListenerPort[], sections: readonly string[]): ListenerPort | undefined {
  const http = listeners.filter((l) => l.protocol === 'HTTP');
  return http.find((l) => sections.includes(l.name)) ?? http.find((l) => l.original === 80) ?? http[0];
}

/** Target and default authority of a row (grpc-go puts the dialled `host:port` in `:authority`). */
function addressOf(env: TestEnv, row: GrpcCase): { target: string; authority: string } | string {
  const listener = pickGrpcListener(env.gateways.get(`${row.gateway.namespace}/${row.gateway.name}`) ?? [], row.gateway.sections);
  if (listener === undefined) return `Gateway ${row.gateway.namespace}/${row.gateway.name} has no HTTP listener in the manifests`;
  const port = env.perListenerSockets ? listener.port : env.switchyard.ingress.port;
  return { target: `127.0.0.1:${port}`, authority: row.authority ?? `127.0.0.1:${listener.original}` };
}

function newClient(service: GrpcEchoService, target: string, authority: string): EchoClient {
  return new service.Client(target, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
}

/** One call; never rejects (a failed call is its status). */
export function sendRpc(client: EchoClient, row: Pick<GrpcCase, 'method' | 'metadata'>, timeoutMs: number): Promise<GrpcReply> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(row.metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client[row.method]({}, md, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) resolve({ code: err.code, details: err.details, response: undefined });
      else resolve({ code: grpc.status.OK, details: '', response: res });
    });
  });
}

/** The suite's compareResponse: undefined when the reply is the expected one, else why not. */
export function compareGrpc(row: GrpcCase, reply: GrpcReply): string | undefined {
  if (row.code !== reply.code) return `expected status code to be ${codeName(row.code)} (${row.code}), but got ${codeName(reply.code)} (${reply.code})${reply.details ? `: ${reply.details}` : ''}`;
  if (reply.code !== grpc.status.OK) return undefined;
  const a = reply.response?.assertions;
  const method = `/${ECHO_SERVICE}/${row.method}`;
  if (a?.fully_qualified_method !== method) return `expected path to be ${method}, got ${a?.fully_qualified_method ?? ''}`;
  if (row.namespace !== '' && row.namespace !== a.context?.namespace) return `expected namespace to be ${row.namespace}, got ${a.context?.namespace ?? ''}`;
  if (!(a.context?.pod ?? '').startsWith(row.backend)) return `expected pod name to start with ${row.backend}, got ${a.context?.pod ?? ''}`;
  return undefined;
}

/**
 * Response.Headers against the request headers the pod echoed (names case-insensitively, values joined
 * with `,` since a proxy may fold or split them); undefined when they agree or none are expected.
 */
export function compareEchoedHeaders(row: GrpcCase, reply: GrpcReply): string | undefined {
  if (row.headers === undefined || reply.response === undefined) return undefined;
  const echoed = reply.response.assertions?.headers ?? [];
  const wrong: string[] = [];
  for (const [name, values] of Object.entries(row.headers)) {
    const got = echoed.filter((h) => h.key.toLowerCase() === name.toLowerCase()).map((h) => h.value);
    if (got.join(',') !== values.join(',')) wrong.push(`${name}: want ${JSON.stringify(values)}, got ${JSON.stringify(got)}`);
  }
  return wrong.length === 0 ? undefined : wrong.join('; ');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one row until consistent (see the file's comment); `note` receives the echoed-header mismatch, if any. */
export async function runGrpcCase(env: TestEnv, service: GrpcEchoService, row: GrpcCase, options: RunOptions, note: (text: string) => void): Promise<CaseResult> {
  const address = addressOf(env, row);
  if (typeof address === 'string') return { name: row.name, ok: false, detail: address };
  let client = newClient(service, address.target, address.authority);
  const start = Date.now();
  let successes = 0;
  let last: { message: string; since: number } | undefined;
  try {
    while (successes < options.requiredSuccesses) {
      const reply = await sendRpc(client, row, Math.max(1000, options.consistencyMs - (Date.now() - start)));
      if (reply.code === grpc.status.INTERNAL) {
        client.close();
        client = newClient(service, address.target, address.authority);
      }
      const message = compareGrpc(row, reply);
      if (message === undefined) {
        successes++;
        if (successes === options.requiredSuccesses) {
          const headers = compareEchoedHeaders(row, reply);
          if (headers !== undefined) note(`${row.name}: echoed headers differ from Response.Headers (not compared by the suite): ${headers}`);
        }
        continue;
      }
      successes = 0;
      const now = Date.now();
      if (last?.message !== message) last = { message, since: now };
      if (now - last.since >= options.stableFailureMs || now - start >= options.consistencyMs) {
        const seen = reply.response?.assertions;
        return { name: row.name, ok: false, detail: `${message}\n    call: ${row.method} :authority ${address.authority} metadata ${JSON.stringify(row.metadata)}${seen ? `\n    pod ${seen.context?.namespace}/${seen.context?.pod} saw ${JSON.stringify(seen.headers)}` : ''}` };
      }
      await sleep(100);
    }
  } finally {
    client.close();
  }
  return { name: row.name, ok: true, detail: '' };
}

/** weight.TestWeightedDistribution with a fresh client per call and the suite's random `x-jitter` metadata half the time. */
export async function runGrpcDistribution(env: TestEnv, service: GrpcEchoService, row: GrpcCase, weights: Readonly<Record<string, number>>): Promise<CaseResult> {
  const address = addressOf(env, row);
  if (typeof address === 'string') return { name: 'weighted distribution', ok: false, detail: address };
  const total = 500;
  const backendOf = (pod: string): string => (pod.split('-').length < 3 ? pod : pod.split('-').slice(0, -2).join('-'));
  let lastErrors = '';
  for (let attempt = 1; attempt <= 10; attempt++) {
    const seen = new Map<string, number>();
    const errors: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total && errors.length === 0) {
        next++;
        const client = newClient(service, address.target, address.authority);
        const metadata: Record<string, string> = Math.random() < 0.5 ? { 'x-jitter': String(Math.floor(Math.random() * 10_000)) } : {};
        const reply = await sendRpc(client, { method: row.method, metadata }, 10_000);
        client.close();
        const backend = backendOf(reply.response?.assertions?.context?.pod ?? '');
        if (reply.code !== grpc.status.OK) errors.push(`expected OK response, got ${codeName(reply.code)}`);
        else if (!Object.hasOwn(weights, backend)) errors.push(`handled by an unexpected pod (backend ${backend})`);
        else seen.set(backend, (seen.get(backend) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    if (errors.length === 0) {
      const active = Object.values(weights).filter((w) => w > 0).length;
      if (seen.size !== active) errors.push(`expected ${active} backends to receive traffic, but got ${seen.size}`);
      for (const [backend, want] of Object.entries(weights)) {
        const got = (seen.get(backend) ?? 0) / total;
        if (want !== 0 && !seen.has(backend)) errors.push(`no traffic to ${backend}`);
        else if (Math.abs(got - want) > 0.05) errors.push(`${backend} got ${got}, want ${want} ±0.05`);
      }
    }
    if (errors.length === 0) return { name: `weighted distribution (attempt ${attempt})`, ok: true, detail: '' };
    lastErrors = `${errors.join('; ')} (shares ${JSON.stringify(Object.fromEntries(seen))} of ${total})`;
  }
  return { name: 'weighted distribution', ok: false, detail: `10 attempts failed; last: ${lastErrors}` };
}
