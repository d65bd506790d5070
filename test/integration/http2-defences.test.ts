/**
 * HTTP/2 bad input, sent as raw frames on a plain socket (what no well-behaved client sends): rapid
 * reset (CVE-2023-44487), CONTINUATION floods (CVE-2024-27983), oversized header lists, malformed
 * frames, garbage after the preface, and clients that never complete a request. Each gets a clear
 * answer (RST_STREAM, GOAWAY with its code, or a close), nothing crashes, nothing stays open, and the
 * server goes on serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect as tlsConnect } from 'node:tls';
import type { HttpExchange } from '../../src/dataplane/exchange.ts';
import { resetLimit } from '../../src/dataplane/h2/h2-sessions.ts';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { Flag, FrameType, H2Error, PREFACE, SETTINGS, SETTINGS_ACK, frame, getRequest, goawayOf, hpack, rawConnect, rstStream, type RawH2 } from '../helpers/h2-frames.ts';
import { h2connect, h2request, startH2Server, textHandler, type H2TestServer } from '../helpers/h2-server.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw connection past the preface and SETTINGS exchange. */
async function open(server: H2TestServer): Promise<RawH2> {
  const raw = await rawConnect(server.port);
  raw.write(Buffer.concat([PREFACE, SETTINGS, SETTINGS_ACK]));
  await raw.waitFrame((f) => f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) !== 0);
  return raw;
}

/** The server still serves a new connection, and every session it had is gone. */
async function stillServing(server: H2TestServer): Promise<void> {
  const session = await h2connect(`http://127.0.0.1:${server.port}`);
  expect((await h2request(session, { ':path': '/after' })).status).toBe(200);
  session.close();
  await waitFor(() => server.sessions.size === 0, { what: 'every session to close' });
}

