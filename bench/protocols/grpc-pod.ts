/**
 * A gRPC "pod" of the protocols run: @grpc/grpc-js serving bench.Echo/Say (echo.proto) over HTTP/2
 * cleartext, its own process.
 *
 *   node bench/protocols/grpc-pod.ts NAME HOST PORT
 *
 * Answers every call with `ok NAME`, so a client can see which pod answered. Prints
 * `{"listening":{"address","port"}}` once bound; exits on SIGTERM/SIGINT and when stdin closes.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { loadEchoService } from './echo-service.ts';

const [name = 'grpc-pod', host = '127.0.0.1', portArg = '0'] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`grpc-pod: bad port ${JSON.stringify(portArg)}\n`);
  process.exit(2);
}

const reply = { message: `ok ${name}` };
const server = new Server();
server.addService(loadEchoService().service, {
  Say: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, reply),
});
server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
  if (err) {
    process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ listening: { address: host, port: bound } })}\n`);
});

const stop = (): void => {
  server.forceShutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
