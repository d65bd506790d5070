/** The wire layer: header bits, malformed messages, EDNS0, truncation and name compression. No sockets. */
import dnsPacket from 'dns-packet';
import type { StringAnswer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { respond, type WireOptions } from '../../../src/dns/wire.ts';
import { clusterSnapshot, manyEndpointsYaml, snapshotFromYaml } from '../../fixtures/dns/snapshots.ts';
import { decode, fuzzMessages, query } from '../../fixtures/dns/packets.ts';

const snapshot = clusterSnapshot();
const UDP: WireOptions = { ttlSeconds: 5, transport: 'udp', maxUdpPayload: 1232 };
const TCP: WireOptions = { ...UDP, transport: 'tcp' };
const AA = dnsPacket.AUTHORITATIVE_ANSWER;
const TC = dnsPacket.TRUNCATED_RESPONSE;
const RD = dnsPacket.RECURSION_DESIRED;
const RA = dnsPacket.RECURSION_AVAILABLE;

function headerOnlyQuery(id: number, flags: number, counts: readonly [number, number, number, number], body = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(flags, 2);
  counts.forEach((c, i) => header.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([header, body]);
}

describe('answers', () => {
  it('sets QR and AA, copies the id and RD, never sets RA, and echoes the question', () => {
    const q = query('web.shop.svc.cluster.local', 'A', { id: 777 });
    const res = decode(respond(q, snapshot, UDP).bytes);
    expect(res.id).toBe(777);
    expect(res.type).toBe('response');
    expect(res.flags! & AA).toBe(AA);
    expect(res.flags! & RD).toBe(RD);
    expect(res.flags! & RA).toBe(0);
    expect(res.rcode).toBe('NOERROR');
    expect(res.questions).toEqual([{ name: 'web.shop.svc.cluster.local', type: 'A', class: 'IN' }]);
    expect(res.answers).toEqual([{ name: 'web.shop.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, flush: false, data: '10.96.0.10' }]);
  });

  it('keeps RD clear when the query has it clear', () => {
    const res = decode(respond(query('web.shop.svc.cluster.local', 'A', { flags: 0 }), snapshot, UDP).bytes);
    expect(res.flags! & RD).toBe(0);
  });

  it('echoes the asked case in the question and the answer owner names', () => {
    const res = decode(respond(query('WeB.sHoP.svc.Cluster.LOCAL', 'A'), snapshot, UDP).bytes);
    expect(res.questions?.[0]?.name).toBe('WeB.sHoP.svc.Cluster.LOCAL');
    expect(res.answers?.[0]?.name).toBe('WeB.sHoP.svc.Cluster.LOCAL');
  });

  it('compresses owner names against the question and earlier records', () => {
    const q = query('db.shop.svc.cluster.local', 'A');
    const bytes = respond(q, snapshot, UDP).bytes!;
    const res = decode(bytes);
    expect(res.answers?.map((a) => (a as StringAnswer).data)).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    // Each A record is a 2-byte pointer + 14 bytes, instead of the 27-byte name + 14.
    expect(bytes.length).toBe(q.length + 3 * 16);
    expect(dnsPacket.encode(res).length).toBeGreaterThan(bytes.length);
  });

  it('carries the SOA in the authority section of NXDOMAIN and NODATA', () => {
    for (const [name, rcode] of [
      ['nope.svc.cluster.local', 'NXDOMAIN'],
      ['svc.cluster.local', 'NOERROR'],
    ] as const) {
      const res = decode(respond(query(name, 'A'), snapshot, UDP).bytes);
      expect(res.rcode).toBe(rcode);
      expect(res.flags! & AA).toBe(AA);
      expect(res.answers).toEqual([]);
      expect(res.authorities).toMatchObject([{ name: 'cluster.local', type: 'SOA', ttl: 5, data: { mname: 'ns.dns.cluster.local', minimum: 5 } }]);
    }
  });

  it('REFUSES names outside the zone without AA', () => {
    const res = decode(respond(query('example.com', 'A'), snapshot, UDP).bytes);
    expect(res.rcode).toBe('REFUSED');
    expect(res.flags! & (AA | RA)).toBe(0);
    expect(res.questions?.[0]?.name).toBe('example.com');
  });

  it('answers a type it does not know as a type without data (NODATA)', () => {
    const res = decode(respond(query('web.shop.svc.cluster.local', 999), snapshot, UDP).bytes);
    expect(res.rcode).toBe('NOERROR');
    expect(res.questions?.[0]?.type).toBe('UNKNOWN_999');
    expect(res.answers).toEqual([]);
    expect(res.authorities).toHaveLength(1);
  });

  it('answers class ANY like IN and REFUSES other classes', () => {
    expect(decode(respond(query('web.shop.svc.cluster.local', 'A', { klass: 'ANY' }), snapshot, UDP).bytes).answers).toHaveLength(1);
    const chaos = decode(respond(query('version.bind', 'TXT', { klass: 'CH' }), snapshot, UDP).bytes);
    expect(chaos.rcode).toBe('REFUSED');
  });
});

describe('malformed and unsupported messages', () => {
  it('drops messages shorter than a header', () => {
    for (let n = 0; n < 12; n++) expect(respond(Buffer.alloc(n, 0xab), snapshot, UDP)).toEqual({ bytes: undefined, problem: 'short' });
  });

  it('drops responses (QR set): answering them could loop between two servers', () => {
    const q = query('web.shop.svc.cluster.local', 'A');
    q.writeUInt16BE(q.readUInt16BE(2) | 0x8000, 2);
    expect(respond(q, snapshot, UDP)).toEqual({ bytes: undefined, problem: 'response' });
  });

  it.each([
    ['a question count with no question', headerOnlyQuery(9, RD, [1, 0, 0, 0])],
    ['no question', headerOnlyQuery(9, RD, [0, 0, 0, 0])],
    ['two questions', Buffer.concat([headerOnlyQuery(9, RD, [2, 0, 0, 0]), query('a.cluster.local', 'A').subarray(12), query('b.cluster.local', 'A').subarray(12)])],
    ['a label running past the end', headerOnlyQuery(9, RD, [1, 0, 0, 0], Buffer.from([40, 0x61, 0x62]))],
    ['a forward compression pointer', headerOnlyQuery(9, RD, [1, 0, 0, 0], Buffer.from([0xc0, 14, 0, 0, 1, 0, 1]))],
    ['a pointer in the question name', headerOnlyQuery(9, RD, [1, 0, 0, 0], Buffer.from([1, 0x61, 0xc0, 2, 0, 1, 0, 1]))],
    ['a dot inside a label', headerOnlyQuery(9, RD, [1, 0, 0, 0], Buffer.from([3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1]))],
  ])('answers FORMERR, header only, to %s', (_label, message) => {
    const bytes = respond(message, snapshot, UDP).bytes!;
    expect(bytes.length).toBe(12);
    const res = decode(bytes);
    expect(res.id).toBe(9);
    expect(res.rcode).toBe('FORMERR');
    expect(res.flags! & RD).toBe(RD);
  });

  it('answers FORMERR to two OPT records and to an OPT not owned by the root', () => {
    const two = query('web.shop.svc.cluster.local', 'A', { edns: { udpPayloadSize: 1232 } });
    const opt = two.subarray(two.length - 11);
    const twice = Buffer.concat([two, opt]);
    twice.writeUInt16BE(2, 10);
    expect(decode(respond(twice, snapshot, UDP).bytes).rcode).toBe('FORMERR');
    const named = Buffer.concat([two.subarray(0, two.length - 11), Buffer.from([1, 0x61, 0]), opt.subarray(1)]);
    expect(dnsPacket.decode(named).additionals?.[0]).toMatchObject({ type: 'OPT', name: 'a' });
    expect(decode(respond(named, snapshot, UDP).bytes).rcode).toBe('FORMERR');
  });

  it('answers NOTIMP to an opcode other than QUERY', () => {
    const q = query('web.shop.svc.cluster.local', 'A');
    q.writeUInt16BE(q.readUInt16BE(2) | (2 << 11), 2); // STATUS
    const res = decode(respond(q, snapshot, UDP).bytes);
    expect(res.rcode).toBe('NOTIMP');
    expect(res.opcode).toBe('STATUS');
  });

  it('never throws on 5 000 random and mutated messages', () => {
    const seeds = [query('web.shop.svc.cluster.local', 'A', { edns: { udpPayloadSize: 4096 } }), query('_pg._tcp.db.shop.svc.cluster.local', 'SRV')];
    for (const message of fuzzMessages(7, 5000, seeds)) {
      const res = respond(message, snapshot, UDP);
      if (res.bytes) expect(res.bytes.readUInt16BE(0)).toBe(message.readUInt16BE(0));
    }
  });
});

describe('EDNS0', () => {
  it('answers with an OPT advertising our payload size', () => {
    const res = decode(respond(query('web.shop.svc.cluster.local', 'A', { edns: { udpPayloadSize: 4096 } }), snapshot, UDP).bytes);
    expect(res.additionals).toMatchObject([{ type: 'OPT', name: '.', udpPayloadSize: 1232, ednsVersion: 0 }]);
    expect(res.answers).toHaveLength(1);
  });

  it('answers BADVERS to an EDNS version above 0', () => {
    const res = decode(respond(query('web.shop.svc.cluster.local', 'A', { edns: { udpPayloadSize: 1232, ednsVersion: 1 } }), snapshot, UDP).bytes);
    expect(res.rcode).toBe('NOERROR'); // the low 4 bits of 16
    expect(res.additionals).toMatchObject([{ type: 'OPT', extendedRcode: 1, ednsVersion: 0 }]);
    expect(res.answers).toEqual([]);
  });
});

describe('truncation', () => {
  const many = snapshotFromYaml(manyEndpointsYaml(60));
  const name = 'many.big.svc.cluster.local';

  it('sets TC and empties the sections when a UDP answer exceeds 512 bytes without EDNS', () => {
    const bytes = respond(query(name, 'A'), many, UDP).bytes!;
    expect(bytes.length).toBeLessThanOrEqual(512);
    const res = decode(bytes);
    expect(res.flags! & TC).toBe(TC);
    expect(res.flags! & AA).toBe(AA);
    expect(res.answers).toEqual([]);
    expect(res.questions?.[0]?.name).toBe(name);
  });

  it('gives the whole answer over TCP', () => {
    const res = decode(respond(query(name, 'A'), many, TCP).bytes);
    expect(res.flags! & TC).toBe(0);
    expect(res.answers).toHaveLength(60);
  });

  it('uses the EDNS0 size a client advertises, up to maxUdpPayload', () => {
    const big = decode(respond(query(name, 'A', { edns: { udpPayloadSize: 4096 } }), many, { ...UDP, maxUdpPayload: 4096 }).bytes);
    expect(big.flags! & TC).toBe(0);
    expect(big.answers).toHaveLength(60);
    const capped = respond(query(name, 'A', { edns: { udpPayloadSize: 4096 } }), many, { ...UDP, maxUdpPayload: 600 }).bytes!;
    expect(capped.length).toBeLessThanOrEqual(600);
    expect(decode(capped).flags! & TC).toBe(TC);
    expect(decode(capped).additionals).toMatchObject([{ type: 'OPT' }]);
    const tiny = decode(respond(query(name, 'A', { edns: { udpPayloadSize: 100 } }), many, { ...UDP, maxUdpPayload: 4096 }).bytes);
    expect(tiny.flags! & TC).toBe(TC); // below 512 counts as 512 (RFC 6891 §6.2.5)
  });

  it('sets TC over TCP too when an answer exceeds 65535 bytes', () => {
    const huge = snapshotFromYaml(manyEndpointsYaml(1500));
    const res = decode(respond(query('_http._tcp.many.big.svc.cluster.local', 'SRV'), huge, TCP).bytes);
    expect(res.flags! & TC).toBe(TC);
    expect(res.answers).toEqual([]);
    expect(decode(respond(query(name, 'A'), huge, TCP).bytes).answers).toHaveLength(1500);
  });

  it('drops the additional section before truncating the answer', () => {
    const eight = snapshotFromYaml(manyEndpointsYaml(8));
    const srv = query('_http._tcp.many.big.svc.cluster.local', 'SRV');
    const full = respond(srv, eight, TCP).bytes!;
    expect(full.length).toBeGreaterThan(512);
    expect(decode(full).additionals).toHaveLength(8);
    const res = decode(respond(srv, eight, UDP).bytes);
    expect(res.flags! & TC).toBe(0);
    expect(res.answers).toHaveLength(8);
    expect(res.additionals).toEqual([]);
  });
});
