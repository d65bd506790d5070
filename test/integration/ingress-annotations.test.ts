/**
 * The Ingress annotations users migrate with from ingress-nginx, through the real CLI and real pods:
 * rewrite-target, canary by weight and by header, request and response headers, permanent redirects,
 * and bad values reported in /api/v1/config and by `switchyard check` while the rest keeps routing.
 */
import { Agent, request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { getJson, request } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest, type Manifest } from '../helpers/manifests.ts';
import { startPods, type EchoBody } from '../helpers/pods.ts';
import { runSwitchyard, startSwitchyard, type HostPort } from '../helpers/switchyard.ts';

afterEach(cleanupAll);

const NS = 'shop';

/** An Ingress of `host` path `/app` (or `path`) to `service`, with `switchyard.dev/*` annotations. */
function annotated(name: string, host: string, service: string, annotations: Record<string, string>, path = '/app'): Manifest {
  const m = ingress({ name, namespace: NS, rules: [{ host, paths: [{ path, service }] }] });
  const entries = Object.entries(annotations).map(([k, v]) => [`switchyard.dev/${k}`, v]);
  return { ...m, metadata: { name, namespace: NS, annotations: Object.fromEntries(entries) } };
}

/** `count` GETs over one kept-alive connection; the `x-pod` of each answer. */
async function podsOf(target: HostPort, host: string, count: number, headers: Record<string, string> = {}): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  defer(() => agent.destroy());
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: target.host, port: target.port, path: `/app/${i}`, headers: { ...headers, host }, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.headers['x-pod'] ?? res.statusCode)));
        });
        req.setTimeout(5000, () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end();
      }),
    );
  }
  return out;
}

