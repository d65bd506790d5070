/**
 * The registry on the wire, through the real CLI: --dns answers real resolvers (c-ares) and follows
 * manifest edits; --service-listen routes by Service name for HTTP_PROXY clients (undici ProxyAgent)
 * and Host headers, balancing every request of a keep-alive client; the edge never routes by name.
 */
import { Resolver } from 'node:dns/promises';
import { ProxyAgent, request as undiciRequest } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, getJson, rawRequest } from '../helpers/http.ts';
import { endpointSlice, ingress, podEndpoints, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { countsByPod, startPods, type EchoBody, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

function web(clusterIP: string): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      clusterIP,
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'admin', port: 9000, targetPort: 'admin' },
      ],
    },
  };
}

async function addressOf(sy: RunningSwitchyard, role: string): Promise<HostPort> {
  const line = await sy.waitForLog((l) => l['role'] === role && typeof l['address'] === 'string');
  const address = line['address'] as string;
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

interface Setup {
  sy: RunningSwitchyard;
  pods: Pod[];
  dir: string;
  service: HostPort;
  dns: HostPort;
  write(clusterIP: string): Promise<void>;
}

async function setup(): Promise<Setup> {
  const pods = await startPods(['web-a', 'web-b', 'web-c'], { hosts: [2, 3, 4] });
  const dir = await tempManifestDir();
  const write = async (clusterIP: string): Promise<void> => {
    await writeManifest(dir, 'shop.yaml', [
      web(clusterIP),
      {
        ...endpointSlice({ service: 'web', namespace: 'shop', port: pods[0]!.port, endpoints: podEndpoints(pods) }),
        // Both Service ports resolve to the same pods' port, by name.
        ports: [
          { name: 'http', port: pods[0]!.port, protocol: 'TCP' },
          { name: 'admin', port: pods[0]!.port, protocol: 'TCP' },
        ],
      },
      ingress({ name: 'web', namespace: 'shop', rules: [{ host: 'shop.example', paths: [{ path: '/', service: 'web' }] }] }),
    ]);
  };
  await write('10.96.0.10');
  const sy = await startSwitchyard({ manifests: dir, args: ['--dns', '127.0.0.1:0', '--service-listen', '127.0.0.1:0', '--namespace', 'shop'] });
  return { sy, pods, dir, write, service: await addressOf(sy, 'service'), dns: await addressOf(sy, 'dns') };
}

function resolverFor(dns: HostPort): Resolver {
  const r = new Resolver({ timeout: 1000, tries: 2 });
  r.setServers([`${dns.host}:${dns.port}`]);
  return r;
}

describe('--dns', () => {
  it('answers A and SRV for a Service to a real resolver, and shows an edit within 1 s', async () => {
    const s = await setup();
    const resolver = resolverFor(s.dns);
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['10.96.0.10']);
    const srv = await resolver.resolveSrv('_http._tcp.web.shop.svc.cluster.local');
    expect(srv).toHaveLength(1);
    expect(srv[0]).toMatchObject({ name: 'web.shop.svc.cluster.local', port: 80, priority: 10, weight: 100 });
    await expect(resolver.resolve4('nope.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('example.com')).rejects.toMatchObject({ code: 'EREFUSED' });

    await s.write('10.96.0.99');
    const started = Date.now();
    await waitFor(async () => (await resolver.resolve4('web.shop.svc.cluster.local'))[0] === '10.96.0.99', { timeoutMs: 1000, what: 'the new cluster IP in DNS' });
    expect(Date.now() - started).toBeLessThanOrEqual(1000);
  });

  it('GET /api/v1/dns shows what the server answers; a bad question is a 400', async () => {
    const s = await setup();
    const ok = await getJson<{ rcode: string; answers: { name: string; type: string; data: string }[] }>(s.sy.admin, '/api/v1/dns?name=web.shop.svc.cluster.local&type=A');
    expect(ok.status).toBe(200);
    expect(ok.body.rcode).toBe('NOERROR');
    expect(ok.body.answers.map((a) => [a.type, a.data])).toEqual([['A', '10.96.0.10']]);
    expect((await getJson(s.sy.admin, '/api/v1/dns?type=A')).status).toBe(400);
    expect((await getJson(s.sy.admin, '/api/v1/dns?name=web.shop.svc.cluster.local&type=BOGUS')).status).toBe(400);
  });
});

describe('--service-listen', () => {
  it('routes absolute-form requests from an HTTP_PROXY client (undici ProxyAgent) by Service name, round-robin over one keep-alive connection', async () => {
    const s = await setup();
    // proxyTunnel false: plain-HTTP targets go as absolute-form requests (as curl -x and HTTP_PROXY clients send), not CONNECT.
    const agent = new ProxyAgent({ uri: `http://${s.service.host}:${s.service.port}`, proxyTunnel: false, connections: 1 });
    defer(() => agent.close());
    for (let i = 0; i < 9; i++) {
      const res = await undiciRequest(`http://web.shop.svc.cluster.local/p/${i}`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      const body = (await res.body.json()) as EchoBody;
      expect(body.url).toBe(`/p/${i}`);
      expect(body.headers['host']).toBe('web.shop.svc.cluster.local');
    }
    // kube-proxy would pin one keep-alive connection to one pod; here every request is balanced.
    expect(countsByPod(s.pods)).toEqual({ 'web-a': 3, 'web-b': 3, 'web-c': 3 });
  });

  it.each([
    ['full name', 'web.shop.svc.cluster.local', 200, undefined],
    ['<svc>.<ns>.svc', 'web.shop.svc', 200, undefined],
    ['<svc>.<ns>', 'web.shop', 200, undefined],
    ['bare name in --namespace', 'web', 200, undefined],
    ['upper case and a trailing dot', 'WEB.Shop.svc.cluster.local.', 200, undefined],
    ['the Service port by number', 'web.shop:9000', 200, undefined],
    ['a port the Service does not have', 'web.shop:81', 502, 'unknown-service-port'],
    ['an unknown Service in the cluster domain', 'nope.shop.svc.cluster.local', 502, 'unknown-service'],
    ['an unknown bare name', 'nope', 502, 'unknown-service'],
    ['an unknown Service in a known namespace', 'nope.shop', 502, 'unknown-service'],
    ['a name outside the cluster', 'example.com', 403, 'not-a-service'],
    ['an outside name with a port', 'www.example.org:80', 403, 'not-a-service'],
  ])('Host %s (%s) → %i', async (_label, host, status, reason) => {
    const s = await setup();
    const res = await get(s.service, host, '/x');
    expect(res.status).toBe(status);
    expect(res.headers['x-switchyard-error']).toBe(reason);
    const seen = s.pods.reduce((n, p) => n + p.requests.length, 0);
    expect(seen).toBe(status === 200 ? 1 : 0);
  });

  it('refuses CONNECT with 405 (never a tunnel)', async () => {
    const s = await setup();
    const res = await rawRequest(s.service, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(res.status).toBe(405);
  });

  it('the edge listener never routes by Service name', async () => {
    const s = await setup();
    expect((await get(s.sy.ingress, 'web.shop.svc.cluster.local', '/')).status).toBe(404);
    expect((await get(s.sy.ingress, 'shop.example', '/')).status).toBe(200);
  });
});
