/**
 * Baseline: fastify 5 with @fastify/http-proxy 11 (over @fastify/reply-from and undici). It has no
 * built-in round-robin over several upstreams: `upstream: ''` with `replyOptions.getUpstream` picks the
 * next origin per request, and reply-from's undici Agent keeps a keep-alive pool per origin. As
 * configured by default otherwise: no X-Forwarded-* headers, Host rewritten to the upstream's.
 *
 *   node bench/baselines/fastify-proxy-server.ts HOST PORT UPSTREAM_URL…
 */
import Fastify from 'fastify';
import fastifyHttpProxy from '@fastify/http-proxy';
import { announce, baselineArgs, stopOnSignalOrStdinClose } from './serve.ts';

const { host, port, upstreams } = baselineArgs('fastify-proxy-server');
const origins = upstreams.map((u) => u.origin);
let next = 0;

const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
await app.register(fastifyHttpProxy, {
  upstream: '',
  replyOptions: {
    getUpstream: () => {
      const origin = origins[next]!;
      next = (next + 1) % origins.length;
      return origin;
    },
  },
});
try {
  await app.listen({ host, port });
} catch (err) {
  process.stderr.write(`fastify-proxy-server: cannot listen on ${host}:${port}: ${(err as Error).message}\n`);
  process.exit(1);
}
announce(app.server);

stopOnSignalOrStdinClose(() => {
  app.server.closeAllConnections();
  void app.close().finally(() => process.exit(0));
});
