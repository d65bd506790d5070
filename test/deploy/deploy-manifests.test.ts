/**
 * Static checks of the in-cluster deployment files in deploy/: known apiVersion/kind pairs, probes on real
 * admin paths, container args the CLI documents and parses, least-privilege RBAC that still covers every
 * watched resource, names that reference each other, selectors that match, a kustomization listing the
 * files, and a Dockerfile that builds a small non-root Node 24 image. No cluster, no docker: files only.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { USAGE, parseDuration, parseFlags, parseHostPort } from '../../src/flags.ts';
import { KUBE_RESOURCES } from '../../src/sources/kube-api.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = join(ROOT, 'deploy');
const NAMESPACE = 'switchyard-system';
const SERVICE_ACCOUNT = 'switchyard';

/** Every kind the deploy files may hold, with its one correct apiVersion and whether it is namespaced. */
const KINDS: Record<string, { readonly apiVersion: string; readonly namespaced: boolean }> = {
  Namespace: { apiVersion: 'v1', namespaced: false },
  ServiceAccount: { apiVersion: 'v1', namespaced: true },
  Service: { apiVersion: 'v1', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', namespaced: false },
  Deployment: { apiVersion: 'apps/v1', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', namespaced: true },
  PodDisruptionBudget: { apiVersion: 'policy/v1', namespaced: true },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', namespaced: false },
  GatewayClass: { apiVersion: 'gateway.networking.k8s.io/v1', namespaced: false },
  Kustomization: { apiVersion: 'kustomize.config.k8s.io/v1beta1', namespaced: false },
};

/**
 * What the kube source lists and watches, from the code's own table (src/sources/kube-api.ts): every kind it
 * can read, the optional Gateway API kinds and the Endpoints fallback included. The read-only role must
 * grant exactly these, get/list/watch; a kind added there without its grant here fails the test.
 */
const WATCHED: readonly { readonly group: string; readonly resource: string }[] = Object.values(KUBE_RESOURCES).map((r) => ({
  group: r.apiVersion.includes('/') ? r.apiVersion.split('/')[0]! : '',
  resource: r.plural,
}));
const READ_VERBS = ['get', 'list', 'watch'] as const;
const WRITE_VERBS = ['update', 'patch'] as const;

/**
 * The Gateway API kinds whose status the gateway status writer patches, read from its own table
 * (`PLURALS` in src/sources/kube-gateway-status.ts), so a kind it starts writing must be granted here too.
 */
const GATEWAY_STATUS_SOURCE = readFileSync(join(ROOT, 'src/sources/kube-gateway-status.ts'), 'utf8');
const GATEWAY_GROUP = /const GROUP = '([^']+)'/.exec(GATEWAY_STATUS_SOURCE)?.[1];
const GATEWAY_STATUS_PLURALS = [...(/const PLURALS\b[^=]*=\s*\{([^}]*)\}/.exec(GATEWAY_STATUS_SOURCE)?.[1] ?? '').matchAll(/:\s*'([a-z]+)'/g)].map((m) => m[1]!);

/** The only writes allowed: update/patch on status subresources, each set in its own opt-in role. */
const STATUS_ROLES: Readonly<Record<string, { readonly flag: string; readonly resources: readonly string[] }>> = {
  'clusterrole-ingress-status.yaml': { flag: '--ingress-status-address', resources: ['networking.k8s.io/ingresses/status'] },
  'clusterrole-gateway-status.yaml': { flag: '--gateway-status-address', resources: GATEWAY_STATUS_PLURALS.map((p) => `${GATEWAY_GROUP}/${p}/status`) },
};

/** Opt-in files: present in deploy/, deliberately absent from kustomization.yaml. */
const OPT_IN_FILES = [
  'clusterrole-ingress-status.yaml',
  'clusterrolebinding-ingress-status.yaml',
  'clusterrole-gateway-status.yaml',
  'clusterrolebinding-gateway-status.yaml',
  // Needs the Gateway API CRDs: `kubectl apply -k` would fail on a cluster without them.
  'gatewayclass.yaml',
  'daemonset-proxy.yaml',
];

/**
 * The kernel service proxy (--proxy-mode nftables) programs the node's own nftables: the one workload with
 * hostNetwork, uid 0 and a capability (NET_ADMIN only; Kubernetes gives added capabilities to root only).
 */
