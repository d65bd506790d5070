/**
 * Baseline: node http-proxy 1.18 as people deploy it — http.createServer in front of
 * httpProxy.createProxyServer with a keep-alive agent, round-robin over the upstreams per request,
 * X-Forwarded-* added (xfwd) as Switchyard adds them. No routing: every request goes to the pods.
 *
 *   node bench/baselines/http-proxy-server.ts HOST PORT UPSTREAM_URL…
 */
import http from 'node:http';
import httpProxy from 'http-proxy';
import { announce, baselineArgs, stopOnSignalOrStdinClose } from './serve.ts';

const { host, port, upstreams } = baselineArgs('http-proxy-server');

// Without an agent http-proxy sends `Connection: close` upstream; 128 sockets per pod, like Switchyard.
const agent = new http.Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 60_000 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
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
  process.stderr.write(`http-proxy-server: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => announce(server));

stopOnSignalOrStdinClose(() => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  process.exit(0);
});
