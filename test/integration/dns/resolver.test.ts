/**
 * The DNS server over real sockets, asked by Node's own resolver (c-ares), the way a client in the cluster
 * would ask it. Bound to 127.0.0.1 port 0; closed after each test.
 */
import { Resolver } from 'node:dns/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../../../src/dns/server.ts';
import { SnapshotHolder } from '../../../src/snapshot/holder.ts';
import { clusterSnapshot, manyEndpointsYaml, snapshotFromYaml, CLUSTER_YAML } from '../../fixtures/dns/snapshots.ts';

let server: DnsServer | undefined;
let resolver: Resolver;

beforeEach(async () => {
  const holder = new SnapshotHolder(snapshotFromYaml(`${CLUSTER_YAML}\n---\n${manyEndpointsYaml(60)}`));
  server = await startDnsServer({ holder, host: '127.0.0.1', port: 0, ttlSeconds: 5 });
  resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${server.udpAddress.port}`]);
});

afterEach(async () => {
  resolver?.cancel();
  await server?.close();
  server = undefined;
});

describe('answers to Node’s resolver (c-ares)', () => {
  it('binds UDP and TCP on one port of 127.0.0.1', () => {
    expect(server!.udpAddress.address).toBe('127.0.0.1');
    expect(server!.udpAddress.port).toBeGreaterThan(0);
    expect(server!.tcpAddress.port).toBe(server!.udpAddress.port);
  });

  it('A for a ClusterIP Service, with the TTL', async () => {
    expect(await resolver.resolve4('web.shop.svc.cluster.local', { ttl: true })).toEqual([{ address: '10.96.0.10', ttl: 5 }]);
  });

  it('A and AAAA for a dual-stack Service, case-insensitively', async () => {
    expect(await resolver.resolve4('DUAL.shop.svc.Cluster.Local')).toEqual(['10.96.0.11']);
    expect(await resolver.resolve6('dual.shop.svc.cluster.local')).toEqual(['fd00::11']);
  });

  it('A for each ready endpoint of a headless Service, and per hostname', async () => {
    expect((await resolver.resolve4('db.shop.svc.cluster.local')).sort()).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    expect(await resolver.resolve4('db-1.db.shop.svc.cluster.local')).toEqual(['10.1.0.2']);
    expect(await resolver.resolve6('web6-0.db6.shop.svc.cluster.local')).toEqual(['fd00::1:1']);
  });

  it('SRV for a named port, both shapes', async () => {
    expect(await resolver.resolveSrv('_http._tcp.web.shop.svc.cluster.local')).toMatchObject([
      { name: 'web.shop.svc.cluster.local', port: 80, priority: 10, weight: 100 },
    ]);
    const headless = await resolver.resolveSrv('_pg._tcp.db.shop.svc.cluster.local');
    expect(headless.map((r) => `${r.priority} ${r.weight} ${r.port} ${r.name}`).sort()).toEqual([
      '10 100 15432 10-1-0-3.db.shop.svc.cluster.local',
      '10 100 15432 db-0.db.shop.svc.cluster.local',
      '10 100 15432 db-1.db.shop.svc.cluster.local',
    ]);
  });

  it('SRV of a headless Service too big for UDP, through c-ares’s retry over TCP', async () => {
    const records = await resolver.resolveSrv('_http._tcp.many.big.svc.cluster.local');
    expect(records).toHaveLength(60);
    expect(new Set(records.map((r) => r.name)).size).toBe(60);
    expect(records.every((r) => r.port === 8080)).toBe(true);
  });

  it('CNAME for an ExternalName Service', async () => {
    expect(await resolver.resolveCname('ext.shop.svc.cluster.local')).toEqual(['www.example.com']);
  });

  it('PTR for cluster IPs and headless endpoint addresses, IPv4 and IPv6', async () => {
    expect(await resolver.reverse('10.96.0.10')).toEqual(['web.shop.svc.cluster.local']);
    expect(await resolver.reverse('fd00::11')).toEqual(['dual.shop.svc.cluster.local']);
    expect(await resolver.reverse('10.1.0.1')).toEqual(['db-0.db.shop.svc.cluster.local']);
    expect(await resolver.reverse('10.1.0.3')).toEqual(['10-1-0-3.db.shop.svc.cluster.local']);
    expect(await resolver.reverse('fd00::1:1')).toEqual(['web6-0.db6.shop.svc.cluster.local']);
  });

  it('TXT dns-version', async () => {
    expect(await resolver.resolveTxt('dns-version.cluster.local')).toEqual([['1.1.0']]);
  });

  it('SOA at the zone apex', async () => {
    expect(await resolver.resolveSoa('cluster.local')).toMatchObject({ nsname: 'ns.dns.cluster.local', hostmaster: 'hostmaster.cluster.local', minttl: 5 });
  });

  it('NXDOMAIN (ENOTFOUND) for names that do not exist', async () => {
    await expect(resolver.resolve4('nope.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('lonely.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('NODATA (ENODATA) for names that exist without the type, empty non-terminals included', async () => {
    await expect(resolver.resolve6('web.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('REFUSED (EREFUSED) outside the zone and for unknown reverse names', async () => {
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });
    await expect(resolver.resolvePtr('1.2.0.192.in-addr.arpa')).rejects.toMatchObject({ code: 'EREFUSED' });
    // reverse() reports every failure as ENOTFOUND.
    await expect(resolver.reverse('192.0.2.1')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('hot update', () => {
  it('answers from the snapshot swapped in, at once', async () => {
    const holder = new SnapshotHolder(clusterSnapshot(1));
    const hot = await startDnsServer({ holder, port: 0, ttlSeconds: 0 });
    try {
      const ask = async (name: string): Promise<string[]> => {
        const r = new Resolver({ timeout: 1000, tries: 1 });
        r.setServers([`127.0.0.1:${hot.udpAddress.port}`]);
        return r.resolve4(name).catch((err: { code: string }) => [err.code]);
      };
      expect(await ask('web.shop.svc.cluster.local')).toEqual(['10.96.0.10']);
      expect(await ask('fresh.shop.svc.cluster.local')).toEqual(['ENOTFOUND']);
      holder.swap(
        snapshotFromYaml(
          CLUSTER_YAML.replace('clusterIP: 10.96.0.10', 'clusterIP: 10.96.0.99') +
            '\n---\napiVersion: v1\nkind: Service\nmetadata: { name: fresh, namespace: shop }\nspec: { clusterIP: 10.96.0.77 }\n',
          2,
        ),
      );
      expect(await ask('web.shop.svc.cluster.local')).toEqual(['10.96.0.99']);
      expect(await ask('fresh.shop.svc.cluster.local')).toEqual(['10.96.0.77']);
    } finally {
      await hot.close();
    }
  });
});
