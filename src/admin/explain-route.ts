/**
 * `GET /api/v1/explain?url=…&method=…&header=Name:%20value`: the routing decision for one request
 * against the live snapshot, health and balancer. The explaining itself is injected by the composition
 * root (it uses the data plane's matcher, which this module may not import): this module only reads the
 * query and maps bad input to 400 with a stable code naming it.
 */
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../errors.ts';

export interface ExplainQuery {
  readonly url: string;
  readonly method: string | undefined;
  /** Each `Name: value`. */
  readonly headers: readonly string[];
}

/** The explanation (200), or which input is bad and why (400). */
export type ExplainAnswer =
  | { readonly ok: true; readonly explanation: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly input: string; readonly value: string; readonly message: string } };

export type ExplainFn = (query: ExplainQuery) => ExplainAnswer;

type Param = string | string[] | undefined;

/** Adds `GET /api/v1/explain` to `app`: 200 with the explanation (matched or not), 400 naming a bad input. */
export function registerExplainRoute(app: FastifyInstance, explain: ExplainFn): void {
  app.get<{ Querystring: { url?: Param; method?: Param; header?: Param } }>('/api/v1/explain', async (req, reply) => {
    const { url, method, header } = req.query;
    const bad = (input: string, value: string, message: string) => {
      reply.code(400);
      return { error: ErrorCode.ADMIN_BAD_QUERY, input, value, message };
    };
    if (url === undefined || url === '') return bad('url', '', 'query parameter url is required, e.g. /api/v1/explain?url=http://demo.localhost/&method=GET');
    if (Array.isArray(url)) return bad('url', url.join(', '), 'give one url');
    if (Array.isArray(method)) return bad('method', method.join(', '), 'give one method');
    const headers = header === undefined ? [] : Array.isArray(header) ? header : [header];
    const answer = explain({ url, method, headers });
    if (answer.ok) return answer.explanation;
    reply.code(400);
    return { error: answer.error.code, input: answer.error.input, value: answer.error.value, message: answer.error.message };
  });
}
