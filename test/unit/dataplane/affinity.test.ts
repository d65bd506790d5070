import { describe, expect, it } from 'vitest';
import { endpointCookieValue, requestCookie, setCookieValue, timedSession, withSessionCookie } from '../../../src/dataplane/affinity-cookie.ts';
import { Affinity, affinityClient, cookieAffinity, withClientAffinity } from '../../../src/dataplane/affinity-request.ts';
import { AffinityTable, affinityBuffer } from '../../../src/dataplane/affinity-table.ts';
import { RoundRobin } from '../../../src/dataplane/balancer.ts';
import { DEFAULT_EDGE_POLICY } from '../../../src/dataplane/edge-policy.ts';
import type { RouteTarget } from '../../../src/snapshot/types.ts';
import { backendOf, ep } from './backend-fixtures.ts';

const web = backendOf('default/web:80', ['10.0.0.1', '10.0.0.2', '10.0.0.3'], { clientAffinitySeconds: 10800 });
const down = (keys: string[]) => ({ available: (k: string) => !keys.includes(k) });

function clientAffinity(client: string, seconds = 10800): Affinity {
  const a = new Affinity(undefined, undefined, undefined);
  a.client = client;
  a.clientSeconds = seconds;
  a.at = Date.now();
  return a;
}

describe('RoundRobin.pickAffine with ClientIP affinity', () => {
  it('keeps each client on its first endpoint while round-robin goes on for new clients', () => {
    const rr = new RoundRobin(undefined, new AffinityTable(affinityBuffer(1024)));
    const first = ['a', 'b', 'c', 'd'].map((c) => rr.pickAffine(web, undefined, clientAffinity(c))!.key);
    expect(first).toEqual(['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.1:8080']);
    for (let i = 0; i < 30; i++) expect(rr.pickAffine(web, undefined, clientAffinity('b'))!.key).toBe('10.0.0.2:8080');
  });

  it('moves a client whose endpoint is unavailable or excluded, and keeps it on the new one', () => {
    const rr = new RoundRobin(undefined, new AffinityTable(affinityBuffer(1024)));
    expect(rr.pickAffine(web, undefined, clientAffinity('a'))!.key).toBe('10.0.0.1:8080');
    const moved = rr.pickAffine(web, down(['10.0.0.1:8080']), clientAffinity('a'))!.key;
    expect(moved).not.toBe('10.0.0.1:8080');
    // Back up, the old pod does not take the client back: it stays where it moved.
    for (let i = 0; i < 5; i++) expect(rr.pickAffine(web, undefined, clientAffinity('a'))!.key).toBe(moved);
    const retried = rr.pickAffine(web, undefined, clientAffinity('a'), [moved])!.key;
    expect(retried).not.toBe(moved);
    expect(rr.pickAffine(web, undefined, clientAffinity('a'))!.key).toBe(retried);
  });

  it('does not remember a panic pick (every endpoint unavailable)', () => {
    const rr = new RoundRobin(undefined, new AffinityTable(affinityBuffer(1024)));
    const all = down(web.rotation.map((e) => e.key));
    rr.pickAffine(web, all, clientAffinity('a'));
    expect(rr.panicked).toBe(true);
    const next = rr.peek(web).endpoint!.key;
    expect(rr.pickAffine(web, undefined, clientAffinity('a'))!.key).toBe(next);
  });

  it('the endpoint a cookie names comes first, while it is available', () => {
    const rr = new RoundRobin();
    const named = new Affinity({ name: 'S', path: '/', maxAgeSeconds: undefined }, undefined, web.rotation[2]);
    for (let i = 0; i < 5; i++) expect(rr.pickAffine(web, undefined, named)!.key).toBe('10.0.0.3:8080');
    expect(rr.pickAffine(web, down(['10.0.0.3:8080']), named)!.key).not.toBe('10.0.0.3:8080');
  });
});

