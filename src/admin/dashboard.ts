/**
 * The dashboard: static files (HTML, one JavaScript module and its helper, CSS, an icon) served by the
 * admin app at /ui/, with / redirecting there. The page reads the admin API's JSON views from the browser;
 * nothing here computes anything. Every asset ships in the package — no CDN — so it works offline and
 * behind air gaps. Only the admin app registers this: the proxy listeners never serve it.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { answerAdminRoot } from './admin-index.ts';

/** The files the page is made of, with their content types: a fixed list, so no request path reaches the disk. */
const ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'stats.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * The page's own origin only: the data it shows (names from manifests) can never load or run anything,
 * even if an escaping bug slipped through. Framing is refused too (clickjacking).
 */
export const DASHBOARD_CSP = "default-src 'self'; frame-ancestors 'none'";

/**
 * Where the assets are: beside this module when running the TypeScript sources (src/admin/ui) or a build
 * that copied them (dist/admin/ui, `npm run build`); else the sources' copy from a build that did not.
 */
export function dashboardAssetDir(): string | undefined {
  const candidates = [new URL('./ui/', import.meta.url), new URL('../../src/admin/ui/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (statSync(`${dir}index.html`, { throwIfNoEntry: false })?.isFile()) return dir;
  }
  return undefined;
}

/**
 * Adds GET / (a browser: 302 to /ui/; anything else: a plain-text index, admin-index.ts), /ui (302 to
 * /ui/), /ui/ and /ui/<asset> to the admin app, from `dir` (default: dashboardAssetDir(); undefined when
 * it found none). The files are read once, here: they are small and change only with the package.
 * Without them (a broken install) the page answers 503 saying so, and the rest of the admin API is
 * unaffected.
 */
export function registerDashboard(app: FastifyInstance, dir: string | undefined = dashboardAssetDir()): void {
  const files = new Map<string, Buffer>();
  if (dir !== undefined) {
    for (const name of Object.keys(ASSETS)) {
      try {
        files.set(name, readFileSync(`${dir}${name}`));
      } catch {
        // Answered with a 503 naming the problem, below; the admin API must start regardless.
      }
    }
  }

  const send = (name: string) => async (_req: unknown, reply: FastifyReply) => {
    const body = files.get(name);
    reply.header('content-security-policy', DASHBOARD_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // Revalidate: after an upgrade the browser must not mix an old app.js with a new page.
    reply.header('cache-control', 'no-cache');
    if (body === undefined) {
      reply.code(503).type('text/plain; charset=utf-8');
      return 'dashboard assets not found in the package (expected src/admin/ui or dist/admin/ui; run `npm run build`)\n';
    }
    reply.type(ASSETS[name]!);
    return body;
  };

  app.get('/', answerAdminRoot);
  app.get('/ui', async (_req, reply) => reply.redirect('/ui/', 302));
  app.get('/ui/', send('index.html'));
  for (const name of Object.keys(ASSETS)) app.get(`/ui/${name}`, send(name));
}
