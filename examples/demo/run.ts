/**
 * `npm start`: the demo. Three local pods (tiny HTTP servers answering with their pod name, and a
 * WebSocket echo) on 127.0.0.11-13:18081, the manifests beside this file, and the real Switchyard CLI in
 * front of them, on plain HTTP and on TLS (a generated self-signed certificate; HTTP/2 by ALPN).
 * It shows a few requests round-robin, prints commands to try, and stops everything on Ctrl-C.
 * It also loads the Gateway API canary example (examples/gateway: v1/v2 split 90/10 by an HTTPRoute on a
 * Gateway listener at 8081, and a header that forces v2) and shows its split.
 * `--free-ports`: the pods (and the Gateway) listen on free ports, named in a temporary copy of the
 * manifests (for tests).
 * Other arguments go to switchyard (e.g. `npm start -- --log-level debug`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATEWAY_HOST, startGatewayExample, waitForSplit, type GatewayExample } from '../gateway/canary.ts';
import { startExamplePods } from '../lib/manifest-pods.ts';
import { freeOr0, get, portOf, startSwitchyard, stopAllOnSignal } from '../lib/switchyard.ts';

const here = dirname(fileURLToPath(import.meta.url));
const HOST = 'demo.localhost';

async function main(): Promise<void> {
  // The pods of demo.yaml: hello-7d9c5-a1, -b2, -c3 on 127.0.0.11-13:18081.
  const freePorts = process.argv.includes('--free-ports');
  const pods = await startExamplePods(here, freePorts, { websocket: true, example: 'demo' });
  // The Gateway example's pods on 127.0.0.31-33; with a copy, its manifests join the demo's (one directory).
  let gateway: GatewayExample;
  try {
    gateway = await startGatewayExample(freePorts, pods.copied ? pods.manifests : undefined);
  } catch (err) {
    pods.stop();
    throw err;
  }
  const stopPods = (): void => {
    gateway.stop();
    pods.stop();
  };
  const listenPort = await freeOr0(8080);
  const tlsPort = await freeOr0(8443);
  const adminPort = await freeOr0(9901);
  const userArgs = process.argv.slice(2).filter((a) => a !== '--free-ports');
  // The default workers, as a user's own start would have: they share one round-robin cursor per Service
  // port, so a curl loop shows a1 b2 c3 a1 b2 c3 whichever worker answers.
  const manifests = gateway.manifests === pods.manifests ? [pods.manifests] : [pods.manifests, gateway.manifests];
  const args = [...manifests.flatMap((m) => ['--manifests', m]), '--gateway-address', '127.0.0.1', '--listen', `127.0.0.1:${listenPort}`, '--listen-tls', `127.0.0.1:${tlsPort}`, '--admin', `127.0.0.1:${adminPort}`, ...userArgs];
  let proxy;
  try {
    proxy = await startSwitchyard(args, ['ingress', 'ingress-tls', 'admin']);
  } catch (err) {
    stopPods();
    throw err;
  }
  const { child } = proxy;
  const { ingress, 'ingress-tls': tls, admin } = proxy.addresses;

  console.log(`\nSwitchyard demo: Ingress host ${HOST} → Service demo/hello → 3 pods, round-robin per request\n`);
  for (let i = 1; i <= 6; i++) console.log(`  request ${i}: ${await get(ingress, HOST, `/hello?n=${i}`)}`);
  const port = portOf(ingress);
  const securePort = portOf(tls);
  const gatewayAt = `127.0.0.1:${gateway.port}`;
  const split = await waitForSplit(gatewayAt, GATEWAY_HOST);
  console.log(
    split === undefined
      ? `\nGateway API canary (examples/gateway): the Gateway listener ${gatewayAt} does not answer (this build does not open Gateway listener ports yet)`
      : `\nGateway API canary (examples/gateway): ${GATEWAY_HOST} on the Gateway listener ${gatewayAt}, 20 requests: ${split.split}; with x-canary: always: ${split.forced}`,
  );
  // Node does not resolve *.localhost as curl does: connect to the listener and name the host.
  const wsLine = `node -e "const w=new (require('ws'))('ws://${ingress}/chat',{headers:{host:'${HOST}'}});w.on('open',()=>w.send('hi'));w.on('message',m=>{console.log(String(m));w.close()})"   # WebSocket`;
  console.log(`
Dashboard: http://${admin}/ui/   (open it in a browser: routes, endpoints, live req/s, errors and latency)

Try it:
  curl -H 'Host: ${HOST}' http://${ingress}/
  curl http://${HOST}:${port}/                  # *.localhost resolves to loopback in curl
  curl -k --http2 https://${HOST}:${securePort}/   # TLS (self-signed default certificate) and HTTP/2
  curl --http2-prior-knowledge http://${HOST}:${port}/   # HTTP/2 without TLS (h2c)
  ${wsLine}
  curl -i http://${ingress}/                    # no route for this host: 404, x-switchyard-error: no-route
  curl http://${GATEWAY_HOST}:${gateway.port}/          # the Gateway API canary: 9 of every 10 to v1, the 10th to v2
  curl -H 'x-canary: always' http://${GATEWAY_HOST}:${gateway.port}/   # always v2 (see examples/gateway/README.md)
  npx switchyard explain --manifests examples/demo http://${HOST}/hello   # why a request goes where it goes
  curl http://${admin}/api/v1/explain?url=http://${HOST}/hello   # the same, live
  curl http://${admin}/metrics                  # Prometheus metrics of the whole process group
  curl http://${admin}/api/v1/routes
  curl http://${admin}/api/v1/services
  curl http://${admin}/api/v1/config
  curl http://${admin}/api/v1/certificates
${pods.copied ? `Manifests: ${pods.manifests} (a copy naming the pods' free ports; removed on exit)\n` : `Edit ${join(here, 'demo.yaml')} (e.g. mark a pod ready: false) and watch routing follow within a second.\n`}Ctrl-C stops everything.
`);

  stopAllOnSignal(child, stopPods);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
