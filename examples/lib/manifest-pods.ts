/**
 * The pods an example's manifests name: one per endpoint address and port of its EndpointSlices and
 * v1 Endpoints, named by their targetRef, so a runner starts exactly what the manifests route to.
 * With free ports, a copy of the manifests is written whose endpoint ports are the ones really bound.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { startPod, closePods, type PodOptions, type RunningPod } from './pods.ts';

/** One pod of the manifests, on one of its ports. */
export interface ManifestPod {
  readonly name: string;
  /** The pod's namespace (its targetRef's, else its EndpointSlice's). */
  readonly namespace: string;
  readonly address: string;
  readonly port: number;
  /** False when the manifests mark it not ready: it runs but gets no traffic. */
  readonly ready: boolean;
}

interface RawPort {
  port: number;
}
interface RawRef {
  name?: string;
  namespace?: string;
}
interface RawDoc {
  kind?: string;
  metadata?: { namespace?: string };
  items?: RawDoc[];
  ports?: RawPort[];
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean | null } | null; targetRef?: RawRef | null }[];
  subsets?: { addresses?: RawAddress[] | null; notReadyAddresses?: RawAddress[] | null; ports?: RawPort[] | null }[];
}
interface RawAddress {
  ip: string;
  targetRef?: RawRef | null;
}
type Visit = (ports: RawPort[], endpoints: { address: string; ref: RawRef | null | undefined; ready: boolean }[], namespace: string) => void;

const MANIFEST_FILE = /\.(ya?ml|json)$/;

function visit(doc: RawDoc | null, fn: Visit): void {
  if (doc === null || typeof doc !== 'object') return;
  for (const item of doc.items ?? []) visit(item, fn);
  const namespace = doc.metadata?.namespace ?? 'default';
  if (doc.kind === 'EndpointSlice') {
    fn(doc.ports ?? [], (doc.endpoints ?? []).map((e) => ({ address: e.addresses[0]!, ref: e.targetRef, ready: e.conditions?.ready !== false })), namespace);
  }
  if (doc.kind === 'Endpoints') {
    for (const s of doc.subsets ?? []) {
      const ready = (s.addresses ?? []).map((a) => ({ address: a.ip, ref: a.targetRef, ready: true }));
      const notReady = (s.notReadyAddresses ?? []).map((a) => ({ address: a.ip, ref: a.targetRef, ready: false }));
      fn(s.ports ?? [], [...ready, ...notReady], namespace);
    }
  }
}

async function readDocs(dir: string): Promise<Map<string, RawDoc[]>> {
  const docs = new Map<string, RawDoc[]>();
  for (const file of (await readdir(dir)).filter((f) => MANIFEST_FILE.test(f)).sort()) {
    docs.set(file, loadAll(await readFile(join(dir, file), 'utf8')) as RawDoc[]);
  }
  return docs;
}

/** The pods the manifests in `dir` route to, one per address and port, in file order. */
export async function manifestPods(dir: string): Promise<ManifestPod[]> {
  const pods = new Map<string, ManifestPod>();
  for (const docs of (await readDocs(dir)).values()) {
    for (const doc of docs) {
      visit(doc, (ports, endpoints, namespace) => {
        for (const e of endpoints) {
          for (const { port } of ports) {
            const key = `${e.address}:${port}`;
            if (!pods.has(key)) pods.set(key, { name: e.ref?.name ?? e.address, namespace: e.ref?.namespace ?? namespace, address: e.address, port, ready: e.ready });
          }
        }
      });
    }
  }
  return [...pods.values()];
}

/** Starts every pod on the port its manifests name. */
export async function startManifestPods(pods: readonly ManifestPod[], options: PodOptions): Promise<RunningPod[]> {
  const started: RunningPod[] = [];
  try {
    for (const pod of pods) started.push(await startPod(pod, options));
  } catch (err) {
    closePods(started);
    throw err;
  }
  return started;
}

/**
 * Starts every pod on a free port instead: pods that share a port in the manifests (one EndpointSlice
 * port for all its addresses) share one free port. Returns the pods, in the order given, and the port
 * each old one became.
 */
export async function startManifestPodsOnFreePorts(pods: readonly ManifestPod[], options: PodOptions): Promise<{ pods: RunningPod[]; ports: Map<number, number> }> {
  const started: RunningPod[] = [];
  const byPod = new Map<ManifestPod, RunningPod>();
  const ports = new Map<number, number>();
  try {
    for (const port of new Set(pods.map((p) => p.port))) {
      const group = pods.filter((p) => p.port === port);
      // The first pod takes any free port; the others may find it taken on their address: try again.
      for (let attempt = 1; ; attempt++) {
        const first = await startPod({ ...group[0]!, port: 0 }, options);
        const mine = [first];
        try {
          for (const pod of group.slice(1)) mine.push(await startPod({ ...pod, port: first.port }, options));
        } catch (err) {
          closePods(mine);
          if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 10) continue;
          throw err;
        }
        started.push(...mine);
        mine.forEach((running, i) => byPod.set(group[i]!, running));
        ports.set(port, first.port);
        break;
      }
    }
  } catch (err) {
    closePods(started);
    throw err;
  }
  return { pods: pods.map((p) => byPod.get(p)!), ports };
}

/** A temporary copy of the manifests in `dir` whose endpoint ports are mapped by `ports`. */
export async function manifestsWithPorts(dir: string, ports: ReadonlyMap<number, number>): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'switchyard-example-'));
  for (const [file, docs] of await readDocs(dir)) {
    for (const doc of docs) visit(doc, (list) => list.forEach((p) => (p.port = ports.get(p.port) ?? p.port)));
    await writeFile(join(copy, file), docs.filter((d) => d !== null).map((d) => `---\n${dump(d)}`).join(''));
  }
  return copy;
}

/** An example's pods, running, and the manifests Switchyard is to load for them. */
export interface ExamplePods {
  /** The manifests' pods, in their order, each with the running server that plays it. */
  readonly pods: readonly (ManifestPod & { readonly running: RunningPod })[];
  /** `dir`, or with free ports the temporary copy that names them. */
  readonly manifests: string;
  /** True when `manifests` is a temporary copy (edits to `dir` do not reach it). */
  readonly copied: boolean;
  /** Closes the pods and removes the temporary copy. */
  stop(): void;
}

/**
 * Starts the pods the manifests in `dir` name, on their ports, or with `freePorts` on free ones with a
 * temporary copy of the manifests that names those (so tests never take an example's fixed ports).
 */
export async function startExamplePods(dir: string, freePorts: boolean, options: PodOptions): Promise<ExamplePods> {
  const wanted = await manifestPods(dir);
  let running: RunningPod[];
  let manifests = dir;
  if (freePorts) {
    const started = await startManifestPodsOnFreePorts(wanted, options);
    running = started.pods;
    try {
      manifests = await manifestsWithPorts(dir, started.ports);
    } catch (err) {
      closePods(running);
      throw err;
    }
  } else {
    running = await startManifestPods(wanted, options);
  }
  return {
    pods: wanted.map((p, i) => ({ ...p, running: running[i]! })),
    manifests,
    copied: manifests !== dir,
    stop: () => {
      closePods(running);
      if (manifests !== dir) rmSync(manifests, { recursive: true, force: true });
    },
  };
}
