/**
 * Fixes to undici's HTTP/1.1 response parser, applied once per process: one for garbage collection, two
 * for answers a pod may legally (or sloppily) send.
 *
 * undici's Parser (one per connection, long-lived, so in V8's old generation) ends each response with
 * `this.headers = []`, and that empty array waits on the parser for the connection's next response. With
 * many endpoints a connection sits idle for tens of ms between requests (1,000 endpoints at 20k req/s:
 * ~50 ms), long enough for the array to be promoted too. The next response then pushes its header
 * Buffers into an old-generation array; V8's scavenger keeps everything an old object points to alive,
 * even once that array is dropped, so every header Buffer of every response was promoted: ~1.2 KB of
 * old-generation garbage per request, about 75 MB more peak RSS at 1,000 endpoints (measured with
 * `--trace-gc-nvp`, bench scale run). Giving the parser a fresh array when a response begins keeps the
 * header Buffers in the young generation, where they die. undici 8 has the same code.
 * Re-measured for issue 19 (2026-12-05; `--workers 1`, h2load `--h1`, 50 connections, 100,000 requests a
 * round, this build against the same build without the fresh array, alternating in one run): 10 routes ×
 * 1,000 endpoints, peak RSS 139–148 MB with it against 221–222 MB without (4 rounds; CPU per request,
 * median of the rounds, 117 against 128 µs). With 3 endpoints, where every connection is busy, two runs
 * of 3 rounds had it 8–10 MB higher (131–134 against 118–125 MB), a third run 120–125 MB: no clear cost,
 * and the same CPU. Giving a fresh array only after 10 ms without a response measured the same as always.
 *
 * The answers (issue #14; undici 7.30 still has both, worth sending upstream):
 * - An interim `100 Continue` the request did not ask for: undici destroys the connection ("bad
 *   response"), which turned into a 502 and a connect failure held against a healthy pod. RFC 9110 §15.2
 *   has a client accept 1xx responses it did not expect, so 100 is now skipped like 102 and 103 are.
 * - A 204 or 304 that declares a Content-Length: llhttp rightly reads no body (RFC 9112 §6.3), but undici
 *   then compares the bytes read with the declared length and cuts the connection mid-response (the
 *   client's connection with it). The length of a bodyless status is ignored instead.
 *
 * The Parser class is not exported: it is reached through a connected Client's socket, by undici's own
 * symbols (from its internal module, like the Client in endpoint-pool.ts). If an undici update moves any
 * of it, nothing is patched and proxying works as before, with the extra garbage;
 * test/integration/endpoint-pool.test.ts fails so that the update is noticed.
 */
import { createRequire } from 'node:module';

interface ParserLike {
  headers: unknown[];
  headersSize: number;
  statusCode: number;
  contentLength: string;
  socket: { destroyed: boolean } | null;
  onMessageBegin(this: ParserLike): number;
  onHeadersComplete(this: ParserLike, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number;
}

const symbols = createRequire(import.meta.url)('undici/lib/core/symbols.js') as { kSocket?: symbol; kParser?: symbol };

let applied = false;

/** Whether the fix is in place (after the first connection of the process). */
export function parserFixApplied(): boolean {
  return applied;
}

/** Patches the Parser class of `client`'s live HTTP/1.1 connection, the first time one is seen. */
export function applyParserFix(client: object): void {
  if (applied) return;
  const { kSocket, kParser } = symbols;
  if (kSocket === undefined || kParser === undefined) return;
  const socket = (client as Record<symbol, unknown>)[kSocket] as Record<symbol, unknown> | null | undefined;
  const parser = socket?.[kParser] as ParserLike | null | undefined;
  if (parser == null || !Array.isArray(parser.headers)) return; // not connected yet, or HTTP/2
  const proto = Object.getPrototypeOf(parser) as ParserLike;
  const begin = proto.onMessageBegin;
  const headersComplete = proto.onHeadersComplete;
  if (typeof begin !== 'function' || typeof headersComplete !== 'function' || typeof parser.contentLength !== 'string') return;
  // Between two responses the array is always empty: a fresh one changes nothing but its age.
  proto.onMessageBegin = function onMessageBegin(this: ParserLike): number {
    this.headers = [];
    return begin.call(this);
  };
  proto.onHeadersComplete = function onHeadersComplete(this: ParserLike, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number {
    if (statusCode === 100 && !upgrade) {
      if (this.socket?.destroyed === true) return -1;
      // What undici does for any other 1xx: no body, header state cleared; its onMessageComplete then
      // resets the status and waits for the final response of the same request.
      this.statusCode = 100;
      this.headers = [];
      this.headersSize = 0;
      return 1;
    }
    if (statusCode === 204 || statusCode === 304) this.contentLength = '';
    return headersComplete.call(this, statusCode, upgrade, shouldKeepAlive);
  };
  applied = true;
}
