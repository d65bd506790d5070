/** A JSON-friendly view of one answer, for the admin API (`GET /api/v1/dns?name=…&type=…`). Pure. */
import type { Snapshot } from '../snapshot/types.ts';
import { DEFAULT_TTL_SECONDS, resolveQuestion } from './records.ts';
import type { Rcode, ResourceRecord } from './types.ts';

export interface DnsRecordView {
  /** Owner name, without the trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  /**
   * The data in presentation form, names without the trailing dot: an address; a name (CNAME, PTR, NS);
   * the text (TXT); `priority weight port target` (SRV); `mname rname serial refresh retry expire minimum` (SOA).
   */
  readonly data: string;
}

export interface DnsAnswerView {
  readonly question: { readonly name: string; readonly type: string };
  readonly rcode: Rcode;
  readonly authoritative: boolean;
  readonly answers: readonly DnsRecordView[];
  readonly authorities: readonly DnsRecordView[];
  readonly additionals: readonly DnsRecordView[];
}

/**
 * What the DNS server would answer for `name` and `type` (case-insensitive mnemonic, default `A`) from
 * `snapshot`, with records of `ttl` seconds (default 5). Never throws; an unknown type is a type without data.
 */
export function answerQuestion(snapshot: Snapshot, name: string, type: string = 'A', ttl: number = DEFAULT_TTL_SECONDS): DnsAnswerView {
  const qtype = type.toUpperCase();
  const result = resolveQuestion(snapshot, { name, type: qtype }, ttl);
  return {
    question: { name, type: qtype },
    rcode: result.rcode,
    authoritative: result.authoritative,
    answers: result.answers.map(presentRecord),
    authorities: result.authorities.map(presentRecord),
    additionals: result.additionals.map(presentRecord),
  };
}

/** One record in presentation form. */
export function presentRecord(rr: ResourceRecord): DnsRecordView {
  return { name: rr.name, type: rr.type, ttl: rr.ttl, data: presentData(rr) };
}

function presentData(rr: ResourceRecord): string {
  switch (rr.type) {
    case 'SRV':
      return `${rr.data.priority} ${rr.data.weight} ${rr.data.port} ${rr.data.target}`;
    case 'SOA': {
      const d = rr.data;
      return `${d.mname} ${d.rname} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    default:
      return rr.data;
  }
}
