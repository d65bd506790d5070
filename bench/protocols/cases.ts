/**
 * The protocols run's cases: for each section, which figures are taken through which proxy with which
 * load tool, how each is checked first, and how its load is made. Pure wiring: the proxies, pods and
 * tools are started by run.ts and handed in.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadResult, LoadTool, Target } from '../load/types.ts';
import { httpGet } from '../net.ts';
import type { Pod } from '../pods.ts';
import type { ProtocolSection, Settings } from '../settings.ts';
import type { BenchCertificate } from './certificate.ts';
import { echoRequestFrame, SAY_MESSAGE, SAY_PATH } from './echo-service.ts';
import { runH2load, type H2loadRun, type H2loadSummary } from './load/h2load.ts';
import { runScript } from './load/run-script.ts';
import type { ScriptResult } from './load/child-result.ts';
import type { EdgeHosts } from './nginx-edge.ts';
import type { ProtocolPods } from './pods.ts';
import { checkTls, grpcFramePost, grpcSay, h2Gets, https1Get, wsEcho } from './preflight.ts';
import { caseId, type CaseKey, type CaseOutcome, type ProtocolCase, type ProxyKind } from './types.ts';

/** Handshake loops in flight at once: enough to keep one proxy core busy without queueing at accept. */
export const HANDSHAKE_CONCURRENCY = 16;
/** HTTP/2 connections (h2load -c) and gRPC channels. */
export const H2_CONNECTIONS = 4;
/** Bytes of every WebSocket message (binary). */
export const WS_MESSAGE_BYTES = 64;

/** A proxy serving the edge hosts: Switchyard (one process) or nginx (one worker). */
export interface Edge {
  readonly proxy: 'switchyard' | 'nginx';
  readonly label: string;
  readonly pid: number;
  /** host:port of the plaintext HTTP/1.1 listener. */
  readonly plain: string;
  /** host:port of the TLS listener; null when this proxy has none here. */
  readonly tls: string | null;
  /** host:port speaking h2c with prior knowledge (Switchyard: its plaintext listener). */
  readonly h2c: string;
}

/** A Switchyard serving the comparison's manifests on plaintext only, for the before-after section. */
export interface PlainProxy {
  readonly proxy: 'switchyard' | 'switchyard-base' | 'switchyard-access-log';
  readonly label: string;
  readonly pid: number;
  readonly plain: string;
}

/** A bare node:tls server (tls-floor.ts): the handshakes section's reference for what Node itself costs. */
export interface TlsFloor {
  readonly pid: number;
  readonly address: string;
}

export interface CaseContext {
  readonly settings: Settings;
  readonly hosts: EdgeHosts;
  readonly certificate: BenchCertificate;
  readonly pods: ProtocolPods;
  readonly edges: readonly Edge[];
  readonly beforeAfter: readonly PlainProxy[];
  /** null unless the handshakes section runs. */
  readonly tlsFloor: TlsFloor | null;
  /** autocannon, and wrk when present. */
  readonly tools: readonly LoadTool[];
  /** h2load's path; null when it is not installed. */
  readonly h2load: string | null;
  /** For files the tools read (the gRPC body). */
  readonly scratchDir: string;
}

const VARIANT_LABELS: Record<string, string> = {
  'h1-tls': 'HTTP/1.1 keep-alive over TLS 1.3',
  'h1-plain': 'HTTP/1.1 keep-alive, plaintext',
  full: 'new TLS 1.3 handshakes, full (ECDSA P-256, X25519)',
  'h2-tls': 'HTTP/2 over TLS',
  'h1-tls-4': 'HTTP/1.1 over TLS, 4 connections',
  h2c: 'HTTP/2 cleartext (prior knowledge)',
  'h1-plain-4': 'HTTP/1.1 plaintext, 4 connections',
  'h1-plain-4n': 'HTTP/1.1 plaintext, as many connections as HTTP/2 streams',
  echo: 'WebSocket echo',
  unary: 'gRPC unary',
};

export const variantLabel = (variant: string): string => VARIANT_LABELS[variant] ?? variant;

const podAddress = (p: Pod): string => `${p.address}:${p.port}`;

