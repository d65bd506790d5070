/** The DNS module's own record shapes: plain data, no wire-format library types. */

export interface SrvData {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}

/** The type and data of a record; names are without the trailing dot. */
export type RecordData =
  | { readonly type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS' | 'TXT'; readonly data: string }
  | { readonly type: 'SRV'; readonly data: SrvData }
  | { readonly type: 'SOA'; readonly data: SoaData };

export type RecordType = RecordData['type'];

/** A record as answered: owner name (no trailing dot), TTL in seconds, type and data. */
export type ResourceRecord = RecordData & { readonly name: string; readonly ttl: number };

/** The response codes this server gives (RFC 1035 §4.1.1). BADVERS (RFC 6891) is decided on the wire. */
export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export interface DnsQuestion {
  /** As asked: any case, with or without the trailing dot. */
  readonly name: string;
  /** Upper-case type mnemonic (`A`, `SRV`, `ANY`…); an unknown type is answered as a type with no data. */
  readonly type: string;
}

export interface DnsResult {
  readonly rcode: Rcode;
  /** The AA bit: set for every answer from one of our zones, clear for REFUSED. */
  readonly authoritative: boolean;
  readonly answers: readonly ResourceRecord[];
  /** The zone's SOA on NXDOMAIN and NODATA (RFC 2308), with TTL = SOA minimum. */
  readonly authorities: readonly ResourceRecord[];
  /** Address records of SRV targets. */
  readonly additionals: readonly ResourceRecord[];
}
