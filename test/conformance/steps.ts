/**
 * Step definitions for the ingress-controller-conformance features, written from the step texts and
 * what the suite's steps check, against Switchyard on the fake cluster:
 * the scenario's objects go to the fake API server, Switchyard (watching it through --kubeconfig)
 * routes them and writes the Ingress status, and requests go to the address that status shows.
 *
 * Each step matches one pattern exactly; a step no pattern matches fails the scenario before it starts.
 */
import { checkServerIdentity } from 'node:tls';
import { load } from 'js-yaml';
import type { KubeObject } from '../integration/kube/fake-apiserver.ts';
import { getJson } from '../helpers/http.ts';
import type { RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import type { FakeCluster } from './fake-cluster.ts';
import type { PickleStep } from './gherkin.ts';
import { captureRoundTrip, type CapturedRequest, type CapturedResponse, type Listeners } from './round-trip.ts';
import { selfSignedCertificate, tlsSecret } from './tls-secret.ts';

/** What every scenario of a feature shares: the cluster and the Switchyard watching it. */
export interface FeatureEnv {
  readonly cluster: FakeCluster;
  readonly switchyard: RunningSwitchyard;
  readonly listeners: Listeners;
  /** Given to Ingresses that name no class, as the suite's --ingress-class does. */
  readonly ingressClass: string;
  /** Longest wait for an Ingress status (the suite's --wait-time-for-ingress-status). */
  readonly statusTimeoutMs: number;
  /** How long a status must stay absent for "should not contain" to hold. */
  readonly negativeWaitMs: number;
}

/** One scenario's state (the suite's state.Scenario). */
export class World {
  namespace: string | undefined;
  ingressName: string | undefined;
  ipOrFqdn: string | undefined;
  /** Certificates of the scenario's self-signed Secrets: the TLS client trusts these. */
  readonly trusted: string[] = [];
  request: CapturedRequest | undefined;
  response: CapturedResponse | undefined;
  /** Status code → pods that answered with it, over "I send N requests". */
  readonly podsByStatus = new Map<number, Set<string>>();
  readonly env: FeatureEnv;
  constructor(env: FeatureEnv) {
    this.env = env;
  }
}

export interface StepDefinition {
  readonly pattern: RegExp;
  run(world: World, args: readonly string[], step: PickleStep): Promise<void> | void;
}

/** The definition matching `text` and its arguments; throws when none or several match. */
export function matchStep(text: string): { definition: StepDefinition; args: string[] } {
  const found = STEPS.flatMap((definition) => {
    const m = definition.pattern.exec(text);
    return m ? [{ definition, args: m.slice(1) }] : [];
  });
  if (found.length === 0) throw new Error(`undefined step: ${JSON.stringify(text)}`);
  if (found.length > 1) throw new Error(`ambiguous step ${JSON.stringify(text)}: ${found.map((f) => f.definition.pattern).join(' and ')}`);
  return found[0]!;
}

const need = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`${what} is not known yet: an earlier step must set it`);
  return value;
};

const docString = (step: PickleStep): string => need(step.docString?.content, `the doc string of "${step.text}"`);

