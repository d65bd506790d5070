/**
 * The dashboard's routes on a bare fastify app (registerDashboard): redirects, content types, the CSP
 * header, no path reaching the disk beyond the fixed asset list, and a missing asset folder answered
 * with a 503 instead of a crash.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, dashboardAssetDir, registerDashboard } from '../../../src/admin/dashboard.ts';

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function app(dir?: string) {
  const a = Fastify({ logger: false });
  apps.push(a);
  registerDashboard(a, dir);
  return a;
}

describe('registerDashboard', () => {
  it('finds its assets in the sources', () => {
    expect(dashboardAssetDir()).toMatch(/\/src\/admin\/ui\/$/);
  });

  it.each([
    ['/', '/ui/'],
    ['/ui', '/ui/'],
  ])('redirects %s to %s (302) for a browser', async (url, location) => {
    const res = await app().inject({ method: 'GET', url, headers: { accept: 'text/html,*/*;q=0.8' } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(location);
  });

  it.each([
    ['/ui/', 'text/html; charset=utf-8', '<!doctype html>'],
    ['/ui/index.html', 'text/html; charset=utf-8', '<script type="module" src="app.js">'],
    ['/ui/app.js', 'text/javascript; charset=utf-8', "from './stats.js'"],
    ['/ui/stats.js', 'text/javascript; charset=utf-8', 'export function histogramQuantile'],
    ['/ui/style.css', 'text/css; charset=utf-8', ':root'],
    ['/ui/favicon.svg', 'image/svg+xml', '<svg'],
  ])('serves %s as %s with the CSP header', async (url, type, snippet) => {
    const res = await app().inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain(snippet);
  });

  it.each(['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/stats.d.ts', '/ui/nope.js', '/ui/..%2f..%2fpackage.json'])('answers 404 for %s', async (url) => {
    const res = await app().inject({ method: 'GET', url });
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('"name": "switchyard"');
  });

  it('asks for nothing outside the package: no absolute or protocol-relative URL in the page, script or stylesheet', async () => {
    const a = app();
    for (const url of ['/ui/', '/ui/app.js', '/ui/style.css']) {
      const body = (await a.inject({ method: 'GET', url })).body;
      expect(body).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
      expect(body).not.toMatch(/(import|fetch|url)\s*\(?\s*["'`](https?:)?\/\//i);
    }
  });

  it('answers 503 saying why when the assets are missing, without failing to register', async () => {
    const a = app('/nonexistent/ui/');
    const res = await a.inject({ method: 'GET', url: '/ui/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toMatch(/dashboard assets not found/);
    expect((await a.inject({ method: 'GET', url: '/ui/app.js' })).statusCode).toBe(503);
    expect((await a.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).statusCode).toBe(302);
  });
});