const KERNEL_PROXY_FILE = 'daemonset-proxy.yaml';

/** Container port name → the listener flag whose port it must equal. */
const PORT_FLAGS: Record<string, string> = {
  http: '--listen',
  https: '--listen-tls',
  admin: '--admin',
  service: '--service-listen',
  'dns-udp': '--dns',
  'dns-tcp': '--dns',
};

type Labels = Readonly<Record<string, string>>;
interface Metadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Labels;
}
interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata?: Metadata;
}
interface Probe {
  readonly httpGet?: { readonly path?: string; readonly port?: string | number; readonly scheme?: string };
}
interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly protocol?: string;
}
interface Container {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly ContainerPort[];
  readonly env?: readonly { readonly name: string; readonly value?: string }[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly resources?: { readonly requests?: Record<string, unknown>; readonly limits?: Record<string, unknown> };
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean;
    readonly runAsUser?: number;
    readonly allowPrivilegeEscalation?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly privileged?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[]; readonly add?: readonly string[] };
  };
}
interface PodSpec {
  readonly serviceAccountName?: string;
  readonly automountServiceAccountToken?: boolean;
  readonly terminationGracePeriodSeconds?: number;
  readonly hostNetwork?: boolean;
  readonly hostPID?: boolean;
  readonly hostIPC?: boolean;
  readonly securityContext?: { readonly runAsNonRoot?: boolean; readonly runAsUser?: number; readonly seccompProfile?: { readonly type?: string } };
  readonly topologySpreadConstraints?: readonly { readonly topologyKey: string; readonly labelSelector?: { readonly matchLabels?: Labels } }[];
  readonly affinity?: {
    readonly podAntiAffinity?: {
      readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly { readonly topologyKey: string; readonly labelSelector?: { readonly matchLabels?: Labels } }[];
      readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly {
        readonly podAffinityTerm: { readonly topologyKey: string; readonly labelSelector?: { readonly matchLabels?: Labels } };
      }[];
    };
  };
  readonly containers: readonly Container[];
}
interface Workload extends K8sObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Labels };
    readonly template: { readonly metadata: { readonly labels: Labels }; readonly spec: PodSpec };
  };
}
interface Rule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}
interface ClusterRole extends K8sObject {
  readonly rules: readonly Rule[];
}
interface Binding extends K8sObject {
  readonly roleRef: { readonly apiGroup: string; readonly kind: string; readonly name: string };
  readonly subjects: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}
interface Pdb extends K8sObject {
  readonly spec: { readonly minAvailable?: number | string; readonly maxUnavailable?: number | string; readonly selector: { readonly matchLabels: Labels } };
}
interface Svc extends K8sObject {
  readonly spec: {
    readonly type?: string;
    readonly externalTrafficPolicy?: string;
    readonly selector: Labels;
    readonly ports: readonly { readonly name?: string; readonly port: number; readonly targetPort?: string | number; readonly protocol?: string }[];
  };
}
interface Kustomization extends K8sObject {
  readonly resources: readonly string[];
  readonly images?: readonly { readonly name: string }[];
}
interface ServiceAccount extends K8sObject {
  readonly automountServiceAccountToken?: boolean;
}

interface Doc {
  readonly file: string;
  readonly index: number;
  readonly obj: K8sObject;
}

const yamlFiles = readdirSync(DEPLOY)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const docs: readonly Doc[] = yamlFiles.flatMap((file) =>
  loadAll(readFileSync(join(DEPLOY, file), 'utf8'), { filename: file })
    .filter((d) => d !== null && d !== undefined)
    .map((obj, index) => ({ file, index, obj: obj as K8sObject })),
);

function ofKind<T extends K8sObject>(kind: string): readonly (T & { readonly file: string })[] {
  return docs.filter((d) => d.obj.kind === kind).map((d) => ({ ...(d.obj as T), file: d.file }));
}

function theOne<T extends K8sObject>(kind: string, file?: string): T & { readonly file: string } {
  const found = ofKind<T>(kind).filter((o) => file === undefined || o.file === file);
  expect(found, `exactly one ${kind}${file ? ` in ${file}` : ''}`).toHaveLength(1);
  return found[0]!;
}

