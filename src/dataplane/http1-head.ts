/**
 * The request-head fields an HTTP/1.1 exchange takes from its parsed head and its connection, the same
 * way whichever server parsed it: Node's llhttp binding (client-exchange.ts) or node:http
 * (node-http-exchange.ts). One pass over the header fields (headers.ts requestFields) finds them all.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { sniName } from './exchange.ts';
import { ExchangeTrace } from './exchange-trace.ts';
import { requestFields, requestIdFor, type RequestFields } from './headers.ts';
import { clientAddress, clientPort } from './proxy-protocol.ts';

export abstract class Http1Head {
  readonly method: string;
  /** The request target as sent. */
  readonly url: string;
  /** The client's header fields as sent, [name, value, …]. */
  readonly rawHeaders: readonly string[];
  /** Minor HTTP version (1.0 or 1.1). */
  readonly versionMinor: number;
  /** The first Host field. */
  readonly host: string | undefined;
  /** Every Connection field, joined with ", ". */
  readonly connection: string | undefined;
  /** Every X-Forwarded-For field, joined with ", ". */
  readonly forwardedFor: string | undefined;
  /** The fields of the head found in its one pass (the pre-routing checks read them: request-checks.ts). */
  readonly head: RequestFields;
  readonly requestId: string;
  readonly trace: ExchangeTrace;
  /** The request has a body (a Content-Length other than 0, or a Transfer-Encoding). */
  readonly hasBody: boolean;
  readonly remoteAddress: string;
  readonly localPort: number;
  readonly scheme: 'http' | 'https';
  readonly servername: string | undefined;
  readonly protocol = 'http/1.1';
  /** gRPC needs HTTP/2: a gRPC call never arrives over HTTP/1.1. */
  readonly grpc = false;

  constructor(socket: Socket, scheme: 'http' | 'https', versionMinor: number, method: string, url: string, rawHeaders: readonly string[]) {
    this.method = method;
    this.url = url;
    this.rawHeaders = rawHeaders;
    this.versionMinor = versionMinor;
    const head = requestFields(rawHeaders);
    this.head = head;
    this.host = head.host;
    this.connection = head.connection;
    this.forwardedFor = head.forwardedFor;
    this.requestId = requestIdFor(head.clientRequestId);
    this.hasBody = head.hasBody;
    this.remoteAddress = clientAddress(socket);
    this.trace = new ExchangeTrace(clientPort(socket));
    this.localPort = socket.localPort ?? 0;
    this.scheme = scheme;
    this.servername = scheme === 'https' ? sniName((socket as TLSSocket).servername) : undefined;
  }
}
