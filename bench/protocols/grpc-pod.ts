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
import { announceError, announceListening, podArgs, stopOnExit } from '../pod-process.ts';
import { loadEchoService } from './echo-service.ts';

const { name, host, port } = podArgs('grpc-pod', 'grpc-pod');

const reply = { message: `ok ${name}` };
const server = new Server();
server.addService(loadEchoService().service, {
  Say: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, reply),
});
server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) => {
  if (err) announceError(err.message);
  announceListening(host, bound);
});

stopOnExit(() => {
  server.forceShutdown();
  process.exit(0);
});
