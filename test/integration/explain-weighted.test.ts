/**
 * `explain` of weighted routes through the real CLI (examples/gateway: the Ingress canary and the
 * HTTPRoute 90/10) and live with --workers 2, where the next pick is read from the workers' shared
 * counter (dataplane/weighted.ts) and a request moves it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson } from '../helpers/http.ts';
import { serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody } from '../helpers/pods.ts';
import { REPO_ROOT, runSwitchyard, startSwitchyard } from '../helpers/switchyard.ts';
import { GATEWAY_ON_LOOPBACK, gateway, gatewayClass, gatewayPort, httpRoute, web } from './gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

const EXAMPLE = join(REPO_ROOT, 'examples/gateway');

interface WeightingJson {
  outcome: string;
  status: number | null;
  route: { kind: string; name: string; conditions: { satisfied: boolean; list: { on: string; name: string; satisfied: boolean }[] } | null };
  backend: { key: string } | null;
  weighting: { backends: { service: string; weight: number; share: number; next: boolean }[]; position: number; period: number } | null;
  losers: { rule: string; reason: string }[];
}

describe('switchyard explain of weighted routes (CLI, examples/gateway)', () => {
  it('the Ingress canary: forwarded to the weighted pick, weights listed, the header rules lost for their condition', async () => {
    const run = await runSwitchyard(['explain', '--manifests', EXAMPLE, 'http://ingress.localhost/']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Result: forwarded to canary/v1:80');
    expect(run.stdout).not.toContain('503');
    expect(run.stdout).toMatch(/canary\/v1:80 {2}weight 90 \(90 %\) {2}<- next/);
    expect(run.stdout).toMatch(/canary\/v2:80 {2}weight 10 \(10 %\)\n/);
    expect(run.stdout).toContain('header x-canary = "always" does not hold for this request');
  });

  it('a header forcing the canary (-H), and the HTTPRoute on its Gateway port, as JSON', async () => {
    const forced = await runSwitchyard(['explain', '--manifests', EXAMPLE, '-H', 'x-canary: always', '--output', 'json', 'http://ingress.localhost/']);
    expect(forced.code, forced.stderr).toBe(0);
    const f = JSON.parse(forced.stdout) as WeightingJson;
    expect(f).toMatchObject({ outcome: 'forward', backend: { key: 'canary/v2:80' }, weighting: null, route: { kind: 'Ingress', name: 'canary/hello-canary' } });
    expect(f.route.conditions).toEqual({ satisfied: true, list: [{ on: 'header', name: 'x-canary', value: 'always', regex: false, satisfied: true }] });

    const gw = await runSwitchyard(['explain', '--manifests', EXAMPLE, '--output', 'json', 'http://gateway.localhost:8081/hello']);
    expect(gw.code, gw.stderr).toBe(0);
    const g = JSON.parse(gw.stdout) as WeightingJson;
    expect(g).toMatchObject({ outcome: 'forward', backend: { key: 'canary/v1:80' }, route: { kind: 'HTTPRoute', name: 'canary/hello', conditions: null }, weighting: { position: 0, period: 10 } });
    expect(g.weighting!.backends).toEqual([
      { service: 'canary/v1:80', backend: 'canary/v1:80', problem: null, weight: 90, share: 90, next: true },
      { service: 'canary/v2:80', backend: 'canary/v2:80', problem: null, weight: 10, share: 10, next: false },
    ]);
  });
});

describe('GET /api/v1/explain of a weighted route with --workers 2', () => {
  it('names the next pick from the shared counter; requests through either worker move it', async () => {
    const [stable, canary] = await startPods(['stable', 'canary'], { hosts: [2, 3] });
    const port = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'split.yaml', [
      gatewayClass(),
      gateway('shop', web(port.port)),
      ...serviceWithPods('stable', 'shop', [stable!]),
      ...serviceWithPods('canary', 'shop', [canary!]),
      httpRoute('split', 'shop', { rules: [{ backendRefs: [{ name: 'stable', port: 80, weight: 90 }, { name: 'canary', port: 80, weight: 10 }] }] }),
    ]);
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2', ...GATEWAY_ON_LOOPBACK] });
    const ask = async () => (await getJson<WeightingJson>(sy.admin, `/api/v1/explain?url=${encodeURIComponent(`http://any.example:${port.port}/`)}`)).body;

    expect(await ask()).toMatchObject({ outcome: 'forward', backend: { key: 'shop/stable:80' }, weighting: { position: 0, period: 10 } });
    for (let i = 0; i < 5; i++) expect((await get(port, 'any.example', '/')).json<EchoBody>().pod).toBe('stable');
    const next = await ask();
    expect(next).toMatchObject({ backend: { key: 'shop/canary:80' }, weighting: { position: 5 } });
    // Asking does not move it; the request does, to the backend explain named.
    expect((await ask()).weighting!.position).toBe(5);
    expect((await get(port, 'any.example', '/')).json<EchoBody>().pod).toBe('canary');
    expect((await ask()).weighting!.position).toBe(6);
  });
});