describe('Ingress annotations (ingress-nginx parity)', () => {
  it('rewrites, splits by weight and header, edits headers, redirects; bad values are diagnostics', async () => {
    const [main, canary] = await startPods(['main', 'canary']);
    const dir = await tempManifestDir();
    await writeManifest(dir, 'app.yaml', [
      ...serviceWithPods('main', NS, [main!]),
      ...serviceWithPods('canary', NS, [canary!]),
      annotated('rewrite', 'rewrite.example', 'main', { 'rewrite-target': '/v2' }),
      annotated('weights', 'weight.example', 'main', {}),
      annotated('weights-canary', 'weight.example', 'canary', { canary: 'true', 'canary-weight': '10' }),
      annotated('header', 'header.example', 'main', {}),
      annotated('header-canary', 'header.example', 'canary', { canary: 'true', 'canary-by-header': 'X-Canary' }),
      annotated('value', 'value.example', 'main', {}),
      annotated('value-canary', 'value.example', 'canary', { canary: 'true', 'canary-by-header': 'x-user', 'canary-by-header-value': 'beta', 'canary-weight': '100' }),
      annotated('headers', 'headers.example', 'main', { 'request-headers': 'X-Env: prod\nadd X-Via: switchyard\nremove X-Debug', 'response-headers': 'Cache-Control: no-store\nremove X-Pod' }),
      annotated('redirect', 'redirect.example', 'main', { 'permanent-redirect': 'https://new.example/landing' }),
      annotated('redirect-308', 'redirect308.example', 'main', { 'permanent-redirect': 'http://new.example:8080/x', 'permanent-redirect-code': '308' }),
      annotated('bad', 'bad.example', 'main', { 'rewrite-target': '/$1', 'request-headers': 'no colon here' }),
      annotated('orphan-canary', 'orphan.example', 'canary', { canary: 'true', 'canary-weight': '50' }),
    ]);
    const sy = await startSwitchyard({ manifests: dir });

    // rewrite-target: the matched prefix /app replaced, the rest and the query kept.
    const rewritten = (await request(sy.ingress, '/app/items?page=2', { host: 'rewrite.example' })).json<EchoBody>();
    expect(rewritten.url).toBe('/v2/items?page=2');
    expect((await request(sy.ingress, '/app', { host: 'rewrite.example' })).json<EchoBody>().url).toBe('/v2');

    // canary-weight 10: exactly 100 of 1,000 (smooth weighted round-robin), never two in a row.
    const picks = await podsOf(sy.ingress, 'weight.example', 1000);
    expect(picks.filter((p) => p === 'canary')).toHaveLength(100);
    expect(picks.filter((p) => p === 'main')).toHaveLength(900);
    expect(picks.join(' ')).not.toContain('canary canary');

    // canary-by-header: always → canary, never → main, anything else → the weights (0 here).
    expect(await podsOf(sy.ingress, 'header.example', 3, { 'x-canary': 'always' })).toEqual(['canary', 'canary', 'canary']);
    expect(await podsOf(sy.ingress, 'header.example', 3, { 'x-canary': 'never' })).toEqual(['main', 'main', 'main']);
    expect(await podsOf(sy.ingress, 'header.example', 2, { 'x-canary': 'yes' })).toEqual(['main', 'main']);
    expect(await podsOf(sy.ingress, 'header.example', 2)).toEqual(['main', 'main']);
    // canary-by-header-value beta, weight 100: beta → canary; always is a plain value; never still falls to the weights.
    expect(await podsOf(sy.ingress, 'value.example', 2, { 'x-user': 'beta' })).toEqual(['canary', 'canary']);
    expect(await podsOf(sy.ingress, 'value.example', 2, { 'x-user': 'never' })).toEqual(['canary', 'canary']);
    expect(await podsOf(sy.ingress, 'value.example', 2)).toEqual(['canary', 'canary']);

    // request-headers and response-headers.
    const edited = await request(sy.ingress, '/app', { host: 'headers.example', headers: { 'x-env': 'dev', 'x-via': 'client', 'x-debug': '1' } });
    const seen = edited.json<EchoBody>();
    expect([seen.headers['x-env'], seen.headers['x-via'], seen.headers['x-debug']]).toEqual(['prod', 'client, switchyard', undefined]);
    expect([edited.headers['cache-control'], edited.headers['x-pod']]).toEqual(['no-store', undefined]);

    // permanent-redirect: 301 (or the code asked for) with Location, never reaching a pod.
    const before = main!.requests.length;
    const moved = await request(sy.ingress, '/app/old?q=1', { host: 'redirect.example' });
    expect([moved.status, moved.headers.location]).toEqual([301, 'https://new.example/landing?q=1']);
    const moved308 = await request(sy.ingress, '/app', { host: 'redirect308.example' });
    expect([moved308.status, moved308.headers.location]).toEqual([308, 'http://new.example:8080/x']);
    expect(main!.requests.length).toBe(before);

    // Bad annotations: the Ingress still routes, without them.
    const bad = (await request(sy.ingress, '/app/x', { host: 'bad.example', headers: { 'x-env': 'dev' } })).json<EchoBody>();
    expect([bad.pod, bad.url]).toEqual(['main', '/app/x']);

    const expected = [
      'warning ANNOTATION_INVALID Ingress shop/bad switchyard.dev/rewrite-target',
      'warning ANNOTATION_INVALID Ingress shop/bad switchyard.dev/request-headers',
      'warning INGRESS_CANARY_WITHOUT_MAIN Ingress shop/orphan-canary host "orphan.example" path "/app" (Prefix)',
    ];
    const { body } = await getJson<{ diagnostics: { severity: string; code: string; kind: string; namespace: string; name: string; message: string }[] }>(sy.admin, '/api/v1/config');
    const lines = body.diagnostics.map((d) => `${d.severity} ${d.code} ${d.kind} ${d.namespace}/${d.name} ${d.message.split(':')[0]}`);
    expect(lines.sort()).toEqual([...expected].sort());

    const check = await runSwitchyard(['check', '--manifests', dir]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    for (const code of ['ANNOTATION_INVALID', 'INGRESS_CANARY_WITHOUT_MAIN']) expect(check.stdout).toContain(code);
    expect(check.stdout).toMatch(/switchyard\.dev\/rewrite-target: "\/\$1" is not a path without capture groups/);
    expect(check.stdout).toMatch(/shop\/orphan-canary/);
  });
});