function yamlObject(text: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (err) {
    throw new Error(`${what} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${what} is not a YAML mapping`);
  return parsed as Record<string, unknown>;
}

interface ServiceBackend {
  readonly name: string;
  readonly port: { readonly name?: string; readonly number?: number };
}

/** Every Service backend the Ingress names: the default backend, then each rule path's. */
function serviceBackends(spec: Record<string, unknown>): ServiceBackend[] {
  const out: ServiceBackend[] = [];
  const add = (backend: unknown): void => {
    const service = (backend as { service?: { name?: unknown; port?: { name?: unknown; number?: unknown } } } | undefined)?.service;
    if (!service || typeof service.name !== 'string') return;
    out.push({
      name: service.name,
      port: { ...(typeof service.port?.name === 'string' ? { name: service.port.name } : {}), ...(typeof service.port?.number === 'number' ? { number: service.port.number } : {}) },
    });
  };
  add(spec['defaultBackend']);
  for (const rule of (spec['rules'] as { http?: { paths?: { backend?: unknown }[] } }[] | undefined) ?? []) {
    for (const path of rule?.http?.paths ?? []) add(path.backend);
  }
  return out;
}

/** The suite's "create the Deployments, then the Ingress", in the scenario's namespace. */
async function createIngress(world: World, ingress: KubeObject): Promise<void> {
  const namespace = need(world.namespace, 'the namespace');
  const spec = (ingress['spec'] ??= {}) as Record<string, unknown>;
  if (spec['ingressClassName'] === undefined || spec['ingressClassName'] === null) spec['ingressClassName'] = world.env.ingressClass;
  for (const backend of serviceBackends(spec)) {
    await world.env.cluster.ensureEchoDeployment(namespace, ingress.metadata.name, backend.name, backend.port.name ?? '', backend.port.number ?? 0);
  }
  world.env.cluster.apply('ingresses', namespace, ingress);
  world.ingressName = ingress.metadata.name;
}

function ingressFromManifest(text: string): KubeObject {
  const obj = yamlObject(text, 'the Ingress manifest');
  if (obj['kind'] !== undefined && obj['kind'] !== 'Ingress') throw new Error(`the manifest is a ${String(obj['kind'])}, not an Ingress`);
  const metadata = obj['metadata'] as { name?: unknown } | undefined;
  if (typeof metadata?.name !== 'string' || metadata.name === '') throw new Error('the Ingress manifest has no metadata.name');
  return { ...obj, metadata: { ...(metadata as Record<string, unknown>), name: metadata.name } };
}

async function sendRequest(world: World, method: string, scheme: string, hostname: string, path: string): Promise<{ request: CapturedRequest; response: CapturedResponse }> {
  return captureRoundTrip({
    method,
    scheme,
    hostname,
    path,
    location: need(world.ipOrFqdn, 'the address in the Ingress status'),
    listeners: world.env.listeners,
    trusted: world.trusted,
  });
}

/** Go's url.Parse as far as the steps use it: scheme, host (with port) and path. */
function parseUrl(raw: string): { scheme: string; host: string; path: string } {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/i.exec(raw);
  if (!m) throw new Error(`not an absolute URL: ${JSON.stringify(raw)}`);
  return { scheme: m[1]!.toLowerCase(), host: m[2]!, path: m[3]! };
}

const captured = (world: World): { request: CapturedRequest; response: CapturedResponse } => ({
  request: need(world.request, 'the captured request'),
  response: need(world.response, 'the captured response'),
});

function headerTable(step: PickleStep, headers: Readonly<Record<string, readonly string[]>>, what: string): void {
  const rows = step.dataTable;
  if (!rows || rows.length < 1) throw new Error('expected a table with at least one row');
  rows.forEach((row, i) => {
    if (row.cells.length !== 2) throw new Error(`expected a table with 2 cells, it contained ${row.cells.length}`);
    const [key, value] = row.cells as [string, string];
    if (i === 0) {
      if (key !== 'key' && value !== 'value') throw new Error(`expected a header row of 'key' and 'value' but got '${key}' and '${value}'`);
      return;
    }
    const values = headers[key];
    if (values === undefined) throw new Error(`expected ${what} headers to contain ${key} but it only contained ${JSON.stringify(headers)}`);
    if (value !== '*' && !values.includes(value)) throw new Error(`expected ${what} header ${key} to contain a ${JSON.stringify(value)} value but it contained ${JSON.stringify(values)}`);
  });
}

const expectEqual = (actual: unknown, expected: unknown, what: string, response?: CapturedResponse): void => {
  if (actual === expected) return;
  const detail = response ? ` (${response.chain.join(', ')}; body: ${JSON.stringify(response.body.slice(0, 300))})` : '';
  throw new Error(`expected ${what} to be ${JSON.stringify(expected)} but it was ${JSON.stringify(actual)}${detail}`);
};

/** The DNS names of a certificate's subjectAltName, in order. */
function dnsNames(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '')
    .split(/,\s*/)
    .filter((e) => e.startsWith('DNS:'))
    .map((e) => e.slice(4).replace(/^"|"$/g, ''));
}

async function switchyardSawIngress(world: World, namespace: string, name: string): Promise<boolean> {
  const config = await getJson<{ diagnostics?: { kind: string; namespace: string; name: string }[] }>(world.env.switchyard.admin, '/api/v1/config');
  const routes = await getJson<unknown>(world.env.switchyard.admin, '/api/v1/routes');
  const named = (config.body.diagnostics ?? []).some((d) => d.kind === 'Ingress' && d.namespace === namespace && d.name === name);
  return named || JSON.stringify(routes.body).includes(`"${namespace}/${name}"`);
}

