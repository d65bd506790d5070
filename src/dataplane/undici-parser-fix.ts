/**
 * A garbage-collection fix for undici's HTTP/1.1 response parser, applied once per process.
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
 *
 * The Parser class is not exported: it is reached through a connected Client's socket, by undici's own
 * symbols (from its internal module, like the Client in endpoint-pool.ts). If an undici update moves any
 * of it, nothing is patched and proxying works as before, with the extra garbage;
 * test/integration/endpoint-pool.test.ts fails so that the update is noticed.
 */
import { createRequire } from 'node:module';

interface ParserLike {
  headers: unknown[];
  onMessageBegin(this: ParserLike): number;
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
  if (typeof begin !== 'function') return;
  // Between two responses the array is always empty: a fresh one changes nothing but its age.
  proto.onMessageBegin = function onMessageBegin(this: ParserLike): number {
    this.headers = [];
    return begin.call(this);
  };
  applied = true;
}
