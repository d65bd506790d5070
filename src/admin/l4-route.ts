/**
 * `GET /api/v1/l4`: the layer-4 service proxy (kube-proxy role): its node-port listeners and their
 * errors, the Service ports it serves with their endpoints, open TCP connections and UDP flows. The
 * view is injected by the composition root (the proxy runs beside the admin API, not under it); with
 * `--proxy-mode off` the answer says so.
 */
import type { FastifyInstance } from 'fastify';

/** Adds the route; `view` undefined: the service proxy is off. */
export function registerL4Route(app: FastifyInstance, view: (() => unknown) | undefined): void {
  app.get('/api/v1/l4', async () => view?.() ?? { mode: 'off' });
}
