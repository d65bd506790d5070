/**
 * Not a proxy: the floor under every Node proxy on this machine. Each client connection is relayed byte
 * for byte to a new connection to the next pod (round-robin per connection): no HTTP parsing, no routing,
 * no headers, no logging. Per request that is still the four socket operations a proxy makes (read the
 * request, write it to the pod, read the answer, write it back) through node:net's streams, so its CPU
 * per request is what Node itself costs before any proxy work.
 *
 *   node bench/baselines/node-relay-server.ts HOST PORT UPSTREAM_URL…
 */
import net from 'node:net';
import { announce, baselineArgs, stopOnSignalOrStdinClose } from './serve.ts';

const { host, port, upstreams } = baselineArgs('node-relay-server');
let next = 0;

const server = net.createServer((client) => {
  const target = upstreams[next]!;
  next = (next + 1) % upstreams.length;
  const pod = net.connect(Number(target.port), target.hostname);
  client.setNoDelay(true);
  pod.setNoDelay(true);
  client.pipe(pod);
  pod.pipe(client);
  client.on('error', () => pod.destroy());
  pod.on('error', () => client.destroy());
  client.on('close', () => pod.destroy());
  pod.on('close', () => client.destroy());
});
server.on('error', (err) => {
  process.stderr.write(`node-relay-server: cannot listen on ${host}:${port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, host, () => announce(server));

stopOnSignalOrStdinClose(() => {
  server.close();
  process.exit(0);
});
