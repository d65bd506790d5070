/**
 * A bench "pod": the smallest useful node:http server, run as its own process by proxy-bench.ts so it
 * never shares an event loop with the proxy or the load generator.
 *
 *   node bench/pod-server.ts NAME HOST PORT [reuse-port]
 *
 * With `reuse-port` it binds with SO_REUSEPORT, so two pods can share one port (the scale run binds two
 * to 0.0.0.0:PORT, where they answer for every 127.x.y.z address and the kernel spreads connections).
 * Answers every request with 200 and `ok NAME\n`. Once listening it prints one JSON line on stdout,
 * `{"listening":{"address":"127.0.0.2","port":41234}}`; if it cannot listen it prints
 * `{"error":"EADDRINUSE"}` and exits 1. It exits on SIGTERM/SIGINT and when its stdin closes, so a
 * bench that dies without cleaning up does not leave it behind.
 */
import { createServer } from 'node:http';
import { announceError, announceListening, podArgs, stopOnExit } from './pod-process.ts';

const { name, host, port, rest } = podArgs('pod-server', 'pod');
const mode = rest[0] ?? '';

// Built once: the pod's cost per request should be as close to nothing as node:http allows.
const body = Buffer.from(`ok ${name}\n`);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

const server = createServer((req, res) => {
  // Drain any request body so the connection can be reused.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
// Longer than the proxy's idle pool timeout and autocannon's runs, so the pod never closes a kept-alive
// connection mid-run and turns a benchmark into a reconnect test.
server.keepAliveTimeout = 60_000;

server.once('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(`pod-server ${name}: cannot listen on ${host}:${port}: ${err.code ?? err.message}\n`);
  announceError(err.code ?? err.message);
});
server.listen({ port, host, reusePort: mode === 'reuse-port' }, () => {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('pod-server: not a TCP address');
  announceListening(a.address, a.port);
});

stopOnExit(() => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
