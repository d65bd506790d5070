/**
 * The node baselines (http-proxy, http-proxy-3, @fastify/http-proxy): each its own process running a
 * server from bench/baselines/, in front of both pods.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { listeningLine, startChild } from '../children.ts';
import { START_TIMEOUT_MS } from '../pods.ts';
import type { CandidateSpec, RunningCandidate, StartContext } from './types.ts';

const baselinesDir = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'baselines');

async function startBaseline(name: string, script: string, { pods, host }: StartContext, spreadsOverPods = true): Promise<RunningCandidate> {
  const { child, value } = await startChild({
    name,
    command: process.execPath,
    args: [path.join(baselinesDir, script), '127.0.0.1', '0', ...pods.map((p) => `http://${p.address}:${p.port}`)],
    timeoutMs: START_TIMEOUT_MS,
    readyLine: listeningLine,
    onLine: (line) => process.stderr.write(`[${name}] ${line}\n`),
  });
  return { target: { url: `http://${value.address}:${value.port}/`, headers: { host } }, proxyPid: child.pid, spreadsOverPods, stop: () => child.stop() };
}

export const httpProxy: CandidateSpec = {
  id: 'http-proxy',
  label: 'node http-proxy 1.18',
  setup: 'http.createServer + httpProxy.createProxyServer({ agent: keep-alive, 128 sockets/pod, xfwd }), round-robin per request over both pods; own process',
  start: (context) => startBaseline('http-proxy', 'http-proxy-server.ts', context),
};

export const httpProxy3: CandidateSpec = {
  id: 'http-proxy-3',
  label: 'http-proxy-3 2.0',
  setup: 'the maintained rewrite of node http-proxy, set up as the http-proxy row: http.createServer + createProxyServer({ agent: keep-alive, 128 sockets/pod, xfwd }), round-robin per request over both pods; own process',
  start: (context) => startBaseline('http-proxy-3', 'http-proxy-3-server.ts', context),
};

export const fastifyProxy: CandidateSpec = {
  id: 'fastify',
  label: '@fastify/http-proxy 11',
  setup: "fastify 5 + @fastify/http-proxy with upstream '' and replyOptions.getUpstream round-robin over both pods (undici Agent, keep-alive pool per pod); own process",
  start: (context) => startBaseline('fastify', 'fastify-proxy-server.ts', context),
};

export const nodeRelay: CandidateSpec = {
  id: 'node-relay',
  label: 'Node.js TCP relay (floor, no HTTP)',
  setup:
    "not a proxy: net.createServer relaying each client connection byte for byte to a new connection to the next pod (round-robin per connection; no HTTP parsing, routing, headers or log) through node:net's streams: what Node costs per request before any proxy work; own process",
  // Round-robin per connection: the preflight's requests share one keep-alive connection, so one pod.
  start: (context) => startBaseline('node-relay', 'node-relay-server.ts', context, false),
};
