/**
 * One TCP connection to a pod with its response parser: reads go straight into the parser through net's
 * `onread` (no Readable stream, no 'data' events), and the socket's end, errors and close are handed to
 * the owner (connection.ts), which knows what they mean for the request in flight.
 */
import type { Socket } from 'node:net';
import { connectTcp, type ConnectTarget } from '../upstream-connect.ts';
import { ResponseParser, type ResponseEvents } from './response-parser.ts';

/**
 * What every upstream socket of the process reads into: each read is parsed at once and nothing keeps a
 * reference to it (the binding copies body chunks, and any partial head it holds between reads), so one
 * buffer serves all connections of the thread, with no allocation per read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export interface SocketOwner {
  /** Bytes read (a view of a buffer reused by the next read: parse them now, keep no reference). */
  onRead(link: UpstreamSocket, data: Buffer): void;
  /** The pod ended its side. */
  ended(link: UpstreamSocket): void;
  /** A socket error: answers the error to report at 'close' (undefined: none, it was taken care of). */
  errored(link: UpstreamSocket, err: NodeJS.ErrnoException): Error | undefined;
  /** The socket is closed; `err`: the error it had, if any. */
  closed(link: UpstreamSocket, err: Error | undefined): void;
}

export class UpstreamSocket {
  readonly socket: Socket;
  readonly parser: ResponseParser;

  constructor(socket: Socket, parser: ResponseParser) {
    this.socket = socket;
    this.parser = parser;
  }
}

/** Dials `target`; `callback` gets the connected link, or the connect error (undici's codes: upstream-connect.ts). */
export function openUpstreamSocket(target: ConnectTarget, maxHeaderSize: number, events: ResponseEvents, owner: SocketOwner, callback: (err: Error | null, link?: UpstreamSocket) => void): void {
  let link: UpstreamSocket | undefined;
  const onread = {
    buffer: READ_BUFFER,
    // True: backpressure pauses the socket itself (connection.ts), not through this answer.
    callback: (n: number): boolean => {
      if (link !== undefined) owner.onRead(link, READ_BUFFER.subarray(0, n));
      return true;
    },
  };
  connectTcp(
    target,
    (err, socket) => {
      if (err !== null || socket === undefined) return callback(err ?? new Error('connect failed'));
      const parser = new ResponseParser(events, maxHeaderSize);
      const l = new UpstreamSocket(socket, parser);
      let socketError: Error | undefined;
      socket.on('end', () => owner.ended(l));
      socket.on('error', (e: NodeJS.ErrnoException) => {
        const reported = owner.errored(l, e);
        if (reported !== undefined) socketError = reported;
      });
      socket.on('close', () => {
        // Not from inside a parser callback: 'close' comes on a later tick than the destroy() that caused it.
        parser.close();
        owner.closed(l, socketError);
      });
      link = l;
      callback(null, l);
    },
    onread,
  );
}
