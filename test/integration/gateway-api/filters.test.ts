/**
 * HTTPRoute filters through the real CLI and a real pod: request and response header edits, URL rewrites
 * (Host and path prefix) and redirects, each on its own route of one Gateway.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { request } from '../../helpers/http.ts';
import { serviceWithPods, tempManifestDir, writeManifest } from '../../helpers/manifests.ts';
import { startPods, type EchoBody } from '../../helpers/pods.ts';
import { startSwitchyard } from '../../helpers/switchyard.ts';
import { GATEWAY_ON_LOOPBACK, gateway, gatewayClass, gatewayPort, httpRoute, web as webListener } from './gateway-manifests.ts';

afterEach(cleanupAll);

describe('HTTPRoute filters', () => {
  it('edits headers, rewrites URLs and redirects', async () => {
    const [web] = await startPods(['web'], { hosts: [2] });
    const gw = await gatewayPort();
    const dir = await tempManifestDir();
    const backendRefs = [{ name: 'web', port: 80 }];
    await writeManifest(dir, 'filters.yaml', [
      gatewayClass(),
      gateway('shop', webListener(gw.port)),
      ...serviceWithPods('web', 'shop', [web!]),
      httpRoute('headers', 'shop', {
        hostnames: ['headers.example'],
        rules: [
          {
            backendRefs,
            filters: [
              { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'set' }], add: [{ name: 'X-Add', value: 'added' }], remove: ['x-remove'] } },
              { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'X-Pod', value: 'hidden' }], add: [{ name: 'X-Served-By', value: 'switchyard' }], remove: ['content-type'] } },
            ],
          },
        ],
      }),
      httpRoute('rewrite', 'shop', {
        hostnames: ['rewrite.example'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/old' } }], backendRefs, filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'internal.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }] }],
      }),
      httpRoute('redirect', 'shop', {
        hostnames: ['redirect.example'],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/secure' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/moved' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.example', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/landing' } } }] },
          { matches: [{ path: { type: 'PathPrefix', value: '/same' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/other' } } }] },
        ],
      }),
    ]);
    await startSwitchyard({ manifests: dir, args: GATEWAY_ON_LOOPBACK });

    const edited = await request(gw, '/h', { host: 'headers.example', headers: { 'x-set': 'client', 'x-add': 'client', 'X-Remove': 'gone' } });
    const seen = edited.json<EchoBody>();
    expect(seen.headers['x-set']).toBe('set');
    expect(seen.headers['x-add']).toBe('client, added');
    expect(seen.headers['x-remove']).toBeUndefined();
    expect([edited.headers['x-pod'], edited.headers['x-served-by'], edited.headers['content-type']]).toEqual(['hidden', 'switchyard', undefined]);

    const rewritten = (await request(gw, '/old/items?page=2', { host: 'rewrite.example' })).json<EchoBody>();
    expect([rewritten.url, rewritten.headers.host, rewritten.headers['x-forwarded-host']]).toEqual(['/new/items?page=2', 'internal.example', 'rewrite.example']);

    const requestsBefore = web!.requests.length;
    const secure = await request(gw, '/secure/login?next=/', { host: 'redirect.example' });
    expect([secure.status, secure.headers.location]).toEqual([301, 'https://redirect.example/secure/login?next=/']);
    const moved = await request(gw, '/moved/x', { host: 'redirect.example' });
    expect([moved.status, moved.headers.location]).toEqual([302, 'http://elsewhere.example:8443/landing']);
    const same = await request(gw, '/same/page', { host: `redirect.example:${gw.port}` });
    expect([same.status, same.headers.location]).toEqual([302, `http://redirect.example:${gw.port}/other/page`]);
    expect(web!.requests.length).toBe(requestsBefore); // redirects never reach a pod
  });
});
