/**
 * The floor under Switchyard's TLS handshakes: a bare node:tls server, nothing else, with the TLS
 * settings Switchyard's listener uses (TLS 1.2–1.3, the same suites and groups, ALPN h2 and http/1.1,
 * the certificate chosen in an SNICallback). It completes handshakes and closes when the client does.
 * What Switchyard costs per handshake above this is its own; what this costs above nginx is Node's
 * (TLSSocket, its JS callbacks, Node's own OpenSSL build).
 *
 *   node bench/protocols/tls-floor.ts CERT.pem KEY.pem
 *
 * Prints `{"listening":{"address","port"}}` on 127.0.0.1; exits on SIGTERM/SIGINT and when stdin closes.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, createServer } from 'node:tls';
import { TLS_CONTEXT_OPTIONS } from '../../src/dataplane/tls/certificate-store.ts';
import { announceListening, stopOnExit } from '../pod-process.ts';

const [certFile, keyFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined) {
  process.stderr.write('usage: node bench/protocols/tls-floor.ts CERT.pem KEY.pem\n');
  process.exit(2);
}
// Switchyard's own context options (versions, suites, groups, server order), not a copy of them.
const options = { ...TLS_CONTEXT_OPTIONS, cert: readFileSync(certFile), key: readFileSync(keyFile) };
const context = createSecureContext(options);
const server = createServer({ ...options, ALPNProtocols: ['h2', 'http/1.1'], allowHalfOpen: true, noDelay: true, SNICallback: (_name, cb) => cb(null, context) }, (socket) => {
  socket.on('data', () => undefined);
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
});
server.on('tlsClientError', () => undefined);
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('tls-floor: not a TCP address');
  announceListening(a.address, a.port);
});
stopOnExit(() => process.exit(0));