export const STEPS: readonly StepDefinition[] = [
  {
    pattern: /^a new random namespace$/,
    run(world) {
      world.namespace = world.env.cluster.newNamespace();
    },
  },
  {
    pattern: /^an Ingress resource in a new random namespace$/,
    async run(world, _args, step) {
      world.namespace = world.env.cluster.newNamespace();
      await createIngress(world, ingressFromManifest(docString(step)));
    },
  },
  {
    pattern: /^an Ingress resource$/,
    async run(world, _args, step) {
      await createIngress(world, ingressFromManifest(docString(step)));
    },
  },
  {
    pattern: /^an Ingress resource named "([^"]*)" with this spec:$/,
    async run(world, [name], step) {
      const spec = yamlObject(docString(step), 'the Ingress spec');
      await createIngress(world, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: name! }, spec });
    },
  },
  {
    pattern: /^a self-signed TLS secret named "([^"]*)" for the "([^"]*)" hostname$/,
    async run(world, [name, host]) {
      const namespace = need(world.namespace, 'the namespace');
      const cert = await selfSignedCertificate([host!]);
      world.env.cluster.apply('secrets', namespace, tlsSecret(namespace, name!, cert));
      world.trusted.push(cert.certPem);
    },
  },
  {
    pattern: /^The Ingress status shows the IP address or FQDN where it is exposed$/,
    async run(world) {
      const namespace = need(world.namespace, 'the namespace');
      const name = need(world.ingressName, 'the Ingress');
      const addresses = await waitFor(() => {
        const list = world.env.cluster.ingressAddresses(namespace, name);
        return list.length > 0 ? list : undefined;
      }, { timeoutMs: world.env.statusTimeoutMs, intervalMs: 50, what: `an address in the status of Ingress ${namespace}/${name}` });
      world.ipOrFqdn = addresses[0];
    },
  },
  {
    pattern: /^The Ingress status should not contain the IP address or FQDN$/,
    async run(world) {
      const namespace = need(world.namespace, 'the namespace');
      const name = need(world.ingressName, 'the Ingress');
      // An absent status proves something only once Switchyard has seen the Ingress.
      await waitFor(() => switchyardSawIngress(world, namespace, name), { timeoutMs: world.env.statusTimeoutMs, intervalMs: 50, what: `Switchyard to report Ingress ${namespace}/${name} (admin /api/v1/config or /api/v1/routes)` });
      const deadline = Date.now() + world.env.negativeWaitMs;
      for (;;) {
        const list = world.env.cluster.ingressAddresses(namespace, name);
        if (list.length > 0) throw new Error(`the status of Ingress ${namespace}/${name} shows ${JSON.stringify(list)}, but it should not`);
        if (Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  },
  {
    pattern: /^The backend deployment "([^"]*)" for the ingress resource is scaled to (\d+)$/,
    async run(world, [service, replicasText]) {
      const namespace = need(world.namespace, 'the namespace');
      const ingress = need(world.ingressName, 'the Ingress');
      const replicas = Number(replicasText);
      const deployment = world.env.cluster.deployment(namespace, `${ingress}-${service}`);
      if (!deployment) throw new Error(`no Deployment ${ingress}-${service} in ${namespace}`);
      await world.env.cluster.scale(deployment, replicas);
      // The suite waits for the endpoints, then 60 s for the controller; here: until Switchyard has them all.
      await waitFor(
        async () => {
          const { body } = await getJson<{ services: { namespace: string; name: string; ports: { endpoints: { ready: boolean }[] }[] }[] }>(world.env.switchyard.admin, '/api/v1/services');
          const svc = body.services.find((s) => s.namespace === namespace && s.name === service);
          return svc !== undefined && svc.ports.every((p) => p.endpoints.filter((e) => e.ready).length === replicas);
        },
        { timeoutMs: 60_000, intervalMs: 50, what: `Switchyard to list ${replicas} ready endpoints of ${namespace}/${service}` },
      );
    },
  },
  {
    pattern: /^I send a "([^"]*)" request to http:\/\/"([^"]*)"\/"([^"]*)"$/,
    async run(world, [method, host, path]) {
      ({ request: world.request, response: world.response } = await sendRequest(world, method!, 'http', host!, path!));
    },
  },
  {
    pattern: /^I send a "([^"]*)" request to "([^"]*)"$/,
    async run(world, [method, rawUrl]) {
      const u = parseUrl(rawUrl!);
      ({ request: world.request, response: world.response } = await sendRequest(world, method!, u.scheme, u.host, u.path));
    },
  },
  {
    pattern: /^I send (\d+) requests to "([^"]*)"$/,
    async run(world, [count, rawUrl]) {
      const u = parseUrl(rawUrl!);
      for (let k = 0; k < Number(count); k++) {
        const { request, response } = await sendRequest(world, 'GET', u.scheme, u.host, u.path);
        let pods = world.podsByStatus.get(response.statusCode);
        if (!pods) world.podsByStatus.set(response.statusCode, (pods = new Set()));
        pods.add(request.pod);
      }
    },
  },
  {
    pattern: /^all the responses status-code must be (\d+) and the response body should contain the IP address of (\d+) different Kubernetes pods$/,
    run(world, [status, count]) {
      const code = Number(status);
      const other = [...world.podsByStatus.keys()].filter((c) => c !== code);
      if (other.length > 0) throw new Error(`expected every response to be ${code} but some were ${other.join(', ')}`);
      const pods = world.podsByStatus.get(code);
      if (!pods) throw new Error(`no responses for status code ${code} returned`);
      if (pods.size !== Number(count)) throw new Error(`expected ${count} different pods for status code ${code} but ${pods.size} answered: ${[...pods].join(', ')}`);
    },
  },
  {
    pattern: /^the secure connection must verify the "([^"]*)" hostname$/,
    run(world, [hostname]) {
      const tls = world.response?.tls;
      if (!tls) throw new Error('hostname verification requires executing a request to an HTTPS URL first');
      const names = dnsNames(tls.certificate.subjectAltName);
      const first = names[0];
      const summary = `certificate subject ${JSON.stringify(tls.certificate.subject)}, SANs ${JSON.stringify(tls.certificate.subjectAltName ?? '')}, issuer ${JSON.stringify(tls.certificate.issuer)}`;
      if (first !== hostname) throw new Error(`expected the first DNS name of the served certificate to be ${hostname} but it was ${String(first)} (${summary})`);
      const identity = checkServerIdentity(hostname!, tls.certificate.toLegacyObject());
      if (identity) throw new Error(`the served certificate is not valid for ${hostname}: ${identity.message} (${summary})`);
      if (!tls.authorized) throw new Error(`the served certificate does not verify against the scenario's self-signed Secret: ${tls.authorizationError} (${summary})`);
    },
  },
  {
    pattern: /^the response status-code must be (\d+)$/,
    run(world, [status]) {
      const { response } = captured(world);
      expectEqual(response.statusCode, Number(status), 'the status code', response);
    },
  },
  {
    pattern: /^the response must be served by the "([^"]*)" service$/,
    run(world, [service]) {
      const { request, response } = captured(world);
      expectEqual(request.service, service, 'the service that served the request', response);
    },
  },
  {
    pattern: /^the response proto must be "([^"]*)"$/,
    run(world, [proto]) {
      expectEqual(captured(world).response.proto, proto, 'the response protocol');
    },
  },
  {
    pattern: /^the response headers must contain <key> with matching <value>$/,
    run(world, _args, step) {
      headerTable(step, captured(world).response.headers, 'response');
    },
  },
  {
    pattern: /^the request method must be "([^"]*)"$/,
    run(world, [method]) {
      expectEqual(captured(world).request.method, method, 'the request method');
    },
  },
  {
    pattern: /^the request path must be "([^"]*)"$/,
    run(world, [path]) {
      const expected = path!.startsWith('/') ? path : `/${path}`;
      expectEqual(captured(world).request.path, expected, 'the request path');
    },
  },
  {
    pattern: /^the request proto must be "([^"]*)"$/,
    run(world, [proto]) {
      expectEqual(captured(world).request.proto, proto, 'the request protocol');
    },
  },
  {
    pattern: /^the request headers must contain <key> with matching <value>$/,
    run(world, _args, step) {
      headerTable(step, captured(world).request.headers, 'request');
    },
  },
  {
    pattern: /^the request host must be "([^"]*)"$/,
    run(world, [host]) {
      const { request, response } = captured(world);
      expectEqual(request.host, host, 'the request host', response);
    },
  },
];