/** True when every key/value of the selector is among the labels (and the selector is not empty). */
function selects(selector: Labels | undefined, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** GET paths the admin server registers: `app.get('/path', …)` and `app.get<…>('/path', …)`. */
const ADMIN_PATHS = new Set(
  [...readFileSync(join(ROOT, 'src/admin/server.ts'), 'utf8').matchAll(/\bapp\.get\s*(?:<[^>]*>)?\s*\(\s*(['"`])([^'"`]+)\1/g)].map((m) => m[2]!),
);

/** Long flags the CLI documents in its usage text. */
const DOCUMENTED_FLAGS = new Set([...USAGE.matchAll(/^\s+(?:-\w,\s+)?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));

/** Flag names in an argument list (`--name` or `--name=value`; a bare value belongs to the flag before it). */
function flagNames(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
}

/** The value of a flag in `--name=value` or `--name value` form; undefined when absent. */
function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    if (a === name) return args[i + 1];
  }
  return undefined;
}

/** The default the usage text states for a flag, e.g. `[default: 5s]`. */
function usageDefault(name: string): string | undefined {
  const at = USAGE.indexOf(`  ${name} `);
  if (at < 0) return undefined;
  return /\[default: ([^\]]+)\]/.exec(USAGE.slice(at).split(/\n {2}-/)[0]!)?.[1];
}

const workloads = [...ofKind<Workload>('Deployment'), ...ofKind<Workload>('DaemonSet')];
const containers = workloads.flatMap((w) => w.spec.template.spec.containers.map((c) => ({ workload: w, container: c })));
const containerCases = containers.map((x) => [`${x.workload.kind} ${x.workload.metadata?.name}/${x.container.name}`, x] as const);

// The Dockerfile: continuation lines joined, comments dropped.
const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
const dockerLines = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const dockerArgs = new Map(
  dockerLines.flatMap((l) => {
    const m = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/.exec(l);
    return m ? [[m[1]!, m[2]!] as const] : [];
  }),
);
const stages = dockerLines.filter((l) => /^FROM\s/i.test(l)).map((l) => l.split(/\s+/)[1]!.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => dockerArgs.get(n) ?? `$${n}`));
const finalStage = dockerLines.slice(dockerLines.findLastIndex((l) => /^FROM\s/i.test(l)));
function execForm(instruction: string): readonly string[] | undefined {
  const line = finalStage.findLast((l) => l.startsWith(`${instruction} `));
  return line === undefined ? undefined : (JSON.parse(line.slice(instruction.length + 1)) as string[]);
}
const dockerCmd = execForm('CMD') ?? [];

describe('deploy/: every object', () => {
  it('finds the files', () => {
    for (const f of ['namespace.yaml', 'serviceaccount.yaml', 'clusterrole.yaml', 'clusterrolebinding.yaml', 'ingressclass.yaml', 'gatewayclass.yaml', 'deployment-edge.yaml', 'pdb-edge.yaml', 'service-edge.yaml', 'daemonset-node.yaml', 'kustomization.yaml', ...OPT_IN_FILES]) {
      expect(yamlFiles, f).toContain(f);
    }
  });

  it.each(yamlFiles)('%s holds one object (one concern per file)', (file) => {
    expect(docs.filter((d) => d.file === file)).toHaveLength(1);
  });

  it.each(docs.map((d) => [`${d.file}#${d.index} ${d.obj.kind}`, d] as const))('%s: a known apiVersion/kind pair, in the right namespace', (_n, { obj }) => {
    const known = KINDS[obj.kind];
    expect(known, `kind ${JSON.stringify(obj.kind)} is not in the table`).toBeDefined();
    expect(obj.apiVersion).toBe(known!.apiVersion);
    if (obj.kind === 'Kustomization') return;
    expect(obj.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(obj.metadata?.namespace).toBe(known!.namespaced ? NAMESPACE : undefined);
  });

  it('the Namespace is the one everything lives in', () => {
    expect(theOne('Namespace').metadata?.name).toBe(NAMESPACE);
  });

  it('the IngressClass names the Switchyard controller and is the class the edge serves', () => {
    const ic = theOne<K8sObject & { spec: { controller: string } }>('IngressClass');
    expect(ic.metadata?.name).toBe('switchyard');
    expect(ic.spec.controller).toBe('switchyard.dev/ingress-controller');
    const edge = theOne<Workload>('Deployment').spec.template.spec.containers[0]!;
    expect(flagValue(edge.args ?? [], '--ingress-class') ?? usageDefault('--ingress-class')).toBe(ic.metadata?.name);
  });

  it('the GatewayClass names the controller the edge serves (--gateway-controller-name)', () => {
    const gc = theOne<K8sObject & { spec: { controllerName: string } }>('GatewayClass');
    expect(gc.metadata?.name).toBe('switchyard');
    const edge = theOne<Workload>('Deployment').spec.template.spec.containers[0]!;
    const controller = flagValue(edge.args ?? [], '--gateway-controller-name') ?? usageDefault('--gateway-controller-name');
    expect(controller).toBe('switchyard.dev/gateway-controller');
    expect(gc.spec.controllerName).toBe(controller);
  });
});

describe('deploy/: RBAC', () => {
  const roles = ofKind<ClusterRole>('ClusterRole');
  const bindings = ofKind<Binding>('ClusterRoleBinding');
  const grants = (role: ClusterRole): string[] =>
    role.rules.flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))));

  it.each(roles.map((r) => [r.metadata?.name, r] as const))('%s: no wildcards, resource names or non-resource URLs', (_n, role) => {
    for (const r of role.rules) {
      expect([...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs]).not.toContain('*');
      expect(r.resourceNames, 'resourceNames would break list/watch').toBeUndefined();
      expect(r.nonResourceURLs).toBeUndefined();
      expect(r.apiGroups?.length && r.resources?.length && r.verbs.length, 'every rule names groups, resources and verbs').toBeTruthy();
    }
  });

  it('the watched resources are read from the kube source\'s table, Gateway API kinds and Namespaces included', () => {
    const names = WATCHED.map((w) => `${w.group}/${w.resource}`);
    for (const r of ['/services', 'discovery.k8s.io/endpointslices', '/endpoints', 'networking.k8s.io/ingresses', '/secrets', '/namespaces']) expect(names).toContain(r);
    for (const r of ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants']) expect(names).toContain(`gateway.networking.k8s.io/${r}`);
  });

  it('the read-only role grants get/list/watch on exactly the watched resources, and nothing else', () => {
    const role = theOne<ClusterRole>('ClusterRole', 'clusterrole.yaml');
    const expected = WATCHED.flatMap((w) => READ_VERBS.map((v) => `${w.group}/${w.resource}:${v}`));
    const granted = new Set(grants(role));
    for (const e of expected) expect(granted, `clusterrole.yaml lacks ${e}`).toContain(e);
    expect(granted).toEqual(new Set(expected));
  });

  it('the gateway status writer\'s kinds are read from its source', () => {
    expect(GATEWAY_GROUP).toBe('gateway.networking.k8s.io');
    expect([...GATEWAY_STATUS_PLURALS].sort()).toEqual(['gatewayclasses', 'gateways', 'grpcroutes', 'httproutes']);
  });

  it.each(Object.entries(STATUS_ROLES))('%s: update/patch on exactly the status subresources its writer patches, nothing else', (file, { resources }) => {
    const role = theOne<ClusterRole>('ClusterRole', file);
    expect(role.metadata?.name).toBe(`switchyard-${file.replace(/^clusterrole-|\.yaml$/g, '')}`);
    expect(new Set(grants(role))).toEqual(new Set(resources.flatMap((r) => WRITE_VERBS.map((v) => `${r}:${v}`))));
  });

  it('the only writes are in the opt-in status roles; every other role only reads', () => {
    for (const role of roles.filter((r) => STATUS_ROLES[r.file] === undefined)) {
      for (const g of grants(role)) expect(READ_VERBS.some((v) => g.endsWith(`:${v}`)), `${role.file}: ${g} is a write`).toBe(true);
    }
    expect(roles.map((r) => r.file).sort()).toEqual(['clusterrole.yaml', ...Object.keys(STATUS_ROLES)].sort());
    for (const file of Object.keys(STATUS_ROLES)) expect(OPT_IN_FILES).toContain(file);
  });

  it('the ServiceAccount exists and mounts its token (the in-cluster client needs it)', () => {
    const sa = theOne<ServiceAccount>('ServiceAccount');
    expect(sa.metadata?.name).toBe(SERVICE_ACCOUNT);
    expect(sa.automountServiceAccountToken).not.toBe(false);
  });

  it('each ClusterRole has one binding, to the Switchyard ServiceAccount', () => {
    expect(bindings).toHaveLength(roles.length);
    for (const role of roles) {
      const bound = bindings.filter((b) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === role.metadata?.name);
      expect(bound, `binding of ${role.metadata?.name}`).toHaveLength(1);
      const b = bound[0]!;
      expect(b.roleRef.apiGroup).toBe('rbac.authorization.k8s.io');
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
      // The opt-in role and its binding travel together.
      expect(OPT_IN_FILES.includes(b.file)).toBe(OPT_IN_FILES.includes(role.file));
    }
  });
});

describe('deploy/: workloads', () => {
  it('there is an edge Deployment, a node DaemonSet and the kernel proxy DaemonSet, one container each', () => {
    expect(ofKind('Deployment')).toHaveLength(1);
    expect(ofKind('DaemonSet').map((d) => d.file).sort()).toEqual(['daemonset-node.yaml', KERNEL_PROXY_FILE]);
    for (const w of workloads) expect(w.spec.template.spec.containers).toHaveLength(1);
  });

  it.each(workloads.map((w) => [`${w.kind} ${w.metadata?.name}`, w] as const))('%s: its selector selects its pods, and only its pods', (_n, w) => {
    expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels)).toBe(true);
    for (const other of workloads.filter((o) => o !== w)) {
      expect(selects(w.spec.selector.matchLabels, other.spec.template.metadata.labels), `also selects ${other.kind}'s pods`).toBe(false);
    }
  });

  it.each(workloads.map((w) => [`${w.kind} ${w.metadata?.name}`, w] as const))('%s: uses the ServiceAccount; non-root, no host namespaces', (_n, w) => {
    const pod = w.spec.template.spec;
    expect(pod.serviceAccountName).toBe(SERVICE_ACCOUNT);
    expect(pod.automountServiceAccountToken).not.toBe(false);
    if (w.file === KERNEL_PROXY_FILE) {
      expect(pod.hostNetwork).toBe(true);
      expect(pod.securityContext?.runAsUser).toBe(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect([pod.hostPID ?? false, pod.hostIPC ?? false]).toEqual([false, false]);
      return;
    }
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(pod.securityContext?.runAsUser ?? 1000).not.toBe(0);
    expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
    expect(pod.hostIPC ?? false).toBe(false);
  });

  it.each(containerCases)('%s: locked-down container security context, requests and limits', (_n, { workload, container: c }) => {
    const sc = c.securityContext;
    const kernel = workload.file === KERNEL_PROXY_FILE;
    if (!kernel) expect(sc?.runAsNonRoot ?? true).toBe(true);
    if (!kernel) expect(sc?.runAsUser ?? 1000).not.toBe(0);
    expect(sc?.allowPrivilegeEscalation).toBe(false);
    expect(sc?.readOnlyRootFilesystem).toBe(true);
    expect(sc?.privileged ?? false).toBe(false);
    expect(sc?.capabilities?.drop).toContain('ALL');
    expect(sc?.capabilities?.add ?? []).toEqual(kernel ? ['NET_ADMIN'] : []);
    for (const r of ['cpu', 'memory']) {
      expect(c.resources?.requests?.[r], `requests.${r}`).toBeDefined();
      expect(c.resources?.limits?.[r], `limits.${r}`).toBeDefined();
    }
  });

  it.each(containerCases)('%s: runs the image entrypoint with --flag[=value] args the usage documents', (_n, { container: c }) => {
    expect(c.command, 'the image ENTRYPOINT runs the CLI').toBeUndefined();
    const args = c.args ?? [];
    expect(args.length).toBeGreaterThan(0);
    for (const a of args) expect(a).toMatch(/^--[a-z][a-z0-9-]*(=.+)?$/);
    expect(flagNames(args)).toContain('--in-cluster');
    for (const { flag } of Object.values(STATUS_ROLES)) expect(flagNames(args), 'status write-back is opt-in').not.toContain(flag);
  });

  it.each(containerCases)('%s: the image can be replaced through kustomize', (_n, { container: c }) => {
    const names = (theOne<Kustomization>('Kustomization').images ?? []).map((i) => i.name);
    expect(names).toContain(c.image.replace(/[:@].*$/, ''));
  });

  it.each(containerCases)('%s: probes hit real admin paths on the admin listener port', (_n, { container: c }) => {
    expect(ADMIN_PATHS, 'admin routes found in src/admin/server.ts').toContain('/healthz');
    const args = c.args ?? [];
    const admin = parseHostPort('--admin', flagValue(args, '--admin') ?? usageDefault('--admin')!, []);
    expect(['0.0.0.0', '::', ''], 'the kubelet probes the pod IP, so admin must not be loopback-only').toContain(admin.host);
    const adminPort = (c.ports ?? []).find((p) => p.name === 'admin');
    expect(adminPort?.containerPort).toBe(admin.port);
    const ready = c.readinessProbe?.httpGet;
    const live = c.livenessProbe?.httpGet;
    for (const probe of [ready, live]) {
      expect(probe, 'an httpGet probe').toBeDefined();
      expect(ADMIN_PATHS).toContain(probe!.path);
      expect(probe!.port).toBe('admin');
      expect(probe!.scheme ?? 'HTTP').toBe('HTTP');
    }
    expect(ready!.path).toMatch(/ready/);
    expect(live!.path).not.toBe(ready!.path);
  });

  it.each(containerCases)('%s: every container port is a listener in the args, on the same port, not loopback', (_n, { container: c }) => {
    const args = c.args ?? [];
    expect((c.ports ?? []).length).toBeGreaterThan(0);
    for (const p of c.ports ?? []) {
      const flag = PORT_FLAGS[p.name ?? ''];
      expect(flag, `port name ${JSON.stringify(p.name)} maps to no listener flag`).toBeDefined();
      const value = flagValue(args, flag!) ?? usageDefault(flag!);
      expect(value, `${flag} for port ${p.name}`).toMatch(/:\d+$/);
      const hp = parseHostPort(flag!, value!, []);
      expect(p.containerPort, p.name).toBe(hp.port);
      expect(['0.0.0.0', '::', ''], `${flag} is exposed as a port, so it must not be loopback-only`).toContain(hp.host);
      expect(p.protocol ?? 'TCP').toBe(p.name === 'dns-udp' ? 'UDP' : 'TCP');
    }
  });

  it.each(containerCases)('%s: terminationGracePeriodSeconds > --shutdown-delay + --drain-timeout', (_n, { workload, container: c }) => {
    const args = c.args ?? [];
    const errors: string[] = [];
    const delay = parseDuration('--shutdown-delay', flagValue(args, '--shutdown-delay') ?? '', errors, true);
    const drain = parseDuration('--drain-timeout', flagValue(args, '--drain-timeout') ?? '', errors, true);
    expect(errors, 'both set explicitly, as durations').toEqual([]);
    const grace = workload.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(grace * 1000).toBeGreaterThan(delay + drain);
  });

  it('the edge runs ≥ 2 replicas spread across nodes', () => {
    const edge = theOne<Workload>('Deployment');
    const pod = edge.spec.template.spec;
    expect(edge.spec.replicas).toBeGreaterThanOrEqual(2);
    const terms = [
      ...(pod.topologySpreadConstraints ?? []),
      ...(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm),
    ];
    expect(terms.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selects(t.labelSelector?.matchLabels, edge.spec.template.metadata.labels))).toBe(true);
  });

  it.each(Object.entries(STATUS_ROLES))('the edge documents the flag of %s as an opt-in, commented out, and it parses', (_f, { flag }) => {
    const m = new RegExp(`^\\s*#\\s*- (${flag}[= ]\\S+)`, 'm').exec(readFileSync(join(DEPLOY, 'deployment-edge.yaml'), 'utf8'));
    expect(m, flag).not.toBeNull();
    const args = [...(theOne<Workload>('Deployment').spec.template.spec.containers[0]!.args ?? []), m![1]!];
    const r = parseFlags(args);
    expect(r.kind === 'error' ? r.errors : []).toEqual([]);
  });

  it('the node DaemonSet serves the service listener and DNS on hostPorts', () => {
    const node = theOne<Workload>('DaemonSet', 'daemonset-node.yaml');
    const ports = node.spec.template.spec.containers[0]!.ports ?? [];
    for (const name of ['service', 'dns-udp', 'dns-tcp']) {
      const p = ports.find((x) => x.name === name);
      expect(p?.hostPort, name).toBe(p?.containerPort);
    }
  });
});

