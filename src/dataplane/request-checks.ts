/**
 * Checks of an HTTP/1.x request head that the parser does not make and a proxy must, before routing:
 * - RFC 9112 §3.2: exactly one Host field whose value is `uri-host [":" port]` (a second Host, or one
 *   with spaces, userinfo or a non-numeric port, is 400). undici refuses to build a request with two
 *   Host fields, and that local refusal once counted as the pod's failure (issue #14).
 *   The authority of an absolute-form target is held to the same rule.
 * - RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is 400 and closes the connection (a 1.0
 *   recipient cannot be trusted to have framed it); a transfer coding other than `chunked` is 501.
 * - RFC 9110 §10.1.1: an Expect other than `100-continue` in HTTP/1.1 is 417.
 * The answer to each refusal is in status.ts (CLIENT_FAILURES), keyed by the code returned here. Both
 * HTTP/1.1 servers (client-connection.ts, node-http-server.ts) refuse by this one function.
 */

import type { RequestFields } from './headers.ts';
import { ABSOLUTE_FORM } from './path.ts';

/** Refusal codes, as status.ts's CLIENT_FAILURES keys them. */
export type HeadRefusal = 'MISSING_HOST' | 'DUPLICATE_HOST' | 'INVALID_HOST' | 'TRANSFER_ENCODING_HTTP10' | 'UNSUPPORTED_TRANSFER_CODING' | 'EXPECTATION_FAILED';

/**
 * Whether the client waits for `100 Continue` before it sends its body: `Expect: 100-continue` in
 * HTTP/1.1 (an HTTP/1.0 client never waits, RFC 9110 §10.1.1). `expect` is the Expect field as sent.
 */
export function expectsContinue(expect: string | undefined, versionMinor: number): boolean {
  return expect !== undefined && versionMinor >= 1 && expect.trim().toLowerCase() === '100-continue';
}

/**
 * `uri-host [":" port]` (RFC 3986 §3.2.2): an IP-literal in brackets, or a reg-name of unreserved,
 * pct-encoded and sub-delims characters (which covers IPv4 addresses); the port is digits only. Empty
 * is allowed: RFC 9112 §3.2 has a client send an empty Host when the target has no authority.
 */
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;


/** Whether `value` is a valid Host field value (also used for the authority of an absolute-form target). */
export function isValidHost(value: string): boolean {
  return HOST_VALUE.test(value);
}

/** What the checks read of a request head: the fields requestFields() (headers.ts) already found in its one pass. */
export type HeadFields = Pick<RequestFields, 'host' | 'hostCount' | 'transferEncoding' | 'expect'>;

/** The refusal a request head earns, or undefined when it may be routed. */
export function checkRequestHead(fields: HeadFields, versionMinor: number, url: string): HeadRefusal | undefined {
  const { host, transferEncoding, expect } = fields;
  if (fields.hostCount > 1) return 'DUPLICATE_HOST';
  if (host === undefined) {
    if (versionMinor >= 1) return 'MISSING_HOST';
  } else if (!isValidHost(host)) {
    return 'INVALID_HOST';
  }
  // An absolute-form target's authority replaces Host (RFC 9112 §3.2.2): it must be as valid.
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    const authority = ABSOLUTE_FORM.exec(url)?.[1];
    if (authority !== undefined && !isValidHost(authority)) return 'INVALID_HOST';
  }
  if (transferEncoding !== undefined) {
    if (versionMinor === 0) return 'TRANSFER_ENCODING_HTTP10';
    // The parser has already refused a coding list whose last coding is not chunked (400); what is left
    // is a list with codings before chunked (`gzip, chunked`), which Switchyard does not decode.
    if (transferEncoding.trim().toLowerCase() !== 'chunked') return 'UNSUPPORTED_TRANSFER_CODING';
  }
  if (expect !== undefined && versionMinor >= 1 && !expectsContinue(expect, versionMinor)) return 'EXPECTATION_FAILED';
  return undefined;
}
