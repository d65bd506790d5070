/**
 * Raw HTTP/2 frames for tests that must send what no well-behaved client sends (rapid resets,
 * CONTINUATION floods, malformed frames): a frame builder, a tiny HPACK encoder that writes every
 * field as a literal without indexing and without Huffman coding (RFC 7541 §6.2.2), and a reader
 * that splits what the server sends back into frames.
 */
import { connect, type Socket } from 'node:net';
import { defer } from './cleanup.ts';

/** Frame types (RFC 9113 §6). */
export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
/** Frame flags. */
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
/** Error codes (RFC 9113 §7). */
export const H2Error = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 } as const;

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from(hpackInt(bytes.length, 7, 0)), bytes]);
}

/** A header block of literal fields without indexing, new names (RFC 7541 §6.2.2, index 0). */
export function hpack(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

/** An empty SETTINGS frame (all defaults). */
export const SETTINGS = frame(FrameType.SETTINGS, 0, 0);
export const SETTINGS_ACK = frame(FrameType.SETTINGS, Flag.ACK, 0);

/** A GET request's HEADERS frame (END_HEADERS, END_STREAM unless `body`). */
export function getRequest(streamId: number, path = '/', extra: readonly (readonly [string, string])[] = [], options: { body?: boolean } = {}): Buffer {
  const block = hpack([[':method', options.body ? 'POST' : 'GET'], [':scheme', 'http'], [':authority', 'test.local'], [':path', path], ...extra]);
  return frame(FrameType.HEADERS, Flag.END_HEADERS | (options.body ? 0 : Flag.END_STREAM), streamId, block);
}

export function rstStream(streamId: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** GOAWAY payload: last stream id and error code. */
export function goawayOf(f: Frame): { lastStreamId: number; code: number } {
  return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
}

/** A raw client connection: every frame the server sends is collected, and the close is observed. */
export interface RawH2 {
  readonly socket: Socket;
  /** Every whole frame the server sent so far, in order. */
  readonly frames: Frame[];
  /** Resolves when the connection has closed. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(data: Buffer): boolean;
  /** The first frame (seen or to come) that satisfies `pred`; rejects after `timeoutMs` or when the connection closes first. */
  waitFrame(pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
}

/** Connects to 127.0.0.1:`port`; registered for cleanup. */
export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawH2> {
  const socket = connect(port, host);
  defer(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  let buf = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (data: Buffer) => {
    buf = Buffer.concat([buf, data]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      frames.push({ type: buf[3]!, flags: buf[4]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) });
      buf = buf.subarray(9 + length);
    }
    for (const w of waiters) w();
  });
  const closedPromise = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      for (const w of waiters) w();
      resolve();
    }),
  );
  return {
    socket,
    frames,
    closed: closedPromise,
    isClosed: () => closed,
    write: (data) => (socket.destroyed ? false : socket.write(data)),
    waitFrame(pred, timeoutMs = 3000) {
      return new Promise<Frame>((resolve, reject) => {
        const check = (): void => {
          const found = frames.find(pred);
          if (found !== undefined) finish(() => resolve(found));
          else if (closed) finish(() => reject(new Error(`connection closed before the frame came; frames: ${describeFrames(frames)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no such frame within ${timeoutMs} ms; frames: ${describeFrames(frames)}`))), timeoutMs);
        const finish = (fn: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

const TYPE_NAMES = Object.fromEntries(Object.entries(FrameType).map(([k, v]) => [v, k]));

export function describeFrames(frames: readonly Frame[]): string {
  return frames.map((f) => `${TYPE_NAMES[f.type] ?? f.type}(s${f.streamId},f${f.flags},${f.payload.length}b)`).join(' ');
}
