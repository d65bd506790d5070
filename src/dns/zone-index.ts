/**
 * The records of one snapshot, by name: built once per snapshot, on first use, and cached against the
 * snapshot object, so answering a query is a few Map lookups and a swapped snapshot shows at once.
 *
 * Records follow the Kubernetes DNS-Based Service Discovery specification, schema 1.1.0:
 * - `dns-version.<zone>` TXT "1.1.0" (§2.2).
 * - A Service with cluster IPs (§2.3): A/AAAA per cluster IP at `<svc>.<ns>.svc.<zone>`; SRV per named port at
 *   `_<port>._<proto>.<svc>.<ns>.svc.<zone>` targeting the Service name with the Service port; PTR per cluster IP.
 * - A headless Service (§2.4): A/AAAA per ready address, at the Service name and at `<hostname>.<svc>…`; SRV per
 *   named port and ready endpoint targeting `<hostname>.<svc>…` with the endpoint's port (as CoreDNS: clients
 *   connect to the pod, so the Service port would be wrong when targetPort differs); PTR per ready address.
 *   Without ready addresses nothing exists under the Service name, so it is NXDOMAIN, as §2.4.1 requires.
 * - An ExternalName Service (§2.5): CNAME at the Service name.
 * - A Service that is neither headless nor ExternalName and has no cluster IP (a manifest that left
 *   `clusterIP` out) exists without records: NODATA, no SRV, no PTR — the spec defines records only for a
 *   Service that has its cluster IP.
 * Every ancestor of a record's name inside the zone exists too (empty non-terminals, RFC 8020), and so do
 * `svc.<zone>` and `pod.<zone>` always. Reverse names exist only where a record is.
 */
import type { ServiceView, Snapshot } from '../snapshot/types.ts';
import { canonicalName, endpointHostname, isEncodableName, normalizeIP, reverseName } from './names.ts';
import type { RecordData } from './types.ts';

/** The schema version served at `dns-version.<zone>`. */
export const SCHEMA_VERSION = '1.1.0';
/** SRV priority and weight of every SRV record: the spec's examples (RFC 2782: equal weights, equal share). */
export const SRV_PRIORITY = 10;
export const SRV_WEIGHT = 100;

/** Records of one name by type; an empty map for an empty non-terminal, which exists (RFC 8020). */
export type ZoneNode = ReadonlyMap<string, readonly RecordData[]>;

export interface ZoneIndex {
  /** The cluster domain, canonical (lower case, no trailing dot). */
  readonly zone: string;
  /** `.<zone>`: a name ending so is inside the zone. */
  readonly zoneSuffix: string;
  /** `.pod.<zone>`: the deprecated pod names (§2.6) end so. */
  readonly podSuffix: string;
  /** Canonical name → its records: the cluster zone and the reverse names of known addresses. */
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** SOA MNAME and the apex NS target: `ns.dns.<zone>`, as CoreDNS names it. */
  readonly nameserver: string;
  /** SOA RNAME: `hostmaster.<zone>`. */
  readonly hostmaster: string;
  /** SOA serial: the snapshot version, so a secondary would see each swap. */
  readonly serial: number;
}

const cache = new WeakMap<Snapshot, ZoneIndex>();

/** The index of `snapshot`, built on first use and kept as long as the snapshot is. */
export function zoneIndex(snapshot: Snapshot): ZoneIndex {
  let index = cache.get(snapshot);
  if (!index) {
    index = buildIndex(snapshot);
    cache.set(snapshot, index);
  }
  return index;
}

class IndexBuilder {
  readonly nodes = new Map<string, Map<string, RecordData[]>>();
  readonly #seen = new Set<string>();
  readonly #zoneSuffix: string;

  constructor(zone: string) {
    this.#zoneSuffix = `.${zone}`;
    this.ensure(zone);
  }

