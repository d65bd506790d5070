/**
 * The kube source wired as the composition root wires it (onUpdate → store.replace), compiled into a
 * routing state: a route and its endpoints follow the cluster, and survive losing the API server.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { compile } from '../../../src/compile/compile.ts';
import { Store } from '../../../src/store/store.ts';
import { cleanupAll } from '../../helpers/cleanup.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ingress, makeSource, slice, startApi, svc } from './harness.ts';

afterEach(cleanupAll);

it('feeds the store: routes and endpoints follow the cluster and outlive an API outage', async () => {
  const h = await startApi();
  h.api.upsert('services', svc('shop', 'web'));
  h.api.upsert('endpointslices', slice('shop', 'web', ['10.1.0.1', '10.1.0.2', '10.1.0.3']));
  h.api.upsert('ingresses', ingress('shop', 'web', { host: 'shop.example.com' }));
  const t = makeSource(h);
  const store = new Store();
  t.source.onUpdate((records) => store.replace(t.source.name, records));
  await t.source.start();

  const state = () => compile(store.view(), { clusterDomain: 'cluster.local', ingressClass: 'switchyard' });
  const route = state().routes.hosts.get('shop.example.com')?.prefix.get('');
  expect(route).toMatchObject({ backend: 'shop/web:80', problem: undefined, ingress: 'shop/web' });
  const ready = () => state().backends.get('shop/web:80')?.ready.map((e) => `${e.address}:${e.port}`);
  expect(ready()).toEqual(['10.1.0.1:8080', '10.1.0.2:8080', '10.1.0.3:8080']);
  expect(state().registry.get('web.shop.svc.cluster.local')).toBe('shop/web');

  h.api.upsert('endpointslices', slice('shop', 'web', ['10.1.0.1', '10.1.0.3']));
  await waitFor(() => ready()?.length === 2, { timeoutMs: 1000, what: 'the endpoint to go' });

  const version = store.version;
  await h.api.stop();
  await waitFor(() => t.source.status().state === 'disconnected', { timeoutMs: 2000 });
  await sleep(300);
  expect(store.version).toBe(version);
  expect(ready()).toEqual(['10.1.0.1:8080', '10.1.0.3:8080']);
});
