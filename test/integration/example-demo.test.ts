/**
 * `npm start` as a user runs it: examples/demo/run.ts starts the demo's three pods (HTTP and a
 * WebSocket echo) and the real CLI, shows requests spread over the pods, and Ctrl-C (SIGINT) stops it
 * all, exit 0. Run with --free-ports and port-0 listeners, so it never takes the demo's fixed ports.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { hostPort, startExampleRunner } from '../helpers/example-runner.ts';
import { get, tryConnect } from '../helpers/http.ts';
import { REPO_ROOT, type HostPort } from '../helpers/switchyard.ts';
import { withTimeout } from '../helpers/wait.ts';

afterEach(cleanupAll);

const RUNNER = join(REPO_ROOT, 'examples', 'demo', 'run.ts');
const PODS = ['hello-7d9c5-a1', 'hello-7d9c5-b2', 'hello-7d9c5-c3'];

function echoOnce(ingress: HostPort, message: string): Promise<string> {
  const ws = new WebSocket(`ws://${ingress.host}:${ingress.port}/chat`, { headers: { host: 'demo.localhost' } });
  defer(() => ws.terminate());
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send(message));
      ws.once('message', (data) => {
        // Closed at once: an open tunnel would hold the proxy's drain on SIGINT.
        ws.once('close', () => resolve(String(data)));
        ws.close();
      });
      ws.once('error', reject);
    }),
    5000,
    'a WebSocket echo through the demo',
  );
}

describe('examples/demo/run.ts (npm start)', () => {
  it('starts the three pods, routes HTTP and WebSocket to them, and stops everything on SIGINT with exit 0', async () => {
    const runner = await startExampleRunner(RUNNER, ['--free-ports', '--listen', '127.0.0.1:0', '--listen-tls', '127.0.0.1:0', '--admin', '127.0.0.1:0']);
    const out = runner.output();
    const copy = /^Manifests: (\S+switchyard-example-\S+) \(a copy/m.exec(out)?.[1];
    expect(copy, out).toBeDefined();
    const shown = [...out.matchAll(/request \d: 200 hello from pod (\S+) \((127\.0\.0\.1[123]:\d+)\) GET \/hello\?n=\d/g)];
    expect(shown, out).toHaveLength(6);
    expect(new Set(shown.map((m) => m[1])), out).toEqual(new Set(PODS));
    // Round-robin that looks like it (issue #18), with the default workers (one shared cursor): a b c a b c.
    expect(shown.slice(3).map((m) => m[1]), out).toEqual(shown.slice(0, 3).map((m) => m[1]));
    expect(new Set(shown.slice(0, 3).map((m) => m[1])).size, out).toBe(3);
    const pods = [...new Set(shown.map((m) => m[2]!))].map(hostPort);
    const ingress = hostPort(/curl -H 'Host: demo\.localhost' http:\/\/(\S+)\//.exec(out)![1]!);
    const admin = hostPort(/Dashboard: http:\/\/(\S+)\/ui\//.exec(out)![1]!);

    const res = await get(ingress, 'demo.localhost', '/x');
    expect(res.status, res.body).toBe(200);
    expect(res.body).toMatch(/^hello from pod hello-7d9c5-(a1|b2|c3) \(127\.0\.0\.1[123]:\d+\) GET \/x\n$/);
    expect(await echoOnce(ingress, 'hi')).toMatch(/^hello-7d9c5-(a1|b2|c3): hi$/);

    runner.interrupt();
    const exit = await withTimeout(runner.exited, 10_000, 'the demo exiting after SIGINT');
    expect(exit, runner.output()).toEqual({ code: 0, signal: null });
    expect(existsSync(copy!), `${copy} removed on exit`).toBe(false);
    for (const target of [...pods, ingress, admin]) {
      expect(await tryConnect(target), `${target.host}:${target.port} after the demo stopped`).toBe('ECONNREFUSED');
    }
  });
});
