/**
 * `GET /api/v1/nftables`: the nftables service proxy's last applied ruleset (as `nft list table` shows
 * it), its generation, the last sync times and the last error. Injected by the composition root like
 * /api/v1/l4; 404 when the proxy does not run in nftables mode.
 */
import type { FastifyInstance } from 'fastify';

/** Adds the route; `view` undefined: not in nftables mode. */
export function registerNftablesRoute(app: FastifyInstance, view: (() => unknown) | undefined): void {
  app.get('/api/v1/nftables', async (_req, reply) => {
    if (view !== undefined) return view();
    return reply.code(404).send({ error: 'not found', message: 'the nftables service proxy is off (--proxy-mode nftables)' });
  });
}