describe('cookie affinity', () => {
  it('names an endpoint by an opaque value, per backend, without its address', () => {
    const v = endpointCookieValue('default/web:80', '10.0.0.1:8080');
    expect(v).toMatch(/^[0-9a-f]{16}$/);
    expect(v).not.toContain('10.0.0.1');
    expect(endpointCookieValue('default/api:80', '10.0.0.1:8080')).not.toBe(v);
  });

  it.each([
    ['only cookie', ['Cookie', 'S=abc'], 'abc'],
    ['among others', ['cookie', 'a=1; S=abc; b=2'], 'abc'],
    ['a longer name with the same start is not it', ['cookie', 'SS=x; S=abc'], 'abc'],
    ['quoted', ['cookie', 'S="abc"'], 'abc'],
    ['in a second Cookie field (HTTP/2)', ['cookie', 'a=1', 'cookie', 'S=abc'], 'abc'],
    ['absent', ['cookie', 'a=1', 'x-s', 'S=abc'], undefined],
  ])('reads the request cookie: %s', (_n, headers, expected) => {
    expect(requestCookie(headers, 'S')).toBe(expected);
  });

  it('Set-Cookie: HttpOnly and Path always; Max-Age when set; Secure over TLS', () => {
    const value = endpointCookieValue(web.key, '10.0.0.2:8080');
    expect(setCookieValue({ name: 'S', path: '/app', maxAgeSeconds: undefined }, web, web.rotation[1]!, false)).toBe(`S=${value}; Path=/app; HttpOnly`);
    expect(setCookieValue({ name: 'S', path: '/', maxAgeSeconds: 60 }, web, web.rotation[1]!, true)).toBe(`S=${value}; Path=/; Max-Age=60; HttpOnly; Secure`);
  });

  it('finds the named endpoint in the route backend, or in the weighted backend that has it', () => {
    const api = backendOf('default/api:80', ['10.0.1.1', '10.0.1.2']);
    const backends = new Map([[web.key, web], [api.key, api]]);
    const cookie = { name: 'S', path: '/', maxAgeSeconds: undefined };
    const single: RouteTarget = { backend: web.key, problem: undefined, describe: '', ingress: 'default/x', sessionCookie: cookie };
    const hit = cookieAffinity(single, ['cookie', `S=${endpointCookieValue(web.key, '10.0.0.3:8080')}`], backends);
    expect(hit.named?.key).toBe('10.0.0.3:8080');
    expect(hit.target).toBeUndefined();
    expect(cookieAffinity(single, ['cookie', 'S=0000000000000000'], backends).named).toBeUndefined();
    const targets = [web, api].map((b) => ({ backend: b.key, problem: undefined, describe: b.key, ingress: 'default/x', weight: 1 }));
    const weighted: RouteTarget = { backend: undefined, problem: undefined, describe: '', ingress: 'default/x', weighted: targets, sessionCookie: cookie };
    const w = cookieAffinity(weighted, ['cookie', `S=${endpointCookieValue(api.key, '10.0.1.2:8080')}`], backends);
    expect(w.target).toBe(targets[1]);
    expect(w.named?.key).toBe('10.0.1.2:8080');
  });
});

describe('the client address of ClientIP affinity', () => {
  const trusting = { ...DEFAULT_EDGE_POLICY, trustedProxies: ['10.9.0.0/16'] };
  it.each([
    ['an untrusted peer: its own address, whatever it forwards', '192.0.2.1', '198.51.100.7', DEFAULT_EDGE_POLICY, '192.0.2.1'],
    ['a trusted peer without X-Forwarded-For: the peer', '10.9.0.1', undefined, trusting, '10.9.0.1'],
    ['a trusted peer: the last address it forwards', '10.9.0.1', '198.51.100.7', trusting, '198.51.100.7'],
    ['trusted proxies in the chain are skipped', '10.9.0.1', '203.0.113.5, 198.51.100.7, 10.9.0.2', trusting, '198.51.100.7'],
    ['all trusted: the first of them', '10.9.0.1', '10.9.0.3, 10.9.0.2', trusting, '10.9.0.3'],
  ])('%s', (_n, peer, xff, policy, expected) => {
    expect(affinityClient(peer, xff, policy)).toBe(expected);
  });

  it('no affinity object for a backend without affinity (nothing allocated)', () => {
    const plain = backendOf('default/plain:80', ['10.0.0.1']);
    expect(withClientAffinity(undefined, plain, { remoteAddress: '127.0.0.1', forwardedFor: undefined, trace: { startedAt: performance.now() } }, DEFAULT_EDGE_POLICY)).toBeUndefined();
    const a = withClientAffinity(undefined, web, { remoteAddress: '127.0.0.1', forwardedFor: undefined, trace: { startedAt: performance.now() } }, DEFAULT_EDGE_POLICY);
    expect(a?.client).toBe('127.0.0.1');
    expect(a?.clientSeconds).toBe(10800);
  });
});

