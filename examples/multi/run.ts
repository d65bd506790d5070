/**
 * `npm run example:multi`: the multi-namespace example with its pods running. Every pod the manifests
 * beside this file name (EndpointSlices and v1 Endpoints, on 127.0.0.21-27) is started as a tiny HTTP
 * server answering with its pod name, the real Switchyard CLI is put in front, a request goes through
 * each route, commands to try are printed, and Ctrl-C stops everything.
 *
 * `--free-ports`: the pods listen on free ports instead of the ones the manifests name, and Switchyard
 * loads a temporary copy of the manifests with those ports (for tests, or when the ports are taken).
 * Other arguments go to switchyard (e.g. `npm run example:multi -- --log-level debug`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startExamplePods } from '../lib/manifest-pods.ts';
import { freeOr0, get, startSwitchyard, stopAllOnSignal } from '../lib/switchyard.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** A request through each route of ingresses.yaml, and what it shows. */
const SAMPLES: readonly (readonly [host: string, path: string, why: string])[] = [
  ['shop.example.com', '/', 'storefront: round-robin over its 2 ready pods'],
  ['shop.example.com', '/products/42', 'storefront again: the next pod'],
  ['www.shop.example.com', '/', 'the wildcard host *.shop.example.com'],
  ['shop.example.com', '/cart/items', 'cart, Service port 80 → the pods\' http port'],
  ['shop.example.com', '/cart/metrics', 'cart, the metrics port (an Exact path)'],
  ['shop.example.com', '/admin', 'the nginx-class Ingress is ignored: storefront'],
  ['login.example.com', '/', 'auth/login, a v1 Endpoints (the not-ready pod gets nothing)'],
  ['shop.example.com', '/login', 'the auth namespace\'s Ingress on the shop host'],
  ['shop.example.com', '/reviews', 'no Service reviews: 503, the rest keeps routing'],
  ['anything.example', '/', 'no rule matches: the default backend'],
];

async function main(): Promise<void> {
  const freePorts = process.argv.includes('--free-ports');
  const userArgs = process.argv.slice(2).filter((a) => a !== '--free-ports');
  const pods = await startExamplePods(here, freePorts, { example: 'multi example' });
  const listenPort = await freeOr0(8080);
  const adminPort = await freeOr0(9901);
  const args = ['--manifests', pods.manifests, '--listen', `127.0.0.1:${listenPort}`, '--admin', `127.0.0.1:${adminPort}`, ...userArgs];
  let proxy;
  try {
    proxy = await startSwitchyard(args, ['ingress', 'admin']);
  } catch (err) {
    pods.stop();
    throw err;
  }
  const { child } = proxy;
  const { ingress, admin } = proxy.addresses;

  console.log(`\nSwitchyard multi-namespace example: 3 namespaces, 4 Services, ${pods.pods.length} pod ports`);
  console.log(`  ingress: http://${ingress}   admin: http://${admin}\n`);
  console.log('Pods (each answers with its name):');
  for (const p of pods.pods) {
    const ready = p.ready ? '' : '   not ready: gets no traffic';
    console.log(`  ${`${p.namespace}/${p.name}`.padEnd(28)} ${p.address}:${p.running.port}${ready}`);
  }
  console.log('\nA request through each route:');
  for (const [host, path, why] of SAMPLES) {
    console.log(`  ${`${host}${path}`.padEnd(32)} ${why}\n    → ${await get(ingress, host, path)}`);
  }
  console.log(`
Try it (the hosts are not in DNS: name them with -H 'Host: …'):
  curl -H 'Host: shop.example.com' http://${ingress}/
  curl -H 'Host: shop.example.com' http://${ingress}/cart/items
  curl -H 'Host: login.example.com' http://${ingress}/
  curl -i -H 'Host: shop.example.com' http://${ingress}/reviews   # 503, x-switchyard-error: unknown-service
  npx switchyard explain --manifests examples/multi http://shop.example.com/cart/metrics   # why it goes there
  curl http://${admin}/api/v1/routes     # the compiled route table
  curl http://${admin}/api/v1/config     # diagnostics: the ignored class, the missing Service
  curl http://${admin}/api/v1/services
Dashboard: http://${admin}/ui/
${pods.copied ? `Manifests: ${pods.manifests} (a copy naming the pods' free ports; removed on exit)\n` : `Edit ${join(here, 'endpoints.yaml')} (e.g. mark a pod ready: false) and watch routing follow within a second.\n`}Ctrl-C stops everything.
`);

  stopAllOnSignal(child, pods.stop);
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  console.error(`multi example failed: ${e.message}`);
  if (e.code === 'EADDRINUSE') console.error('(npm run example:multi -- --free-ports starts the pods on free ports instead)');
  process.exit(1);
});
