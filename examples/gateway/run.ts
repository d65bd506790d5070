/**
 * `node examples/gateway/run.ts`: the Gateway API canary example with its pods running. Starts the pods
 * the manifests beside this file name (v1 on 127.0.0.31-32, v2 on .33, port 18082), the real Switchyard
 * CLI with the Gateway's listener on 127.0.0.1:8081 (another free port when that is taken), shows the
 * 90/10 split and the header that forces v2, for the HTTPRoute and for the same canary written as Ingress
 * annotations, prints commands to try, and stops everything on Ctrl-C.
 *
 * `--free-ports`: the pods and the Gateway listen on free ports, named in a temporary copy of the
 * manifests (for tests). Other arguments go to switchyard (e.g. `--log-level debug`).
 */
import { freeOr0, startSwitchyard, stopAllOnSignal } from '../lib/switchyard.ts';
import { GATEWAY_HOST, INGRESS_HOST, startGatewayExample, waitForSplit } from './canary.ts';

async function main(): Promise<void> {
  const freePorts = process.argv.includes('--free-ports');
  const userArgs = process.argv.slice(2).filter((a) => a !== '--free-ports');
  const example = await startGatewayExample(freePorts);
  const listenPort = await freeOr0(8080);
  const adminPort = await freeOr0(9901);
  // The default workers: they share one weighted sequence, so the split shows exactly 9:1, interleaved.
  const args = ['--manifests', example.manifests, '--listen', `127.0.0.1:${listenPort}`, '--admin', `127.0.0.1:${adminPort}`, '--gateway-address', '127.0.0.1', ...userArgs];
  let proxy;
  try {
    proxy = await startSwitchyard(args, ['ingress', 'admin']);
  } catch (err) {
    example.stop();
    throw err;
  }
  const { child } = proxy;
  const { ingress, admin } = proxy.addresses;
  const gateway = `127.0.0.1:${example.port}`;

  console.log('\nSwitchyard Gateway API example: a canary release of one app, v1 (2 pods) and v2 (1 pod)\n');
  console.log(`  gateway (HTTPRoute ${GATEWAY_HOST}): http://${gateway}   ingress (canary Ingress ${INGRESS_HOST}): http://${ingress}   admin: http://${admin}\n`);
  const viaGateway = await waitForSplit(gateway, GATEWAY_HOST);
  console.log(
    viaGateway === undefined
      ? `  ${GATEWAY_HOST}: the Gateway listener ${gateway} does not answer (this build does not open Gateway listener ports yet)`
      : `  ${GATEWAY_HOST} via the Gateway, 20 requests: ${viaGateway.split}; with x-canary: always: ${viaGateway.forced}`,
  );
  const viaIngress = await waitForSplit(ingress, INGRESS_HOST);
  console.log(`  ${INGRESS_HOST} via the Ingress annotations, 20 requests: ${viaIngress?.split ?? 'no answer'}; with x-canary: always: ${viaIngress?.forced ?? 'no answer'}`);
  console.log(`
Try it (curl resolves *.localhost to loopback):
  curl http://${GATEWAY_HOST}:${example.port}/                        # 9 of every 10 to v1, the 10th to v2
  curl -H 'x-canary: always' http://${GATEWAY_HOST}:${example.port}/  # always v2
  for i in $(seq 20); do curl -s http://${GATEWAY_HOST}:${example.port}/; done
  curl -H 'Host: ${INGRESS_HOST}' -H 'x-canary: never' http://${ingress}/   # the Ingress canary: never → v1
  npx switchyard check --manifests examples/gateway
  curl http://${admin}/api/v1/routes
  curl http://${admin}/api/v1/config
Dashboard: http://${admin}/ui/
${example.copied ? `Manifests: ${example.manifests} (a copy naming the free ports; removed on exit)\n` : 'Edit examples/gateway/gateway.yaml (e.g. weights 50/50) and watch the split follow within a second.\n'}Ctrl-C stops everything.
`);

  stopAllOnSignal(child, example.stop);
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  console.error(`gateway example failed: ${e.message}`);
  if (e.code === 'EADDRINUSE') console.error('(node examples/gateway/run.ts --free-ports starts the pods on free ports instead)');
  process.exit(1);
});
