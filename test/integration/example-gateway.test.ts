/**
 * examples/gateway as a user runs it: its runner starts the pods and the real CLI with the Gateway's
 * listener on its own port, the HTTPRoute splits 90/10 between v1 and v2 with `x-canary: always` forcing
 * v2 (and the same canary written as Ingress annotations does the same on the Ingress listener), Ctrl-C
 * stops it all; and `npm start`'s demo shows the same split. Run with --free-ports and port-0 listeners.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { hostPort, startExampleRunner } from '../helpers/example-runner.ts';
import { get, tryConnect } from '../helpers/http.ts';
import { REPO_ROOT, type HostPort } from '../helpers/switchyard.ts';
import { withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

const ARGS = ['--free-ports', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0'];

/** The version (v1, v2) that answered each of `count` requests. */
async function versions(at: HostPort, host: string, count: number, headers: Record<string, string> = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await get(at, host, `/n/${i}`, headers);
    expect(res.status, res.body).toBe(200);
    out.push(/^hello from pod hello-(v\d)-/.exec(res.body)?.[1] ?? res.body);
  }
  return out;
}

describe('examples/gateway', () => {
  it('splits 90/10 on the Gateway listener, x-canary: always forces v2, the Ingress canary does the same; SIGINT stops it all', async () => {
    const runner = await startExampleRunner(join(REPO_ROOT, 'examples', 'gateway', 'run.ts'), ARGS);
    const out = runner.output();
    const copy = /^Manifests: (\S+switchyard-example-\S+) \(a copy/m.exec(out)?.[1];
    expect(copy, out).toBeDefined();
    expect(out).toContain('gateway.localhost via the Gateway, 20 requests: v1 ×18, v2 ×2; with x-canary: always: v2');
    expect(out).toContain('ingress.localhost via the Ingress annotations, 20 requests: v1 ×18, v2 ×2; with x-canary: always: v2');
    const gateway = hostPort(/gateway \(HTTPRoute gateway\.localhost\): http:\/\/(\S+)/.exec(out)![1]!);
    const ingress = hostPort(/ingress \(canary Ingress ingress\.localhost\): http:\/\/(\S+)/.exec(out)![1]!);
    const admin = hostPort(/admin: http:\/\/(\S+)/.exec(out)![1]!);
    expect(gateway.port).not.toBe(ingress.port);

    // Smooth weighted round-robin: exactly 9 of every 10 to v1, never two v2 in a row.
    const split = await versions(gateway, 'gateway.localhost', 100);
    expect(split.filter((v) => v === 'v2')).toHaveLength(10);
    expect(split.join(' ')).not.toContain('v2 v2');
    expect(new Set(await versions(gateway, 'gateway.localhost', 5, { 'x-canary': 'always' }))).toEqual(new Set(['v2']));
    // The HTTPRoute is the Gateway's: the Ingress listener does not serve it.
    expect((await get(ingress, 'gateway.localhost', '/')).status).toBe(404);
    expect(new Set(await versions(ingress, 'ingress.localhost', 5, { 'x-canary': 'never' }))).toEqual(new Set(['v1']));

    runner.interrupt();
    const exit = await withTimeout(runner.exited, 10_000, 'the example exiting after SIGINT');
    expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(copy!), `${copy} removed on exit`).toBe(false);
    for (const target of [gateway, ingress, admin]) expect(await tryConnect(target), `${target.host}:${target.port} after the example stopped`).toBe('ECONNREFUSED');
  });

  it('npm start\'s demo loads it too and shows the split', async () => {
    const runner = await startExampleRunner(join(REPO_ROOT, 'examples', 'demo', 'run.ts'), [...ARGS, '--listen-tls', '127.0.0.1:0']);
    const out = runner.output();
    // The demo runs the default worker threads, which share one weighted sequence: any 20 requests in a row hold exactly 2 canaries.
    const m = /Gateway API canary \(examples\/gateway\): gateway\.localhost on the Gateway listener (\S+), 20 requests: v1 ×(\d+), v2 ×(\d+); with x-canary: always: v2/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![2]) + Number(m![3])).toBe(20);
    expect(Number(m![3])).toBe(2);
    expect(out).toMatch(/curl -H 'x-canary: always' http:\/\/gateway\.localhost:\d+\//);
    expect(new Set(await versions(hostPort(m![1]!), 'gateway.localhost', 3, { 'x-canary': 'always' }))).toEqual(new Set(['v2']));
    runner.interrupt();
    expect(await withTimeout(runner.exited, 10_000, 'the demo exiting after SIGINT'), runner.output()).toEqual({ code: 0, signal: null });
  });
});
