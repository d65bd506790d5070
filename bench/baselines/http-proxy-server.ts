/**
 * Baseline: node http-proxy 1.18 (no release since 2020), set up as http-proxy-common.ts says.
 *
 *   node bench/baselines/http-proxy-server.ts HOST PORT UPSTREAM_URL…
 */
import httpProxy from 'http-proxy';
import { serveHttpProxy } from './http-proxy-common.ts';

serveHttpProxy('http-proxy-server', (options) => httpProxy.createProxyServer(options));
