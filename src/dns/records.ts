/**
 * A question → the answer, from a snapshot. Pure: no I/O, no logging, no clock; a query is Map lookups in
 * the snapshot's zone index (zone-index.ts).
 *
 * Authority and negative answers:
 * - Names in the cluster zone are answered authoritatively (AA). A name that does not exist is NXDOMAIN; a name
 *   that exists without the asked type — an empty non-terminal such as `svc.<zone>` or `<ns>.svc.<zone>`
 *   included (RFC 8020) — is NODATA. Both carry the zone's SOA in the authority section (RFC 2308), whose TTL
 *   and MINIMUM are the configured TTL. The apex has SOA and NS.
 * - Reverse names (`in-addr.arpa`, `ip6.arpa`) are answered only for the addresses the snapshot knows (cluster
 *   IPs, ready headless endpoint addresses); negative answers there carry an SOA owned by `in-addr.arpa` /
 *   `ip6.arpa`, as CoreDNS serves them. Every other reverse name is REFUSED, not NXDOMAIN: Switchyard does not
 *   know the cluster's address ranges, so it must not claim that other addresses have no name — a stub
 *   resolver that is REFUSED asks its next server.
 * - Every other name, and zone transfers (AXFR, IXFR), are REFUSED without AA: no recursion, never an open
 *   resolver.
 * - A CNAME (ExternalName Service) is followed while its target stays in the zone (RFC 1034 §4.3.2), up to
 *   8 links; a chain that leaves the zone ends with the CNAME, for the client's resolver to follow.
 * - The deprecated pod names `<a>-<b>-<c>-<d>.<ns>.pod.<zone>` (§2.6, "required to satisfy this
 *   specification") answer A `<a>.<b>.<c>.<d>` for any namespace, as CoreDNS's `pods insecure`.
 * Comparisons are ASCII case-insensitive; answers for the asked name carry its case as asked.
 */
import type { Snapshot } from '../snapshot/types.ts';
import { canonicalName, dashedIPv4 } from './names.ts';
import type { DnsQuestion, DnsResult, RecordData, ResourceRecord } from './types.ts';
import { zoneIndex, type ZoneIndex, type ZoneNode } from './zone-index.ts';

/** TTL of records when none is configured, in seconds. */
export const DEFAULT_TTL_SECONDS = 5;
/** SOA timers (CoreDNS's values); they matter only to secondaries, which Switchyard does not serve. */
const SOA_REFRESH = 7200;
const SOA_RETRY = 1800;
const SOA_EXPIRE = 86400;
const MAX_CNAME_LINKS = 8;
const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa'] as const;
const ZONE_TRANSFERS = new Set(['AXFR', 'IXFR']);
const ADDRESS_TYPES = ['A', 'AAAA'] as const;
const NONE: readonly ResourceRecord[] = [];
const EMPTY_NODE: ZoneNode = new Map();

/**
 * Answers one question from `snapshot`. `ttl` (seconds, default 5) is the TTL of every record and the SOA
 * minimum. Never throws.
 */
export function resolveQuestion(snapshot: Snapshot, question: DnsQuestion, ttl: number = DEFAULT_TTL_SECONDS): DnsResult {
  const index = zoneIndex(snapshot);
  const seconds = Number.isFinite(ttl) ? Math.min(Math.max(Math.floor(ttl), 0), 0x7fffffff) : DEFAULT_TTL_SECONDS;
  const asked = question.name.endsWith('.') ? question.name.slice(0, -1) : question.name;
  const name = canonicalName(asked);
  const type = question.type.toUpperCase();
  const apex = apexOf(index, name);
  if (apex === undefined || ZONE_TRANSFERS.has(type)) return refused();
  let node = lookup(index, name);
  if (apex !== index.zone && node === undefined) return refused();

  const answers: ResourceRecord[] = [];
  let owner = asked;
  let current = name;
  for (let links = 0; ; links++) {
    if (node === undefined) return negative('NXDOMAIN', answers, index, apex, seconds);
    const cname = node.get('CNAME')?.[0];
    if (cname !== undefined && type !== 'CNAME' && type !== 'ANY') {
      answers.push(record(owner, seconds, cname));
      const target = canonicalName(cname.data as string);
      if (links + 1 >= MAX_CNAME_LINKS || target === current || apexOf(index, target) !== index.zone) {
        return { rcode: 'NOERROR', authoritative: true, answers, authorities: NONE, additionals: NONE };
      }
      owner = cname.data as string;
      current = target;
      node = lookup(index, target);
      continue;
    }
    const found = recordsAt(index, node, current, type, seconds);
    if (found.length === 0) return negative('NOERROR', answers, index, apex, seconds);
    for (const r of found) answers.push(record(owner, seconds, r));
    return { rcode: 'NOERROR', authoritative: true, answers, authorities: NONE, additionals: srvAdditionals(index, answers, seconds) };
  }
}

