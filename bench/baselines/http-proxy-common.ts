/**
 * The node http-proxy baselines, set up as people deploy them: http.createServer in front of
 * createProxyServer with a keep-alive agent, round-robin over the upstreams per request, X-Forwarded-*
 * added (xfwd) as Switchyard adds them. No routing: every request goes to the pods. node http-proxy 1.18
 * and http-proxy-3 (its maintained rewrite) share the API, so both rows run this same set-up and differ
 * only by the library.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { announce, baselineArgs, stopOnSignalOrStdinClose } from './serve.ts';

/** What both libraries' createProxyServer returns, as far as this set-up uses it. */
interface ProxyServer {
  on(event: 'error', fn: (err: Error, req: http.IncomingMessage, res: http.ServerResponse | Socket) => void): unknown;
  web(req: http.IncomingMessage, res: http.ServerResponse, options: { target: object }): void;
}

export function serveHttpProxy(name: string, createProxyServer: (options: { agent: http.Agent; xfwd: boolean }) => object): void {
  const { host, port, upstreams } = baselineArgs(name);
  // Without an agent the proxied request is `Connection: close`; 128 sockets per pod, like Switchyard.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 60_000 });
  // The two libraries type their server with different generics; both have this shape.
  const proxy = createProxyServer({ agent, xfwd: true }) as ProxyServer;
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
    process.stderr.write(`${name}: cannot listen on ${host}:${port}: ${err.message}\n`);
    process.exit(1);
  });
  server.listen(port, host, () => announce(server));

  stopOnSignalOrStdinClose(() => {
    server.close();
    server.closeAllConnections();
    agent.destroy();
    process.exit(0);
  });
}
