/**
 * Indented JSON from the admin API's `/api/v1/*` views for a person, compact JSON for programs.
 *
 * Pretty when the request asks (`?pretty`, any value but `false`, `0` or `no`), or when nothing asks
 * either way and the client looks like a person: a browser opening the URL (its `Accept` names
 * `text/html`), or a terminal HTTP client (User-Agent `curl/`, `Wget/`, `HTTPie/`, `xh/`). Not curl's
 * any-type `Accept`: most HTTP libraries and `fetch()` send the same, and their callers parse the body
 * and gain nothing from the extra bytes. `?pretty=0` gives a person compact JSON (e.g. for `grep`).
 * /metrics, the dashboard's assets and every other path keep their bytes as they are.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** User-Agent prefixes of terminal HTTP clients, whose output a person reads. */
const TERMINAL_AGENTS = /^(curl|wget|httpie|xh)\//i;

/** `?pretty` values that mean "no". */
const NO = new Set(['false', '0', 'no']);

/** Whether `request` should get indented JSON (see the module comment). */
export function wantsPrettyJson(query: unknown, headers: FastifyRequest['headers']): boolean {
  const pretty = typeof query === 'object' && query !== null ? (query as Record<string, unknown>)['pretty'] : undefined;
  if (pretty !== undefined) {
    // `?pretty&pretty=0` arrives as an array: the last word wins, as with a flag given twice.
    const value = Array.isArray(pretty) ? pretty[pretty.length - 1] : pretty;
    return !NO.has(String(value).toLowerCase());
  }
  const accept = headers.accept;
  if (typeof accept === 'string' && accept.toLowerCase().includes('text/html')) return true;
  const agent = headers['user-agent'];
  return typeof agent === 'string' && TERMINAL_AGENTS.test(agent);
}

function prettyJson(payload: unknown): string {
  return `${JSON.stringify(payload, null, 2)}\n`;
}

/** Adds the choice to `app`: register before or after the routes, it applies to every `/api/v1/` route. */
export function registerPrettyJson(app: FastifyInstance): void {
  app.addHook('preHandler', async (request, reply) => {
    if (!request.url.startsWith('/api/v1/')) return;
    // The answer depends on these headers when `?pretty` is absent: a cache must not mix the two forms.
    reply.header('vary', 'Accept, User-Agent');
    if (!wantsPrettyJson(request.query, request.headers)) return;
    // A custom serializer drops fastify's JSON content type: set it again (a route may still set its own).
    reply.serializer(prettyJson).type('application/json; charset=utf-8');
  });
}
