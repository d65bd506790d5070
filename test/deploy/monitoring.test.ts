/**
 * Scraping Switchyard in a cluster: deploy/monitoring/ (Prometheus Operator PodMonitor, kept out of the
 * default kustomization because it needs the operator's CRDs) and the plain prometheus.io/* annotations on
 * the pod templates. Both must point at the admin listener's /metrics on a port that answers on the pod IP.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/flags.ts';
import { REPO_ROOT } from '../helpers/switchyard.ts';

type Labels = Readonly<Record<string, string>>;
interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Labels; readonly annotations?: Labels };
}
interface Workload extends K8sObject {
  readonly spec: {
    readonly template: {
      readonly metadata: { readonly labels: Labels; readonly annotations?: Labels };
      readonly spec: { readonly containers: readonly { readonly args?: readonly string[]; readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[] }[] };
    };
  };
}
interface MetricsEndpoint {
  readonly port?: string;
  readonly targetPort?: unknown;
  readonly path?: string;
  readonly scheme?: string;
  readonly honorLabels?: boolean;
}
interface Monitor extends K8sObject {
  readonly spec: {
    readonly selector: { readonly matchLabels?: Labels; readonly matchExpressions?: unknown };
    readonly namespaceSelector?: { readonly matchNames?: readonly string[]; readonly any?: boolean };
    readonly podMetricsEndpoints?: readonly MetricsEndpoint[];
    readonly endpoints?: readonly MetricsEndpoint[];
  };
}
interface Kustomization extends K8sObject {
  readonly resources: readonly string[];
}

const DEPLOY = join(REPO_ROOT, 'deploy');
const MONITORING = join(DEPLOY, 'monitoring');

function load(dir: string): { readonly file: string; readonly obj: K8sObject }[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((file) =>
      loadAll(readFileSync(join(dir, file), 'utf8'), { filename: file })
        .filter((d) => d !== null && d !== undefined)
        .map((obj) => ({ file, obj: obj as K8sObject })),
    );
}

const deployDocs = load(DEPLOY);
const monitoringDocs = load(MONITORING);
const workloads = deployDocs.map((d) => d.obj).filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'DaemonSet');
const monitors = monitoringDocs.map((d) => d.obj).filter((o): o is Monitor => o.kind === 'PodMonitor' || o.kind === 'ServiceMonitor');

/** GET paths the admin server registers (the same reading as deploy-manifests.test.ts). */
const ADMIN_PATHS = new Set(
  [...readFileSync(join(REPO_ROOT, 'src/admin/server.ts'), 'utf8').matchAll(/\bapp\.get\s*(?:<[^>]*>)?\s*\(\s*(['"`])([^'"`]+)\1/g)].map((m) => m[2]!),
);

function selects(selector: Labels | undefined, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** The admin listener a workload's container starts, as the CLI parses its args, and its container port. */
function adminOf(w: Workload): { readonly host: string; readonly port: number; readonly portName: string | undefined } {
  const c = w.spec.template.spec.containers[0]!;
  const parsed = parseFlags(c.args ?? []);
  if (parsed.kind !== 'config') throw new Error(`${w.metadata?.name}: args do not parse`);
  const { host, port } = parsed.config.admin;
  return { host, port, portName: (c.ports ?? []).find((p) => p.containerPort === port)?.name };
}

const workloadCases = workloads.map((w) => [`${w.kind} ${w.metadata?.name}`, w] as const);

describe('deploy/: the admin listener is scrapeable from the pod IP', () => {
  it('finds the workloads (the edge, the node DaemonSet, the opt-in kernel proxy DaemonSet)', () => {
    expect(workloads.map((w) => w.kind).sort()).toEqual(['DaemonSet', 'DaemonSet', 'Deployment']);
  });

  it.each(workloadCases)('%s: --admin binds every address, on a named container port', (_n, w) => {
    const admin = adminOf(w);
    expect(['0.0.0.0', '::', ''], 'Prometheus scrapes the pod IP; the CLI default 127.0.0.1 would refuse it').toContain(admin.host);
    expect(admin.portName).toBe('admin');
  });

  it.each(workloadCases)('%s: prometheus.io/scrape, port and path annotations on the pod template', (_n, w) => {
    const annotations = w.spec.template.metadata.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/port']).toBe(String(adminOf(w).port));
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(ADMIN_PATHS, 'admin routes found in src/admin/server.ts').toContain('/metrics');
  });
});

describe('deploy/monitoring: Prometheus Operator', () => {
  it('holds a PodMonitor, and only monitoring.coreos.com/v1 monitors besides its kustomization', () => {
    expect(monitors.map((m) => m.kind)).toContain('PodMonitor');
    for (const { file, obj } of monitoringDocs) {
      if (obj.kind === 'Kustomization') expect(obj.apiVersion, file).toBe('kustomize.config.k8s.io/v1beta1');
      else expect([obj.apiVersion, obj.kind], file).toEqual(['monitoring.coreos.com/v1', expect.stringMatching(/^(Pod|Service)Monitor$/)]);
    }
  });

  it('is applied on its own (kubectl apply -k deploy/monitoring), not by deploy/kustomization.yaml', () => {
    const own = monitoringDocs.find((d) => d.obj.kind === 'Kustomization')?.obj as Kustomization | undefined;
    expect([...(own?.resources ?? [])].sort()).toEqual(monitoringDocs.filter((d) => d.obj.kind !== 'Kustomization').map((d) => d.file));
    const main = deployDocs.find((d) => d.obj.kind === 'Kustomization')!.obj as Kustomization;
    expect(main.resources.filter((r) => r.includes('monitoring') || r.includes('grafana'))).toEqual([]);
  });

  it.each(monitors.map((m) => [`${m.kind} ${m.metadata?.name}`, m] as const))('%s: selects both workloads\' pods, in their namespace, on the admin port\'s /metrics', (_n, m) => {
    expect(m.kind, 'a ServiceMonitor would need a Service in front of the admin port, which deploy/ does not have').toBe('PodMonitor');
    expect(m.metadata?.namespace).toBe('switchyard-system');
    expect(m.spec.selector.matchExpressions).toBeUndefined();
    for (const w of workloads) {
      expect(selects(m.spec.selector.matchLabels, w.spec.template.metadata.labels), `selects ${w.metadata?.name}'s pods`).toBe(true);
      expect(m.spec.namespaceSelector?.any === true || (m.spec.namespaceSelector?.matchNames ?? [m.metadata?.namespace]).includes(w.metadata?.namespace ?? ''), `namespace of ${w.metadata?.name}`).toBe(true);
    }
    const endpoints = m.spec.podMetricsEndpoints ?? [];
    expect(endpoints).toHaveLength(1);
    const [ep] = endpoints;
    for (const w of workloads) expect(ep!.port, `port name of ${w.metadata?.name}'s admin listener`).toBe(adminOf(w).portName);
    expect(ep!.targetPort).toBeUndefined();
    expect(ep!.path).toBe('/metrics');
    expect(ep!.scheme ?? 'http').toBe('http');
    // Switchyard's `namespace` label names the routed Service's namespace; without honorLabels the operator's
    // target label wins and Switchyard's becomes exported_namespace, which the dashboard does not read.
    expect(ep!.honorLabels).toBe(true);
  });
});
