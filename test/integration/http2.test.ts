/**
 * HTTP/2 from clients, the server side (src/dataplane/h2/): real node:http2 and curl clients against
 * a standalone server built from createHttp2Sessions, whose handler answers through the HttpExchange
 * API. Requests, bodies with backpressure, trailers, resets, per-stream flow control, drain and the
 * idle timeout; the accounting (serve, done) checked throughout.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as h2constants } from 'node:http2';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { BodySink, HttpExchange } from '../../src/dataplane/exchange.ts';
import { cleanupAll } from '../helpers/cleanup.ts';
import { FrameType, Flag, H2Error, PREFACE, SETTINGS, SETTINGS_ACK, frame, getRequest, goawayOf, hpack, rawConnect, rstStream } from '../helpers/h2-frames.ts';
import { echoHandler, h2connect, h2request, startH2Server, textHandler, type H2Handler } from '../helpers/h2-server.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const run = promisify(execFile);
const MB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The flat [name, value, …] list as pairs. */
const pairs = (flat: readonly string[]): [string, string][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);

describe('requests over h2c with prior knowledge', () => {
  it('serves a GET: the exchange carries :method, :path, :authority as Host, the fields in order, and the connection facts', async () => {
    const server = await startH2Server(textHandler('hello'));
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/a/b?q=1', ':authority': 'shop.example.com', 'x-one': '1', 'user-agent': 'test', 'x-forwarded-for': '10.0.0.1' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    expect(res.headers['content-type']).toBe('text/plain');
    const ex = server.served[0]!;
    expect(ex.method).toBe('GET');
    expect(ex.url).toBe('/a/b?q=1');
    expect(ex.host).toBe('shop.example.com');
    expect(pairs(ex.rawHeaders)).toEqual([
      ['host', 'shop.example.com'],
      ['x-one', '1'],
      ['user-agent', 'test'],
      ['x-forwarded-for', '10.0.0.1'],
    ]);
    expect(ex.forwardedFor).toBe('10.0.0.1');
    expect(ex.connection).toBeUndefined();
    expect(ex.hasBody).toBe(false);
    expect(ex.protocol).toBe('h2');
    expect(ex.scheme).toBe('http');
    expect(ex.grpc).toBe(false);
    expect(ex.remoteAddress).toBe('127.0.0.1');
    expect(ex.localPort).toBe(server.port);
    await waitFor(() => server.done.length === 1);
    expect(server.done[0]).toEqual({ exchange: ex, finished: true });
  });

  it('joins repeated cookie fields with "; " (RFC 9113 §8.2.3) and marks gRPC calls', async () => {
    const server = await startH2Server(textHandler());
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    await h2request(session, { ':path': '/', cookie: ['a=1', 'b=2'], 'x-mid': 'm', 'content-type': 'application/grpc+proto', te: 'trailers' });
    const ex = server.served[0]!;
    expect(pairs(ex.rawHeaders)).toEqual([
      ['host', `127.0.0.1:${server.port}`],
      ['cookie', 'a=1; b=2'],
      ['x-mid', 'm'],
      ['content-type', 'application/grpc+proto'],
      ['te', 'trailers'],
    ]);
    expect(ex.grpc).toBe(true);
  });

  it('reads the preface a listener put back into the socket (unshift), and one handed over before any byte was read', async () => {
    for (const mode of ['handoff', 'direct'] as const) {
      const server = await startH2Server(textHandler('x'), {}, mode);
      // Preface, SETTINGS and a request in one write: all of it lands in the first chunk the listener reads.
      const raw = await rawConnect(server.port);
      raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK, getRequest(1, '/first')]));
      const headers = await raw.waitFrame((f) => f.type === FrameType.HEADERS && f.streamId === 1);
      expect(headers.flags & Flag.END_STREAM).toBe(0);
      await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 1 && (f.flags & Flag.END_STREAM) !== 0);
      expect(server.served.map((e) => e.url)).toEqual(['/first']);
    }
  });

  it('answers curl --http2-prior-knowledge, GET and POST with a body', async () => {
    const server = await startH2Server(echoHandler);
    const get = await run('curl', ['-sS', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '-H', 'X-Test: yes', `http://127.0.0.1:${server.port}/curl?x=1`]);
    expect(get.stdout).toBe('2 200');
    const post = await run('curl', ['-sS', '--http2-prior-knowledge', '--data-binary', 'posted body', '-D', '-', `http://127.0.0.1:${server.port}/echo`]);
    expect(post.stdout).toMatch(/^HTTP\/2 200 ?\r\n/);
    expect(post.stdout).toMatch(/x-method: POST\r\n/);
    expect(post.stdout.endsWith('\r\n\r\nposted body')).toBe(true);
    expect(server.served.map((e) => [e.method, e.url, e.hasBody])).toEqual([
      ['GET', '/curl?x=1', false],
      ['POST', '/echo', true],
    ]);
    expect(pairs(server.served[0]!.rawHeaders)).toContainEqual(['x-test', 'yes']);
  });
});

