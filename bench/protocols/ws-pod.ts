/**
 * A WebSocket echo "pod" of the protocols run: node:http plus the ws package, its own process.
 *
 *   node bench/protocols/ws-pod.ts NAME HOST PORT
 *
 * Echoes every message on every WebSocket as it came (text or binary); a plain GET answers 200
 * `ok NAME`, so readiness probes and proxies' checks work as with bench/pod-server.ts. Prints
 * `{"listening":{"address","port"}}` once listening; exits on SIGTERM/SIGINT and when stdin closes.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const [name = 'ws-pod', host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`ws-pod: bad port ${JSON.stringify(portArg)}\n`);
  process.exit(2);
}

const body = Buffer.from(`ok ${name}\n`);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60_000;
// Compression off: the bench measures the proxies' framing and copying, not zlib.
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});

server.once('error', (err: NodeJS.ErrnoException) => {
  process.stdout.write(`${JSON.stringify({ error: err.code ?? err.message })}\n`);
  process.exit(1);
});
server.listen({ port, host }, () => {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('ws-pod: not a TCP address');
  process.stdout.write(`${JSON.stringify({ listening: { address: a.address, port: a.port } })}\n`);
});

const stop = (): void => {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
