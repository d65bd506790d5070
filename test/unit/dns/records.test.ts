/**
 * One row per record shape of the Kubernetes DNS specification 1.1.0 and per negative case, answered from the
 * fixture cluster (test/fixtures/dns/cluster.yaml). Records are written `name ttl TYPE data`.
 */
import { describe, expect, it } from 'vitest';
import { answerQuestion, type DnsRecordView } from '../../../src/dns/answer-view.ts';
import { resolveQuestion } from '../../../src/dns/records.ts';
import { zoneIndex } from '../../../src/dns/zone-index.ts';
import { clusterSnapshot, snapshotFromYaml } from '../../fixtures/dns/snapshots.ts';

const snapshot = clusterSnapshot(7);
const SOA = 'cluster.local 5 SOA ns.dns.cluster.local hostmaster.cluster.local 7 7200 1800 86400 5';
const SOA_V4 = 'in-addr.arpa 5 SOA ns.dns.cluster.local hostmaster.cluster.local 7 7200 1800 86400 5';
const DUAL_V6_PTR = '1.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
const DB6_V6_PTR = '1.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';

function lines(records: readonly DnsRecordView[]): string[] {
  return records.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`);
}

interface Row {
  readonly q: string;
  readonly type: string;
  readonly rcode: string;
  readonly answers?: readonly string[];
  readonly authorities?: readonly string[];
  readonly additionals?: readonly string[];
  readonly aa?: boolean;
}

const nodata = (q: string, type: string, soa = SOA): Row => ({ q, type, rcode: 'NOERROR', answers: [], authorities: [soa] });
const nxdomain = (q: string, type: string): Row => ({ q, type, rcode: 'NXDOMAIN', answers: [], authorities: [SOA] });
const refused = (q: string, type: string): Row => ({ q, type, rcode: 'REFUSED', answers: [], authorities: [], aa: false });

const rows: Record<string, Row[]> = {
  'schema version (§2.2)': [
    { q: 'dns-version.cluster.local', type: 'TXT', rcode: 'NOERROR', answers: ['dns-version.cluster.local 5 TXT 1.1.0'] },
    nodata('dns-version.cluster.local', 'A'),
  ],
  'ClusterIP Service A/AAAA (§2.3.1)': [
    { q: 'web.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['web.shop.svc.cluster.local 5 A 10.96.0.10'] },
    { q: 'WEB.Shop.SVC.cluster.LOCAL.', type: 'A', rcode: 'NOERROR', answers: ['WEB.Shop.SVC.cluster.LOCAL 5 A 10.96.0.10'] },
    nodata('web.shop.svc.cluster.local', 'AAAA'),
    nodata('web.shop.svc.cluster.local', 'mx'), // any type without data, named in any case
    nodata('web.shop.svc.cluster.local', 'UNKNOWN_999'),
    { q: 'dual.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['dual.shop.svc.cluster.local 5 A 10.96.0.11'] },
    { q: 'dual.shop.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: ['dual.shop.svc.cluster.local 5 AAAA fd00::11'] },
    {
      q: 'dual.shop.svc.cluster.local',
      type: 'ANY',
      rcode: 'NOERROR',
      answers: ['dual.shop.svc.cluster.local 5 A 10.96.0.11', 'dual.shop.svc.cluster.local 5 AAAA fd00::11'],
    },
    { q: 'monitor.ops.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['monitor.ops.svc.cluster.local 5 A 10.96.1.1'] },
  ],
  'ClusterIP Service SRV (§2.3.2)': [
    {
      q: '_http._tcp.web.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: ['_http._tcp.web.shop.svc.cluster.local 5 SRV 10 100 80 web.shop.svc.cluster.local'],
      additionals: ['web.shop.svc.cluster.local 5 A 10.96.0.10'],
    },
    {
      q: '_grpc._tcp.web.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: ['_grpc._tcp.web.shop.svc.cluster.local 5 SRV 10 100 9000 web.shop.svc.cluster.local'],
      additionals: ['web.shop.svc.cluster.local 5 A 10.96.0.10'],
    },
    {
      q: '_https._TCP.dual.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: ['_https._TCP.dual.shop.svc.cluster.local 5 SRV 10 100 443 dual.shop.svc.cluster.local'],
      additionals: ['dual.shop.svc.cluster.local 5 A 10.96.0.11', 'dual.shop.svc.cluster.local 5 AAAA fd00::11'],
    },
    {
      q: '_dns._udp.dns.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: ['_dns._udp.dns.shop.svc.cluster.local 5 SRV 10 100 53 dns.shop.svc.cluster.local'],
      additionals: ['dns.shop.svc.cluster.local 5 A 10.96.0.53'],
    },
    {
      q: '_dns-tcp._tcp.dns.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: ['_dns-tcp._tcp.dns.shop.svc.cluster.local 5 SRV 10 100 53 dns.shop.svc.cluster.local'],
      additionals: ['dns.shop.svc.cluster.local 5 A 10.96.0.53'],
    },
    nxdomain('_http._udp.web.shop.svc.cluster.local', 'SRV'),
    nxdomain('_dns._tcp.dns.shop.svc.cluster.local', 'SRV'),
    nodata('_http._tcp.web.shop.svc.cluster.local', 'A'),
    nodata('_tcp.web.shop.svc.cluster.local', 'SRV'),
    nxdomain('_tcp.monitor.ops.svc.cluster.local', 'SRV'), // unnamed port: no SRV
  ],
  'ClusterIP Service PTR (§2.3.3)': [
    { q: '10.0.96.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['10.0.96.10.in-addr.arpa 5 PTR web.shop.svc.cluster.local'] },
    { q: '1.1.96.10.IN-ADDR.ARPA.', type: 'PTR', rcode: 'NOERROR', answers: ['1.1.96.10.IN-ADDR.ARPA 5 PTR monitor.ops.svc.cluster.local'] },
    { q: DUAL_V6_PTR, type: 'PTR', rcode: 'NOERROR', answers: [`${DUAL_V6_PTR} 5 PTR dual.shop.svc.cluster.local`] },
    nodata('10.0.96.10.in-addr.arpa', 'A', SOA_V4),
  ],
  'headless Service A/AAAA (§2.4.1)': [
    {
      q: 'db.shop.svc.cluster.local',
      type: 'A',
      rcode: 'NOERROR',
      answers: ['db.shop.svc.cluster.local 5 A 10.1.0.1', 'db.shop.svc.cluster.local 5 A 10.1.0.2', 'db.shop.svc.cluster.local 5 A 10.1.0.3'],
    },
    nodata('db.shop.svc.cluster.local', 'AAAA'),
    { q: 'db-0.db.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['db-0.db.shop.svc.cluster.local 5 A 10.1.0.1'] },
    { q: 'DB-1.db.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['DB-1.db.shop.svc.cluster.local 5 A 10.1.0.2'] },
    { q: '10-1-0-3.db.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-1-0-3.db.shop.svc.cluster.local 5 A 10.1.0.3'] },
    nxdomain('db-3.db.shop.svc.cluster.local', 'A'), // not ready
    nxdomain('10-1-0-1.db.shop.svc.cluster.local', 'A'), // has a hostname: named by it only
    {
      q: 'db6.shop.svc.cluster.local',
      type: 'AAAA',
      rcode: 'NOERROR',
      answers: ['db6.shop.svc.cluster.local 5 AAAA fd00::1:2', 'db6.shop.svc.cluster.local 5 AAAA fd00::1:1'],
    },
    nodata('db6.shop.svc.cluster.local', 'A'),
    { q: 'web6-0.db6.shop.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: ['web6-0.db6.shop.svc.cluster.local 5 AAAA fd00::1:1'] },
    { q: 'fd00--1-2.db6.shop.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: ['fd00--1-2.db6.shop.svc.cluster.local 5 AAAA fd00::1:2'] },
    nxdomain('lonely.shop.svc.cluster.local', 'A'), // no ready endpoint: NXDOMAIN, as §2.4.1 says
  ],
  'headless Service SRV (§2.4.2)': [
    {
      q: '_pg._tcp.db.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: [
        '_pg._tcp.db.shop.svc.cluster.local 5 SRV 10 100 15432 db-0.db.shop.svc.cluster.local',
        '_pg._tcp.db.shop.svc.cluster.local 5 SRV 10 100 15432 db-1.db.shop.svc.cluster.local',
        '_pg._tcp.db.shop.svc.cluster.local 5 SRV 10 100 15432 10-1-0-3.db.shop.svc.cluster.local',
      ],
      additionals: [
        'db-0.db.shop.svc.cluster.local 5 A 10.1.0.1',
        'db-1.db.shop.svc.cluster.local 5 A 10.1.0.2',
        '10-1-0-3.db.shop.svc.cluster.local 5 A 10.1.0.3',
      ],
    },
    {
      q: '_metrics._tcp.db.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: [
        '_metrics._tcp.db.shop.svc.cluster.local 5 SRV 10 100 9187 db-0.db.shop.svc.cluster.local',
        '_metrics._tcp.db.shop.svc.cluster.local 5 SRV 10 100 9187 db-1.db.shop.svc.cluster.local',
        '_metrics._tcp.db.shop.svc.cluster.local 5 SRV 10 100 9187 10-1-0-3.db.shop.svc.cluster.local',
      ],
      additionals: [
        'db-0.db.shop.svc.cluster.local 5 A 10.1.0.1',
        'db-1.db.shop.svc.cluster.local 5 A 10.1.0.2',
        '10-1-0-3.db.shop.svc.cluster.local 5 A 10.1.0.3',
      ],
    },
    {
      q: '_http._tcp.db6.shop.svc.cluster.local',
      type: 'SRV',
      rcode: 'NOERROR',
      answers: [
        '_http._tcp.db6.shop.svc.cluster.local 5 SRV 10 100 8080 fd00--1-2.db6.shop.svc.cluster.local',
        '_http._tcp.db6.shop.svc.cluster.local 5 SRV 10 100 8080 web6-0.db6.shop.svc.cluster.local',
      ],
      additionals: ['fd00--1-2.db6.shop.svc.cluster.local 5 AAAA fd00::1:2', 'web6-0.db6.shop.svc.cluster.local 5 AAAA fd00::1:1'],
    },
    nxdomain('_http._tcp.lonely.shop.svc.cluster.local', 'SRV'),
  ],
  'headless Service PTR (§2.4.3)': [
    { q: '1.0.1.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['1.0.1.10.in-addr.arpa 5 PTR db-0.db.shop.svc.cluster.local'] },
    { q: '3.0.1.10.in-addr.arpa', type: 'PTR', rcode: 'NOERROR', answers: ['3.0.1.10.in-addr.arpa 5 PTR 10-1-0-3.db.shop.svc.cluster.local'] },
    { q: DB6_V6_PTR, type: 'PTR', rcode: 'NOERROR', answers: [`${DB6_V6_PTR} 5 PTR web6-0.db6.shop.svc.cluster.local`] },
    refused('4.0.1.10.in-addr.arpa', 'PTR'), // not ready: an address the snapshot does not publish
  ],
  'ExternalName Service CNAME (§2.5)': [
    { q: 'ext.shop.svc.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['ext.shop.svc.cluster.local 5 CNAME www.example.com'] },
    { q: 'ext.shop.svc.cluster.local', type: 'AAAA', rcode: 'NOERROR', answers: ['ext.shop.svc.cluster.local 5 CNAME www.example.com'] },
    { q: 'ext.shop.svc.cluster.local', type: 'CNAME', rcode: 'NOERROR', answers: ['ext.shop.svc.cluster.local 5 CNAME www.example.com'] },
    {
      q: 'alias.shop.svc.cluster.local',
      type: 'A',
      rcode: 'NOERROR',
      answers: ['alias.shop.svc.cluster.local 5 CNAME web.shop.svc.cluster.local', 'web.shop.svc.cluster.local 5 A 10.96.0.10'],
    },
    {
      q: 'alias.shop.svc.cluster.local',
      type: 'AAAA',
      rcode: 'NOERROR',
      answers: ['alias.shop.svc.cluster.local 5 CNAME web.shop.svc.cluster.local'],
      authorities: [SOA],
    },
  ],
  'deprecated pod records (§2.6)': [
    { q: '10-1-2-3.shop.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['10-1-2-3.shop.pod.cluster.local 5 A 10.1.2.3'] },
    { q: '0-0-0-0.any.pod.cluster.local', type: 'A', rcode: 'NOERROR', answers: ['0-0-0-0.any.pod.cluster.local 5 A 0.0.0.0'] },
    nodata('10-1-2-3.shop.pod.cluster.local', 'AAAA'),
    nodata('shop.pod.cluster.local', 'A'),
    nodata('pod.cluster.local', 'A'),
    nxdomain('10-1-2-300.shop.pod.cluster.local', 'A'),
    nxdomain('01-1-2-3.shop.pod.cluster.local', 'A'),
    nxdomain('web.shop.pod.cluster.local', 'A'),
    nxdomain('x.10-1-2-3.shop.pod.cluster.local', 'A'),
  ],
  'zone apex and empty non-terminals (RFC 8020)': [
    { q: 'cluster.local', type: 'SOA', rcode: 'NOERROR', answers: [SOA] },
    { q: 'cluster.local', type: 'NS', rcode: 'NOERROR', answers: ['cluster.local 5 NS ns.dns.cluster.local'] },
    nodata('cluster.local', 'A'),
    nodata('svc.cluster.local', 'A'),
    nodata('shop.svc.cluster.local', 'A'),
    nodata('ops.svc.cluster.local', 'SRV'),
    nodata('noip.shop.svc.cluster.local', 'A'), // exists without a cluster IP
    nxdomain('_http._tcp.noip.shop.svc.cluster.local', 'SRV'),
    nxdomain('nope.svc.cluster.local', 'A'),
    nxdomain('missing.shop.svc.cluster.local', 'A'),
    nxdomain('x.web.shop.svc.cluster.local', 'A'),
    nxdomain('web.shop.cluster.local', 'A'),
    nxdomain('dns.cluster.local', 'A'),
  ],
  'outside our zones: REFUSED, not authoritative': [
    refused('example.com', 'A'),
    refused('local', 'A'),
    refused('notcluster.local', 'A'),
    refused('.', 'NS'),
    refused('', 'A'),
    refused('9.9.9.9.in-addr.arpa', 'PTR'),
    refused('96.10.in-addr.arpa', 'PTR'),
    refused('in-addr.arpa', 'SOA'),
    refused('xin-addr.arpa', 'PTR'),
    refused('cluster.local', 'AXFR'),
    refused('cluster.local', 'IXFR'),
  ],
};

describe('DNS records from a snapshot', () => {
  for (const [group, list] of Object.entries(rows)) {
    describe(group, () => {
      it.each(list.map((r) => [`${r.q || '(empty)'} ${r.type}`, r] as const))('%s', (_label, row) => {
        const view = answerQuestion(snapshot, row.q, row.type);
        expect(view.rcode).toBe(row.rcode);
        expect(view.authoritative).toBe(row.aa ?? true);
        expect(lines(view.answers)).toEqual(row.answers ?? []);
        expect(lines(view.authorities)).toEqual(row.authorities ?? []);
        expect(lines(view.additionals)).toEqual(row.additionals ?? []);
      });
    });
  }
});

describe('TTL', () => {
  it('is the configured TTL on every record and the SOA minimum', () => {
    const ok = answerQuestion(snapshot, '_http._tcp.web.shop.svc.cluster.local', 'SRV', 30);
    expect([...ok.answers, ...ok.additionals].map((r) => r.ttl)).toEqual([30, 30]);
    const negative = resolveQuestion(snapshot, { name: 'nope.svc.cluster.local', type: 'A' }, 30);
    expect(negative.authorities).toHaveLength(1);
    const soa = negative.authorities[0]!;
    expect(soa.ttl).toBe(30);
    expect(soa.type === 'SOA' && soa.data.minimum).toBe(30);
  });

  it('defaults to 5 seconds', () => {
    expect(answerQuestion(snapshot, 'web.shop.svc.cluster.local').answers[0]?.ttl).toBe(5);
  });
});

describe('zone index', () => {
  it('is built once per snapshot object', () => {
    expect(zoneIndex(snapshot)).toBe(zoneIndex(snapshot));
    expect(zoneIndex(clusterSnapshot(7))).not.toBe(zoneIndex(snapshot));
  });

  it('follows the snapshot: a new snapshot answers with its own records', () => {
    const before = snapshotFromYaml('apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: n }\nspec: { clusterIP: 10.0.0.1 }\n', 1);
    const after = snapshotFromYaml('apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: n }\nspec: { clusterIP: 10.0.0.2 }\n', 2);
    expect(lines(answerQuestion(before, 'a.n.svc.cluster.local').answers)).toEqual(['a.n.svc.cluster.local 5 A 10.0.0.1']);
    expect(lines(answerQuestion(after, 'a.n.svc.cluster.local').answers)).toEqual(['a.n.svc.cluster.local 5 A 10.0.0.2']);
  });

  it('serves another cluster domain, compared case-insensitively', () => {
    const other = snapshotFromYaml('apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: n }\nspec: { clusterIP: 10.0.0.1 }\n', 1, 'Corp.Example.');
    expect(lines(answerQuestion(other, 'A.N.svc.corp.example', 'A').answers)).toEqual(['A.N.svc.corp.example 5 A 10.0.0.1']);
    expect(answerQuestion(other, 'a.n.svc.cluster.local').rcode).toBe('REFUSED');
  });

  it('skips what cannot be a record: bad cluster IPs, bad hostnames, bad ExternalNames', () => {
    const odd = snapshotFromYaml(
      `apiVersion: v1
kind: Service
metadata: { name: bad-ip, namespace: n }
spec: { clusterIP: not-an-ip }
---
apiVersion: v1
kind: Service
metadata: { name: bad-ext, namespace: n }
spec: { type: ExternalName, externalName: "a..b" }
---
apiVersion: v1
kind: Service
metadata: { name: h, namespace: n }
spec: { clusterIP: None, ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: h-1, namespace: n, labels: { kubernetes.io/service-name: h } }
addressType: IPv4
ports: [{ name: http, port: 80 }]
endpoints:
  - { addresses: [10.0.0.5], hostname: "Not_A.Label" }
`,
    );
    expect(answerQuestion(odd, 'bad-ip.n.svc.cluster.local').rcode).toBe('NOERROR');
    expect(answerQuestion(odd, 'bad-ip.n.svc.cluster.local').answers).toEqual([]);
    expect(answerQuestion(odd, 'bad-ext.n.svc.cluster.local').answers).toEqual([]);
    expect(lines(answerQuestion(odd, '10-0-0-5.h.n.svc.cluster.local').answers)).toEqual(['10-0-0-5.h.n.svc.cluster.local 5 A 10.0.0.5']);
  });

  it('stops a CNAME loop', () => {
    const loop = snapshotFromYaml(
      `apiVersion: v1
kind: Service
metadata: { name: a, namespace: n }
spec: { type: ExternalName, externalName: b.n.svc.cluster.local }
---
apiVersion: v1
kind: Service
metadata: { name: b, namespace: n }
spec: { type: ExternalName, externalName: a.n.svc.cluster.local }
`,
    );
    const view = answerQuestion(loop, 'a.n.svc.cluster.local');
    expect(view.rcode).toBe('NOERROR');
    expect(view.answers.length).toBe(8);
  });
});
