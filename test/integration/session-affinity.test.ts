/**
 * Session affinity through the real CLI with two worker threads: a Service's `sessionAffinity: ClientIP`
 * (clients told apart by their loopback source address), and cookie affinity from the Ingress
 * annotations and an HTTPRoute's `sessionPersistence`. Every request goes on a new connection, so the
 * kernel spreads them over both workers.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { endpointSlice, ingress, podEndpoints, service, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, unusedPort, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';
import { gateway, gatewayClass, httpRoute } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

interface Answer {
  readonly pod: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
}

/** One GET on a new connection from source address `from`. */
function fetchFrom(target: HostPort, from: string, host: string, path = '/', cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.host, port: target.port, localAddress: from, path, headers: { host, ...(cookie ? { cookie } : {}) }, agent: false });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => {
        req.socket?.destroy();
        resolve({ pod: String(res.headers['x-pod'] ?? ''), status: res.statusCode ?? 0, headers: res.headers });
      });
    });
    req.end();
  });
}

async function podsOf(target: HostPort, from: string, host: string, n: number, cookie?: string, path = '/'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await fetchFrom(target, from, host, path, cookie)).pod);
  return out;
}

/** A Service of port 80 over `pods`, `notReady` of them not ready, with ClientIP affinity when `timeoutSeconds` is given. */
function svc(name: string, pods: readonly Pod[], notReady: readonly string[] = [], timeoutSeconds?: number): Manifest[] {
  const s = service({ name, namespace: 'shop' });
  const spec = s['spec'] as Manifest;
  const affinity = timeoutSeconds === undefined ? {} : { sessionAffinity: 'ClientIP', ...(timeoutSeconds > 0 ? { sessionAffinityConfig: { clientIP: { timeoutSeconds } } } : {}) };
  return [{ ...s, spec: { ...spec, ...affinity } }, endpointSlice({ service: name, namespace: 'shop', port: pods[0]!.port, endpoints: podEndpoints(pods, notReady) })];
}

function annotated(m: Manifest, annotations: Record<string, string>): Manifest {
  return { ...m, metadata: { ...(m['metadata'] as Manifest), annotations } };
}

