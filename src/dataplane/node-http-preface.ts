/**
 * h2c with prior knowledge for the node:http fallback (node-http-server.ts): node:http cannot hand back
 * bytes it has parsed, so a plaintext connection's first bytes are looked at before it gets the socket.
 */
import type { Socket } from 'node:net';
import { http2Preface } from './client-connection.ts';

/**
 * Reads a plaintext connection's first bytes, which node:http cannot hand back, to tell the HTTP/2
 * preface (h2c with prior knowledge, RFC 9113 §3.3) from HTTP/1.1; they go back into the socket's
 * buffer before `decide`. A client silent for the header timeout goes to `silent` (a 408, as on the llhttp path).
 */
export function peekPreface(socket: Socket, headerTimeoutMs: number, decide: (preface: boolean) => void, silent: (socket: Socket) => void): void {
  let seen: Buffer | undefined;
  const settle = (): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('timeout', onTimeout);
    socket.off('error', onEnd);
    socket.setTimeout(0);
    socket.pause();
  };
  const onData = (data: Buffer): void => {
    const head = seen === undefined ? data : Buffer.concat([seen, data]);
    const preface = http2Preface(head);
    // Too few bytes to tell yet (a client that writes the preface in pieces): wait for more.
    if (preface === undefined) {
      seen = head;
      return;
    }
    settle();
    socket.unshift(head);
    decide(preface);
  };
  const onEnd = (): void => {
    settle();
    socket.destroy();
  };
  const onTimeout = (): void => {
    settle();
    silent(socket);
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onEnd);
  socket.on('timeout', onTimeout);
  socket.setTimeout(headerTimeoutMs);
}