/** The apex of our zone holding `name`, or undefined when the name is in none of them. */
function apexOf(index: ZoneIndex, name: string): string | undefined {
  if (name === index.zone || name.endsWith(index.zoneSuffix)) return index.zone;
  for (const reverse of REVERSE_ZONES) {
    if (name.length > reverse.length && name.endsWith(reverse) && name.charCodeAt(name.length - reverse.length - 1) === 0x2e) return reverse;
  }
  return undefined;
}

function lookup(index: ZoneIndex, name: string): ZoneNode | undefined {
  return index.nodes.get(name) ?? podNode(index, name);
}

/** `<a>-<b>-<c>-<d>.<ns>.pod.<zone>` → its A record; `<ns>.pod.<zone>` → an empty non-terminal. */
function podNode(index: ZoneIndex, name: string): ZoneNode | undefined {
  if (!name.endsWith(index.podSuffix)) return undefined;
  const rest = name.slice(0, name.length - index.podSuffix.length);
  const dot = rest.indexOf('.');
  if (dot < 0) return rest.length > 0 ? EMPTY_NODE : undefined;
  if (dot === 0 || dot === rest.length - 1 || rest.indexOf('.', dot + 1) >= 0) return undefined;
  const address = dashedIPv4(rest.slice(0, dot));
  return address === undefined ? undefined : new Map([['A', [{ type: 'A', data: address }]]]);
}

function recordsAt(index: ZoneIndex, node: ZoneNode, name: string, type: string, ttl: number): readonly RecordData[] {
  const atApex = name === index.zone;
  if (type === 'ANY') {
    const all: RecordData[] = atApex ? [soa(index, ttl)] : [];
    for (const list of node.values()) all.push(...list);
    return all;
  }
  if (atApex && type === 'SOA') return [soa(index, ttl)];
  return node.get(type) ?? [];
}

function soa(index: ZoneIndex, ttl: number): RecordData {
  return {
    type: 'SOA',
    data: { mname: index.nameserver, rname: index.hostmaster, serial: index.serial, refresh: SOA_REFRESH, retry: SOA_RETRY, expire: SOA_EXPIRE, minimum: ttl },
  };
}

function record(name: string, ttl: number, r: RecordData): ResourceRecord {
  return { ...r, name, ttl };
}

function negative(rcode: 'NOERROR' | 'NXDOMAIN', answers: ResourceRecord[], index: ZoneIndex, apex: string, ttl: number): DnsResult {
  return { rcode, authoritative: true, answers, authorities: [record(apex, ttl, soa(index, ttl))], additionals: NONE };
}

function refused(): DnsResult {
  return { rcode: 'REFUSED', authoritative: false, answers: NONE, authorities: NONE, additionals: NONE };
}

/** A/AAAA records of the SRV targets in `answers` (RFC 2782 "Additional section"), each target once. */
function srvAdditionals(index: ZoneIndex, answers: readonly ResourceRecord[], ttl: number): readonly ResourceRecord[] {
  let out: ResourceRecord[] | undefined;
  let seen: Set<string> | undefined;
  for (const a of answers) {
    if (a.type !== 'SRV') continue;
    const target = canonicalName(a.data.target);
    seen ??= new Set();
    if (seen.has(target)) continue;
    seen.add(target);
    const node = index.nodes.get(target);
    if (!node) continue;
    for (const type of ADDRESS_TYPES) {
      for (const r of node.get(type) ?? []) (out ??= []).push(record(a.data.target, ttl, r));
    }
  }
  return out ?? NONE;
}
