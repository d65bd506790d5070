import { describe, expect, it } from 'vitest';
import { fromH2load } from '../protocols/cases.ts';
import { durationMs, h2loadArgs, parseH2load } from '../protocols/load/h2load.ts';

// Real h2load 1.52 output (nghttp2-client, Debian 12), trimmed of progress lines.
const TLS_H2 = `starting benchmark...
spawning thread #0: 4 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_128_GCM_SHA256
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 2.00s, 22839.00 req/s, 1.63MB/s
requests: 45678 total, 45778 started, 45678 done, 45678 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 45678 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 3.27MB (3426046) total, 2.09MB (2192544) headers (space savings 51.02%), 401.47KB (411102) data
                     min         max         mean         sd        +/- sd
time for request:       41us    109.14ms      4.26ms      5.83ms    94.82%
time for connect:     3.22ms      5.13ms      4.07ms       848us    50.00%
time to 1st byte:    15.35ms     40.50ms     25.53ms     10.68ms    75.00%
req/s           :    5679.44     5736.28     5706.18       24.33    50.00%
`;

const H2C = `Application protocol: h2c
finished in 2.00s, 16321.50 req/s, 1.17MB/s
requests: 32643 total, 32743 started, 32643 done, 32643 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 32644 2xx, 0 3xx, 0 4xx, 0 5xx
time for request:       35us    141.37ms       605us     12.53ms    95.23%
`;

const FAILING = `finished in 1.50s, 10.00 req/s, 1KB/s
requests: 100 total, 100 started, 40 done, 15 succeeded, 85 failed, 60 errored, 3 timeout
status codes: 15 2xx, 2 3xx, 20 4xx, 3 5xx
`;

describe('durationMs', () => {
  it.each([
    ['41us', 0.041],
    ['4.26ms', 4.26],
    ['2.00s', 2000],
    [' 605us ', 0.605],
    ['12m', NaN],
    ['', NaN],
  ])('%j → %d ms', (text, ms) => {
    if (Number.isNaN(ms)) expect(durationMs(text)).toBeNaN();
    else expect(durationMs(text)).toBeCloseTo(ms, 9);
  });
});

describe('parseH2load', () => {
  it('reads the summary, the mean request time and what TLS negotiated', () => {
    const s = parseH2load(TLS_H2);
    expect(s).toMatchObject({ seconds: 2, done: 45678, succeeded: 45678, failed: 0, errored: 0, timeout: 0, status: { '2xx': 45678, '3xx': 0, '4xx': 0, '5xx': 0 } });
    expect(s.meanMs).toBeCloseTo(4.26, 9);
    expect(s.details).toEqual({ protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', group: 'X25519 253 bits', alpn: 'h2' });
  });

  it('h2c: no TLS details, a mean in µs', () => {
    const s = parseH2load(H2C);
    expect(s.details).toEqual({ alpn: 'h2c' });
    expect(s.meanMs).toBeCloseTo(0.605, 9);
  });

  it('counts operations as 2xx responses, never more than succeeded, and the rest as errors / non-2xx', () => {
    expect(fromH2load(parseH2load(H2C)).ops).toBe(32643);
    const o = fromH2load(parseH2load(FAILING));
    expect(o).toMatchObject({ seconds: 1.5, ops: 15, errors: 85 + 60 + 3, non2xx: 25 });
    expect(o.latencyMs.mean).toBeNaN();
  });

  it('throws with the output when the summary is missing', () => {
    expect(() => parseH2load('connect: Connection refused\n')).toThrow(/no summary[\s\S]*Connection refused/);
    expect(() => parseH2load(TLS_H2.replace(/^status codes.*$/m, ''))).toThrow(/no summary/);
  });
});

describe('h2loadArgs', () => {
  it('one thread, bounded in time, to the loopback address, with the URL last', () => {
    expect(h2loadArgs({ url: 'https://bench.local:8443/', connectTo: '127.0.0.1:8443', connections: 4, streams: 25, seconds: 10, h1: false })).toEqual([
      '-t', '1', '-c', '4', '-m', '25', '-D', '10', '--connect-to', '127.0.0.1:8443', 'https://bench.local:8443/',
    ]);
  });

  it('HTTP/1.1, a body and headers', () => {
    const args = h2loadArgs({ url: 'http://g:1/p', connectTo: '127.0.0.1:1', connections: 4, streams: 1, seconds: 2, h1: true, dataFile: '/tmp/b', headers: ['te: trailers'] });
    expect(args.slice(10)).toEqual(['--h1', '-d', '/tmp/b', '-H', 'te: trailers', 'http://g:1/p']);
  });

  it('refuses HTTP/1.1 with several streams per connection (that would be pipelining)', () => {
    expect(() => h2loadArgs({ url: 'http://g:1/', connectTo: '127.0.0.1:1', connections: 4, streams: 2, seconds: 2, h1: true })).toThrow(/pipeline/);
  });
});
