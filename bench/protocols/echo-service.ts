/**
 * bench.Echo from echo.proto, loaded with @grpc/proto-loader: the gRPC pod serves it, the load client
 * calls it. Also the hand-made request body for h2load, which sends one fixed body per call.
 */
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ECHO_PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), 'echo.proto');
/** The HTTP/2 :path of the unary call. */
export const SAY_PATH = '/bench.Echo/Say';
/** What the load clients send in every call. */
export const SAY_MESSAGE = 'hello';

/** The Echo service's client constructor; its `.service` is the definition a server adds. */
export function loadEchoService(): ServiceClientConstructor {
  const definition = loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
  const pkg = loadPackageDefinition(definition) as unknown as { bench: { Echo: ServiceClientConstructor } };
  return pkg.bench.Echo;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/**
 * One gRPC length-prefixed message (not compressed) holding an EchoRequest `{ message }`: protobuf field 1,
 * wire type 2 (tag 0x0a), then the UTF-8 bytes. h2load posts it as the body of every call.
 */
export function echoRequestFrame(message: string): Buffer {
  const text = Buffer.from(message, 'utf8');
  const proto = message === '' ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(text.length)]), text]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0, 0);
  prefix.writeUInt32BE(proto.length, 1);
  return Buffer.concat([prefix, proto]);
}
