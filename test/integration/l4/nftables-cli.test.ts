/**
 * --proxy-mode nftables through the real CLI, run inside the node's network namespace (netns/topology.ts):
 * the manifests' Service is served from the client namespace, /api/v1/nftables shows what was applied,
 * a manifest change reaches the kernel, traffic keeps flowing across a restart (the tables stay on exit),
 * `switchyard cleanup --proxy-mode nftables` removes the tables, and a missing nft stops start-up clearly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteTables } from '../../../src/l4/nft-apply.ts';
import { defer } from '../../helpers/cleanup.ts';
import { tempManifestDir, writeManifestAtomic, type Manifest } from '../../helpers/manifests.ts';
import { waitFor, withTimeout } from '../../helpers/wait.ts';
import { CLIENT_IP, NODE, NODE_IP, NODE_POD_IP, PODS, ROOT, unavailableReason, useTopology, type Topology } from './netns/topology.ts';

const skip = unavailableReason();
if (skip !== undefined) console.warn(`nftables CLI namespace tests skipped: ${skip}`);

const CLUSTER_IP = '203.0.113.20';
const CLI = join(ROOT, 'bin/switchyard.js');

function manifests(pods: readonly (typeof PODS)[number][]): Manifest[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { type: 'NodePort', clusterIP: CLUSTER_IP, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30090 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: pods.map((p) => ({ addresses: [p.address], conditions: { ready: true }, nodeName: p.node })),
    },
  ];
}

interface Cli {
  readonly child: ChildProcess;
  output(): string;
}

describe.skipIf(skip !== undefined)('switchyard --proxy-mode nftables (the CLI in a network namespace)', () => {
  let topo: Topology;
  let dir: string;
  useTopology((t) => (topo = t));

  /** Starts the CLI in the node namespace; resolves once the rules are programmed. */
  async function startCli(extra: string[] = [], env: Record<string, string> = {}): Promise<Cli> {
    const args = ['--manifests', dir, '--proxy-mode', 'nftables', '--node-name', 'node-a', '--listen', '127.0.0.1:8080', '--admin', '127.0.0.1:9901', '--workers', '1', '--shutdown-delay', '0s', ...extra];
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const child = spawn('ip', ['netns', 'exec', topo.node, 'env', ...envArgs, NODE, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    defer(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });
    const cli = { child, output: () => output };
    if (Object.keys(env).length === 0) await waitFor(() => output.includes('nftables service proxy programmed') || child.exitCode !== null, { timeoutMs: 15_000, what: 'the CLI programming nftables' });
    return cli;
  }

  async function stop(cli: Cli): Promise<number | null> {
    // The CLI installs its SIGTERM handler once start-up is over, just after its last listener is announced.
    await waitFor(() => cli.output().includes('listening role=ingress'), { timeoutMs: 10_000, what: 'the CLI finishing start-up' });
    await new Promise((r) => setTimeout(r, 200));
    cli.child.kill('SIGTERM');
    const [code] = (await withTimeout(once(cli.child, 'exit'), 10_000, 'the CLI stopping')) as [number | null];
    return code;
  }

  const tcp = (host: string, port: number, count: number, timeoutMs = 2000) => topo.runClient<[string[]]>([{ kind: 'tcp', host, port, count, timeoutMs }]).then((r) => r[0]);

  beforeEach(async () => {
    dir = await tempManifestDir('swy-nft-');
    await writeManifestAtomic(dir, 'web.yaml', manifests([PODS[0], PODS[1]]));
  });

  it('serves the cluster IP and node port; /api/v1/nftables shows the ruleset; a manifest change is applied within a second', async () => {
    defer(() => deleteTables(topo.nft));
    const cli = await startCli();
    expect(cli.child.exitCode).toBeNull();
    const lines = await tcp(CLUSTER_IP, 80, 30);
    expect(new Set(lines)).toEqual(new Set([`pod-1 ${CLIENT_IP}`, `pod-2 ${CLIENT_IP}`]));
    expect(new Set(await tcp(NODE_IP, 30090, 20))).toEqual(new Set([`pod-1 ${NODE_POD_IP}`, `pod-2 ${NODE_POD_IP}`]));

    const [body] = await topo.runClient<[string]>([{ kind: 'http', url: 'http://127.0.0.1:9901/api/v1/nftables' }], topo.node);
    const view = JSON.parse(body) as { mode: string; generation: number; lastSyncAt: string; lastError?: unknown; ruleset: string };
    expect(view.mode).toBe('nftables');
    expect(view.generation).toBeGreaterThanOrEqual(1);
    expect(view.lastError).toBeUndefined();
    expect(view.ruleset).toContain(`${CLUSTER_IP} . tcp . 80 : goto service-`);
    expect(view.ruleset).toMatch(/chain service-[0-9A-F]{8}-shop\/web\/tcp\/80 \{/);
    const [configBody] = await topo.runClient<[string]>([{ kind: 'http', url: 'http://127.0.0.1:9901/api/v1/config' }], topo.node);
    expect((JSON.parse(configBody) as { serviceProxy: unknown }).serviceProxy).toMatchObject({ mode: 'nftables', generation: view.generation });

    await writeManifestAtomic(dir, 'web.yaml', manifests([PODS[1]]));
    await waitFor(async () => (await tcp(CLUSTER_IP, 80, 10)).every((l) => l.startsWith('pod-2 ')), { timeoutMs: 3000, what: 'pod-1 gone from the rules' });
    expect(await stop(cli)).toBe(0);
  });

  it('traffic keeps flowing while Switchyard restarts (the tables stay on exit); cleanup removes them', async () => {
    defer(() => deleteTables(topo.nft));
    const first = await startCli();
    const load = topo.runClient<[Record<string, number>]>([{ kind: 'load', host: CLUSTER_IP, port: 80, durationMs: 2500, concurrency: 2 }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stop(first)).toBe(0);
    expect(new Set((await tcp(CLUSTER_IP, 80, 10)).map((l) => l.split(' ')[0]))).toEqual(new Set(['pod-1', 'pod-2']));
    const second = await startCli();
    const [counts] = await load;
    expect(Object.keys(counts).filter((k) => k.startsWith('ERR'))).toEqual([]);
    expect((counts['pod-1'] ?? 0) + (counts['pod-2'] ?? 0)).toBeGreaterThan(10);
    expect(await stop(second)).toBe(0);

    const cleanup = spawn('ip', ['netns', 'exec', topo.node, NODE, CLI, 'cleanup', '--proxy-mode', 'nftables'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const [code] = (await once(cleanup, 'exit')) as [number];
    expect(code).toBe(0);
    expect(await topo.exec(topo.node, ['nft', 'list', 'tables'])).not.toContain('switchyard');
    expect(await tcp(CLUSTER_IP, 80, 1, 500)).toEqual(['ERR:TIMEOUT']);
  }, 40_000);

  it('without nft on the PATH, start-up fails naming what is missing', async () => {
    const cli = await startCli(['--admin', '127.0.0.1:0', '--listen', '127.0.0.1:0'], { PATH: '/nonexistent' });
    const [code] = (await withTimeout(once(cli.child, 'exit'), 15_000, 'the CLI failing')) as [number];
    expect(code).toBe(1);
    expect(cli.output()).toContain('SWY_ERR_NFT_UNAVAILABLE');
    expect(cli.output()).toContain('install the Debian package nftables');
    expect(await topo.exec(topo.node, ['nft', 'list', 'tables'])).not.toContain('switchyard');
  });
});