  /** Makes `name` exist, with every ancestor inside the zone. */
  ensure(name: string): Map<string, RecordData[]> {
    let node = this.nodes.get(name);
    if (node) return node;
    node = new Map();
    this.nodes.set(name, node);
    if (name.endsWith(this.#zoneSuffix)) this.ensure(name.slice(name.indexOf('.') + 1));
    return node;
  }

  add(name: string, record: RecordData): void {
    if (!isEncodableName(name)) return;
    const key = `${name}\u0000${record.type}\u0000${JSON.stringify(record.data)}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const node = this.ensure(name);
    const list = node.get(record.type);
    if (list) list.push(record);
    else node.set(record.type, [record]);
  }
}

function buildIndex(snapshot: Snapshot): ZoneIndex {
  const zone = canonicalName(snapshot.clusterDomain);
  const nameserver = `ns.dns.${zone}`;
  const b = new IndexBuilder(zone);
  b.add(zone, { type: 'NS', data: nameserver });
  b.add(`dns-version.${zone}`, { type: 'TXT', data: SCHEMA_VERSION });
  b.ensure(`svc.${zone}`);
  b.ensure(`pod.${zone}`);
  for (const svc of snapshot.services.values()) {
    const name = canonicalName(`${svc.name}.${svc.namespace}.svc.${zone}`);
    if (!isEncodableName(name)) continue;
    if (svc.externalName !== undefined) addExternalName(b, name, svc.externalName);
    else if (svc.headless) addHeadless(b, snapshot, svc, name);
    else addClusterIP(b, svc, name);
  }
  return { zone, zoneSuffix: `.${zone}`, podSuffix: `.pod.${zone}`, nodes: b.nodes, nameserver, hostmaster: `hostmaster.${zone}`, serial: snapshot.version >>> 0 };
}

function addExternalName(b: IndexBuilder, name: string, externalName: string): void {
  const target = externalName.endsWith('.') ? externalName.slice(0, -1) : externalName;
  if (isEncodableName(target)) b.add(name, { type: 'CNAME', data: target });
  else b.ensure(name);
}

function addClusterIP(b: IndexBuilder, svc: ServiceView, name: string): void {
  b.ensure(name);
  let any = false;
  for (const raw of svc.clusterIPs) {
    const ip = normalizeIP(raw);
    if (!ip) continue;
    any = true;
    b.add(name, { type: ip.family === 4 ? 'A' : 'AAAA', data: ip.address });
    b.add(reverseName(ip.address)!, { type: 'PTR', data: name });
  }
  if (!any) return;
  for (const port of svc.ports) {
    if (port.name === '') continue; // unnamed ports have no SRV record (§2.3.2)
    b.add(srvName(port.name, port.protocol, name), {
      type: 'SRV',
      data: { priority: SRV_PRIORITY, weight: SRV_WEIGHT, port: port.port, target: name },
    });
  }
}

function addHeadless(b: IndexBuilder, snapshot: Snapshot, svc: ServiceView, name: string): void {
  const hostByAddress = new Map<string, string>();
  for (const a of svc.addresses) {
    if (!a.ready) continue;
    const ip = normalizeIP(a.address);
    if (!ip) continue;
    const host = `${endpointHostname(ip.address, a.hostname)}.${name}`;
    const type = ip.family === 4 ? 'A' : 'AAAA';
    hostByAddress.set(a.address, host);
    b.add(name, { type, data: ip.address });
    b.add(host, { type, data: ip.address });
    b.add(reverseName(ip.address)!, { type: 'PTR', data: host });
  }
  for (const port of svc.ports) {
    if (port.name === '') continue;
    const backend = snapshot.backends.get(port.backend);
    if (!backend) continue;
    for (const ep of backend.ready) {
      const target = hostByAddress.get(ep.address);
      if (target === undefined) continue;
      b.add(srvName(port.name, port.protocol, name), {
        type: 'SRV',
        data: { priority: SRV_PRIORITY, weight: SRV_WEIGHT, port: ep.port, target },
      });
    }
  }
}

function srvName(portName: string, protocol: string, serviceName: string): string {
  return canonicalName(`_${portName}._${protocol}.${serviceName}`);
}