describe('rapid reset (CVE-2023-44487)', () => {
  const limit = resetLimit(100);

  /** Opens and resets streams in batches with pauses (so neither nghttp2 nor node:http2 sees a burst) until the connection closes. */
  async function resetLoop(raw: RawH2, streams: number, batch = 10): Promise<number> {
    let id = 1;
    for (let sent = 0; sent < streams && !raw.isClosed(); sent += batch) {
      const frames: Buffer[] = [];
      for (let i = 0; i < batch; i++, id += 2) frames.push(getRequest(id, `/r${id}`), rstStream(id, H2Error.CANCEL));
      raw.write(Buffer.concat(frames));
      await sleep(3);
    }
    return (id - 1) / 2;
  }

  it(`a client resetting unanswered streams in a paced loop is cut off after ${limit} with GOAWAY ENHANCE_YOUR_CALM; every served stream was aborted`, async () => {
    let aborted = 0;
    const server = await startH2Server((ex) => {
      if (ex.url === '/after') return textHandler()(ex);
      // A slow pod: never answers; the abort is what onClientGone does in the proxy.
      ex.onClientGone = () => aborted++;
    });
    const raw = await open(server);
    const sent = await resetLoop(raw, 5 * limit);
    const goaway = await raw.waitFrame((f) => f.type === FrameType.GOAWAY);
    expect(goawayOf(goaway).code).toBe(H2Error.ENHANCE_YOUR_CALM);
    await raw.closed;
    // Cut off soon after the limit: the client could not go on resetting.
    expect(sent).toBeLessThan(limit + 100);
    // Bounded work: no more than the limit ever reached the handler, and every one of them was aborted and counted once.
    expect(server.served.length).toBeLessThanOrEqual(limit + 1);
    await waitFor(() => server.done.length === server.served.length);
    expect(aborted).toBe(server.served.length);
    expect(server.served.every((ex) => server.doneCount(ex) === 1)).toBe(true);
    expect(server.done.every((d) => !d.finished)).toBe(true);
    await stillServing(server);
    expect(aborted).toBe(server.served.length - 1);
  });

  it('a single burst of opened-and-reset streams is cut off too, and reaches the handler for at most the limit', async () => {
    const server = await startH2Server((ex) => {
      if (ex.url === '/after') textHandler()(ex);
    });
    const raw = await open(server);
    const frames: Buffer[] = [];
    for (let id = 1; id < 6000; id += 2) frames.push(getRequest(id), rstStream(id, H2Error.CANCEL));
    raw.write(Buffer.concat(frames));
    await raw.waitFrame((f) => f.type === FrameType.GOAWAY);
    await raw.closed;
    expect(server.served.filter((e) => e.url !== '/after').length).toBeLessThanOrEqual(limit + 1);
    await stillServing(server);
  });

  it('cancelling fewer streams than the limit (a browser leaving pages) keeps the connection', async () => {
    const server = await startH2Server((ex) => {
      if (ex.url === '/ok') textHandler('alive')(ex);
    });
    const raw = await open(server);
    const sent = await resetLoop(raw, limit - 20);
    expect(sent).toBe(limit - 20);
    const id = 2 * sent + 1;
    raw.write(getRequest(id, '/ok'));
    const data = await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === id);
    expect(data.payload.toString()).toBe('alive');
    expect(raw.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
  });

  it('resets of streams that already got their response do not count', async () => {
    const server = await startH2Server((ex) => {
      ex.writeHead(200, []);
      ex.write(Buffer.from('started'));
    });
    const raw = await open(server);
    const streams = limit + 50;
    for (let id = 1; id < 2 * streams; id += 20) {
      const batch: number[] = [];
      for (let s = id; s < Math.min(id + 20, 2 * streams); s += 2) batch.push(s);
      raw.write(Buffer.concat(batch.map((s) => getRequest(s))));
      await Promise.all(batch.map((s) => raw.waitFrame((f) => f.type === FrameType.HEADERS && f.streamId === s)));
      raw.write(Buffer.concat(batch.map((s) => rstStream(s, H2Error.CANCEL))));
    }
    await waitFor(() => server.done.length === streams);
    expect(raw.isClosed()).toBe(false);
    expect(raw.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
  });
});

describe('CONTINUATION floods (CVE-2024-27983)', () => {
  const start = frame(FrameType.HEADERS, Flag.END_STREAM, 1, hpack([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/']]));
  it.each([
    ['small fields', (i: number) => hpack([[`x-f${i}`, 'v']])],
    ['empty frames', () => Buffer.alloc(0)],
  ])('endless CONTINUATION frames without END_HEADERS (%s) close the connection within a few frames; nothing is served', async (_name, payload) => {
    const server = await startH2Server(textHandler());
    const raw = await open(server);
    raw.write(start);
    let sent = 0;
    while (!raw.isClosed() && sent < 2000) {
      raw.write(frame(FrameType.CONTINUATION, 0, 1, payload(sent)));
      sent++;
      await sleep(1);
    }
    expect(raw.isClosed()).toBe(true);
    // nghttp2 allows 8 CONTINUATION frames per header block; the rest is slack for the close to be seen.
    expect(sent).toBeLessThan(100);
    expect(server.served).toEqual([]);
    await stillServing(server);
  });

  it('a header block left unfinished is closed at the header timeout', async () => {
    const server = await startH2Server(textHandler(), { headerTimeoutMs: 300 });
    const raw = await open(server);
    const started = performance.now();
    raw.write(start);
    raw.write(frame(FrameType.CONTINUATION, 0, 1, hpack([['x-a', 'b']])));
    await raw.closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(server.served).toEqual([]);
  });
});

describe('oversized header lists', () => {
  it('are refused with RST_STREAM (one HEADERS frame, split over CONTINUATION, or many small fields); the connection and the other streams carry on', async () => {
    const server = await startH2Server(textHandler('fine'), { maxHeaderListSize: 8192 });
    const raw = await open(server);
    const splitBlock = hpack([[':method', 'GET'], [':scheme', 'http'], [':authority', 'x'], [':path', '/split'], ['x-big', 'a'.repeat(30_000)]]);
    const manyFields = Array.from({ length: 300 }, (_, i) => [`x-field-${i}`, 'v'] as [string, string]);
    raw.write(
      Buffer.concat([
        getRequest(1, '/big', [['x-big', 'a'.repeat(12_000)]]),
        getRequest(3, '/ok'),
        frame(FrameType.HEADERS, Flag.END_STREAM, 5, splitBlock.subarray(0, 15_000)),
        frame(FrameType.CONTINUATION, 0, 5, splitBlock.subarray(15_000, 30_000)),
        frame(FrameType.CONTINUATION, Flag.END_HEADERS, 5, splitBlock.subarray(30_000)),
        getRequest(7, '/many', manyFields),
        getRequest(9, '/ok2'),
      ]),
    );
    for (const id of [1, 5, 7]) await raw.waitFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === id);
    for (const id of [3, 9]) expect((await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === id)).payload.toString()).toBe('fine');
    expect(server.served.map((e) => e.url)).toEqual(['/ok', '/ok2']);
    expect(raw.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
    // Within the limit passes.
    raw.write(getRequest(11, '/fits', [['x-fits', 'a'.repeat(6000)]]));
    await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 11);
  });

  it('before the client acknowledged SETTINGS (its first requests) the limit holds too: 431, and the session serves on', async () => {
    const server = await startH2Server(textHandler('fine'), { maxHeaderListSize: 4096 });
    // node:http2 sends its first request before it has acknowledged the server's SETTINGS, where nghttp2 does not enforce them yet.
    const session = await h2connect(`http://127.0.0.1:${server.port}`);
    const res = await h2request(session, { ':path': '/big', 'x-big': 'a'.repeat(6000) });
    expect(res.status).toBe(431);
    expect(res.headers['x-switchyard-error']).toBe('header-too-large');
    expect((await h2request(session, { ':path': '/ok' })).body.toString()).toBe('fine');
    expect(server.served.map((e) => e.url)).toEqual(['/ok']);
    // Raw frames, no SETTINGS ACK at all: the same.
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, SETTINGS, getRequest(1, '/big', [['x-big', 'a'.repeat(6000)]]), getRequest(3, '/ok')]));
    await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 3);
    expect((await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 1)).payload.toString()).toBe('request header fields too large\n');
  });
});

