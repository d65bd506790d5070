/**
 * Baseline: http-proxy-3 2.x, the maintained rewrite of node http-proxy, set up as http-proxy-common.ts
 * says (its native http.request path, not its fetch path).
 *
 *   node bench/baselines/http-proxy-3-server.ts HOST PORT UPSTREAM_URL…
 */
import { createProxyServer } from 'http-proxy-3';
import { serveHttpProxy } from './http-proxy-common.ts';

serveHttpProxy('http-proxy-3-server', (options) => createProxyServer(options));
