/**
 * The dashboard in a real browser: headless Chromium (the Debian package) driven by playwright-core,
 * against the real CLI serving the demo's manifests with real pods. Skipped, saying so, only when
 * /usr/bin/chromium is missing (CI installs it: .ci/run). The screenshot goes to test-output/dashboard.png.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, defer } from '../helpers/cleanup.ts';
import { get, request } from '../helpers/http.ts';
import { tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { startPods, type Pod } from '../helpers/pods.ts';
import { REPO_ROOT, startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`[dashboard] browser tests SKIPPED: ${CHROMIUM} is missing (Debian: apt-get install chromium)`);

const DEMO = join(REPO_ROOT, 'examples', 'demo', 'demo.yaml');
const DEMO_PORT = 18081;
const DEMO_HOST = 'demo.localhost';
const SCREENSHOT = join(REPO_ROOT, 'test-output', 'dashboard.png');

/** The demo's three pods, on the demo's addresses (127.0.0.11-13) and a free port written into its manifest. */
async function demo(): Promise<{ sy: RunningSwitchyard; pods: Pod[] }> {
  const pods = await startPods(['hello-7d9c5-a1', 'hello-7d9c5-b2', 'hello-7d9c5-c3'], { hosts: [11, 12, 13] });
  const text = await readFile(DEMO, 'utf8');
  const ported = text.replaceAll(`port: ${DEMO_PORT}`, `port: ${pods[0]!.port}`);
  expect(ported, 'the demo manifest names its pods port').not.toBe(text);
  const dir = await tempManifestDir();
  await writeManifest(dir, 'demo.yaml', ported);
  return { sy: await startSwitchyard({ manifests: dir }), pods };
}

const url = (sy: RunningSwitchyard, path = '/') => `http://${sy.admin.host}:${sy.admin.port}${path}`;

describe('the dashboard over HTTP', () => {
  it('is served on the admin listener (/ redirects to /ui/) and never by a proxy listener', async () => {
    const { sy } = await demo();
    const root = await request(sy.admin, '/', { headers: { accept: 'text/html' } });
    expect(root.status).toBe(302);
    expect(root.headers.location).toBe('/ui/');
    const page = await request(sy.admin, '/ui/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    // On the ingress listener /ui/ is an ordinary request: no route for the listener's own address,
    // and for the demo's host it goes to a pod like any other path.
    const noRoute = await request(sy.ingress, '/ui/');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body).not.toContain('<!doctype html>');
    const proxied = await get(sy.ingress, DEMO_HOST, '/ui/app.js');
    expect(proxied.status).toBe(200);
    expect(proxied.headers['x-pod']).toMatch(/^hello-7d9c5-/);
    expect(proxied.body).not.toContain('import');
  });
});