describe('malformed frames and protocol violations', () => {
  const windowUpdate0 = frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(4));
  const badHpack = frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
  it.each([
    ['HEADERS on stream 0', getRequest(0), H2Error.PROTOCOL_ERROR],
    ['HEADERS on an even (server-initiated) stream id', getRequest(2), H2Error.PROTOCOL_ERROR],
    ['WINDOW_UPDATE with a zero increment on the connection', windowUpdate0, H2Error.PROTOCOL_ERROR],
    ['a SETTINGS frame whose length is not a multiple of 6', frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(5)), H2Error.FRAME_SIZE_ERROR],
    ['a PING that is not 8 bytes', frame(FrameType.PING, 0, 0, Buffer.alloc(3)), H2Error.FRAME_SIZE_ERROR],
    ['an HPACK block that does not decode', badHpack, H2Error.COMPRESSION_ERROR],
    ['DATA on a stream never opened', frame(FrameType.DATA, 0, 1, Buffer.from('x')), H2Error.PROTOCOL_ERROR],
  ])('%s: GOAWAY with that error, then the connection closes', async (_name, bad, code) => {
    const server = await startH2Server(textHandler());
    const raw = await open(server);
    raw.write(bad);
    const goaway = await raw.waitFrame((f) => f.type === FrameType.GOAWAY);
    expect(goawayOf(goaway).code).toBe(code);
    await raw.closed;
    await stillServing(server);
  });

  it('a connection-specific field in a request refuses that stream only (RST_STREAM PROTOCOL_ERROR)', async () => {
    const server = await startH2Server(textHandler('fine'));
    const raw = await open(server);
    raw.write(Buffer.concat([getRequest(1, '/bad', [['connection', 'close']]), getRequest(3, '/bad-te', [['te', 'gzip']]), getRequest(5, '/ok')]));
    for (const id of [1, 3]) {
      const rst = await raw.waitFrame((f) => f.type === FrameType.RST_STREAM && f.streamId === id);
      expect(rst.payload.readUInt32BE(0)).toBe(H2Error.PROTOCOL_ERROR);
    }
    await raw.waitFrame((f) => f.type === FrameType.DATA && f.streamId === 5);
    expect(server.served.map((e) => e.url)).toEqual(['/ok']);
  });
});

describe('not HTTP/2 after all', () => {
  it('garbage after the preface: GOAWAY and close', async () => {
    const server = await startH2Server(textHandler());
    const raw = await rawConnect(server.port);
    raw.write(Buffer.concat([PREFACE, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]));
    await raw.waitFrame((f) => f.type === FrameType.GOAWAY);
    await raw.closed;
    expect(server.served).toEqual([]);
    await stillServing(server);
  });

  it('HTTP/1.1 bytes on a TLS connection that negotiated h2: closed cleanly', async () => {
    const server = await startH2Server(textHandler(), {}, 'tls');
    const socket = tlsConnect({ port: server.port, host: '127.0.0.1', servername: 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    defer(() => socket.destroy());
    socket.on('error', () => {});
    socket.resume();
    await new Promise((r) => socket.once('secureConnect', r));
    expect(socket.alpnProtocol).toBe('h2');
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((r) => socket.once('close', r));
    expect(server.served).toEqual([]);
    await waitFor(() => server.sessions.size === 0);
  });

  it('a connection that never completes its preface, or sends only SETTINGS, is closed at the header timeout', async () => {
    for (const mode of ['direct', 'handoff'] as const) {
      const server = await startH2Server(textHandler(), { headerTimeoutMs: 300 }, mode);
      const partial = await rawConnect(server.port);
      partial.write(PREFACE.subarray(0, 20));
      const settingsOnly = await rawConnect(server.port);
      settingsOnly.write(Buffer.concat([PREFACE, SETTINGS]));
      const started = performance.now();
      await Promise.all([partial.closed, settingsOnly.closed]);
      expect(performance.now() - started).toBeGreaterThanOrEqual(250);
      await waitFor(() => server.sessions.size === 0);
    }
  });

  it('a served exchange outlives nothing: after all that, every served stream was counted exactly once', async () => {
    const held: HttpExchange[] = [];
    const server = await startH2Server((ex) => held.push(ex));
    const raw = await open(server);
    raw.write(Buffer.concat([getRequest(1, '/a'), getRequest(3, '/b')]));
    await waitFor(() => held.length === 2);
    raw.write(getRequest(0)); // connection error: both streams die with the session
    await raw.closed;
    await waitFor(() => server.done.length === 2);
    expect(held.map((ex) => server.doneCount(ex))).toEqual([1, 1]);
    expect(server.done.every((d) => !d.finished)).toBe(true);
  });
});
