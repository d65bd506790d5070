/**
 * The Gateway API canary example, for its own runner (run.ts) and for `npm start`'s demo: starts the pods
 * of the manifests beside this file, puts the Gateway's listener on a port that is free, and shows the
 * 90/10 split and the header that forces the canary with a few requests.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, loadAll } from 'js-yaml';
import { startExamplePods, type ExamplePods } from '../lib/manifest-pods.ts';
import { freeOr0, get } from '../lib/switchyard.ts';

export const GATEWAY_DIR = dirname(fileURLToPath(import.meta.url));
/** The HTTPRoute's host (gateway.yaml) and the canary Ingresses' (ingress.yaml). */
export const GATEWAY_HOST = 'gateway.localhost';
export const INGRESS_HOST = 'ingress.localhost';
/** The Gateway listener's port as gateway.yaml writes it. */
export const GATEWAY_PORT = 8081;

export interface GatewayExample {
  readonly pods: ExamplePods['pods'];
  /** The manifests to load: GATEWAY_DIR, or a temporary copy naming free ports (or `copyInto`). */
  readonly manifests: string;
  readonly copied: boolean;
  /** The Gateway listener's port (GATEWAY_PORT unless it was taken or free ports were asked for). */
  readonly port: number;
  stop(): void;
}

/**
 * Starts the example's pods (on free ports with `freePorts`) and picks the Gateway's port: 8081 when free,
 * else any free one, written into a copy of the manifests. `copyInto`: a directory the copy's files are
 * written to instead of a temporary one of their own (the demo's own copy: one directory to load and remove).
 */
export async function startGatewayExample(freePorts: boolean, copyInto?: string): Promise<GatewayExample> {
  const pods = await startExamplePods(GATEWAY_DIR, freePorts, { example: 'gateway example' });
  try {
    const port = freePorts ? await anyFreePort() : (await freeOr0(GATEWAY_PORT)) || (await anyFreePort());
    if (port === GATEWAY_PORT && !pods.copied) return { pods: pods.pods, manifests: GATEWAY_DIR, copied: false, port, stop: pods.stop };
    const copy = pods.copied ? pods.manifests : await mkdtemp(join(tmpdir(), 'switchyard-example-'));
    for (const file of (await readdir(GATEWAY_DIR)).filter((f) => f.endsWith('.yaml'))) {
      const from = pods.copied ? join(copy, file) : join(GATEWAY_DIR, file);
      const text = file === 'gateway.yaml' ? withGatewayPort(await readFile(from, 'utf8'), port) : await readFile(from, 'utf8');
      await writeFile(join(copyInto ?? copy, file), text);
    }
    if (copyInto !== undefined) await rm(copy, { recursive: true, force: true });
    const manifests = copyInto ?? copy;
    return {
      pods: pods.pods,
      manifests,
      copied: true,
      port,
      stop: () => {
        pods.stop();
        if (copyInto === undefined) void rm(manifests, { recursive: true, force: true });
      },
    };
  } catch (err) {
    pods.stop();
    throw err;
  }
}

/** gateway.yaml with its listener on `port`. */
function withGatewayPort(yaml: string, port: number): string {
  const docs = loadAll(yaml) as { kind?: string; spec?: { listeners?: { port: number }[] } }[];
  for (const d of docs) if (d?.kind === 'Gateway') for (const l of d.spec?.listeners ?? []) l.port = port;
  return docs.map((d) => `---\n${dump(d)}`).join('');
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Which Service answered (`v1`, `v2`), from the pod name in the body; else the status and body. */
function versionOf(answer: string): string {
  return /^200 hello from pod hello-(v\d)-/.exec(answer)?.[1] ?? answer;
}

/**
 * `count` requests for `host` at `address`, and `forced` more with `x-canary: always`: a line per kind,
 * e.g. `v1 ×18, v2 ×2`. Undefined when `address` does not answer for the host (not listening, or 404).
 */
export async function showSplit(address: string, host: string, count = 20): Promise<{ split: string; forced: string } | undefined> {
  const first = await get(address, host, '/').catch(() => undefined);
  if (first === undefined || first.startsWith('404 ')) return undefined;
  const tally = new Map<string, number>();
  for (let i = 1; i < count; i++) {
    const v = versionOf(await get(address, host, `/?n=${i}`));
    tally.set(v, (tally.get(v) ?? 0) + 1);
  }
  const v0 = versionOf(first);
  tally.set(v0, (tally.get(v0) ?? 0) + 1);
  const forced = new Set<string>();
  for (let i = 0; i < 3; i++) forced.add(versionOf(await get(address, host, '/', { 'x-canary': 'always' })));
  return { split: [...tally].sort().map(([v, n]) => `${v} ×${n}`).join(', '), forced: [...forced].join(', ') };
}

/** Waits (bounded) for `address` to answer for `host`: the Gateway's socket opens once its snapshot is in. */
export async function waitForSplit(address: string, host: string, timeoutMs = 3000): Promise<{ split: string; forced: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await showSplit(address, host);
    if (shown !== undefined || Date.now() >= deadline) return shown;
    await new Promise((r) => setTimeout(r, 200));
  }
}