describe.skipIf(!HAVE_CHROMIUM)('the dashboard in Chromium', () => {
  let profile: string;
  let context: BrowserContext;

  beforeAll(async () => {
    profile = await mkdtemp(join(tmpdir(), 'swy-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** A fresh page recording console errors, uncaught exceptions, dialogs and any request off the admin origin. */
  async function open(sy: RunningSwitchyard): Promise<{ page: Page; errors: string[]; dialogs: string[]; offsite: string[] }> {
    const page = await context.newPage();
    defer(() => page.close());
    const errors: string[] = [];
    const dialogs: string[] = [];
    const offsite: string[] = [];
    const origin = url(sy, '');
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(`${origin}/`)) offsite.push(r.url());
    });
    const res = await page.goto(url(sy, '/'), { timeout: 10_000 });
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(url(sy, '/ui/'));
    return { page, errors, dialogs, offsite };
  }

  it('loads with no console errors, shows the demo routes, and shows a killed pod as ejected within 5 s', async () => {
    const { sy, pods } = await demo();
    const { page, errors, offsite } = await open(sy);
    const route = page.locator('#routes tbody tr', { hasText: DEMO_HOST });
    await route.waitFor({ timeout: 5000 });
    expect(await route.locator('td').allTextContents()).toEqual([DEMO_HOST, '/', 'Prefix', 'demo/hello', 'demo/hello:http', '3']);
    const victim = pods[1]!;
    const key = `${victim.host}:${victim.port}`;
    await page.locator(`tr[data-endpoint="${key}"][data-state="ready"]`).waitFor({ timeout: 5000 });

    // The filter box narrows the table, and an empty filter brings it back.
    await page.fill('#filter', 'no-such-host');
    expect(await page.locator('#routes tbody').textContent()).toContain('no route matches the filter');
    await page.fill('#filter', 'hello:http');
    await route.waitFor({ timeout: 1000 });
    await page.fill('#filter', '');

    const killedAt = Date.now();
    await victim.close();
    // Round-robin sends one of every three requests to the dead pod: its first refused connection ejects it
    // (passive health), and the request is retried on another pod.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(sy.ingress, DEMO_HOST, `/after-kill-${i}`)).status);
    expect(statuses).toEqual(Array(6).fill(200));
    const ejected = page.locator(`tr[data-endpoint="${key}"][data-state="ejected"]`);
    await ejected.waitFor({ timeout: Math.max(1, 5000 - (Date.now() - killedAt)) });
    expect(Date.now() - killedAt).toBeLessThan(5000);
    expect(await ejected.textContent()).toMatch(/ejected.*connection failed/);
    expect(await page.locator('#endpoints').textContent()).toContain('2/3 ready');

    await mkdir(join(REPO_ROOT, 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(errors).toEqual([]);
    expect(offsite).toEqual([]);
  });

  it("moves the charts with the demo's requests: req/s, error rate and p50/p99 per Service", async () => {
    const { sy } = await demo();
    const { page, errors } = await open(sy);
    const card = page.locator('[data-service="demo/hello"]');
    // Traffic in small bounded batches until a poll window has seen some (a rate needs two polls, 2 s apart).
    const rps = await waitFor(
      async () => {
        await Promise.all(Array.from({ length: 5 }, (_, i) => get(sy.ingress, DEMO_HOST, `/load-${i}`)));
        const text = await card.locator('.chart.rps .value').textContent({ timeout: 100 }).catch(() => null);
        return text !== null && text !== '0' && text !== '—' ? text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'a non-zero req/s for demo/hello on the page' },
    );
    expect(Number(rps)).toBeGreaterThan(0);
    expect(await card.locator('.chart.errors .value').textContent()).toBe('0 %');
    expect(await card.locator('.chart.p50 .value').textContent()).toMatch(/\d (µs|ms|s)$/);
    expect(await card.locator('.chart.p99 .value').textContent()).toMatch(/\d (µs|ms|s)$/);
    expect(await card.locator('.chart.rps svg polyline').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('shows names from the manifests as text, never as markup (an Ingress named <script>)', async () => {
    const dir = await tempManifestDir();
    await copyFile(DEMO, join(dir, 'demo.yaml'));
    await writeManifest(dir, 'odd.yaml', [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'odd-paths', namespace: 'demo' },
        spec: {
          ingressClassName: 'switchyard',
          rules: [
            {
              host: 'xss.localhost',
              http: {
                paths: [
                  { path: '/<script>alert(1)</script>', pathType: 'ImplementationSpecific', backend: { service: { name: 'hello', port: { name: 'http' } } } },
                  { path: '/<img src=x onerror=alert(2)>', pathType: 'Prefix', backend: { service: { name: 'nosuch', port: { number: 80 } } } },
                ],
              },
            },
          ],
        },
      },
    ]);
    const sy = await startSwitchyard({ manifests: dir });
    const { page, errors, dialogs } = await open(sy);
    await page.locator('#routes tbody tr', { hasText: 'xss.localhost' }).first().waitFor({ timeout: 5000 });
    // An Ingress whose name is markup: the API server's name rule rejects the file, and the rejection
    // (quoting the name) is shown in the configuration status.
    await writeManifest(dir, 'script.yaml', [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: '<script>alert(1)</script>', namespace: 'demo' },
        spec: { ingressClassName: 'switchyard', defaultBackend: { service: { name: 'hello', port: { number: 80 } } } },
      },
    ]);
    await page.locator('#config li', { hasText: 'Invalid value: "<script>alert(1)</script>"' }).waitFor({ timeout: 5000 });

    const routes = await page.locator('#routes tbody').textContent();
    expect(routes).toContain('/<script>alert(1)</script>');
    expect(routes).toContain('/<img src=x onerror=alert(2)>');
    expect(await page.locator('#config').textContent()).toContain('→ Service nosuch port 80: no such Service in namespace demo');
    // Had any of it been parsed as HTML, these elements would exist.
    expect([await page.locator('script').count(), await page.locator('img').count()]).toEqual([1, 0]);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });
});