describe('deploy/: PodDisruptionBudget and Service', () => {
  const edge = theOne<Workload>('Deployment');
  const edgeLabels = edge.spec.template.metadata.labels;

  it('the PDB keeps one edge pod and selects the edge pods only', () => {
    const pdb = theOne<Pdb>('PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels, edgeLabels)).toBe(true);
    expect(selects(pdb.spec.selector.matchLabels, theOne<Workload>('DaemonSet', 'daemonset-node.yaml').spec.template.metadata.labels)).toBe(false);
    expect(edge.spec.replicas ?? 1).toBeGreaterThan(Number(pdb.spec.minAvailable));
  });

  it('the Service is a Local LoadBalancer: port 80 → the container port of --listen, 443 → that of --listen-tls', () => {
    const svc = theOne<Svc>('Service');
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.spec.externalTrafficPolicy).toBe('Local');
    expect(selects(svc.spec.selector, edgeLabels)).toBe(true);
    expect(selects(svc.spec.selector, theOne<Workload>('DaemonSet', 'daemonset-node.yaml').spec.template.metadata.labels)).toBe(false);
    expect(svc.spec.ports.map((p) => p.port)).toEqual([80, 443]);
    for (const [port, flag] of [[svc.spec.ports[0]!, '--listen'], [svc.spec.ports[1]!, '--listen-tls']] as const) {
      expect(typeof port.targetPort, 'a named target port').toBe('string');
      const target = edge.spec.template.spec.containers[0]!.ports?.find((p) => p.name === port.targetPort);
      expect(target, `container port ${String(port.targetPort)}`).toBeDefined();
      expect(PORT_FLAGS[target!.name!]).toBe(flag);
      expect(target!.protocol ?? 'TCP').toBe(port.protocol ?? 'TCP');
    }
  });
});

