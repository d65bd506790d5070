/**
 * Issue 14, item 4: encoded paths must not route around a rule. The probes of the issue, as raw bytes
 * through the real CLI, against an `/admin` Prefix rule (Service admin) and a `/` catch-all (Service
 * web): which pod got each request and the path it saw, for each --escaped-slashes mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { h2connect, h2request } from '../helpers/h2-server.ts';
import { rawRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { startSwitchyard, type HostPort, type RunningSwitchyard } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const HOST = 'probe.example';

interface Setup {
  sy: RunningSwitchyard;
  admin: Pod;
  web: Pod;
}

async function adminAndCatchAll(args: readonly string[] = []): Promise<Setup> {
  const [admin] = await startPods(['admin-1'], { hosts: [2] });
  const [web] = await startPods(['web-1'], { hosts: [3] });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'all.yaml', [
    ...serviceWithPods('admin', 'sec', [admin!]),
    ...serviceWithPods('web', 'sec', [web!]),
    ingress({
      name: 'site',
      namespace: 'sec',
      rules: [
        {
          host: HOST,
          paths: [
            { path: '/admin', service: 'admin' },
            { path: '/', service: 'web' },
          ],
        },
      ],
    }),
  ]);
  return { sy: await startSwitchyard({ manifests: dir, args }), admin: admin!, web: web! };
}

/** Sends `GET <target>` as raw bytes; resolves with the status, the error reason and who saw what. */
async function probe(s: Setup, target: string, listener: HostPort = s.sy.ingress, host = HOST): Promise<{ status: number | undefined; error: string | undefined; pod: string | undefined; seen: string | undefined }> {
  const before = s.admin.requests.length + s.web.requests.length;
  const res = await rawRequest(listener, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  const seen = [...s.admin.requests, ...s.web.requests];
  expect(seen.length - before, `${target}: requests forwarded`).toBeLessThanOrEqual(1);
  const pod = res.headers['x-pod'];
  const url = pod === 'admin-1' ? s.admin.requests.at(-1)?.url : pod === 'web-1' ? s.web.requests.at(-1)?.url : undefined;
  return { status: res.status, error: res.headers['x-switchyard-error'], pod, seen: url };
}

/** The probes of the issue (item 4) → [pod, path the pod saw] with the defaults (keep, merge). */
const DEFAULT_ROUTES: readonly [probe: string, pod: string, seen: string][] = [
  ['//admin', 'admin-1', '/admin'],
  ['/%61dmin', 'admin-1', '/admin'],
  ['/admin%2f', 'admin-1', '/admin%2F'],
  ['/x/%2e%2e/admin', 'admin-1', '/admin'],
  ['/x/.%2e/admin', 'admin-1', '/admin'],
  ['/x/..%2fadmin', 'admin-1', '/admin'],
  ['/%2e%2e/admin', 'admin-1', '/admin'],
  // Beyond the issue: a literal and an encoded backslash, a kept slash inside a segment, and controls.
  ['/x/..\\admin', 'admin-1', '/admin'],
  ['/x/..%5cadmin', 'admin-1', '/admin'],
  ['/admin%2fusers?next=%2e%2e', 'admin-1', '/admin%2Fusers?next=%2e%2e'],
  ['/admin/../public/%7Ea', 'web-1', '/public/~a'],
  ['/adminx', 'web-1', '/adminx'],
  ['/', 'web-1', '/'],
];

describe('encoded paths route by the normalized path (defaults: --escaped-slashes keep, --merge-slashes true)', () => {
  it('every probe reaches the /admin rule, and the pod sees the normalized path; controls reach the catch-all', async () => {
    const s = await adminAndCatchAll();
    for (const [target, pod, seen] of DEFAULT_ROUTES) {
      expect(await probe(s, target), target).toEqual({ status: 200, error: undefined, pod, seen });
    }
    expect(s.admin.requests).toHaveLength(DEFAULT_ROUTES.filter((r) => r[1] === 'admin-1').length);
  });

  it('a malformed escape (%zz, %4) is answered 400 bad-path and nothing is forwarded', async () => {
    const s = await adminAndCatchAll();
    for (const target of ['/%zz', '/admin%4', '/x/%2', '/a%g1/b']) {
      expect(await probe(s, target), target).toEqual({ status: 400, error: 'bad-path', pod: undefined, seen: undefined });
    }
    expect(s.admin.connections + s.web.connections).toBe(0);
  });

  it('HTTP/2 requests are normalized the same way', async () => {
    const s = await adminAndCatchAll();
    const session = await h2connect(`http://127.0.0.1:${s.sy.ingress.port}`);
    for (const [target, seen] of [['/x/..%2fadmin', '/admin'], ['/%61dmin/a%2fb', '/admin/a%2Fb']] as const) {
      const res = await h2request(session, { ':path': target, ':authority': HOST });
      expect(res.status, target).toBe(200);
      expect(res.headers['x-pod'], target).toBe('admin-1');
      expect(s.admin.requests.at(-1)?.url, target).toBe(seen);
    }
    const bad = await h2request(session, { ':path': '/%zz', ':authority': HOST });
    expect(bad.status).toBe(400);
    expect(bad.headers['x-switchyard-error']).toBe('bad-path');
    expect(s.web.requests).toHaveLength(0);
  });

  it('the service listener normalizes too (an absolute-form target by Service name)', async () => {
    const s = await adminAndCatchAll(['--service-listen', '127.0.0.1:0', '--namespace', 'sec']);
    const line = await s.sy.waitForLog((l) => l['role'] === 'service' && typeof l['address'] === 'string');
    const address = line['address'] as string;
    const service = { host: address.slice(0, address.lastIndexOf(':')), port: Number(address.slice(address.lastIndexOf(':') + 1)) };
    const res = await rawRequest(service, 'GET http://web.sec/x/%2e%2e/%61bout?q=%2e HTTP/1.1\r\nHost: web.sec\r\nConnection: close\r\n\r\n');
    expect(res.status, res.raw).toBe(200);
    expect(s.web.requests.map((r) => r.url)).toEqual(['/about?q=%2e']);
    const bad = await rawRequest(service, 'GET http://web.sec/%zz HTTP/1.1\r\nHost: web.sec\r\nConnection: close\r\n\r\n');
    expect(bad.status).toBe(400);
    expect(bad.headers['x-switchyard-error']).toBe('bad-path');
    expect(s.web.requests).toHaveLength(1);
  });
});

describe('--escaped-slashes reject', () => {
  it('answers 400 bad-path to %2F and %5C in the path and forwards nothing; the other probes still reach /admin', async () => {
    const s = await adminAndCatchAll(['--escaped-slashes', 'reject']);
    for (const target of ['/admin%2f', '/x/..%2fadmin', '/admin%2Fusers', '/x/..%5Cadmin']) {
      expect(await probe(s, target), target).toEqual({ status: 400, error: 'bad-path', pod: undefined, seen: undefined });
    }
    expect(s.admin.connections + s.web.connections).toBe(0);
    for (const [target, seen] of [['//admin', '/admin'], ['/%61dmin', '/admin'], ['/x/%2e%2e/admin', '/admin'], ['/x/.%2e/admin', '/admin'], ['/%2e%2e/admin', '/admin'], ['/admin?x=%2f', '/admin?x=%2f']] as const) {
      expect(await probe(s, target), target).toEqual({ status: 200, error: undefined, pod: 'admin-1', seen });
    }
  });
});

describe('--escaped-slashes unescape --merge-slashes false', () => {
  it('decodes %2F to / before routing and forwarding; adjacent slashes are kept (and //admin is not the /admin rule)', async () => {
    const s = await adminAndCatchAll(['--escaped-slashes', 'unescape', '--merge-slashes', 'false']);
    const cases: readonly [probe: string, pod: string, seen: string][] = [
      ['//admin', 'web-1', '//admin'],
      ['/%61dmin', 'admin-1', '/admin'],
      ['/admin%2f', 'admin-1', '/admin/'],
      ['/x/%2e%2e/admin', 'admin-1', '/admin'],
      ['/x/.%2e/admin', 'admin-1', '/admin'],
      ['/x/..%2fadmin', 'admin-1', '/admin'],
      ['/%2e%2e/admin', 'admin-1', '/admin'],
      ['/admin%2Fa%2F%2Fb', 'admin-1', '/admin/a//b'],
      ['/admin%5Cx', 'admin-1', '/admin\\x'],
    ];
    for (const [target, pod, seen] of cases) {
      expect(await probe(s, target), target).toEqual({ status: 200, error: undefined, pod, seen });
    }
  });
});
