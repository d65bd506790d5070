/**
 * `npm start`: the demo. Three local pods (tiny HTTP servers answering with their pod name, and a
 * WebSocket echo) on 127.0.0.11-13:18081, the manifests beside this file, and the real Switchyard CLI in
 * front of them, on plain HTTP and on TLS (a generated self-signed certificate; HTTP/2 by ALPN).
 * It shows a few requests round-robin, prints commands to try, and stops everything on Ctrl-C.
 * Extra arguments go to switchyard (e.g. `npm start -- --log-level debug`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const PODS = [
  { name: 'hello-7d9c5-a1', address: '127.0.0.11' },
  { name: 'hello-7d9c5-b2', address: '127.0.0.12' },
  { name: 'hello-7d9c5-c3', address: '127.0.0.13' },
];
const POD_PORT = 18081;
const HOST = 'demo.localhost';

function startPod(pod: { name: string; address: string }): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from pod ${pod.name} (${pod.address}:${POD_PORT}) ${req.method} ${req.url}\n`);
  });
  // WebSocket: each message comes back prefixed with the pod's name.
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${pod.name}: ${String(data)}`)));
  // It repeats the server's errors; the listen error is reported below, with its cause.
  wss.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`demo pod ${pod.name} cannot listen on ${pod.address}:${POD_PORT} (${err.code}); is another demo running?`)),
    );
    server.listen(POD_PORT, pod.address, () => resolve(server));
  });
}

/** 127.0.0.1:PORT when that port is free, else port 0 (the proxy picks one and logs it). */
function freeOr0(port: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.once('error', () => resolve(0));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}

function startProxy(args: string[]): Promise<{ child: ChildProcess; ingress: string; tls: string; admin: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'switchyard.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const addresses: Record<string, string> = {};
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /listening role=([\w-]+) address=(\S+?)"/.exec(line);
      if (m) addresses[m[1]!] = m[2]!;
      if (addresses['ingress'] && addresses['ingress-tls'] && addresses['admin']) resolve({ child, ingress: addresses['ingress'], tls: addresses['ingress-tls'], admin: addresses['admin'] });
      if (/"level":"(warn|error|fatal)"/.test(line)) process.stderr.write(`${line}\n`);
    });
    child.once('exit', (code) => reject(new Error(`switchyard exited with code ${code} before it was ready`)));
  });
}

function get(address: string, path: string): Promise<string> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, headers: { host: HOST } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
    });
    req.once('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const pods = await Promise.all(PODS.map(startPod));
  const listenPort = await freeOr0(8080);
  const tlsPort = await freeOr0(8443);
  const adminPort = await freeOr0(9901);
  const userArgs = process.argv.slice(2);
  const args = ['--manifests', here, '--listen', `127.0.0.1:${listenPort}`, '--listen-tls', `127.0.0.1:${tlsPort}`, '--admin', `127.0.0.1:${adminPort}`, ...userArgs];
  let proxy;
  try {
    proxy = await startProxy(args);
  } catch (err) {
    for (const p of pods) p.close();
    throw err;
  }
  const { child, ingress, tls, admin } = proxy;

  console.log(`\nSwitchyard demo: Ingress host ${HOST} → Service demo/hello → 3 pods\n`);
  for (let i = 1; i <= 6; i++) console.log(`  request ${i}: ${await get(ingress, `/hello?n=${i}`)}`);
  const port = ingress.slice(ingress.lastIndexOf(':') + 1);
  const securePort = tls.slice(tls.lastIndexOf(':') + 1);
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
  npx switchyard explain --manifests examples/demo http://${HOST}/hello   # why a request goes where it goes
  curl http://${admin}/api/v1/explain?url=http://${HOST}/hello   # the same, live
  curl http://${admin}/metrics                  # Prometheus metrics of the whole process group
  curl http://${admin}/api/v1/routes
  curl http://${admin}/api/v1/services
  curl http://${admin}/api/v1/config
  curl http://${admin}/api/v1/certificates
Edit ${join(here, 'demo.yaml')} (e.g. mark a pod ready: false) and watch routing follow within a second.
Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGINT'); // SIGINT: no shutdown delay (that is for load balancers in front)
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.once('exit', (code) => {
    for (const p of pods) p.close();
    if (!stopping) console.error(`switchyard exited unexpectedly (code ${code})`);
    process.exit(stopping ? 0 : 1);
  });
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(1);
});
