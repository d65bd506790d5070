/**
 * The service proxy's bench (issue 16 item 4), in network namespaces (test/integration/l4/netns/): a
 * client, a node and two echo pods. New TCP connections per second and bulk throughput (echoed bytes)
 * through the nftables mode (a cluster IP), the userspace mode (the real CLI, a node port), HAProxy in TCP
 * mode (when installed; Debian package haproxy) and direct to the pods, as ratios in one run.
 * Targets from the issue: nftables ≥ 0.9× direct; userspace ≥ 0.8× HAProxy's connections per second.
 * Needs root, ip and nft. Run: node_modules/.bin/node bench/l4/l4-bench.ts [seconds per measurement, default 3]
 * Every process competes for the same cores (client, proxy and pods): read the ratios, not the absolutes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteTables } from '../../src/l4/nft-apply.ts';
import { NftProxier } from '../../src/l4/nft-proxier.ts';
import { createRootLogger } from '../../src/log.ts';
import { SnapshotHolder } from '../../src/snapshot/holder.ts';
import { CLIENT_IP, NODE, NODE_IP, NODE_NAME, PODS, ROOT, createTopology, unavailableReason } from '../../test/integration/l4/netns/topology.ts';
import { endpoint, portView, snapshotOf } from '../../test/unit/l4/nft-fixtures.ts';

const SECONDS = Number(process.argv[2] ?? 2);
const ROUNDS = 3;
const CLUSTER_IP = '203.0.113.10';
const USERSPACE_PORT = 30080;
const HAPROXY_PORT = 30090;

interface Target {
  readonly host: string;
  readonly port: number;
}
interface Row {
  readonly mode: string;
  readonly cps: number;
  readonly mbps: number;
  /** (max - min) / median over the rounds, for conn/s and Mbit/s. */
  readonly spread?: readonly [number, number];
}

const reason = unavailableReason();
if (reason !== undefined) {
  console.log(`l4 bench skipped: ${reason}`);
  process.exit(0);
}
const haproxy = hasHaproxy();
const topo = await createTopology();
const children: ChildProcess[] = [];
const dir = await mkdtemp(join(tmpdir(), 'swy-l4-bench-'));
try {
  const pods = [PODS[0], PODS[1]].map((p) => endpoint(p.address, 8080, { nodeName: p.node }));
  const holder = new SnapshotHolder(snapshotOf([{ port: portView('bench', 'echo', 80, { clusterIPs: [CLUSTER_IP] }), endpoints: pods }]));
  const nft = new NftProxier({ holder, nodeName: NODE_NAME, clusterCidrs: [], nodePortAddresses: ['0.0.0.0/32'], syncPeriodMs: 3_600_000, log: createRootLogger('silent'), command: topo.nft });
  await nft.start();

  await writeFile(join(dir, 'echo.yaml'), manifests());
  const cli = spawn('ip', ['netns', 'exec', topo.node, NODE, join(ROOT, 'bin/switchyard.js'), '--manifests', dir, '--proxy-mode', 'userspace', '--nodeport-addresses', `${NODE_IP}/32`, '--node-name', NODE_NAME, '--listen', '127.0.0.1:8080', '--admin', '127.0.0.1:9901', '--workers', '1', '--log-level', 'warn'], { stdio: 'inherit' });
  children.push(cli);
  if (haproxy) {
    await writeFile(join(dir, 'haproxy.cfg'), haproxyConfig(pods.map((p) => ({ host: p.address, port: p.port }))));
    children.push(spawn('ip', ['netns', 'exec', topo.node, 'haproxy', '-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'inherit' }));
  }
  await waitListening({ host: NODE_IP, port: USERSPACE_PORT });
  if (haproxy) await waitListening({ host: NODE_IP, port: HAPROXY_PORT });

  const modes: [string, Target[]][] = [
    ['direct', pods.map((p) => ({ host: p.address, port: p.port }))],
    ['nftables', [{ host: CLUSTER_IP, port: 80 }]],
    ['userspace', [{ host: NODE_IP, port: USERSPACE_PORT }]],
    ...(haproxy ? [['haproxy', [{ host: NODE_IP, port: HAPROXY_PORT }]] as [string, Target[]]] : []),
  ];
  // A warm-up pass (JIT, ARP, conntrack), then ROUNDS interleaved passes; each mode's median is reported,
  // with the spread of its rounds, which is the noise to read the ratios against.
  for (const [mode, targets] of modes) await measure(mode, targets, 1);
  const runs = new Map<string, Row[]>(modes.map(([m]) => [m, []]));
  for (let round = 0; round < ROUNDS; round++) for (const [mode, targets] of modes) runs.get(mode)!.push(await measure(mode, targets, SECONDS));
  report(modes.map(([m]) => summarize(m, runs.get(m)!)));
} finally {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : undefined)));
  await deleteTables(topo.nft).catch(() => undefined);
  await topo.destroy();
  await rm(dir, { recursive: true, force: true });
}

