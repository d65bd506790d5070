/**
 * The protocols run: Switchyard beside nginx over TLS, HTTP/2, WebSocket and gRPC, and this Switchyard's
 * plaintext HTTP/1.1 beside an earlier build's. Starts the pods and proxies the chosen sections need,
 * checks every case before measuring it (a case that fails its check is left out with the reason, so a
 * feature not there yet costs its figures, not the run), warms each up, then runs the rounds: within a
 * round, a section's cases run back to back, starting one case later each round, so the two sides of
 * every ratio are measured minutes apart at most and no case is always first.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { cliHasFlag, hasWorkersFlag, startSwitchyard } from '../candidates/switchyard.ts';
import { listeningLine, startChild } from '../children.ts';
import type { LoadTool } from '../load/types.ts';
import { BENCH_NAMESPACE, comparisonManifests, edgeManifests, type EdgeBackend } from '../manifests.ts';
import { freePort } from '../net.ts';
import { START_TIMEOUT_MS, type Pod } from '../pods.ts';
import { progress } from '../progress.ts';
import type { ProtocolSection, Settings } from '../settings.ts';
import type { TargetCheck } from '../targets.ts';
import { onPath } from '../which.ts';
import { buildCases, type Edge, type PlainProxy } from './cases.ts';
import { makeCertificate } from './certificate.ts';
import { measureCase } from './measure-case.ts';
import { nginxVersion, startNginxEdge, type EdgeHosts } from './nginx-edge.ts';
import { allPods, startProtocolPods } from './pods.ts';
import { checkTls } from './preflight.ts';
import { caseMedians, evaluateRatio, protocolTargets, ratioSpecs, targetSpecs, type CaseMedians, type RatioResult } from './summary.ts';
import type { ProtocolCase, ProtocolRun } from './types.ts';

export const EDGE_HOSTS: EdgeHosts = { http: 'bench.local', ws: 'ws.bench.local', grpc: 'grpc.bench.local' };
const SECRET = 'bench-tls';
/** How long a started Switchyard may take to serve the Secret's certificate on its TLS listener. */
const TLS_READY_MS = 10_000;

export interface ProtocolsResult {
  readonly hosts: EdgeHosts;
  readonly certificate: { readonly type: string; readonly fingerprint256: string };
  readonly nginx: { readonly path: string; readonly version: string | null } | null;
  readonly h2load: string | null;
  readonly switchyard: { readonly workers: number | null; readonly tls: boolean };
  readonly base: { readonly dir: string; readonly commit: string } | null;
  readonly cases: readonly (Pick<ProtocolCase, 'id' | 'section' | 'variant' | 'proxy' | 'tool' | 'label' | 'unit' | 'setup'> & { readonly medians: CaseMedians })[];
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  readonly notes: readonly string[];
  readonly runs: readonly ProtocolRun[];
  readonly ratios: readonly RatioResult[];
  readonly targets: readonly TargetCheck[];
}

const SECTION_ORDER: readonly ProtocolSection[] = ['tls', 'handshakes', 'http2', 'websocket', 'grpc', 'before-after'];
const EDGE_SECTIONS: readonly ProtocolSection[] = ['tls', 'handshakes', 'http2', 'websocket', 'grpc'];

/** The commit a prepared base tree was made from (bench/prepare-base.ts writes it), else the directory's name. */
async function baseCommit(dir: string): Promise<string> {
  try {
    return (await readFile(path.join(dir, '.bench-base-commit'), 'utf8')).trim().split('\n', 1)[0]!.slice(0, 12);
  } catch {
    return path.basename(dir);
  }
}

async function waitForTls(address: string, fingerprint: string): Promise<string | null> {
  const until = performance.now() + TLS_READY_MS;
  let last = '';
  while (performance.now() < until) {
    try {
      await checkTls(address, EDGE_HOSTS.http, fingerprint);
      return null;
    } catch (err) {
      last = (err as Error).message;
      await sleep(200);
    }
  }
  return last;
}

