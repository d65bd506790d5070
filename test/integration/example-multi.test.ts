/**
 * `npm run example:multi` as a user runs it: examples/multi/run.ts starts the example's pods and the
 * real CLI, every route reaches the pod the manifests say, and Ctrl-C (SIGINT) stops it all, exit 0.
 * Run with --free-ports and port-0 listeners, so it never takes the example's fixed ports.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { hostPort, startExampleRunner } from '../helpers/example-runner.ts';
import { get, tryConnect } from '../helpers/http.ts';
import { REPO_ROOT } from '../helpers/switchyard.ts';
import { withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

const RUNNER = join(REPO_ROOT, 'examples', 'multi', 'run.ts');

describe('examples/multi/run.ts (npm run example:multi)', () => {
  it('starts the pods, routes each route to its pod, and stops everything on SIGINT with exit 0', async () => {
    const runner = await startExampleRunner(RUNNER, ['--free-ports', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    const out = runner.output();
    const copy = /^Manifests: (\S+switchyard-example-\S+) \(a copy/m.exec(out)?.[1];
    expect(copy, out).toBeDefined();
    const ingress = hostPort(/ingress: http:\/\/(\S+)/.exec(out)![1]!);
    const admin = hostPort(/admin: http:\/\/(\S+)/.exec(out)![1]!);
    const pods = [...out.matchAll(/^ {2}(\w+)\/([\w-]+) +(127\.0\.0\.\d+:\d+)/gm)].map((m) => ({ namespace: m[1]!, name: m[2]!, ...hostPort(m[3]!) }));
    expect(pods.map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'shop/storefront-6d8f7-x1', 'shop/storefront-6d8f7-x2', 'shop/storefront-6d8f7-x3',
      'shop/cart-59c4b-k1', 'shop/cart-59c4b-k1', 'shop/cart-59c4b-k2', 'shop/cart-59c4b-k2',
      'auth/login-7b9d6-p1', 'auth/login-7b9d6-p2', 'default/fallback-84f5c-a1',
    ]);
    // Its own sample requests went through: 9 answered by a pod, /reviews by Switchyard's 503.
    expect(out.match(/→ 200 hello from pod /g), out).toHaveLength(9);
    expect(out).toContain('→ 503 ');

    /** `<pod name> <address:port>` of the pod that answered. */
    const podOf = async (host: string, path: string): Promise<string> => {
      const res = await get(ingress, host, path);
      expect(res.status, `${host}${path}: ${res.body}`).toBe(200);
      const m = /^hello from pod (\S+) \((\S+)\) GET (\S+)/.exec(res.body);
      expect(m, res.body).not.toBeNull();
      expect(m![3], `${host}${path}`).toBe(path);
      return `${m![1]} ${m![2]}`;
    };
    const at = (i: number): string => `${pods[i]!.name} ${pods[i]!.host}:${pods[i]!.port}`;
    const storefront = new Set<string>();
    for (let i = 0; i < 4; i++) storefront.add(await podOf('shop.example.com', `/products/${i}`));
    expect([...storefront].sort()).toEqual([at(0), at(1)]); // x3 is not ready
    expect([at(0), at(1)]).toContain(await podOf('www.shop.example.com', '/'));
    expect([at(0), at(1)]).toContain(await podOf('shop.example.com', '/admin'));
    expect([at(3), at(5)]).toContain(await podOf('shop.example.com', '/cart/items')); // the cart pods' http port
    expect([at(4), at(6)]).toContain(await podOf('shop.example.com', '/cart/metrics')); // and their metrics port
    for (const path of ['/', '/x']) expect(await podOf('login.example.com', path)).toBe(at(7)); // p2 is not ready
    expect(await podOf('shop.example.com', '/login')).toBe(at(7));
    expect(await podOf('anything.example', '/')).toBe(at(9));
    const reviews = await get(ingress, 'shop.example.com', '/reviews');
    expect(reviews.status).toBe(503);
    expect(reviews.headers['x-switchyard-error']).toBe('unknown-service');

    runner.interrupt();
    const exit = await withTimeout(runner.exited, 10_000, 'the runner exiting after SIGINT');
    expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(copy!), `${copy} removed on exit`).toBe(false);
    for (const target of [...pods, ingress, admin]) {
      expect(await tryConnect(target), `${target.host}:${target.port} after the runner stopped`).toBe('ECONNREFUSED');
    }
  });
});
