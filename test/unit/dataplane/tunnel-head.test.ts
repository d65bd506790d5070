import { describe, expect, it } from 'vitest';
import { switchingHead } from '../../../src/dataplane/tunnel.ts';

const raw = (...pairs: string[]): Buffer[] => pairs.map((s) => Buffer.from(s, 'latin1'));

describe('switchingHead (the 101 written to the client)', () => {
  it.each([
    {
      name: 'a WebSocket handshake: fields kept in order, Connection as upgrade',
      headers: raw('Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Protocol', 'chat', 'Server', 'pod/1'),
      head: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nServer: pod/1\r\n\r\n',
    },
    {
      name: "the pod's connection fields dropped, with those its Connection names",
      headers: raw('upgrade', 'foo/1', 'connection', 'Upgrade, X-Hop', 'keep-alive', 'timeout=5', 'X-Hop', 'a', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'),
      head: 'HTTP/1.1 101 Switching Protocols\r\nupgrade: foo/1\r\nconnection: upgrade\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nserver: switchyard\r\n\r\n',
    },
    {
      name: 'two Connection fields: one Connection: upgrade',
      headers: raw('Connection', 'upgrade', 'Upgrade', 'x', 'Connection', 'keep-alive'),
      head: 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\nserver: switchyard\r\n\r\n',
    },
    {
      name: 'no Connection field (undici saw it, but be safe): one is added',
      headers: raw('Upgrade', 'x'),
      head: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nconnection: upgrade\r\nserver: switchyard\r\n\r\n',
    },
  ])('$name', ({ headers, head }) => {
    expect(switchingHead(101, headers)).toBe(head);
  });
});