describe('over TLS with ALPN h2', () => {
  it('serves node:http2 and curl --http2; the exchange says https', async () => {
    const server = await startH2Server(textHandler('secure'), {}, 'tls');
    const session = await h2connect(`https://localhost:${server.port}`);
    const res = await h2request(session, { ':path': '/tls' });
    expect(res.body.toString()).toBe('secure');
    const curl = await run('curl', ['-sSk', '--http2', '-w', ' %{http_version}', `https://localhost:${server.port}/tls-curl`]);
    expect(curl.stdout).toBe('secure 2');
    expect(server.served.map((e) => [e.scheme, e.protocol, e.url])).toEqual([
      ['https', 'h2', '/tls'],
      ['https', 'h2', '/tls-curl'],
    ]);
  });
});

describe('many streams on one connection', () => {
  it('serves 100 streams concurrently, and never more than SETTINGS_MAX_CONCURRENT_STREAMS at once', async () => {
    const held: HttpExchange[] = [];
    let maxInFlight = 0;
    let inFlight = 0;
    let autoRelease = true;
    const release = (): void => {
      for (const ex of held.splice(0)) {
        inFlight--;
        textHandler(ex.url)(ex);
      }
    };
    const server = await startH2Server((ex) => {
      held.push(ex);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Answered only once 100 wait together: serialised streams would never get there.
      if (autoRelease && held.length === 100) release();
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const first = await Promise.all(Array.from({ length: 100 }, (_, i) => h2request(session, { ':path': `/s${i}` })));
    expect(first.map((r) => r.body.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `/s${i}`));
    expect(maxInFlight).toBe(100);
    // 150 more: the client must queue the 51 beyond the server's limit.
    maxInFlight = 0;
    autoRelease = false;
    const more = Array.from({ length: 150 }, (_, i) => h2request(session, { ':path': `/m${i}` }));
    await waitFor(() => held.length === 100);
    await new Promise((r) => setTimeout(r, 50));
    expect(held.length).toBe(100);
    release();
    await waitFor(() => held.length === 50);
    release();
    expect((await Promise.all(more)).length).toBe(150);
    expect(maxInFlight).toBe(100);
    await waitFor(() => server.done.length === 250);
    expect(server.done.every((d) => d.finished)).toBe(true);
    expect(new Set(server.done.map((d) => d.exchange)).size).toBe(250);
  });
});

describe('bodies and flow control', () => {
  it('echoes an 8 MB request body intact, holding the sender back while the client does not read the response', async () => {
    let taken = 0;
    const server = await startH2Server((ex) => {
      ex.writeHead(200, ['content-type', 'application/octet-stream']);
      ex.readBody({
        onData(chunk) {
          taken += chunk.length;
          if (ex.write(chunk)) return true;
          ex.onceDrain(() => ex.resumeBody());
          return false;
        },
        onEnd: () => ex.end(),
        onError: () => {},
      });
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const body = randomBytes(8 * MB);
    const stream = session.request({ ':path': '/echo', ':method': 'POST' }, { endStream: false });
    stream.pause();
    stream.end(body);
    // The client reads nothing: the echo stops once the windows and buffers are full.
    await new Promise((r) => setTimeout(r, 300));
    const takenWhileStalled = taken;
    expect(takenWhileStalled).toBeLessThan(2 * MB);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    expect(sha(Buffer.concat(chunks))).toBe(sha(body));
    await waitFor(() => server.done.length === 1);
    expect(server.done[0]!.finished).toBe(true);
  });

  it('a client not reading one stream does not stall the others (response side)', async () => {
    let writtenToSlow = 0;
    const big = randomBytes(2 * MB);
    const server = await startH2Server((ex) => {
      ex.writeHead(200, []);
      if (ex.url === '/slow') {
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (writtenToSlow < 64 * MB) {
            writtenToSlow += chunk.length;
            if (!ex.write(chunk)) return ex.onceDrain(pump);
          }
          ex.end();
        };
        pump();
      } else {
        ex.write(big);
        ex.end();
      }
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const slow = session.request({ ':path': '/slow' });
    slow.pause();
    await waitFor(() => writtenToSlow > 0);
    const fast = await Promise.all([h2request(session, { ':path': '/fast1' }), h2request(session, { ':path': '/fast2' })]);
    expect(fast.map((r) => sha(r.body))).toEqual([sha(big), sha(big)]);
    // Held back by its stream window and the stream's buffer, not buffered without bound.
    expect(writtenToSlow).toBeLessThan(2 * MB);
    slow.close(h2constants.NGHTTP2_CANCEL);
  });

  it('a request body nobody reads does not stall the other streams (request side)', async () => {
    const server = await startH2Server((ex) => {
      if (ex.url === '/unread') return; // never reads, never answers (until the client gives up)
      echoHandler(ex);
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const unread = session.request({ ':path': '/unread', ':method': 'POST' }, { endStream: false });
    unread.on('error', () => {});
    unread.write(randomBytes(4 * MB));
    const body = randomBytes(3 * MB);
    const res = await h2request(session, { ':path': '/echo', ':method': 'POST' }, body);
    expect(sha(res.body)).toBe(sha(body));
    // Its stream window (64 KiB by default) is all the unread stream could send.
    expect(unread.bufferSize).toBeGreaterThan(3 * MB);
    unread.close(h2constants.NGHTTP2_CANCEL);
    await waitFor(() => server.done.length === 2);
  });

  it('a response ended before the body was read resets the still-sending client with NO_ERROR after the response', async () => {
    const server = await startH2Server(textHandler('early', 413));
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stream = session.request({ ':path': '/upload', ':method': 'POST' }, { endStream: false });
    stream.on('error', () => {});
    stream.write(Buffer.alloc(1024));
    const chunks: Buffer[] = [];
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((r) => stream.once('close', r));
    expect(status).toBe(413);
    expect(Buffer.concat(chunks).toString()).toBe('early');
    expect(stream.rstCode).toBe(h2constants.NGHTTP2_NO_ERROR);
    await waitFor(() => server.done.length === 1);
    expect(server.done[0]!.finished).toBe(true);
  });
});

describe('responses', () => {
  it('translates the response head: names lower-cased, repeated fields kept, connection-specific fields dropped', async () => {
    const server = await startH2Server(
      textHandler('x', 200, ['Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Proxy-Connection', 'x', 'X-Custom', 'Yes', 'Date', 'Tue, 01 Jan 2030 00:00:00 GMT']),
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/' });
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-custom']).toBe('Yes');
    expect(res.headers.date).toBe('Tue, 01 Jan 2030 00:00:00 GMT');
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']) expect(res.headers[name]).toBeUndefined();
  });

  it('a head-only answer (writeHead + end) is one HEADERS frame with END_STREAM, as gRPC trailers-only answers need', async () => {
    const server = await startH2Server((ex) => {
      ex.writeHead(200, ['content-type', 'application/grpc', 'grpc-status', '14', 'grpc-message', 'unavailable']);
      ex.end();
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/pkg.Svc/Call', ':method': 'POST', 'content-type': 'application/grpc', te: 'trailers' }, Buffer.alloc(5));
    expect(res.flags & h2constants.NGHTTP2_FLAG_END_STREAM).toBe(h2constants.NGHTTP2_FLAG_END_STREAM);
    expect(res.headers['grpc-status']).toBe('14');
    expect(res.body.length).toBe(0);
    expect(res.trailers).toBeUndefined();
  });

  it('sends trailers when the client takes them (te: trailers, gRPC, or a Trailer field), and drops them otherwise', async () => {
    const handler: H2Handler = (ex) => {
      const announce = ex.url === '/announced' ? ['trailer', 'x-checksum'] : [];
      ex.writeHead(200, ['content-type', 'text/plain', ...announce]);
      ex.write(Buffer.from('body'));
      ex.end(['X-Checksum', 'abc', 'grpc-status', '0', 'Connection', 'close']);
    };
    const server = await startH2Server(handler);
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const withTe = await h2request(session, { ':path': '/te', te: 'trailers' });
    expect(withTe.body.toString()).toBe('body');
    expect(withTe.trailers).toMatchObject({ 'x-checksum': 'abc', 'grpc-status': '0' });
    expect(withTe.trailers!.connection).toBeUndefined();
    const announced = await h2request(session, { ':path': '/announced' });
    expect(announced.trailers).toMatchObject({ 'x-checksum': 'abc' });
    const plain = await h2request(session, { ':path': '/plain' });
    expect(plain.body.toString()).toBe('body');
    expect(plain.trailers).toBeUndefined();
  });

  it('trailers with no body: HEADERS, then trailing HEADERS with END_STREAM', async () => {
    const server = await startH2Server((ex) => {
      ex.writeHead(200, ['content-type', 'application/grpc']);
      ex.end(['grpc-status', '5', 'grpc-message', 'not found']);
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/x', te: 'trailers', 'content-type': 'application/grpc' });
    expect(res.flags & h2constants.NGHTTP2_FLAG_END_STREAM).toBe(0);
    expect(res.trailers).toMatchObject({ 'grpc-status': '5', 'grpc-message': 'not found' });
  });

  it('HEAD, 204 and 304 carry no body whatever is written', async () => {
    const server = await startH2Server((ex) => {
      const status = ex.url === '/204' ? 204 : ex.url === '/304' ? 304 : 200;
      ex.writeHead(status, ['content-length', '5']);
      ex.write(Buffer.from('hello'));
      ex.end();
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    for (const [path, method, status] of [['/head', 'HEAD', 200], ['/204', 'GET', 204], ['/304', 'GET', 304]] as const) {
      const res = await h2request(session, { ':path': path, ':method': method });
      expect([res.status, res.body.length, res.flags & 1]).toEqual([status, 0, 1]);
    }
  });

  it('streams a response as it is written (server-sent events): each chunk arrives before the next is written', async () => {
    let next: (() => void) | undefined;
    const server = await startH2Server((ex) => {
      ex.writeHead(200, ['content-type', 'text/event-stream']);
      let i = 0;
      next = () => {
        if (++i > 3) return ex.end();
        ex.write(Buffer.from(`data: ${i}\n\n`));
      };
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stream = session.request({ ':path': '/events' });
    const got: string[] = [];
    const head = new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
    stream.on('data', (c: Buffer) => got.push(c.toString()));
    // The head goes out before any event is written.
    expect(await head).toBe(200);
    for (let i = 1; i <= 3; i++) {
      next!();
      await waitFor(() => got.length === i);
      expect(got[i - 1]).toBe(`data: ${i}\n\n`);
    }
    next!();
    await new Promise((r) => stream.once('end', r));
  });

  it('destroy() resets the stream with INTERNAL_ERROR; the connection carries on', async () => {
    const server = await startH2Server((ex) => {
      if (ex.url === '/ok') return textHandler('fine')(ex);
      ex.writeHead(200, []);
      ex.write(Buffer.from('partial'));
      setTimeout(() => ex.destroy(), 20);
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    await expect(h2request(session, { ':path': '/broken' })).rejects.toThrow(/NGHTTP2_INTERNAL_ERROR|code 2/);
    expect((await h2request(session, { ':path': '/ok' })).body.toString()).toBe('fine');
    await waitFor(() => server.done.length === 2);
    expect(server.done.map((d) => d.finished)).toEqual([false, true]);
  });
});

describe('requests that are answered without being served', () => {
  it.each([
    ['a host that differs from :authority', { ':authority': 'a.example', host: 'b.example' }, 400, 'bad-request'],
    ['CONNECT', { ':method': 'CONNECT', ':authority': 'a.example:443' }, 405, 'connect-not-allowed'],
  ])('%s', async (_name, headers, status, reason) => {
    const server = await startH2Server(textHandler());
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, headers);
    expect(res.status).toBe(status);
    expect(res.headers['x-switchyard-error']).toBe(reason);
    expect(server.served).toEqual([]);
    // The connection serves on.
    expect((await h2request(session, { ':path': '/' })).status).toBe(200);
  });

  it.each([
    ['no :authority and no host', [[':method', 'GET'], [':scheme', 'http'], [':path', '/']]],
    ['an empty :authority', [[':method', 'GET'], [':scheme', 'http'], [':authority', ''], [':path', '/']]],
  ] as [string, [string, string][]][])('%s: refused by nghttp2 itself (RST_STREAM PROTOCOL_ERROR), the connection lives on', async (_name, fields) => {
    const server = await startH2Server(textHandler());
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK, frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, hpack(fields)), getRequest(3)]));
    const rst = await raw.waitFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
    expect(rst.payload.readUInt32BE(0)).toBe(H2Error.PROTOCOL_ERROR);
    await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 3);
    expect(server.served.map((e) => e.url)).toEqual(['/']);
  });

  it('a Host equal to :authority (any case) is accepted', async () => {
    const server = await startH2Server(textHandler());
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/', ':authority': 'Shop.Example', host: 'shop.example' });
    expect(res.status).toBe(200);
    expect(server.served[0]!.host).toBe('Shop.Example');
  });
});

describe('clients that go away', () => {
  it('a reset mid-response fires onClientGone once and counts the stream as not finished; the connection lives on', async () => {
    let gone = 0;
    const server = await startH2Server((ex) => {
      if (ex.url === '/ok') return textHandler('still here')(ex);
      ex.onClientGone = () => gone++;
      ex.writeHead(200, []);
      ex.write(Buffer.from('first'));
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stream = session.request({ ':path': '/long' });
    await new Promise((r) => stream.once('data', r));
    stream.close(h2constants.NGHTTP2_CANCEL);
    await waitFor(() => server.done.length === 1);
    expect(gone).toBe(1);
    expect(server.done[0]).toEqual({ exchange: server.served[0], finished: false });
    expect((await h2request(session, { ':path': '/ok' })).body.toString()).toBe('still here');
  });

  // Raw frames: node:http2's own client ends the body (END_STREAM) before its RST_STREAM.
  it.each([
    ['CANCEL', H2Error.CANCEL],
    ['NO_ERROR', H2Error.NO_ERROR],
  ])('a reset (%s) in the middle of the request body is an error to the body sink, never its end', async (_name, code) => {
    let gone = 0;
    const events: string[] = [];
    const server = await startH2Server((ex) => {
      ex.onClientGone = () => gone++;
      ex.readBody({ onData: (c) => (events.push(`data ${c.length}`), true), onEnd: () => events.push('end'), onError: () => events.push('error') });
    });
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK, getRequest(1, '/upload', [], { body: true }), frame(FrameType.DATA, 0, 1, Buffer.alloc(100))]));
    await waitFor(() => events.length === 1);
    raw.write(rstStream(1, code));
    await waitFor(() => server.done.length === 1);
    expect(events).toEqual(['data 100', 'error']);
    expect(gone).toBe(1);
    expect(server.done[0]!.finished).toBe(false);
  });
});

describe('drain and timeouts', () => {
  it('drain: GOAWAY NO_ERROR with the last stream id; the in-flight stream completes; the session then closes', async () => {
    const held: HttpExchange[] = [];
    const server = await startH2Server((ex) => held.push(ex));
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const goaway = new Promise<[number, number]>((r) => session.once('goaway', (code, last) => r([code, last])));
    const inFlight = h2request(session, { ':path': '/in-flight' });
    await waitFor(() => held.length === 1);
    expect(server.sessions.size).toBe(1);
    server.sessions.drain();
    expect(await goaway).toEqual([h2constants.NGHTTP2_NO_ERROR, 1]);
    textHandler('finished anyway')(held[0]!);
    expect((await inFlight).body.toString()).toBe('finished anyway');
    await waitFor(() => server.sessions.size === 0, { what: 'the drained session to close' });
    expect(server.done).toEqual([{ exchange: held[0], finished: true }]);
  });

  it('a session accepted while draining gets GOAWAY at once and serves nothing', async () => {
    const server = await startH2Server(textHandler());
    server.sessions.drain();
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK]));
    const goaway = await raw.waitFrame((f) => f.type === FrameType.GOAWAY);
    expect(goawayOf(goaway)).toEqual({ lastStreamId: 0, code: 0 });
    raw.write(getRequest(1));
    await raw.closed;
    expect(server.served).toEqual([]);
  });

  it('destroyAll cuts sessions with streams in flight; each counts as not finished', async () => {
    let gone = 0;
    const server = await startH2Server((ex) => {
      ex.onClientGone = () => gone++;
    });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const requests = [h2request(session, { ':path': '/1' }), h2request(session, { ':path': '/2' })];
    await waitFor(() => server.served.length === 2);
    server.sessions.destroyAll();
    for (const r of requests) await expect(r).rejects.toThrow();
    await waitFor(() => server.done.length === 2 && server.sessions.size === 0);
    expect(server.done.every((d) => !d.finished)).toBe(true);
    expect(gone).toBe(2);
  });

  it('a client that ends its side of the connection gets its open streams answered, then the session closes', async () => {
    // An idle timeout far beyond the test's: the close comes from the client's end, not from idling.
    const server = await startH2Server((ex) => setTimeout(() => textHandler('late')(ex), 100), { idleTimeoutMs: 60_000 });
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK, getRequest(1, '/a'), getRequest(3, '/b')]));
    await waitFor(() => server.served.length === 2);
    raw.socket.end();
    for (const id of [1, 3]) expect((await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === id)).payload.toString()).toBe('late');
    await waitFor(() => raw.isClosed() && server.sessions.size === 0, { what: 'the session to close after its last stream' });
    expect(server.done.map((d) => d.finished)).toEqual([true, true]);
  });

  it('idle timeout: a session with no open stream gets GOAWAY and closes; an active one is left alone', async () => {
    const server = await startH2Server(
      (ex) => {
        if (ex.url === '/slow') setTimeout(() => textHandler('slow')(ex), 600);
        else textHandler()(ex);
      },
      { idleTimeoutMs: 300 },
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const goaway = new Promise<number>((r) => session.once('goaway', (code) => r(code)));
    const started = performance.now();
    // Busy for 600 ms, longer than the idle timeout: not idle.
    expect((await h2request(session, { ':path': '/slow' })).body.toString()).toBe('slow');
    expect(await goaway).toBe(h2constants.NGHTTP2_NO_ERROR);
    const idleFor = performance.now() - started - 600;
    expect(idleFor).toBeGreaterThanOrEqual(250);
    await waitFor(() => server.sessions.size === 0);
  });
});

describe('request timeout (--client-request-timeout)', () => {
  const TIMEOUT_MS = 500;

  /** Opens a POST whose body never ends: `sent` bytes go out, then nothing. */
  function stalledPost(session: Awaited<ReturnType<typeof h2connect>>, path: string, extra: Record<string, string> = {}) {
    const stream = session.request({ ':path': path, ':method': 'POST', ...extra }, { endStream: false });
    stream.on('error', () => {});
    stream.write(Buffer.alloc(100));
    const chunks: Buffer[] = [];
    let head: { headers: Record<string, unknown>; flags: number; at: number } | undefined;
    stream.on('response', (headers, flags) => (head = { headers, flags, at: performance.now() }));
    stream.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise<void>((r) => stream.once('close', () => r()));
    return { stream, closed, head: () => head, body: () => Buffer.concat(chunks) };
  }

  it('a stream whose body stalls gets 408 request-timeout and its upstream is aborted; the other streams on the connection are served', async () => {
    let gone = 0;
    const events: string[] = [];
    const server = await startH2Server(
      (ex) => {
        if (ex.url === '/stall') {
          ex.onClientGone = () => gone++;
          ex.readBody({ onData: (c) => (events.push(`data ${c.length}`), true), onEnd: () => events.push('end'), onError: () => events.push('error') });
        } else if (ex.url === '/slow') {
          // Request complete at once, answered after the timeout: not a slow client, left alone.
          setTimeout(() => textHandler('slow')(ex), TIMEOUT_MS * 2);
        } else {
          echoHandler(ex);
        }
      },
      { requestTimeoutMs: TIMEOUT_MS },
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const opened = performance.now();
    const stalled = stalledPost(session, '/stall');
    const slow = h2request(session, { ':path': '/slow' });
    await waitFor(() => events.length === 1);
    // Another stream, opened and completed while the first one stalls.
    expect((await h2request(session, { ':path': '/echo', ':method': 'POST' }, 'meanwhile')).body.toString()).toBe('meanwhile');
    await stalled.closed;
    const head = stalled.head();
    expect(head).toBeDefined();
    expect(head!.at - opened).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(head!.headers[':status']).toBe(408);
    expect(head!.headers['x-switchyard-error']).toBe('request-timeout');
    expect(head!.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(head!.headers.server).toBe('switchyard');
    expect(stalled.body().toString()).toBe('request timeout\n');
    expect(Number(head!.headers['content-length'])).toBe(stalled.body().length);
    // The client was still sending: told to stop after the answer (RST_STREAM NO_ERROR), not cut.
    expect(stalled.stream.rstCode).toBe(h2constants.NGHTTP2_NO_ERROR);
    expect((await slow).body.toString()).toBe('slow');
    await waitFor(() => server.done.length === 3);
    expect(events).toEqual(['data 100', 'error']);
    expect(gone).toBe(1);
    const stalledEx = server.served.find((e) => e.url === '/stall')!;
    expect(server.doneCount(stalledEx)).toBe(1);
    expect(server.done.find((d) => d.exchange === stalledEx)!.finished).toBe(true);
    expect(stalledEx.statusCode).toBe(408);
    expect(server.done.every((d) => d.finished)).toBe(true);
    // The connection carries on.
    expect((await h2request(session, { ':path': '/echo', ':method': 'POST' }, 'after')).body.toString()).toBe('after');
    expect(server.sessions.size).toBe(1);
  });

  it('what the handler does after the timeout goes nowhere: the 408 stands', async () => {
    let held: HttpExchange | undefined;
    const server = await startH2Server((ex) => (held = ex), { requestTimeoutMs: TIMEOUT_MS });
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stalled = stalledPost(session, '/stall');
    await stalled.closed;
    expect(stalled.head()!.headers[':status']).toBe(408);
    held!.writeHead(200, ['content-type', 'text/plain']);
    held!.write(Buffer.from('late'));
    held!.end();
    held!.destroy();
    await waitFor(() => server.done.length === 1);
    expect(server.done[0]!.finished).toBe(true);
    expect(held!.statusCode).toBe(408);
  });

  it('a gRPC call whose request stalls gets DEADLINE_EXCEEDED as a trailers-only answer', async () => {
    let gone = 0;
    const server = await startH2Server(
      (ex) => {
        ex.onClientGone = () => gone++;
      },
      { requestTimeoutMs: TIMEOUT_MS },
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stalled = stalledPost(session, '/pkg.Svc/Upload', { 'content-type': 'application/grpc', te: 'trailers' });
    await stalled.closed;
    const head = stalled.head()!;
    expect(head.headers[':status']).toBe(200);
    expect(head.flags & h2constants.NGHTTP2_FLAG_END_STREAM).toBe(h2constants.NGHTTP2_FLAG_END_STREAM);
    expect(head.headers['content-type']).toBe('application/grpc');
    expect(head.headers['grpc-status']).toBe('4');
    expect(head.headers['grpc-message']).toBe('request timeout');
    expect(head.headers['x-switchyard-error']).toBe('request-timeout');
    expect(stalled.body().length).toBe(0);
    await waitFor(() => server.done.length === 1);
    expect(gone).toBe(1);
    expect(server.done[0]!.finished).toBe(true);
  });

  it('a gRPC call the pod already answers is a live stream: the request timeout leaves it alone', async () => {
    let gone = 0;
    let held: HttpExchange | undefined;
    const server = await startH2Server(
      (ex) => {
        held = ex;
        ex.onClientGone = () => gone++;
        ex.writeHead(200, ['content-type', 'application/grpc']);
        ex.write(Buffer.from([0, 0, 0, 0, 0]));
      },
      { requestTimeoutMs: TIMEOUT_MS },
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const stalled = stalledPost(session, '/pkg.Svc/Watch', { 'content-type': 'application/grpc', te: 'trailers' });
    await waitFor(() => stalled.head() !== undefined || undefined);
    // Three request timeouts later the call is still open and not reset.
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS + 1000));
    expect(stalled.stream.closed).toBe(false);
    expect(gone).toBe(0);
    held!.end(['grpc-status', '0']);
    await stalled.closed;
    expect(stalled.stream.rstCode).not.toBe(h2constants.NGHTTP2_INTERNAL_ERROR);
  });

  it('once the response has begun, a stalled request body resets the stream; the connection survives', async () => {
    let gone = 0;
    const server = await startH2Server(
      (ex) => {
        if (ex.url !== '/stream') return textHandler('still here')(ex);
        // Answers before reading the body (a server that streams while it receives).
        ex.onClientGone = () => gone++;
        ex.writeHead(200, ['content-type', 'text/plain']);
        ex.write(Buffer.from('first'));
      },
      { requestTimeoutMs: TIMEOUT_MS },
    );
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const opened = performance.now();
    const stalled = stalledPost(session, '/stream');
    await stalled.closed;
    expect(performance.now() - opened).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(stalled.head()!.headers[':status']).toBe(200);
    expect(stalled.body().toString()).toBe('first');
    expect(stalled.stream.rstCode).toBe(h2constants.NGHTTP2_INTERNAL_ERROR);
    await waitFor(() => server.done.length === 1);
    expect(gone).toBe(1);
    expect(server.done[0]).toEqual({ exchange: server.served[0], finished: false });
    expect((await h2request(session, { ':path': '/ok' })).body.toString()).toBe('still here');
    expect(server.sessions.size).toBe(1);
    expect(session.closed || session.destroyed).toBe(false);
  });
});
