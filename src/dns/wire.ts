/**
 * Query bytes → response bytes: the DNS wire format, through `dns-packet` (the only module that imports it).
 * Pure: no sockets, no logging; the listener (server.ts) hands each message over with the current snapshot.
 *
 * - Fewer than 12 bytes (no header), or a message with QR set (a response: answering would let two servers
 *   bounce packets forever): dropped.
 * - A message that does not parse: FORMERR, header only. So is a question name that does not survive a
 *   decode/encode round trip unchanged (a compression pointer in the question, a `.` or a byte that is not
 *   UTF-8 inside a label): no name in the zone can be spelled that way, and echoing it would change it.
 * - Opcode other than QUERY: NOTIMP. Not exactly one question, or more than one OPT: FORMERR. Class other than
 *   IN or ANY: REFUSED. EDNS version above 0: BADVERS (RFC 6891 §6.1.3).
 * - The question is echoed byte for byte; owner names are compressed against it and each other (RFC 1035
 *   §4.1.4), so answers for the asked name carry the asked case. RDATA names are written uncompressed.
 * - Flags: QR, AA on answers from our zones, RD and CD copied, RA never (no recursion).
 * - Size: over UDP a response may be 512 bytes, or the size an OPT record advertises (at least 512, at most
 *   `maxUdpPayload`). Too big: the additional section (SRV targets' addresses) is dropped first, as it is
 *   optional (RFC 2181 §9); still too big: TC is set and answer, authority and additional sections are
 *   emptied, so the client retries over TCP, which carries up to 65535 bytes.
 */
import dnsPacket from 'dns-packet';
import type { Answer, OptAnswer } from 'dns-packet';
import type { Snapshot } from '../snapshot/types.ts';
import { resolveQuestion } from './records.ts';
import type { Rcode, ResourceRecord } from './types.ts';

export interface WireOptions {
  /** TTL of answered records, seconds. */
  readonly ttlSeconds: number;
  readonly transport: 'udp' | 'tcp';
  /** Largest UDP response whatever a client advertises, and the size this server advertises in its OPT. */
  readonly maxUdpPayload: number;
}

/** Default `maxUdpPayload`: 1232 bytes, DNS Flag Day 2020's size that avoids IP fragmentation. */
export const DEFAULT_MAX_UDP_PAYLOAD = 1232;
const CLASSIC_UDP_LIMIT = 512;
const TCP_LIMIT = 65535;
const HEADER_BYTES = 12;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const CD = 0x0010;
const CLASS_IN = 1;
const CLASS_ANY = 255;
const BADVERS = 16;
const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };
const EMPTY: readonly ResourceRecord[] = [];

/** Why a message got no answer or an error, for the listener's debug log. */
export type QueryProblem = 'short' | 'response' | 'malformed' | undefined;

export interface WireResponse {
  /** The bytes to send; undefined when the message is dropped. */
  readonly bytes: Buffer | undefined;
  readonly problem: QueryProblem;
}

/** The response to one DNS message. Never throws. */
export function respond(query: Buffer, snapshot: Snapshot, options: WireOptions): WireResponse {
  if (query.length < HEADER_BYTES) return { bytes: undefined, problem: 'short' };
  const flags = query.readUInt16BE(2);
  if ((flags & QR) !== 0) return { bytes: undefined, problem: 'response' };
  const id = query.readUInt16BE(0);
  const echoed = (flags & OPCODE_MASK) | (flags & (RD | CD));
  try {
    return answer(query, id, echoed, snapshot, options);
  } catch {
    return { bytes: headerOnly(id, echoed, RCODES.FORMERR), problem: 'malformed' };
  }
}

function answer(query: Buffer, id: number, echoed: number, snapshot: Snapshot, options: WireOptions): WireResponse {
  if ((echoed & OPCODE_MASK) !== 0) return { bytes: headerOnly(id, echoed, RCODES.NOTIMP), problem: undefined };
  const packet = dnsPacket.decode(query);
  const opts = (packet.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT');
  const question = packet.questions?.[0];
  if (packet.questions?.length !== 1 || question === undefined || opts.length > 1 || (opts.length === 1 && opts[0]!.name !== '.')) {
    return formerr(id, echoed);
  }
  const nameBytes = dnsPacket.encode({ questions: [{ name: question.name, type: 'A' }] }).subarray(HEADER_BYTES, -4);
  if (!query.subarray(HEADER_BYTES, HEADER_BYTES + nameBytes.length).equals(nameBytes)) return formerr(id, echoed);
  const questionBytes = query.subarray(HEADER_BYTES, HEADER_BYTES + nameBytes.length + 4);
  const qclass = questionBytes.readUInt16BE(nameBytes.length + 2);
  const opt = opts[0];
  const limit =
    options.transport === 'tcp'
      ? TCP_LIMIT
      : opt === undefined
        ? CLASSIC_UDP_LIMIT
        : Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, Math.max(options.maxUdpPayload, CLASSIC_UDP_LIMIT)));
  const out: Draft = { id, flags: echoed, question: questionBytes, questionName: question.name, opt: undefined };
  if (opt !== undefined) out.opt = optRecord(options.maxUdpPayload, 0);
  if (opt !== undefined && opt.ednsVersion > 0) {
    out.opt = optRecord(options.maxUdpPayload, BADVERS >> 4);
    return { bytes: encode(out, BADVERS & 0xf, false, EMPTY, EMPTY, EMPTY), problem: undefined };
  }
  if (qclass !== CLASS_IN && qclass !== CLASS_ANY) return { bytes: encode(out, RCODES.REFUSED, false, EMPTY, EMPTY, EMPTY), problem: undefined };

  const result = resolveQuestion(snapshot, { name: question.name, type: question.type }, options.ttlSeconds);
  const rcode = RCODES[result.rcode];
  const full = encode(out, rcode, result.authoritative, result.answers, result.authorities, result.additionals);
  if (full.length <= limit) return { bytes: full, problem: undefined };
  const lean = encode(out, rcode, result.authoritative, result.answers, result.authorities, EMPTY);
  if (lean.length <= limit) return { bytes: lean, problem: undefined };
  out.flags |= TC;
  return { bytes: encode(out, rcode, result.authoritative, EMPTY, EMPTY, EMPTY), problem: undefined };
}