function fromLoadResult(r: LoadResult): CaseOutcome {
  return {
    seconds: r.seconds,
    ops: Math.max(0, r.requests - r.non2xx),
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    latencyMs: { mean: r.latencyMs.mean, p50: r.latencyMs.p50, p99: r.latencyMs.p99 },
    details: {},
  };
}

/** h2load: operations are 2xx responses; latency is the mean of "time for request" only. */
export function fromH2load(s: H2loadSummary): CaseOutcome {
  return {
    seconds: s.seconds,
    ops: Math.min(s.succeeded, s.status['2xx']),
    errors: s.failed + s.errored + s.timeout,
    non2xx: s.status['3xx'] + s.status['4xx'] + s.status['5xx'],
    latencyMs: { mean: s.meanMs, p50: NaN, p99: NaN },
    details: s.details,
  };
}

function fromScript(r: ScriptResult): CaseOutcome {
  return { seconds: r.seconds, ops: r.ops, errors: r.errors, non2xx: 0, latencyMs: { mean: r.latencyMs.mean, p50: r.latencyMs.p50, p99: r.latencyMs.p99 }, details: r.details };
}

async function expectOk(url: string, host: string): Promise<void> {
  const r = await httpGet(url, { host });
  if (r.status !== 200 || !r.body.startsWith('ok ')) throw new Error(`GET ${url} (Host ${host}): ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`);
}

function expectBothPods(what: string, seen: ReadonlySet<string>, pods: number): void {
  if (seen.size !== pods) throw new Error(`${what}: every answer came from ${[...seen].join(', ')}; expected all ${pods} pods`);
}

