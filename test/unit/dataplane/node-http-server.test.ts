/** Which HTTP/1.1 server a listener runs (--http1-server, and the fallback when the llhttp binding is missing). */
import { describe, expect, it } from 'vitest';
import { llhttpAvailable } from '../../../src/dataplane/llhttp.ts';
import { selectHttp1Server } from '../../../src/dataplane/node-http-server.ts';

describe('selectHttp1Server', () => {
  it.each([
    ['llhttp', true, 'llhttp', false],
    ['node', true, 'node', false],
    ['llhttp', false, 'node', true],
    ['node', false, 'node', false],
  ] as const)('--http1-server %s, binding available %s → %s (fell back: %s)', (wanted, available, kind, fellBack) => {
    expect(selectHttp1Server(wanted, available)).toEqual({ kind, fellBack });
  });

  it('finds the binding on the Node running the tests', () => {
    expect(llhttpAvailable).toBe(true);
  });
});
