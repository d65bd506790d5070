/**
 * What posting a snapshot to a data-plane worker thread costs, for the whole compiled snapshot against its
 * worker copy (src/runtime/worker-snapshot.ts): the structured-clone size (V8's serializer, which
 * postMessage uses) and the time from postMessage to the worker's acknowledgement (the main thread's
 * serialisation and the worker's deserialisation) and of the serialisation alone (what blocks the main
 * thread, once per worker), median over rounds. Three configurations of 10,000 routes: the scale run's
 * Ingresses (bench/manifests.ts), the same with their Services missing (a diagnostic per route), and as
 * many HTTPRoutes on one Gateway, whose Gateway API status is a table entry per route. Not part of pass/fail.
 *
 *   node bench/micro/worker-snapshot.ts [--routes N] [--rounds N]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { parseFlags } from '../../src/flags.ts';
import { loadAndCompile } from '../../src/runtime/load-manifests.ts';
import { workerSnapshot } from '../../src/runtime/worker-snapshot.ts';
import type { Snapshot } from '../../src/snapshot/types.ts';
import { scaleManifests } from '../manifests.ts';

const { values } = parseArgs({ options: { routes: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '9' } } });
const ROUTES = Number(values.routes);
const ROUNDS = Number(values.rounds);

/** The scale run's Services and slices, with `ROUTES` HTTPRoutes (one rule, one backend each) on one Gateway instead of Ingresses. */
function httpRouteManifests(): string {
  const base = scaleManifests(ROUTES, 3, 8080, (i) => `10.1.0.${i + 1}`).file.split('\n---\n').filter((d) => !d.includes('"kind":"Ingress"'));
  const docs = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'switchyard' }, spec: { controllerName: 'switchyard.dev/gateway-controller' } },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'web', namespace: 'bench' }, spec: { gatewayClassName: 'switchyard', listeners: [{ name: 'http', protocol: 'HTTP', port: 8081 }] } },
    ...Array.from({ length: ROUTES }, (_, r) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${r}`, namespace: 'bench' },
      spec: {
        parentRefs: [{ name: 'web' }],
        hostnames: [`r${r}.scale.local`],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/r${r}` } }], backendRefs: [{ name: `svc-${Math.floor(r / 10)}`, port: 80 }] }],
      },
    })),
  ];
  return [...base.map((d) => d.trim()), ...docs.map((d) => JSON.stringify(d))].join('\n---\n') + '\n';
}

async function compiled(file: string): Promise<Snapshot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'swy-bench-'));
  try {
    await writeFile(path.join(dir, 'all.yaml'), file);
    const parsed = parseFlags(['--manifests', dir]);
    if (parsed.kind !== 'config') throw new Error('flags');
    const loaded = await loadAndCompile(parsed.config);
    if (loaded.compiled === undefined) throw new Error(loaded.errors.map((e) => e.message).join('; '));
    return { ...loaded.compiled, version: 1, createdAt: new Date().toISOString() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const worker = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m === 0 ? 0 : 1))", { eval: true });

function postMs(message: unknown): Promise<number> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    worker.once('message', () => resolve(Number(process.hrtime.bigint() - start) / 1e6));
    worker.postMessage(message);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, snapshot: Snapshot): Promise<void> {
  const candidates = { full: snapshot, worker: workerSnapshot(snapshot) };
  const times: Record<string, number[]> = { full: [], worker: [] };
  const serializing: Record<string, number[]> = { full: [], worker: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, s] of Object.entries(candidates)) {
      times[k]!.push(await postMs({ t: 'snapshot', snapshot: s }));
      const start = process.hrtime.bigint();
      serialize({ t: 'snapshot', snapshot: s });
      serializing[k]!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  const size = (s: Snapshot): number => serialize({ t: 'snapshot', snapshot: s }).length;
  const part = (field: keyof Snapshot): number => serialize(snapshot[field] ?? null).length;
  console.log(`\n${name}: ${snapshot.diagnostics.length} diagnostics, ${snapshot.gatewayStatus?.routes.length ?? 0} route statuses, ${snapshot.l4.length} layer-4 ports`);
  console.log(`  parts left out: diagnostics ${kb(part('diagnostics'))}, gatewayStatus ${kb(part('gatewayStatus'))}, gatewayListeners ${kb(part('gatewayListeners'))}, l4 ${kb(part('l4'))}`);
  console.log('  | posted | serialized size | serialize, median ms | postMessage → worker ack, median ms |\n  | --- | ---: | ---: | ---: |');
  for (const [k, s] of Object.entries(candidates)) console.log(`  | ${k} | ${kb(size(s))} | ${median(serializing[k]!.slice(1)).toFixed(1)} | ${median(times[k]!.slice(1)).toFixed(1)} |`);
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

console.log(`snapshot posted to one worker thread, ${ROUTES.toLocaleString('en')} routes, ${ROUNDS} rounds (the first left out as warm-up), Node ${process.version}`);
await measure(`${ROUTES} Ingress routes (the scale run's manifests)`, await compiled(scaleManifests(ROUTES, 3, 8080, (i) => `10.1.0.${i + 1}`).file));
const withoutServices = scaleManifests(ROUTES, 3, 8080, (i) => `10.1.0.${i + 1}`).file.split('\n---\n').filter((d) => d.includes('"kind":"Ingress"'));
await measure(`${ROUTES} Ingress routes to missing Services`, await compiled(withoutServices.map((d) => d.trim()).join('\n---\n') + '\n'));
await measure(`${ROUTES} HTTPRoutes on one Gateway`, await compiled(httpRouteManifests()));
await worker.terminate();