describe('timed sessions (HTTPRoute absoluteTimeout of a Session cookie, idleTimeout)', () => {
  const hash = endpointCookieValue(web.key, '10.0.0.2:8080');
  const value = (began: number, last: number) => `${hash}.${began.toString(36)}.${last.toString(36)}`;
  const T = 1_800_000_000;

  it.each([
    ['alive: within both limits', { absoluteSeconds: 100, idleSeconds: 10 }, value(T - 50, T), { hash, began: T - 50, renew: false }],
    ['idle long enough to renew (an eighth of the limit, at least 1 s)', { idleSeconds: 16 }, value(T - 50, T - 2), { hash, began: T - 50, renew: true }],
    ['ended: idle', { idleSeconds: 10 }, value(T - 50, T - 10), undefined],
    ['ended: absolute', { absoluteSeconds: 100 }, value(T - 100, T - 1), undefined],
    ['garbled times', { idleSeconds: 10 }, `${hash}.zz!.1`, undefined],
    ['an untimed value', { idleSeconds: 10 }, hash, undefined],
    ['last before began', { idleSeconds: 10 }, value(T - 1, T - 5), undefined],
  ])('%s', (_n, limits, v, expected) => {
    expect(timedSession({ name: 'S', path: '/', maxAgeSeconds: undefined, ...limits }, v, T)).toEqual(expected);
  });

  it('the cookie is set on a new session, on a renewal (keeping its start), and not otherwise', () => {
    const cookie = { name: 'S', path: '/', maxAgeSeconds: undefined, idleSeconds: 60 };
    const endpoint = web.rotation[1]!;
    const now = Math.floor(Date.now() / 1000);
    expect(withSessionCookie([], cookie, { named: endpoint, began: 5, renew: false }, web, endpoint, false)).toEqual([]);
    const [, renewed] = withSessionCookie([], cookie, { named: endpoint, began: 5, renew: true }, web, endpoint, false);
    expect(renewed).toMatch(new RegExp(`^S=${hash}\\.5\\.[0-9a-z]+; Path=/; HttpOnly$`));
    const [, fresh] = withSessionCookie([], cookie, { named: undefined, began: 0, renew: false }, web, endpoint, false);
    const began = parseInt(/^S=[0-9a-f]{16}\.([0-9a-z]+)\./.exec(fresh!)![1]!, 36);
    expect(Math.abs(began - now)).toBeLessThanOrEqual(1);
  });

  it('a request whose timed session ended is treated as having no cookie', () => {
    const cookie = { name: 'S', path: '/', maxAgeSeconds: undefined, idleSeconds: 1 };
    const route: RouteTarget = { backend: web.key, problem: undefined, describe: '', ingress: 'default/x', sessionCookie: cookie };
    const now = Math.floor(Date.now() / 1000);
    const backends = new Map([[web.key, web]]);
    expect(cookieAffinity(route, ['cookie', `S=${value(now, now)}`], backends).named?.key).toBe('10.0.0.2:8080');
    expect(cookieAffinity(route, ['cookie', `S=${value(now - 10, now - 5)}`], backends).named).toBeUndefined();
  });
});