export function buildCases(ctx: CaseContext): ProtocolCase[] {
  const { settings, hosts, certificate } = ctx;
  const cases: ProtocolCase[] = [];
  const podPids = (pods: readonly Pod[]): number[] => pods.map((p) => p.child.pid);
  const add = (key: CaseKey, unit: ProtocolCase['unit'], proxyLabel: string, proxyPid: number | null, pods: readonly Pod[], setup: string, preflight: () => Promise<void>, run: (seconds: number) => Promise<CaseOutcome>): void => {
    cases.push({ ...key, id: caseId(key), label: `${proxyLabel} · ${variantLabel(key.variant)} · ${key.tool}`, unit, setup, proxyPid, podPids: podPids(pods), preflight, run });
  };
  const want = (s: ProtocolSection): boolean => settings.sections.includes(s);
  const load = (tool: LoadTool, target: Target) => async (seconds: number) => fromLoadResult(await tool.run(target, { connections: settings.connections, pipelining: 1, seconds }));
  const h2 = (run: Omit<H2loadRun, 'seconds'>) => async (seconds: number) => fromH2load(await runH2load(ctx.h2load!, { ...run, seconds }));
  const streams = settings.h2Streams;

  if (want('tls')) {
    for (const e of ctx.edges) {
      if (e.tls === null) continue;
      for (const tool of ctx.tools) {
        const tls = e.tls;
        add({ section: 'tls', variant: 'h1-tls', proxy: e.proxy, tool: tool.name }, 'request', e.label, e.pid, ctx.pods.http,
          `${tool.name}, ${settings.connections} keep-alive connections to https://${tls}/ (no SNI: the default certificate, the same Secret), Host ${hosts.http}`,
          async () => {
            await checkTls(tls, hosts.http, certificate.fingerprint256);
            await https1Get(tls, hosts.http);
          },
          load(tool, { url: `https://${tls}/`, headers: { host: hosts.http } }));
        add({ section: 'tls', variant: 'h1-plain', proxy: e.proxy, tool: tool.name }, 'request', e.label, e.pid, ctx.pods.http,
          `${tool.name}, ${settings.connections} keep-alive connections to http://${e.plain}/, Host ${hosts.http}`,
          () => expectOk(`http://${e.plain}/`, hosts.http),
          load(tool, { url: `http://${e.plain}/`, headers: { host: hosts.http } }));
      }
    }
  }

  if (want('handshakes')) {
    const servers: { proxy: ProxyKind; label: string; pid: number; tls: string | null }[] = [
      ...ctx.edges,
      ...(ctx.tlsFloor === null ? [] : [{ proxy: 'node-tls' as const, label: 'bare node:tls server (the floor)', pid: ctx.tlsFloor.pid, tls: ctx.tlsFloor.address }]),
    ];
    for (const e of servers) {
      if (e.tls === null) continue;
      const tls = e.tls;
      const [host, port] = [tls.slice(0, tls.lastIndexOf(':')), tls.slice(tls.lastIndexOf(':') + 1)];
      add({ section: 'handshakes', variant: 'full', proxy: e.proxy, tool: 'tls.connect' }, 'handshake', e.label, e.pid, [],
        `node tls.connect loop (bench/protocols/load/handshakes.ts), ${HANDSHAKE_CONCURRENCY} in flight, SNI ${hosts.http}, ALPN h2+http/1.1, group X25519, no session offered; connect → handshake → close`,
        async () => void (await checkTls(tls, hosts.http, certificate.fingerprint256)),
        async (seconds) => fromScript(await runScript('handshakes', { host, port, servername: hosts.http, seconds: Math.max(1, Math.round(seconds)), concurrency: HANDSHAKE_CONCURRENCY, fingerprint: certificate.fingerprint256 }, seconds)));
    }
  }

  if (want('http2') && ctx.h2load !== null) {
    for (const e of ctx.edges) {
      const pods = ctx.pods.http;
      const h1Check = (tls: boolean, address: string) => async () => (tls ? void (await https1Get(address, hosts.http)) : expectOk(`http://${address}/`, hosts.http));
      const h2Check = (tls: boolean, address: string) => async () => {
        if (tls) await checkTls(address, hosts.http, certificate.fingerprint256);
        expectBothPods(`HTTP/2 via ${address}`, await h2Gets(address, tls, hosts.http, 2 * pods.length), pods.length);
      };
      const url = (tls: boolean, address: string): string => `${tls ? 'https' : 'http'}://${hosts.http}:${address.slice(address.lastIndexOf(':') + 1)}/`;
      const variants: { variant: string; tls: boolean; address: string | null; h1: boolean; connections: number; streams: number; only?: ProxyKind }[] = [
        { variant: 'h2-tls', tls: true, address: e.tls, h1: false, connections: H2_CONNECTIONS, streams },
        { variant: 'h1-tls-4', tls: true, address: e.tls, h1: true, connections: H2_CONNECTIONS, streams: 1 },
        { variant: 'h2c', tls: false, address: e.h2c, h1: false, connections: H2_CONNECTIONS, streams },
        { variant: 'h1-plain-4', tls: false, address: e.plain, h1: true, connections: H2_CONNECTIONS, streams: 1 },
        { variant: 'h1-plain-4n', tls: false, address: e.plain, h1: true, connections: H2_CONNECTIONS * streams, streams: 1, only: 'switchyard' },
      ];
      for (const v of variants) {
        if (v.address === null || (v.only !== undefined && v.only !== e.proxy)) continue;
        const address = v.address;
        add({ section: 'http2', variant: v.variant, proxy: e.proxy, tool: 'h2load' }, 'request', e.label, e.pid, pods,
          `h2load -t1 -c${v.connections} -m${v.streams}${v.h1 ? ' --h1' : ''} ${url(v.tls, address)} --connect-to ${address}${v.h1 ? '' : ` (${v.connections * v.streams} streams in flight)`}`,
          v.h1 ? h1Check(v.tls, address) : h2Check(v.tls, address),
          h2({ url: url(v.tls, address), connectTo: address, connections: v.connections, streams: v.streams, h1: v.h1 }));
      }
    }
  }

  if (want('websocket') && ctx.pods.ws.length > 0) {
    const pod1 = ctx.pods.ws[0]!;
    const targets: { proxy: ProxyKind; label: string; pid: number | null; url: string; host: string | null }[] = [
      { proxy: 'direct', label: `direct → ${pod1.name}`, pid: null, url: `ws://${podAddress(pod1)}/`, host: null },
      ...ctx.edges.map((e) => ({ proxy: e.proxy, label: e.label, pid: e.pid, url: `ws://${e.plain}/`, host: hosts.ws })),
    ];
    for (const t of targets) {
      add({ section: 'websocket', variant: 'echo', proxy: t.proxy, tool: 'ws' }, 'message', t.label, t.pid, t.proxy === 'direct' ? [pod1] : ctx.pods.ws,
        `ws ${settings.connections} connections to ${t.url}${t.host === null ? '' : ` (Host ${t.host})`}, each sending a ${WS_MESSAGE_BYTES}-byte binary message when the last echo arrived (bench/protocols/load/ws-echo.ts)`,
        () => wsEcho(t.url, t.host),
        async (seconds) => fromScript(await runScript('ws-echo', { url: t.url, ...(t.host === null ? {} : { host: t.host }), connections: settings.connections, seconds: Math.max(1, Math.round(seconds)), bytes: WS_MESSAGE_BYTES }, seconds)));
    }
  }

  if (want('grpc') && ctx.pods.grpc.length > 0) {
    const pod1 = ctx.pods.grpc[0]!;
    const body = path.join(ctx.scratchDir, 'grpc-say.bin');
    writeFileSync(body, echoRequestFrame(SAY_MESSAGE));
    const targets: { proxy: ProxyKind; label: string; pid: number | null; address: string; authority: string | null }[] = [
      { proxy: 'direct', label: `direct → ${pod1.name}`, pid: null, address: podAddress(pod1), authority: null },
      ...ctx.edges.map((e) => ({ proxy: e.proxy, label: e.label, pid: e.pid, address: e.h2c, authority: hosts.grpc })),
    ];
    for (const t of targets) {
      const pods = t.proxy === 'direct' ? [pod1] : ctx.pods.grpc;
      const authority = t.authority ?? t.address;
      add({ section: 'grpc', variant: 'unary', proxy: t.proxy, tool: 'grpc-js' }, 'call', t.label, t.pid, pods,
        `@grpc/grpc-js, ${H2_CONNECTIONS} channels (own connections) × ${streams} calls in flight to ${t.address}${t.authority === null ? '' : ` (:authority ${t.authority})`}, bench.Echo/Say (bench/protocols/load/grpc-unary.ts)`,
        async () => {
          const seen = await grpcSay(t.address, t.authority, 2 * pods.length);
          if (t.proxy !== 'direct') expectBothPods(`gRPC via ${t.address}`, seen, pods.length);
        },
        async (seconds) => fromScript(await runScript('grpc-unary', { target: t.address, ...(t.authority === null ? {} : { authority: t.authority }), channels: H2_CONNECTIONS, inflight: streams, seconds: Math.max(1, Math.round(seconds)) }, seconds)));
      if (ctx.h2load !== null) {
        const port = t.address.slice(t.address.lastIndexOf(':') + 1);
        const url = `http://${t.authority ?? t.address.slice(0, t.address.lastIndexOf(':'))}:${port}${SAY_PATH}`;
        add({ section: 'grpc', variant: 'unary', proxy: t.proxy, tool: 'h2load' }, 'call', t.label, t.pid, pods,
          `h2load -t1 -c${H2_CONNECTIONS} -m${streams} -d <one gRPC frame: EchoRequest "${SAY_MESSAGE}"> -H content-type: application/grpc -H te: trailers ${url} --connect-to ${t.address} (HTTP status only: grpc-status is checked in the preflight)`,
          () => grpcFramePost(t.address, authority),
          h2({ url, connectTo: t.address, connections: H2_CONNECTIONS, streams, h1: false, dataFile: body, headers: ['content-type: application/grpc', 'te: trailers'] }));
      }
    }
  }

  if (want('before-after')) {
    for (const p of ctx.beforeAfter) {
      for (const tool of ctx.tools) {
        add({ section: 'before-after', variant: 'h1-plain', proxy: p.proxy, tool: tool.name }, 'request', p.label, p.pid, ctx.pods.http,
          `${tool.name}, ${settings.connections} keep-alive connections to http://${p.plain}/ (the comparison's manifests, plaintext only), Host ${hosts.http}`,
          () => expectOk(`http://${p.plain}/`, hosts.http),
          load(tool, { url: `http://${p.plain}/`, headers: { host: hosts.http } }));
      }
    }
  }
  return cases;
}
