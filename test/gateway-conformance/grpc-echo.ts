/**
 * The suite's gRPC echo server (echo-basic with GRPC_ECHO_SERVER=1) as a local "pod": @grpc/grpc-js on
 * 127.0.0.1 (port 0), plaintext (h2c), serving `gateway_api_conformance.echo_basic.grpcecho.GrpcEcho` from
 * the suite's own `grpcecho.proto`, loaded at run time. Echo and EchoTwo answer the Assertions the suite
 * reads: `fully_qualified_method`, `headers` (every metadata pair received, `:authority` included, as
 * grpc-go's metadata.FromIncomingContext gives them), `authority`, and `context` (namespace, pod).
 * EchoThree is left unimplemented, as it is there: grpc-js answers UNIMPLEMENTED.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { EchoBasicPod } from './echo-basic.ts';

export const ECHO_PACKAGE = 'gateway_api_conformance.echo_basic.grpcecho';
export const ECHO_SERVICE = `${ECHO_PACKAGE}.GrpcEcho`;
export type EchoMethod = 'Echo' | 'EchoTwo' | 'EchoThree';

/** The message fields the checks read (proto field names: the proto is loaded with keepCase). */
export interface EchoResponse {
  readonly assertions?: {
    readonly fully_qualified_method?: string;
    readonly headers?: readonly { readonly key: string; readonly value: string }[];
    readonly authority?: string;
    readonly context?: { readonly namespace?: string; readonly ingress?: string; readonly service_name?: string; readonly pod?: string };
  };
}

type UnaryCall = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: EchoResponse) => void) => grpc.ClientUnaryCall;
export type EchoClient = grpc.Client & Record<EchoMethod, UnaryCall>;
export type EchoClientCtor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => EchoClient;

export interface GrpcEchoService {
  readonly definition: grpc.ServiceDefinition;
  readonly Client: EchoClientCtor;
  /** Where the .proto was read. */
  readonly protoPath: string;
}

/**
 * Where the suite's grpcecho.proto is: `explicit` (GATEWAY_CONFORMANCE_GRPC_PROTO) when given, else
 * `<conformance>/echo-basic/grpcecho.proto` (gateway-api until it moved echo-basic to
 * gateway-api-conformance-images). Undefined when neither exists.
 */
export function findEchoProto(conformanceDir: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined && explicit !== '') return existsSync(explicit) ? explicit : undefined;
  const inSuite = join(conformanceDir, 'echo-basic', 'grpcecho.proto');
  return existsSync(inSuite) ? inSuite : undefined;
}

/** Loads the GrpcEcho service from the suite's .proto. */
export function loadEchoService(protoPath: string): GrpcEchoService {
  const pkg = grpc.loadPackageDefinition(loadSync(protoPath, { keepCase: true, defaults: true, longs: String, enums: String }));
  let ctor: unknown = pkg;
  for (const part of ECHO_SERVICE.split('.')) ctor = (ctor as Record<string, unknown> | undefined)?.[part];
  if (typeof ctor !== 'function') throw new Error(`${protoPath} does not define ${ECHO_SERVICE}`);
  const Client = ctor as EchoClientCtor & { service: grpc.ServiceDefinition };
  return { definition: Client.service, Client, protoPath };
}

/** Starts one gRPC echo pod on 127.0.0.1, port 0; `received` lists the methods' paths called. */
export async function startGrpcEcho(service: GrpcEchoService, context: { readonly namespace: string; readonly pod: string }): Promise<EchoBasicPod> {
  const received: string[] = [];
  const server = new grpc.Server();
  const answer = (method: EchoMethod) => (call: grpc.ServerUnaryCall<object, EchoResponse>, cb: grpc.sendUnaryData<EchoResponse>) => {
    const path = `/${ECHO_SERVICE}/${method}`;
    received.push(path);
    const authority = call.getHost();
    const headers = [{ key: ':authority', value: authority }];
    for (const [key, values] of Object.entries(call.metadata.toJSON())) for (const v of values) headers.push({ key, value: typeof v === 'string' ? v : v.toString('base64') });
    cb(null, { assertions: { fully_qualified_method: path, headers, authority, context: { namespace: context.namespace, ingress: '', service_name: '', pod: context.pod } } });
  };
  // EchoThree has no handler: grpc-js answers UNIMPLEMENTED, as echo-basic's UnimplementedGrpcEchoServer does.
  server.addService(service.definition, { Echo: answer('Echo'), EchoTwo: answer('EchoTwo') });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    name: context.pod,
    namespace: context.namespace,
    port,
    received,
    // Switchyard keeps its h2 sessions to the pod open: a graceful shutdown would wait for them.
    close: async () => server.forceShutdown(),
  };
}
