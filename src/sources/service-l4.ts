/**
 * The layer-4 fields of a Service (node ports, external and load-balancer IPs, session affinity, traffic
 * policies), read leniently: a bad value is not a reason to reject a Service whose HTTP routes work, so
 * each becomes a problem (a diagnostic at compile) and the service proxy skips the port, or the Service,
 * it concerns. Messages are worded as the API server's field errors, as the schema's are.
 */
import { isIP } from 'node:net';
import type { ServiceProblemRec, ServiceRec, TrafficPolicy } from '../model/records.ts';
import { formatFieldValue } from './field-errors.ts';

/** Kubernetes' default sessionAffinityConfig.clientIP.timeoutSeconds (3 h), and its maximum (1 day). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;
const MAX_AFFINITY_TIMEOUT_SECONDS = 86_400;

/** What is read here of a Service that already passed serviceSchema. */
export interface ServiceL4Input {
  readonly type: ServiceRec['type'];
  readonly spec: {
    readonly clusterIP?: string | null | undefined;
    readonly clusterIPs?: readonly string[] | null | undefined;
    readonly ports?: readonly { readonly nodePort?: unknown; readonly protocol?: string | undefined }[] | null | undefined;
    readonly externalIPs?: unknown;
    readonly sessionAffinity?: unknown;
    readonly sessionAffinityConfig?: unknown;
    readonly internalTrafficPolicy?: unknown;
    readonly externalTrafficPolicy?: unknown;
  };
  readonly status: unknown;
}

/** The layer-4 fields of a ServiceRec, and each spec.ports entry's valid node port (or undefined), in order. */
export type ServiceL4Fields = Pick<
  ServiceRec,
  'externalIPs' | 'loadBalancerIPs' | 'sessionAffinity' | 'sessionAffinityTimeoutSeconds' | 'internalTrafficPolicy' | 'externalTrafficPolicy' | 'problems'
> & { readonly nodePorts: readonly (number | undefined)[] };

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_PROBLEMS: readonly ServiceProblemRec[] = Object.freeze([]);
const BAD_IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Reads and checks the layer-4 fields; never throws. */
export function serviceL4Fields(input: ServiceL4Input): ServiceL4Fields {
  const problems: ServiceProblemRec[] = [];
  const problem = (path: string, message: string, portIndex?: number): void => {
    problems.push({ path, message, portIndex });
  };
  const { spec, type } = input;

  const nodePortsAllowed = type === 'NodePort' || type === 'LoadBalancer';
  const seenNodePorts = new Set<string>();
  const nodePorts = (spec.ports ?? []).map((p, i): number | undefined => {
    const raw = p.nodePort;
    if (raw === undefined || raw === null || raw === 0) return undefined; // 0: unset, as the API reads it
    const path = `spec.ports[${i}].nodePort`;
    if (typeof raw !== 'number' || !Number.isInteger(raw)) return void problem(path, `Invalid value: ${formatFieldValue(raw)}: must be an integer`, i);
    if (raw < 1 || raw > 65535) return void problem(path, `Invalid value: ${raw}: must be between 1 and 65535, inclusive`, i);
    if (!nodePortsAllowed) return void problem(path, `Forbidden: may not be used when \`type\` is '${type}'`, i);
    const key = `${p.protocol ?? 'TCP'}/${raw}`;
    if (seenNodePorts.has(key)) return void problem(path, `Duplicate value: ${raw}`, i);
    seenNodePorts.add(key);
    return raw;
  });

  if (spec.clusterIPs != null) {
    spec.clusterIPs.forEach((ip, i) => {
      if (ip !== 'None' && ip !== '' && isIP(ip) === 0) problem(`spec.clusterIPs[${i}]`, `Invalid value: ${formatFieldValue(ip)}: ${BAD_IP}`);
    });
  } else if (spec.clusterIP != null && spec.clusterIP !== 'None' && spec.clusterIP !== '' && isIP(spec.clusterIP) === 0) {
    problem('spec.clusterIP', `Invalid value: ${formatFieldValue(spec.clusterIP)}: ${BAD_IP}`);
  }

  const externalIPs = ipList(spec.externalIPs, 'spec.externalIPs', problem);
  const loadBalancerIPs = loadBalancerIPsOf(input.status, problem);
  const sessionAffinity = choice(spec.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP'] as const, problem);
  const sessionAffinityTimeoutSeconds = sessionAffinity === 'ClientIP' ? affinityTimeout(spec.sessionAffinityConfig, problem) : DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  const internalTrafficPolicy = choice(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local'] as const, problem);
  const externalTrafficPolicy = choice(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', ['Cluster', 'Local'] as const, problem);
  return {
    nodePorts,
    externalIPs,
    loadBalancerIPs,
    sessionAffinity,
    sessionAffinityTimeoutSeconds,
    internalTrafficPolicy,
    externalTrafficPolicy,
    problems: problems.length === 0 ? NO_PROBLEMS : problems,
  };
}

type Problem = (path: string, message: string) => void;

/** An enum field: unset is the first choice (the API's default). */
function choice<T extends string>(raw: unknown, path: string, choices: readonly T[], problem: Problem): T {
  if (raw === undefined || raw === null || raw === '') return choices[0]!;
  if ((choices as readonly unknown[]).includes(raw)) return raw as T;
  problem(path, `Unsupported value: ${formatFieldValue(raw)}: supported values: ${choices.map((c) => `"${c}"`).join(', ')}`);
  return choices[0]!;
}

function ipList(raw: unknown, path: string, problem: Problem): readonly string[] {
  if (raw === undefined || raw === null) return NO_STRINGS;
  if (!Array.isArray(raw)) {
    problem(path, `Invalid value: ${formatFieldValue(raw)}: must be a list`);
    return NO_STRINGS;
  }
  const out: string[] = [];
  raw.forEach((ip: unknown, i) => {
    if (typeof ip === 'string' && isIP(ip) !== 0) out.push(ip);
    else problem(`${path}[${i}]`, `Invalid value: ${formatFieldValue(ip)}: ${BAD_IP}`);
  });
  return out.length === 0 ? NO_STRINGS : out;
}

function loadBalancerIPsOf(status: unknown, problem: Problem): readonly string[] {
  const ingress = record(record(status)?.['loadBalancer'])?.['ingress'];
  if (!Array.isArray(ingress)) return NO_STRINGS;
  const out: string[] = [];
  ingress.forEach((entry: unknown, i) => {
    const ip = record(entry)?.['ip'];
    if (ip === undefined || ip === null || ip === '') return; // a hostname-only entry: nothing to route at layer 4
    if (typeof ip === 'string' && isIP(ip) !== 0) out.push(ip);
    else problem(`status.loadBalancer.ingress[${i}].ip`, `Invalid value: ${formatFieldValue(ip)}: ${BAD_IP}`);
  });
  return out.length === 0 ? NO_STRINGS : out;
}

function affinityTimeout(config: unknown, problem: Problem): number {
  const raw = record(record(config)?.['clientIP'])?.['timeoutSeconds'];
  if (raw === undefined || raw === null) return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > MAX_AFFINITY_TIMEOUT_SECONDS) {
    problem('spec.sessionAffinityConfig.clientIP.timeoutSeconds', `Invalid value: ${formatFieldValue(raw)}: must be greater than 0 and less than ${MAX_AFFINITY_TIMEOUT_SECONDS}`);
    return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  }
  return raw;
}
