/**
 * The admin API (fastify): health, readiness and read-only views of the registry, the routes and the
 * configuration. It reads the current snapshot and the sources' status; it changes nothing.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorCode } from '../errors.ts';
import type { EndpointHealth } from '../health/endpoint-health.ts';
import type { SnapshotHolder } from '../snapshot/holder.ts';
import { registerDashboard } from './dashboard.ts';
import { registerExplainRoute, type ExplainFn } from './explain-route.ts';
import { registerL4Route } from './l4-route.ts';
import { registerNftablesRoute } from './nftables-route.ts';
import { registerPrettyJson } from './pretty-json.ts';
import { GroupMetrics, serviceStatsView, VERSION, type GroupMetricsOptions, type TrafficView } from './metrics.ts';
import { gatewaysView, type GatewayAddress } from './gateways-view.ts';
import { certificatesView, endpointsView, routesView, servicesView } from './views.ts';

export interface AdminOptions extends Omit<GroupMetricsOptions, 'traffic' | 'workers' | 'draining' | 'sources'> {
  readonly holder: SnapshotHolder;
  readonly health: EndpointHealth;
  /** Endpoints removed from the configuration that are still finishing requests, with since-when. */
  readonly draining: () => ReadonlyMap<string, number>;
  /** True once every source has completed its first load. */
  readonly ready: () => boolean;
  /** Status of each source (last reload, errors), as JSON-ready objects. */
  readonly sources: () => readonly unknown[];
  /** The data-plane worker threads (empty when the data plane runs in the main thread). */
  readonly workers: () => readonly unknown[];
  /** Traffic figures of the data plane (every worker), for /metrics and /api/v1/tunnels. */
  readonly traffic: () => TrafficView;
  /** What the DNS server answers for a question (JSON view). */
  readonly dnsAnswer: (name: string, type: string) => unknown;
  readonly startedAt: string;
  /** `GET /api/v1/explain`: the routing decision for a URL (injected: it uses the data plane's matcher); default: no such route. */
  readonly explain?: ExplainFn;
  /** `GET /api/v1/l4`: the layer-4 service proxy's view; default: the proxy is off. */
  readonly l4?: () => unknown;
  /** The service proxy's errors for /api/v1/config (nftables: sync state; userspace: failed node ports); default: it is off. */
  readonly serviceProxy?: (() => unknown) | undefined;
  /** `GET /api/v1/nftables`: the nftables service proxy's ruleset and sync state; default: 404 (not in that mode). */
  readonly nftables?: () => unknown;
  /** The addresses `/api/v1/gateways` shows for Switchyard's Gateways (--gateway-status-address); default none. */
  readonly gatewayAddresses?: readonly GatewayAddress[];
}

/** Question types the DNS server knows; anything else is a 400 rather than a silent empty answer. */
const DNS_TYPES = new Set(['A', 'AAAA', 'SRV', 'CNAME', 'PTR', 'TXT', 'SOA', 'NS', 'ANY']);

export function createAdminServer(options: AdminOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  const { holder } = options;

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const ready = options.ready();
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not-ready' };
  });

  app.get('/api/v1/services', async () => servicesView(holder.current(), options.health));

  app.get('/api/v1/workers', async () => ({ workers: options.workers() }));

  // WebSocket and other upgraded connections, summed over every worker (as of their last report).
  app.get('/api/v1/tunnels', async () => {
    const traffic = options.traffic();
    return { open: traffic.tunnelsOpen, total: traffic.tunnelsTotal };
  });

  const metrics = new GroupMetrics(options);
  app.get('/metrics', async (_req, reply) => {
    const { text, contentType } = await metrics.exposition();
    reply.type(contentType);
    return text;
  });

  // The dashboard's live figures: per-Service totals from the same families as /metrics.
  app.get('/api/v1/stats', async () => ({ at: Date.now(), services: serviceStatsView(await metrics.families()) }));

  app.get('/api/v1/endpoints', async () => endpointsView(holder.current(), options.health, options.draining()));

  app.get('/api/v1/routes', async () => routesView(holder.current()));

  app.get('/api/v1/gateways', async () => gatewaysView(holder.current(), options.gatewayAddresses));

  // Days left are counted at request time: a certificate ages without any snapshot swap.
  app.get('/api/v1/certificates', async () => certificatesView(holder.current(), Date.now()));

  app.get<{ Querystring: { name?: string; type?: string } }>('/api/v1/dns', async (req, reply) => {
    const name = req.query.name;
    const type = (req.query.type ?? 'A').toUpperCase();
    if (!name) {
      reply.code(400);
      return { error: ErrorCode.ADMIN_BAD_QUERY, message: 'query parameter name is required, e.g. /api/v1/dns?name=web.default.svc.cluster.local&type=A' };
    }
    if (!DNS_TYPES.has(type)) {
      reply.code(400);
      return { error: ErrorCode.ADMIN_BAD_QUERY, message: `type ${JSON.stringify(req.query.type)} is not one of ${[...DNS_TYPES].join(', ')}` };
    }
    return options.dnsAnswer(name, type);
  });

  app.get('/api/v1/config', async () => {
    const snapshot = holder.current();
    return {
      version: VERSION,
      nodeVersion: process.version,
      startedAt: options.startedAt,
      snapshot: { version: snapshot.version, hash: snapshot.hash, createdAt: snapshot.createdAt, storeVersion: snapshot.storeVersion },
      sources: options.sources(),
      diagnostics: snapshot.diagnostics,
      serviceProxy: options.serviceProxy?.() ?? { mode: 'off' },
    };
  });

  registerPrettyJson(app);
  registerDashboard(app);
  if (options.explain) registerExplainRoute(app, options.explain);
  registerL4Route(app, options.l4);
  registerNftablesRoute(app, options.nftables);

  return app;
}
