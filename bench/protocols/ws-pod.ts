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
import { announceError, announceListening, podArgs, stopOnExit } from '../pod-process.ts';

const { name, host, port } = podArgs('ws-pod', 'ws-pod');

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

server.once('error', (err: NodeJS.ErrnoException) => announceError(err.code ?? err.message));
server.listen({ port, host }, () => {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('ws-pod: not a TCP address');
  announceListening(a.address, a.port);
});

stopOnExit(() => {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