const podEndpoints = (pods: readonly Pod[]) => pods.map((p) => ({ address: p.address, port: p.port, podName: p.name }));

export async function runProtocols(settings: Settings, tools: readonly LoadTool[], scratchRoot: string, ticksPerSecond: number): Promise<ProtocolsResult> {
  const notes: string[] = [];
  const note = (text: string): void => {
    notes.push(text);
    progress(`note: ${text}`);
  };
  const sections = SECTION_ORDER.filter((s) => settings.sections.includes(s));
  const needEdge = sections.some((s) => EDGE_SECTIONS.includes(s));
  const dir = await mkdtemp(path.join(scratchRoot, 'protocols-'));

  const h2load = onPath('h2load');
  if (h2load === null && (sections.includes('http2') || sections.includes('grpc'))) note('h2load is not on PATH: the HTTP/2 section and the h2load gRPC figures are skipped (apt-get install nghttp2-client to include them)');
  const nginx = needEdge ? onPath('nginx') : null;
  if (needEdge && nginx === null) note('nginx is not on PATH: no nginx figures (apt-get install nginx to include them)');
  const nginxVer = nginx === null ? null : nginxVersion(nginx);
  const workers = hasWorkersFlag() ? 1 : null;
  const switchyardTls = cliHasFlag('--listen-tls');
  if (needEdge && !switchyardTls) note('switchyard --help lists no --listen-tls: no Switchyard TLS figures');
  if (sections.includes('before-after') && settings.baseDir === null) note('no --base-dir: the before-after section is skipped (node bench/prepare-base.ts e9a3bbc /tmp/switchyard-base, then --base-dir /tmp/switchyard-base)');
  const base = settings.baseDir === null || !sections.includes('before-after') ? null : { dir: settings.baseDir, commit: await baseCommit(settings.baseDir) };

  const certDir = path.join(dir, 'tls');
  await mkdir(certDir);
  const certificate = makeCertificate(certDir, [EDGE_HOSTS.http, EDGE_HOSTS.ws, EDGE_HOSTS.grpc]);
  const pods = await startProtocolPods({ http: true, ws: sections.includes('websocket'), grpc: sections.includes('grpc') });
  progress(`protocols: pods ${allPods(pods).map((p) => `${p.name}=${p.address}:${p.port}`).join(' ')}`);
  const stops: (() => Promise<void>)[] = allPods(pods).map((p) => () => p.child.stop());
  const edges: Edge[] = [];
  const beforeAfter: PlainProxy[] = [];
  const swyLabel = workers === null ? 'Switchyard (default)' : `Switchyard --workers ${workers}`;
  try {
    if (needEdge) {
      const backends: EdgeBackend[] = [{ host: EDGE_HOSTS.http, service: 'web', endpoints: podEndpoints(pods.http) }];
      if (pods.ws.length > 0) backends.push({ host: EDGE_HOSTS.ws, service: 'ws', endpoints: podEndpoints(pods.ws) });
      if (pods.grpc.length > 0) backends.push({ host: EDGE_HOSTS.grpc, service: 'grpc', endpoints: podEndpoints(pods.grpc), appProtocol: 'kubernetes.io/h2c' });
      const manifestDir = path.join(dir, 'switchyard-edge');
      await mkdir(manifestDir);
      await writeFile(path.join(manifestDir, 'edge.yaml'), edgeManifests({ secretName: SECRET, certPem: certificate.certPem, keyPem: certificate.keyPem, backends }));
      const tlsAddress = switchyardTls ? `127.0.0.1:${await freePort()}` : null;
      progress('protocols: starting Switchyard (edge)');
      const sy = await startSwitchyard({
        name: 'switchyard-edge',
        manifestDir,
        workers,
        probeHost: EDGE_HOSTS.http,
        probePath: '/',
        extraArgs: tlsAddress === null ? [] : ['--listen-tls', tlsAddress, '--default-certificate', `${BENCH_NAMESPACE}/${SECRET}`],
      });
      stops.push(() => sy.child.stop());
      let tls = tlsAddress;
      if (tlsAddress !== null) {
        const problem = await waitForTls(tlsAddress, certificate.fingerprint256);
        if (problem !== null) {
          note(`Switchyard's TLS listener did not serve the bench certificate within ${TLS_READY_MS / 1000} s (${problem}): no Switchyard TLS figures`);
          tls = null;
        }
      }
      edges.push({ proxy: 'switchyard', label: swyLabel, pid: sy.child.pid, plain: sy.address, tls, h2c: sy.address });
      progress(`  switchyard-edge at ${sy.address}${tls === null ? '' : `, TLS ${tls}`} (pid ${sy.child.pid})`);
      if (nginx !== null) {
        progress('protocols: starting nginx (edge)');
        const prefix = path.join(dir, 'nginx-edge');
        await mkdir(prefix);
        const ng = await startNginxEdge(nginx, { prefix, hosts: EDGE_HOSTS, certFile: certificate.certFile, keyFile: certificate.keyFile, httpPods: pods.http, wsPods: pods.ws, grpcPods: pods.grpc });
        stops.push(() => ng.child.stop());
        edges.push({ proxy: 'nginx', label: `nginx${nginxVer === null ? '' : ` ${nginxVer.join('.')}`}, 1 worker`, pid: ng.child.pid, plain: `127.0.0.1:${ng.ports.plain}`, tls: `127.0.0.1:${ng.ports.tls}`, h2c: `127.0.0.1:${ng.ports.h2c}` });
        progress(`  nginx-edge at 127.0.0.1:${ng.ports.plain}, TLS ${ng.ports.tls}, h2c ${ng.ports.h2c} (pid ${ng.child.pid})`);
      }
    }
    if (base !== null) {
      // This tree twice when it has an access log: off (what metrics cost beside the base, which has neither), and on, to a file.
      const accessLog = cliHasFlag('--access-log');
      const accessLogFile = path.join(dir, 'access.log');
      const baseCli = path.join(base.dir, 'bin', 'switchyard.js');
      // A base that has the access log (on by default) runs with it off too: like against like.
      const baseLogOff = cliHasFlag('--access-log', baseCli) ? ['--access-log', 'off'] : [];
      for (const [proxy, cli, label, extraArgs] of [
        ['switchyard-base', baseCli, `Switchyard ${base.commit} (base${baseLogOff.length > 0 ? ', --access-log off' : ''})`, baseLogOff],
        ['switchyard', undefined, `${swyLabel} (this tree${accessLog ? ', --access-log off' : ''})`, accessLog ? ['--access-log', 'off'] : []],
        ...(accessLog ? ([['switchyard-access-log', undefined, `${swyLabel} (this tree, --access-log FILE, json)`, ['--access-log', accessLogFile]]] as const) : []),
      ] as const) {
        const manifestDir = path.join(dir, proxy);
        await mkdir(manifestDir);
        await writeFile(path.join(manifestDir, 'bench.yaml'), comparisonManifests(EDGE_HOSTS.http, podEndpoints(pods.http)));
        progress(`protocols: starting ${label}`);
        const sy = await startSwitchyard({ name: proxy, manifestDir, workers, probeHost: EDGE_HOSTS.http, probePath: '/', extraArgs, ...(cli === undefined ? {} : { cli }) });
        stops.push(() => sy.child.stop());
        beforeAfter.push({ proxy, label, pid: sy.child.pid, plain: sy.address });
      }
    }

    let tlsFloor: { pid: number; address: string } | null = null;
    if (sections.includes('handshakes')) {
      const { child, value } = await startChild({
        name: 'tls-floor',
        command: process.execPath,
        args: [path.join(path.dirname(fileURLToPath(import.meta.url)), 'tls-floor.ts'), certificate.certFile, certificate.keyFile],
        timeoutMs: START_TIMEOUT_MS,
        readyLine: listeningLine,
      });
      stops.push(() => child.stop());
      tlsFloor = { pid: child.pid, address: `${value.address}:${value.port}` };
    }

    const planned = buildCases({ settings, hosts: EDGE_HOSTS, certificate, pods, edges, beforeAfter, tlsFloor, tools, h2load, scratchDir: dir });
    const cases: ProtocolCase[] = [];
    const skipped: { id: string; reason: string }[] = [];
    for (const c of planned) {
      try {
        await c.preflight();
        cases.push(c);
      } catch (err) {
        const reason = (err as Error).message.split('\n', 1)[0]!;
        skipped.push({ id: c.id, reason });
        note(`${c.label}: skipped, its check failed: ${reason}`);
      }
    }
    const perRun = settings.durationSeconds + settings.pauseMs / 1000;
    progress(`protocols: ${cases.length} cases, about ${Math.ceil((cases.length * (settings.rounds * perRun + settings.warmupSeconds + 1)) / 60)} min`);

    const ready: ProtocolCase[] = [];
    for (const c of cases) {
      progress(`warm-up ${c.id} (${settings.warmupSeconds} s, not recorded)`);
      try {
        const w = await measureCase(c, 0, settings.warmupSeconds, ticksPerSecond);
        if (w.ops === 0) throw new Error(`no ${c.unit} completed (${w.errors} errors)`);
        ready.push(c);
      } catch (err) {
        const reason = (err as Error).message.split('\n', 1)[0]!;
        if (/exited during the bench/.test(reason)) throw err;
        skipped.push({ id: c.id, reason: `warm-up: ${reason}` });
        note(`${c.label}: skipped, its warm-up failed: ${reason}`);
      }
      await sleep(settings.pauseMs);
    }

    const runs: ProtocolRun[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      for (const section of sections) {
        const group = ready.filter((c) => c.section === section);
        if (group.length === 0) continue;
        const shift = (round - 1) % group.length;
        for (const c of [...group.slice(shift), ...group.slice(0, shift)]) {
          progress(`round ${round}/${settings.rounds} · ${c.id} (${settings.durationSeconds} s)`);
          const r = await measureCase(c, round, settings.durationSeconds, ticksPerSecond);
          runs.push(r);
          const cpu = r.proxyCpuUsPerOp === null ? '' : `, proxy CPU ${r.proxyCpuUsPerOp.toFixed(1)} µs/${c.unit}`;
          progress(`  ${Math.round(r.opsPerSec)} ${c.unit}s/s, mean ${r.latencyMs.mean.toFixed(2)} ms, errors ${r.errors}, non-2xx ${r.non2xx}${cpu}`);
          await sleep(settings.pauseMs);
        }
      }
    }

    const ratios = ratioSpecs(ready).map((spec) => evaluateRatio(spec, runs));
    const loadTools = tools.map((t) => t.name);
    return {
      hosts: EDGE_HOSTS,
      certificate: { type: `ECDSA ${certificate.curve}, self-signed (openssl req -x509 -newkey ec)`, fingerprint256: certificate.fingerprint256 },
      nginx: nginx === null ? null : { path: nginx, version: nginxVer?.join('.') ?? null },
      h2load,
      switchyard: { workers, tls: edges.some((e) => e.proxy === 'switchyard' && e.tls !== null) },
      base,
      cases: ready.map((c) => ({ id: c.id, section: c.section, variant: c.variant, proxy: c.proxy, tool: c.tool, label: c.label, unit: c.unit, setup: c.setup, medians: caseMedians(runs.filter((r) => r.id === c.id)) })),
      skipped,
      notes,
      runs,
      ratios,
      targets: protocolTargets(targetSpecs(sections, loadTools), runs),
    };
  } finally {
    await Promise.all(stops.map((stop) => stop()));
  }
}