interface Draft {
  readonly id: number;
  flags: number;
  readonly question: Buffer;
  readonly questionName: string;
  opt: Buffer | undefined;
}

function formerr(id: number, echoed: number): WireResponse {
  return { bytes: headerOnly(id, echoed, RCODES.FORMERR), problem: 'malformed' };
}

function headerOnly(id: number, echoed: number, rcode: number): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(QR | echoed | rcode, 2);
  return buf;
}

/** OPT RR bytes (RFC 6891 §6.1.2): our payload size, the upper bits of the rcode, version 0, no DO, no options. */
function optRecord(udpPayloadSize: number, extendedRcode: number): Buffer {
  const record: OptAnswer = { type: 'OPT', name: '.', udpPayloadSize, extendedRcode, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  return dnsPacket.encode({ additionals: [record] }).subarray(HEADER_BYTES);
}

function encode(
  draft: Draft,
  rcode: number,
  authoritative: boolean,
  answers: readonly ResourceRecord[],
  authorities: readonly ResourceRecord[],
  additionals: readonly ResourceRecord[],
): Buffer {
  const writer = new NameWriter(HEADER_BYTES + draft.question.length);
  writer.remember(draft.questionName, HEADER_BYTES);
  const parts: Buffer[] = [Buffer.alloc(HEADER_BYTES), draft.question];
  for (const list of [answers, authorities, additionals]) {
    for (const rr of list) {
      parts.push(writer.name(rr.name));
      parts.push(writer.push(rrTail(rr)));
    }
  }
  if (draft.opt) parts.push(writer.push(draft.opt));
  const header = parts[0]!;
  header.writeUInt16BE(draft.id, 0);
  header.writeUInt16BE(QR | draft.flags | (authoritative ? AA : 0) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authorities.length, 8);
  header.writeUInt16BE(additionals.length + (draft.opt ? 1 : 0), 10);
  return Buffer.concat(parts, writer.offset);
}

/** TYPE, CLASS, TTL, RDLENGTH and RDATA of a record: dns-packet's encoding of it under the root name, less the name. */
function rrTail(rr: ResourceRecord): Buffer {
  return dnsPacket.encode({ answers: [toAnswer(rr)] }).subarray(HEADER_BYTES + 1);
}

function toAnswer(rr: ResourceRecord): Answer {
  const base = { name: '.', ttl: rr.ttl, class: 'IN' } as const;
  switch (rr.type) {
    case 'SRV':
      return { ...base, type: 'SRV', data: { ...rr.data } };
    case 'SOA':
      return { ...base, type: 'SOA', data: { ...rr.data } };
    case 'TXT':
      return { ...base, type: 'TXT', data: rr.data };
    default:
      return { ...base, type: rr.type, data: rr.data };
  }
}

/** Writes owner names, pointing at an earlier copy of a suffix where there is one (exact bytes, so case is kept). */
class NameWriter {
  offset: number;
  readonly #seen = new Map<string, number>();

  constructor(offset: number) {
    this.offset = offset;
  }

  /** Records that `name` (no trailing dot, '.' for the root) is written at `at`. */
  remember(name: string, at: number): void {
    if (name === '.' || name === '') return;
    let pos = at;
    let rest = name;
    for (;;) {
      if (pos < 0x4000 && !this.#seen.has(rest)) this.#seen.set(rest, pos);
      const dot = rest.indexOf('.');
      if (dot < 0) return;
      pos += Buffer.byteLength(rest.slice(0, dot)) + 1;
      rest = rest.slice(dot + 1);
    }
  }

  name(name: string): Buffer {
    const labels = name === '' || name === '.' ? [] : name.split('.');
    const chunks: number[] = [];
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const pointer = this.#seen.get(suffix);
      if (pointer !== undefined) {
        chunks.push(0xc0 | (pointer >> 8), pointer & 0xff);
        return this.push(Buffer.from(chunks));
      }
      if (this.offset + chunks.length < 0x4000) this.#seen.set(suffix, this.offset + chunks.length);
      const bytes = Buffer.from(labels[i]!);
      chunks.push(bytes.length, ...bytes);
    }
    chunks.push(0);
    return this.push(Buffer.from(chunks));
  }

  push(buf: Buffer): Buffer {
    this.offset += buf.length;
    return buf;
  }
}