async function measure(mode: string, targets: Target[], seconds: number): Promise<Row> {
  const ms = seconds * 1000;
  const [counts] = await topo.runClient<[Record<string, number>]>([{ kind: 'load', host: '', port: 0, durationMs: ms, concurrency: 16, targets }]);
  const errors = Object.entries(counts).filter(([k]) => k.startsWith('ERR'));
  const ok = Object.entries(counts).filter(([k]) => !k.startsWith('ERR')).reduce((n, [, v]) => n + v, 0);
  const [bytes] = await topo.runClient<[number]>([{ kind: 'bulk', host: '', port: 0, durationMs: ms, connections: 4, targets }]);
  if (errors.length > 0) console.log(`${mode}: connection errors ${JSON.stringify(Object.fromEntries(errors))}`);
  return { mode, cps: ok / seconds, mbps: (bytes * 8) / seconds / 1e6 };
}

function summarize(mode: string, rows: readonly Row[]): Row {
  const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const spread = (xs: number[]): number => (Math.max(...xs) - Math.min(...xs)) / med([...xs]);
  const cps = rows.map((r) => r.cps);
  const mbps = rows.map((r) => r.mbps);
  return { mode, cps: med([...cps]), mbps: med([...mbps]), spread: [spread(cps), spread(mbps)] };
}

function report(rows: readonly Row[]): void {
  const direct = rows[0]!;
  const by = (m: string) => rows.find((r) => r.mode === m);
  console.log(`\nLayer-4 bench: medians of ${ROUNDS} rounds of ${SECONDS} s, ${cpus().length} CPUs, client ${CLIENT_IP} in its own namespace\n`);
  console.log('| mode | new conn/s | × direct | spread | echo Mbit/s | × direct | spread |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const pct = (x: number | undefined): string => `${Math.round((x ?? 0) * 100)} %`;
  for (const r of rows) console.log(`| ${r.mode} | ${r.cps.toFixed(0)} | ${(r.cps / direct.cps).toFixed(2)} | ${pct(r.spread?.[0])} | ${r.mbps.toFixed(0)} | ${(r.mbps / direct.mbps).toFixed(2)} | ${pct(r.spread?.[1])} |`);
  const nft = by('nftables')!;
  console.log(`\nnftables ÷ direct: ${(nft.cps / direct.cps).toFixed(2)}× conn/s, ${(nft.mbps / direct.mbps).toFixed(2)}× throughput (target ≥ 0.9×)`);
  const ha = by('haproxy');
  const us = by('userspace')!;
  if (ha) console.log(`userspace ÷ HAProxy: ${(us.cps / ha.cps).toFixed(2)}× conn/s (target ≥ 0.8×), ${(us.mbps / ha.mbps).toFixed(2)}× throughput`);
  else console.log('HAProxy not installed (Debian package haproxy): the userspace-versus-HAProxy ratio is not measured');
}

async function waitListening(target: Target): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [lines] = await topo.runClient<[string[]]>([{ kind: 'tcp', host: target.host, port: target.port, count: 1, timeoutMs: 500 }]);
    if (!lines[0]!.startsWith('ERR')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing answers at ${target.host}:${target.port}`);
}

function hasHaproxy(): boolean {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function manifests(): string {
  const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'bench' }, spec: { type: 'NodePort', ports: [{ name: 'tcp', port: 80, targetPort: 8080, nodePort: USERSPACE_PORT }] } };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'echo-1', namespace: 'bench', labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    ports: [{ name: 'tcp', port: 8080, protocol: 'TCP' }],
    endpoints: [PODS[0], PODS[1]].map((p) => ({ addresses: [p.address], conditions: { ready: true }, nodeName: p.node })),
  };
  return `${JSON.stringify(svc)}\n---\n${JSON.stringify(slice)}\n`;
}

function haproxyConfig(servers: readonly Target[]): string {
  return [
    'global',
    '  maxconn 4000',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    `listen echo`,
    `  bind ${NODE_IP}:${HAPROXY_PORT}`,
    '  balance roundrobin',
    ...servers.map((s, i) => `  server pod${i + 1} ${s.host}:${s.port}`),
    '',
  ].join('\n');
}