/** Where the listener of `role` listens, from its `listening` log line. */
async function addressOf(sy: RunningSwitchyard, role: string): Promise<HostPort> {
  const address = (await sy.waitForLog((l) => l['role'] === role && typeof l['address'] === 'string'))['address'] as string;
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** Both worker threads have answered requests (so the requests before were served by both). */
async function bothWorkersServed(sy: RunningSwitchyard): Promise<void> {
  await waitFor(async () => {
    const { workers } = (await (await fetch(`http://${sy.admin.host}:${sy.admin.port}/api/v1/workers`)).json()) as { workers: { requests: number }[] };
    return workers.length === 2 && workers.every((w) => w.requests > 0);
  }, { timeoutMs: 4000, what: 'both workers to have served requests' });
}

const setCookie = (a: Answer): string | undefined => a.headers['set-cookie']?.[0];
const cookiePair = (header: string): string => header.split(';')[0]!;

describe('session affinity', () => {
  it('ClientIP: one client stays on one pod across workers and connections, moves when its pod is not ready, and after its timeout', async () => {
    const pods = await startPods(['pod-a', 'pod-b', 'pod-c'], { hosts: [2, 3, 4] });
    const dir = await tempManifestDir();
    const manifests = (notReady: string[]) => [
      ...svc('sticky', pods, notReady, 0), // the default timeout, 10800 s
      ...svc('brief', pods, [], 1),
      ingress({ name: 'shop', namespace: 'shop', rules: [{ host: 'sticky.example', paths: [{ path: '/', service: 'sticky' }] }, { host: 'brief.example', paths: [{ path: '/', service: 'brief' }] }] }),
    ];
    await writeManifest(dir, 'shop.yaml', manifests([]));
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2', '--service-listen', '127.0.0.1:0'] });
    const serviceListener = await addressOf(sy, 'service');

    const first = await podsOf(sy.ingress, '127.0.0.50', 'sticky.example', 30);
    expect(new Set(first).size).toBe(1);
    await bothWorkersServed(sy);
    const home = first[0]!;
    expect(home).toMatch(/^pod-/);
    // New clients go on round-robin: among four clients, more than one pod.
    const others = await Promise.all(['127.0.0.51', '127.0.0.52', '127.0.0.53'].map((from) => podsOf(sy.ingress, from, 'sticky.example', 5)));
    for (const seen of others) expect(new Set(seen).size).toBe(1);
    expect(new Set([home, ...others.map((s) => s[0]!)]).size).toBeGreaterThan(1);
    // The Service listener (routing by Service name) keeps the same client on the same pod: one table.
    expect(new Set(await podsOf(serviceListener, '127.0.0.50', 'sticky.shop.svc.cluster.local', 10))).toEqual(new Set([home]));

    // Its pod not ready: the client moves, and stays where it moved.
    await writeManifest(dir, 'shop.yaml', manifests([home]));
    const moved = await waitFor(async () => {
      const a = await fetchFrom(sy.ingress, '127.0.0.50', 'sticky.example');
      return a.pod !== home && a.pod;
    }, { timeoutMs: 5000, what: `the client to leave ${home}` });
    // Both workers have the new snapshot once each has been seen to answer without the pod.
    expect(new Set(await podsOf(sy.ingress, '127.0.0.50', 'sticky.example', 20))).toEqual(new Set([moved]));

    // timeoutSeconds 1: within it the client stays; after it, the next round-robin turn decides.
    const x = (await fetchFrom(sy.ingress, '127.0.0.60', 'brief.example')).pod;
    const y = (await fetchFrom(sy.ingress, '127.0.0.61', 'brief.example')).pod; // moves the shared cursor on
    expect(y).not.toBe(x);
    expect((await fetchFrom(sy.ingress, '127.0.0.60', 'brief.example')).pod).toBe(x);
    await sleep(1300);
    expect((await fetchFrom(sy.ingress, '127.0.0.60', 'brief.example')).pod).not.toBe(x);
  });

  it('cookie: the first response sets it, later requests with it keep their pod; a gone pod gets a new one and a new cookie', async () => {
    const pods = await startPods(['pod-a', 'pod-b', 'pod-c'], { hosts: [5, 6, 7] });
    const gatewayPort = await unusedPort('127.0.0.1');
    const dir = await tempManifestDir();
    const manifests = (notReady: string[]) => [
      gatewayClass(),
      gateway('shop', [{ name: 'web', port: gatewayPort, protocol: 'HTTP' }]),
      ...svc('web', pods, notReady),
      annotated(ingress({ name: 'shop', namespace: 'shop', rules: [{ host: 'cookie.example', paths: [{ path: '/app', service: 'web' }] }] }), {
        'switchyard.dev/affinity': 'cookie',
        'switchyard.dev/session-cookie-max-age': '600',
      }),
      annotated(ingress({ name: 'bad', namespace: 'shop', rules: [{ host: 'bad.example', paths: [{ path: '/', service: 'web' }] }] }), {
        'switchyard.dev/affinity': 'cookie',
        'switchyard.dev/session-cookie-name': 'no spaces allowed',
        'switchyard.dev/session-cookie-max-age': '-5',
      }),
      httpRoute('persist', 'shop', {
        hostnames: ['gw.example'],
        rules: [{ backendRefs: [{ name: 'web', port: 80 }], sessionPersistence: { sessionName: 'gw-session', absoluteTimeout: '1h', cookieConfig: { lifetimeType: 'Permanent' } } }],
      }),
      httpRoute('idle', 'shop', { hostnames: ['idle.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }], sessionPersistence: { idleTimeout: '1s' } }] }),
      httpRoute('header', 'shop', { hostnames: ['header.example'], rules: [{ backendRefs: [{ name: 'web', port: 80 }], sessionPersistence: { type: 'Header', sessionName: 'x-session' } }] }),
    ];
    await writeManifest(dir, 'shop.yaml', manifests([]));
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2', '--gateway-address', '127.0.0.1'] });
    const gw = { host: '127.0.0.1', port: gatewayPort };

    const first = await fetchFrom(sy.ingress, '127.0.0.1', 'cookie.example', '/app/x');
    const header = setCookie(first)!;
    expect(header).toMatch(/^SWYAFFINITY=[0-9a-f]{16}; Path=\/app; Max-Age=600; HttpOnly$/);
    expect(header).not.toContain('127.0.0');
    const cookie = cookiePair(header);
    for (let i = 0; i < 20; i++) {
      const a = await fetchFrom(sy.ingress, '127.0.0.1', 'cookie.example', '/app/x', `other=1; ${cookie}`);
      expect(a.pod).toBe(first.pod);
      expect(setCookie(a)).toBeUndefined();
    }
    await bothWorkersServed(sy);
    // Without the cookie, round-robin: not always the same pod.
    expect(new Set(await podsOf(sy.ingress, '127.0.0.1', 'cookie.example', 6, undefined, '/app')).size).toBeGreaterThan(1);

    // Its pod not ready: the request moves and gets a new cookie, which then holds.
    await writeManifest(dir, 'shop.yaml', manifests([first.pod]));
    const moved = await waitFor(async () => {
      const a = await fetchFrom(sy.ingress, '127.0.0.1', 'cookie.example', '/app/x', cookie);
      return a.pod !== first.pod && a;
    }, { timeoutMs: 5000, what: `the cookie's request to leave ${first.pod}` });
    const renewed = setCookie(moved)!;
    expect(renewed).toMatch(/^SWYAFFINITY=[0-9a-f]{16}; Path=\/app; Max-Age=600; HttpOnly$/);
    expect(cookiePair(renewed)).not.toBe(cookie);
    expect(new Set(await podsOf(sy.ingress, '127.0.0.1', 'cookie.example', 10, cookiePair(renewed), '/app'))).toEqual(new Set([moved.pod]));

    // HTTPRoute sessionPersistence: a Permanent cookie named by sessionName.
    const persisted = await waitFor(() => fetchFrom(gw, '127.0.0.1', 'gw.example').catch(() => undefined), { what: 'the Gateway listener' });
    const gwHeader = setCookie(persisted)!;
    expect(gwHeader).toMatch(/^gw-session=[0-9a-f]{16}; Path=\/; Max-Age=3600; HttpOnly$/);
    expect(new Set(await podsOf(gw, '127.0.0.1', 'gw.example', 10, cookiePair(gwHeader)))).toEqual(new Set([persisted.pod]));

    // idleTimeout: the session's times ride in the cookie; one idle past it ends, and a new one begins.
    const idle = setCookie(await fetchFrom(gw, '127.0.0.1', 'idle.example'))!;
    const timed = /^SWYAFFINITY=([0-9a-f]{16})\.([0-9a-z]+)\.([0-9a-z]+); Path=\/; HttpOnly$/;
    expect(idle).toMatch(timed);
    await sleep(1200);
    const after = setCookie(await fetchFrom(gw, '127.0.0.1', 'idle.example', '/', cookiePair(idle)))!;
    expect(after).toMatch(timed);
    expect(parseInt(timed.exec(after)![2]!, 36)).toBeGreaterThan(parseInt(timed.exec(idle)![2]!, 36));

    // Bad annotations and an unsupported type are diagnostics; those routes still answer.
    expect((await fetchFrom(sy.ingress, '127.0.0.1', 'bad.example')).status).toBe(200);
    const unsupported = await fetchFrom(gw, '127.0.0.1', 'header.example');
    expect([unsupported.status, setCookie(unsupported)]).toEqual([200, undefined]);
    const config = await (await fetch(`http://${sy.admin.host}:${sy.admin.port}/api/v1/config`)).json() as { diagnostics: { code: string; name: string; message: string }[] };
    const about = (name: string) => config.diagnostics.filter((d) => d.name === name).map((d) => `${d.code} ${d.message}`);
    expect(about('bad')).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ANNOTATION_INVALID switchyard.dev\/session-cookie-name: /), expect.stringMatching(/^ANNOTATION_INVALID switchyard.dev\/session-cookie-max-age: /)]),
    );
    expect(about('header')).toEqual(expect.arrayContaining([expect.stringMatching(/^HTTPROUTE_SESSION_PERSISTENCE_UNSUPPORTED spec.rules\[0\].sessionPersistence.type/)]));
    expect(about('shop')).toEqual([]);
  });
});
