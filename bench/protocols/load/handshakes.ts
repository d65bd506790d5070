/**
 * New TLS handshakes per second: `concurrency` loops, each doing tls.connect → handshake → close, over
 * and over, for `seconds`. Every handshake is a full one: no session is ever offered (Node's tls.connect
 * caches none on its own), and a resumed one would be counted as an error. The client pins its key
 * exchange group (X25519 by default) so that Node's OpenSSL 3.5 does not offer a post-quantum hybrid
 * the proxy under test may or may not know: both proxies then do the same work.
 *
 *   node bench/protocols/load/handshakes.ts --host 127.0.0.1 --port 8443 --servername bench.local \
 *     --seconds 10 --concurrency 16 [--group X25519] [--fingerprint AB:CD:…]
 *
 * A connection counts once the handshake is done and the socket closed (client end → server close),
 * so the server has finished its side, session tickets included. Every connection is bounded by 5 s.
 */
import { connect, type TLSSocket } from 'node:tls';
import { parseArgs } from 'node:util';
import { finish, latencyOf, microsecondHistogram, positiveInt, recordNs, required } from './child-result.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    servername: { type: 'string' },
    seconds: { type: 'string' },
    concurrency: { type: 'string' },
    group: { type: 'string', default: 'X25519' },
    fingerprint: { type: 'string' },
  },
});
const host = required('host', values.host);
const port = positiveInt('port', values.port, 65535);
const servername = values.servername ?? '';
const seconds = positiveInt('seconds', values.seconds, 3600);
const concurrency = positiveInt('concurrency', values.concurrency, 1000);
const CONNECTION_TIMEOUT_MS = 5000;

const histogram = microsecondHistogram();
let ops = 0;
let errors = 0;
let resumed = 0;
let wrongCertificate = 0;
const seen: Record<string, string | number> = {};
const errorCodes = new Map<string, number>();

function noteError(err: unknown): void {
  errors++;
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message ?? 'error';
  errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
}

/** One connection: resolves true when its handshake completed (and the socket then closed). */
function once(): Promise<boolean> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let handshaken = false;
    let settled = false;
    const socket: TLSSocket = connect({
      host,
      port,
      ...(servername === '' ? {} : { servername }),
      rejectUnauthorized: false,
      ALPNProtocols: ['h2', 'http/1.1'],
      ecdhCurve: values.group,
      minVersion: 'TLSv1.2',
    });
    const done = (ok: boolean, err?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!ok) noteError(err ?? new Error('closed before the handshake'));
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false, new Error('timeout')), CONNECTION_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      handshaken = true;
      recordNs(histogram, process.hrtime.bigint() - started);
      if (socket.isSessionReused()) resumed++;
      if (values.fingerprint !== undefined && socket.getPeerCertificate().fingerprint256 !== values.fingerprint) wrongCertificate++;
      if (seen.protocol === undefined) {
        seen.protocol = socket.getProtocol() ?? '';
        seen.cipher = socket.getCipher().name;
        const key = socket.getEphemeralKeyInfo() as { name?: string } | null;
        seen.group = key?.name ?? '';
        seen.alpn = socket.alpnProtocol || '';
      }
      socket.end();
    });
    // The server's session tickets (TLS 1.3) arrive after the handshake; read and drop them.
    socket.on('data', () => undefined);
    socket.once('close', () => done(handshaken));
    socket.once('error', (err) => {
      // A reset after a completed handshake (the server closing first) still counts the handshake.
      if (handshaken) done(true);
      else done(false, err);
    });
  });
}

const deadline = performance.now() + seconds * 1000;
const started = performance.now();
async function loop(): Promise<void> {
  while (performance.now() < deadline) {
    if (await once()) ops++;
  }
}
await Promise.all(Array.from({ length: concurrency }, loop));
const elapsed = (performance.now() - started) / 1000;
finish({
  ops,
  seconds: elapsed,
  errors: errors + resumed + wrongCertificate,
  latencyMs: latencyOf(histogram),
  details: { ...seen, resumed, wrongCertificate, errorCodes: [...errorCodes].map(([c, n]) => `${c}×${n}`).join(' ') },
});
