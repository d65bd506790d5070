/**
 * `GET /` on the admin port: a browser (its `Accept` names `text/html`) is sent to the dashboard at
 * /ui/; anything else — curl, a script, a probe — gets this plain-text index of the admin endpoints,
 * which is more use in a terminal than a redirect to a page of HTML.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Every admin endpoint, as the index lists them (a unit test checks it against the registered routes). */
export const ADMIN_ENDPOINTS: readonly (readonly [path: string, what: string])[] = [
  ['/ui/', 'the dashboard (open it in a browser)'],
  ['/healthz', 'liveness: 200 while the process runs'],
  ['/readyz', 'readiness: 200 once every source has loaded, else 503'],
  ['/metrics', 'Prometheus metrics, every worker summed'],
  ['/api/v1/config', 'sources, their last reload and errors, and the compile diagnostics'],
  ['/api/v1/routes', 'the route table: host, path, kind and object, backends with weights, route conditions'],
  ['/api/v1/gateways', 'Gateways, their listeners and addresses, with the Gateway API conditions'],
  ['/api/v1/services', 'Services, their ports, names and addresses'],
  ['/api/v1/endpoints', 'endpoints with health and draining state'],
  ['/api/v1/certificates', 'certificates in use, with days left'],
  ['/api/v1/dns?name=NAME&type=A', 'what the DNS server answers'],
  ['/api/v1/explain?url=URL', 'which route a request takes, and why'],
  ['/api/v1/l4', 'the service proxy (--proxy-mode): node ports, connections, UDP flows'],
  ['/api/v1/nftables', 'the nftables service proxy: last applied ruleset, generation, sync, error'],
  ['/api/v1/stats', 'per-Service request figures (the dashboard reads it)'],
  ['/api/v1/tunnels', 'open WebSocket and other upgraded connections'],
  ['/api/v1/workers', 'the data-plane worker threads'],
];

/** The index as sent: one endpoint a line, then how to get readable JSON. */
export function adminIndexText(): string {
  const width = Math.max(...ADMIN_ENDPOINTS.map(([path]) => path.length));
  const lines = ADMIN_ENDPOINTS.map(([path, what]) => `  GET ${path.padEnd(width)}  ${what}`);
  return `Switchyard admin API\n\n${lines.join('\n')}\n\nJSON views are indented for a browser or curl, or with ?pretty; compact otherwise (?pretty=0).\n`;
}

const INDEX = adminIndexText();

/** The handler of `GET /` (see the module comment). */
export async function answerAdminRoot(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  // What a browser asks for decides the answer: a cache must keep the two apart.
  reply.header('vary', 'Accept');
  const accept = request.headers.accept;
  if (typeof accept === 'string' && accept.toLowerCase().includes('text/html')) return reply.redirect('/ui/', 302);
  reply.type('text/plain; charset=utf-8');
  return INDEX;
}
