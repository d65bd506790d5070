/**
 * Baseline: http-proxy-3 2.x, the maintained rewrite of node http-proxy (same API; node http-proxy 1.18
 * has had no release since 2020). Set up exactly as http-proxy-server.ts sets up node http-proxy, so
 * the two rows differ only by the library: http.createServer in front of createProxyServer with a
 * keep-alive agent (its native http.request path, not its fetch path), round-robin over the upstreams
 * per request, X-Forwarded-* added (xfwd). No routing: every request goes to the pods.
 *
 *   node bench/baselines/http-proxy-3-server.ts HOST PORT UPSTREAM_URL…
 */
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import { announce, baselineArgs, stopOnSignalOrStdinClose } from './serve.ts';

const { host, port, upstreams } = baselineArgs('http-proxy-3-server');

// Without an agent the proxied request is `Connection: close`; 128 sockets per pod, like the others.
const agent = new http.Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 60_000 });
const proxy = createProxyServer({ agent, xfwd: true });
// Parsed once: a string target would be parsed again on every request.
const targets = upstreams.map((u) => ({ protocol: u.protocol, host: u.hostname, hostname: u.hostname, port: Number(u.port) }));
let next = 0;

proxy.on('error', (err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
  res.end(`bad gateway: ${err.message}\n`);
});

const server = http.createServer((req, res) => {
  const target = targets[next]!;
  next = (next + 1) % targets.length;
  proxy.web(req, res, { target });
});
server.keepAliveTimeout = 60_000;
server.once('error', (err) => {
  process.stderr.write(`http-proxy-3-server: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => announce(server));

stopOnSignalOrStdinClose(() => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  process.exit(0);
});
