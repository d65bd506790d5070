/**
 * Regular expressions in HTTPRoute matches cannot be turned against the proxy (issue 17, bad input: "an
 * invalid regular expression (RE2-safe: no catastrophic backtracking, test it with a pathological
 * pattern)"). Patterns exponential for a backtracking engine are run by the linear-time engine: a request
 * built to trigger the blow-up is answered at once and the proxy keeps serving; a pattern the linear engine
 * cannot run (a backreference) is a diagnostic, never a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, getJson, request } from '../helpers/http.ts';
import { serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody } from '../helpers/pods.ts';
import { startSwitchyard } from '../helpers/switchyard.ts';
import { GATEWAY_ON_LOOPBACK, gateway, gatewayClass, gatewayPort, httpRoute, web } from '../integration/gateway-api/gateway-manifests.ts';

afterEach(cleanupAll);

describe('HTTPRoute regular expressions (ReDoS)', () => {
  it('answers requests built for catastrophic backtracking at once, and refuses non-linear patterns as diagnostics', async () => {
    const [evil, safe] = await startPods(['evil', 'safe'], { hosts: [2, 3] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    await writeManifest(dir, 'redos.yaml', [
      gatewayClass(),
      gateway('shop', web(gw.port)),
      ...serviceWithPods('evil', 'shop', [evil!]),
      ...serviceWithPods('safe', 'shop', [safe!]),
      httpRoute('redos', 'shop', {
        rules: [
          { matches: [{ path: { type: 'RegularExpression', value: '/(a+)+' } }], backendRefs: [{ name: 'evil', port: 80 }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/h' }, headers: [{ name: 'x-id', type: 'RegularExpression', value: '(a|aa)+' }] }], backendRefs: [{ name: 'evil', port: 80 }] },
          { matches: [{ path: { type: 'RegularExpression', value: '/(x)\\1' } }], backendRefs: [{ name: 'evil', port: 80 }] },
          { backendRefs: [{ name: 'safe', port: 80 }] },
        ],
      }),
    ]);
    // Two worker threads: the linear engine's V8 flag must hold in each of them.
    const sy = await startSwitchyard({ manifests: dir, args: ['--workers', '2', ...GATEWAY_ON_LOOPBACK] });
    // 2^60 steps for a backtracking engine; each request is bounded (5 s) and must be answered by `safe`.
    const probes = [
      get(gw, 'any.example', `/${'a'.repeat(60)}!`),
      request(gw, '/h', { host: 'any.example', headers: { 'x-id': `${'a'.repeat(60)}!` }, timeoutMs: 5000 }),
      get(gw, 'any.example', '/xx'),
    ];
    for (const res of await Promise.all(probes)) expect(res.json<EchoBody>().pod).toBe('safe');
    expect(evil!.requests).toHaveLength(0);
    expect((await get(gw, 'any.example', '/aaa')).json<EchoBody>().pod).toBe('evil');
    const config = await getJson<{ diagnostics: { code: string; message: string }[] }>(sy.admin, '/api/v1/config');
    expect(config.body.diagnostics.filter((d) => d.code === 'HTTPROUTE_REGEX_INVALID').map((d) => d.message)).toEqual([
      'spec.rules[2].matches[0]: path "/(x)\\\\1" is not a usable regular expression: backreferences, lookahead and lookbehind are not supported (patterns must run in linear time); this match is not served',
    ]);
  });
});