describe('deploy/: kustomization.yaml', () => {
  it('lists exactly the files present, minus the opt-in status RBAC (mentioned in a comment)', () => {
    const k = theOne<Kustomization>('Kustomization');
    const expected = yamlFiles.filter((f) => f !== 'kustomization.yaml' && !OPT_IN_FILES.includes(f));
    expect([...k.resources].sort()).toEqual(expected);
    const text = readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8');
    for (const f of OPT_IN_FILES) expect(text).toMatch(new RegExp(`^\\s*#.*${f.replace('.', '\\.')}`, 'm'));
  });
});

describe('deploy/Dockerfile and .dockerignore', () => {
  it('has ≥ 2 stages, all on Node 24', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s).toMatch(/^node:24([.-][a-z0-9.-]*)?(@sha256:[0-9a-f]{64})?$/);
  });

  it('installs production dependencies only, from the lockfile', () => {
    expect(dockerLines.some((l) => /^RUN\s.*\bnpm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(dockerLines.some((l) => /\bnpm (install|i)\b/.test(l))).toBe(false);
  });

  it('copies only package.json, package-lock.json, the tsconfigs, bin/, src/ (to the build stage), the built node_modules and dist/', () => {
    const copies = dockerLines.filter((l) => /^(COPY|ADD)\s/.test(l));
    expect(copies.length).toBeGreaterThan(0);
    const allowed = /^(package\.json|package-lock\.json|tsconfig(\.build)?\.json|bin\/?|src\/?|\/app\/node_modules|\/app\/dist)$/;
    for (const line of copies) {
      const parts = line.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(source, line).toMatch(allowed);
      expect(line).not.toMatch(/\b(test|bench|examples)\b/);
    }
  });

  it('runs the JavaScript build: dist/ compiled and marked complete in a build stage, no sources in the final stage', () => {
    expect(dockerLines.some((l) => /^RUN\s.*\btsc -p tsconfig\.build\.json\b.*&& touch dist\/\.built$/.test(l))).toBe(true);
    expect(finalStage.some((l) => /^COPY\s+--from=\S+\s+\/app\/dist\s/.test(l))).toBe(true);
    expect(finalStage.some((l) => /^COPY\s.*\bsrc\//.test(l))).toBe(false);
  });

  it('runs as a non-root user, the CLI as entrypoint, in-cluster by default, ports exposed', () => {
    const users = finalStage.filter((l) => l.startsWith('USER '));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.slice(5).split(':')[0]).not.toMatch(/^(root|0)$/);
    // The Node flags the CLI's #! line gives when it runs as a program.
    const shebang = /^#!\S*env\s+-S\s+node\b(.*)$/.exec(readFileSync(join(ROOT, 'bin/switchyard.js'), 'utf8').split('\n', 1)[0]!);
    expect(shebang, 'bin/switchyard.js starts with #!/usr/bin/env -S node …').not.toBeNull();
    expect(execForm('ENTRYPOINT')).toEqual(['node', ...shebang![1]!.trim().split(/\s+/).filter(Boolean), 'bin/switchyard.js']);
    expect(dockerCmd).toContain('--in-cluster');
    expect(flagValue(dockerCmd, '--listen')).toBe('0.0.0.0:8080');
    expect(flagValue(dockerCmd, '--admin')).toBe('0.0.0.0:9901');
    const exposed = finalStage.filter((l) => l.startsWith('EXPOSE ')).flatMap((l) => l.split(/\s+/).slice(1).map((p) => Number(p.split('/')[0])));
    for (const c of containers) for (const p of c.container.ports ?? []) expect(exposed).toContain(p.containerPort);
  });

  it('sets the malloc environment: trim threshold, 2 arenas (worker threads); single-process containers 1 arena', () => {
    const env = new Map(finalStage.flatMap((l) => [...l.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const)));
    expect(env.get('MALLOC_TRIM_THRESHOLD_')).toBe('131072');
    expect(env.get('MALLOC_ARENA_MAX')).toBe('2');
    for (const { workload, container } of containers) {
      const workers = flagValue(container.args ?? [], '--workers');
      const arenas = container.env?.find((e) => e.name === 'MALLOC_ARENA_MAX')?.value;
      expect(arenas, `${workload.metadata?.name}: --workers=${workers}`).toBe(workers === '1' ? '1' : undefined);
    }
  });

  it('bakes in no secrets', () => {
    for (const l of dockerLines.filter((x) => /^(ENV|ARG)\s/.test(x))) expect(l).not.toMatch(/TOKEN|PASSW|SECRET|_KEY|CREDENTIAL|KUBECONFIG/i);
    expect(dockerfile).not.toMatch(/\.kube|kubeconfig\s*$|\.npmrc|BEGIN [A-Z ]*PRIVATE KEY/im);
  });

  it('.dockerignore keeps the build context to what the image needs', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'test', 'bench', 'examples', '.git', '.env']) expect(ignored, entry).toContain(entry);
    for (const needed of ['package.json', 'package-lock.json', 'bin', 'src']) expect(existsSync(join(ROOT, needed))).toBe(true);
  });
});

// Last: every argument list against the CLI itself: the flags its usage documents, then its own parser.
// A flag the CLI does not know yet fails both, and the message names it.
describe('deploy/: the args are the CLI\'s own flags (src/flags.ts)', () => {
  const cases = [...containerCases.map(([n, x]) => [n, x.container.args ?? []] as const), ['Dockerfile CMD', dockerCmd] as const];

  it.each(cases)('%s: every flag is documented in USAGE', (_n, args) => {
    expect(DOCUMENTED_FLAGS, 'flags found in USAGE').toContain('--admin');
    const undocumented = flagNames(args).filter((f) => !DOCUMENTED_FLAGS.has(f));
    expect(undocumented, `flags missing from USAGE in src/flags.ts: ${undocumented.join(', ')}`).toEqual([]);
  });

  it.each(cases)('%s: parseFlags accepts them', (_n, args) => {
    const r = parseFlags(args);
    expect(r.kind === 'error' ? r.errors : [], `parseFlags(${JSON.stringify(args)})`).toEqual([]);
    expect(r.kind).toBe('config');
  });
});
