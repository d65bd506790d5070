/**
 * WebSocket echo messages per second: `connections` WebSockets (the ws package, compression off), each
 * sending its next binary message of `bytes` bytes when the echo of the previous one arrives, for
 * `seconds`. Counts echoes that arrived inside the window and came back whole; a wrong-sized echo, a
 * connection that fails or closes early is an error.
 *
 *   node bench/protocols/load/ws-echo.ts --url ws://127.0.0.1:8080/ --host ws.bench.local \
 *     --connections 50 --seconds 10 [--bytes 64]
 *
 * Opening is bounded by 5 s per connection, the wait for echoes still in flight at the end by 2 s.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { finish, latencyOf, microsecondHistogram, positiveInt, recordNs, required } from './child-result.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    host: { type: 'string' },
    connections: { type: 'string' },
    seconds: { type: 'string' },
    bytes: { type: 'string', default: '64' },
  },
});
const url = required('url', values.url);
const connections = positiveInt('connections', values.connections, 10_000);
const seconds = positiveInt('seconds', values.seconds, 3600);
const bytes = positiveInt('bytes', values.bytes, 1 << 20);
const OPEN_TIMEOUT_MS = 5000;
const TAIL_MS = 2000;

const payload = Buffer.alloc(bytes, 0x61);
const histogram = microsecondHistogram();
let ops = 0;
let errors = 0;
let measuring = false;
let deadline = 0;

function open(): Promise<WebSocket | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS, headers: values.host === undefined ? {} : { host: values.host } });
    ws.once('open', () => resolve(ws));
    ws.once('error', () => {
      errors++;
      resolve(null);
    });
  });
}

const sockets = (await Promise.all(Array.from({ length: connections }, open))).filter((ws): ws is WebSocket => ws !== null);
let inFlight = 0;
let drained: () => void = () => undefined;
const allDrained = new Promise<void>((resolve) => (drained = resolve));
const starters: (() => void)[] = [];

for (const ws of sockets) {
  let sentAt = 0n;
  let waiting = false;
  const send = (): void => {
    sentAt = process.hrtime.bigint();
    waiting = true;
    inFlight++;
    ws.send(payload, { binary: true });
  };
  const settle = (): void => {
    if (!waiting) return;
    waiting = false;
    inFlight--;
    if (inFlight === 0 && performance.now() >= deadline) drained();
  };
  ws.on('message', (data: Buffer) => {
    if (measuring) {
      if (data.length === bytes) {
        ops++;
        recordNs(histogram, process.hrtime.bigint() - sentAt);
      } else errors++;
    }
    settle();
    if (performance.now() < deadline) send();
  });
  ws.on('close', () => {
    if (performance.now() < deadline) errors++;
    settle();
  });
  ws.on('error', () => undefined);
  starters.push(send);
}

const started = performance.now();
deadline = started + seconds * 1000;
measuring = true;
for (const start of starters) start();
await new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000));
const elapsed = (performance.now() - started) / 1000;
measuring = false;
if (inFlight > 0) await Promise.race([allDrained, new Promise((resolve) => setTimeout(resolve, TAIL_MS))]);
for (const ws of sockets) ws.terminate();
finish({ ops, seconds: elapsed, errors, latencyMs: latencyOf(histogram), details: { connectionsOpen: sockets.length, bytes } });
