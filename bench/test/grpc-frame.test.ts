import { loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { ECHO_PROTO, echoRequestFrame, loadEchoService, SAY_PATH } from '../protocols/echo-service.ts';

// Decode with proto-loader's own deserializer, so the hand-made encoding is checked against protobufjs.
const definition = loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
const say = (definition['bench.Echo'] as Record<string, { requestDeserialize(b: Buffer): { message: string }; path: string }>).Say!;

describe('echoRequestFrame', () => {
  it.each([
    ['hello'],
    [''],
    ['é ✓ 😀'],
    ['x'.repeat(127)],
    ['x'.repeat(128)],
    ['y'.repeat(70_000)],
  ])('a gRPC message holding EchoRequest %#', (message) => {
    const frame = echoRequestFrame(message);
    expect(frame[0]).toBe(0); // not compressed
    const length = frame.readUInt32BE(1);
    expect(frame.length).toBe(5 + length);
    expect(say.requestDeserialize(frame.subarray(5)).message).toBe(message);
  });

  it('"hello" is exactly the bytes a gRPC client sends', () => {
    expect(echoRequestFrame('hello').toString('hex')).toBe('0000000007' + '0a05' + Buffer.from('hello').toString('hex'));
  });
});

describe('the Echo service', () => {
  it('is served at the path the h2load case posts to', () => {
    expect(say.path).toBe(SAY_PATH);
    expect(loadEchoService().service.Say!.path).toBe(SAY_PATH);
  });
});
