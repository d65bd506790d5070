/**
 * gRPC unary calls per second with @grpc/grpc-js: `channels` clients, each its own HTTP/2 connection
 * (a local subchannel pool, so grpc-js does not share one connection between them), each keeping
 * `inflight` calls of bench.Echo/Say in flight, for `seconds`. A call that ends with any status but OK,
 * or without the pod's `ok …` reply, is an error. Every call has a 5 s deadline.
 *
 *   node bench/protocols/load/grpc-unary.ts --target 127.0.0.1:8080 --authority grpc.bench.local \
 *     --channels 4 --inflight 25 --seconds 10
 */
import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { loadEchoService, SAY_MESSAGE } from '../echo-service.ts';
import { finish, latencyOf, microsecondHistogram, positiveInt, recordNs, required } from './child-result.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    authority: { type: 'string' },
    channels: { type: 'string' },
    inflight: { type: 'string' },
    seconds: { type: 'string' },
  },
});
const target = required('target', values.target);
const channels = positiveInt('channels', values.channels, 256);
const inflight = positiveInt('inflight', values.inflight, 10_000);
const seconds = positiveInt('seconds', values.seconds, 3600);
const CALL_DEADLINE_MS = 5000;
const READY_TIMEOUT_MS = 5000;

type SayClient = Client & { Say(req: { message: string }, options: { deadline: number }, cb: (err: ServiceError | null, reply?: { message: string }) => void): unknown };

const Echo = loadEchoService();
const options = { 'grpc.use_local_subchannel_pool': 1, ...(values.authority === undefined ? {} : { 'grpc.default_authority': values.authority }) };
const clients = Array.from({ length: channels }, () => new Echo(target, credentials.createInsecure(), options) as unknown as SayClient);
await Promise.all(
  clients.map(
    (c) =>
      new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + READY_TIMEOUT_MS, (err) => (err ? reject(new Error(`${target}: channel not ready: ${err.message}`)) : resolve()))),
  ),
);

const histogram = microsecondHistogram();
const request = { message: SAY_MESSAGE };
const statuses = new Map<number, number>();
let ops = 0;
let errors = 0;
let replyFrom = '';
const started = performance.now();
const deadline = started + seconds * 1000;

function call(client: SayClient): Promise<void> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    client.Say(request, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, reply) => {
      if (err === null && reply !== undefined && reply.message.startsWith('ok ')) {
        ops++;
        recordNs(histogram, process.hrtime.bigint() - t0);
        if (replyFrom === '') replyFrom = reply.message;
      } else {
        errors++;
        const code = err?.code ?? -1;
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
      }
      resolve();
    });
  });
}

async function loop(client: SayClient): Promise<void> {
  while (performance.now() < deadline) await call(client);
}
await Promise.all(clients.flatMap((c) => Array.from({ length: inflight }, () => loop(c))));
const elapsed = (performance.now() - started) / 1000;
for (const c of clients) c.close();
finish({
  ops,
  seconds: elapsed,
  errors,
  latencyMs: latencyOf(histogram),
  details: { channels, inflight, firstReply: replyFrom, failedStatuses: [...statuses].map(([c, n]) => `${c}×${n}`).join(' ') },
});
