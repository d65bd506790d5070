/**
 * Large bodies stream through with backpressure: a 100 MB upload and a 100 MB download arrive intact
 * (same sha256 at both ends), the proxy holds back a sender whose receiver is not reading instead of
 * buffering for it, and the proxy process's peak memory stays bounded.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll } from '../helpers/cleanup.ts';
import { get, streamRequest } from '../helpers/http.ts';
import { ingress, serviceWithPods, tempManifestDir, writeManifest } from '../helpers/manifests.ts';
import { loopback, startPod, type PodHandler } from '../helpers/pods.ts';
import { peakRssBytes, startSwitchyard, type RunningSwitchyard } from '../helpers/switchyard.ts';
import { waitFor } from '../helpers/wait.ts';

afterEach(cleanupAll);

const MB = 1024 * 1024;
const SIZE = 100 * MB;
const CHUNK = 64 * 1024;
/**
 * Peak RSS (VmHWM) bound for the proxy after a 100 MB transfer. Measured here: ~120 MB before any
 * transfer, 185–215 MB after (V8 lets 65–90 MB of already-forwarded chunks pile up before a full GC,
 * and the level stays there over repeated transfers). Buffering is caught by the backpressure checks.
 */
const PEAK_RSS_LIMIT = 256 * MB;
/**
 * Most bytes a sender may get ahead of a receiver that does not read: kernel socket buffers on both
 * sides of the proxy plus stream high-water marks come to a few MB; a buffering proxy takes all 100 MB.
 */
const MAX_IN_FLIGHT = 48 * MB;

interface Counted {
  readonly stream: Readable;
  /** Bytes handed to the consumer so far. */
  bytes(): number;
  digest(): string;
}

/** `SIZE` random bytes as a pull stream: generated only as fast as the consumer reads, hashed on the way. */
function randomBody(): Counted {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    highWaterMark: CHUNK,
    read() {
      if (sent >= SIZE) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(CHUNK, SIZE - sent));
      sent += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, bytes: () => sent, digest: () => hash.digest('hex') };
}

/** Waits until `bytes()` stops growing (the sender is held back) and returns where it stopped. */
async function stalledAt(bytes: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  return waitFor(
    () => {
      const now = bytes();
      still = now === last && now > 0 ? still + 1 : 0;
      last = now;
      // Stalled for 300 ms, or finished (a proxy that buffers everything lets the sender run to the end).
      return still >= 6 || now >= SIZE ? now : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50, what: 'the sender to stall' },
  );
}

/** Every case runs against both HTTP/1.1 servers (--http1-server): Node's llhttp binding and the node:http fallback. */
const HTTP1_SERVERS = ['llhttp', 'node'] as const;

async function bulkProxy(server: (typeof HTTP1_SERVERS)[number], handler: PodHandler): Promise<RunningSwitchyard> {
  const pod = await startPod({ name: 'bulk-1', host: loopback(2), handler });
  const dir = await tempManifestDir();
  await writeManifest(dir, 'bulk.yaml', [
    ...serviceWithPods('bulk', 'data', [pod]),
    ingress({ name: 'bulk', namespace: 'data', rules: [{ host: 'bulk.example', paths: [{ path: '/', service: 'bulk' }] }] }),
  ]);
  const sy = await startSwitchyard({ manifests: dir, args: ['--http1-server', server] });
  expect((await get(sy.ingress, 'bulk.example', '/warm-up')).status).toBe(200);
  return sy;
}

const mb = (n: number): string => `${(n / MB).toFixed(1)} MB`;

describe.each(HTTP1_SERVERS)('%s server', (server) => {
  describe('streamed bodies', () => {
    it('streams a 100 MB upload to a pod that hashes it, holding the client back while the pod does not read', async () => {
      let uploadReq: IncomingMessage | undefined;
      const sy = await bulkProxy(server, (req, res) => {
        if (req.url !== '/upload') return void res.end('ok');
        req.pause(); // do not read until the test says so
        uploadReq = req;
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
        });
      });
      const baseline = await peakRssBytes(sy.pid);

      const body = randomBody();
      const response = streamRequest(sy.ingress, '/upload', { method: 'POST', host: 'bulk.example', body: body.stream, timeoutMs: 60_000 });
      await waitFor(() => uploadReq, { what: 'the upload to reach the pod' });
      const heldAt = await stalledAt(body.bytes);
      expect(heldAt, `the client got ${mb(heldAt)} ahead of a pod that reads nothing`).toBeLessThan(MAX_IN_FLIGHT);

      uploadReq!.resume();
      const up = await response;
      expect(up.status).toBe(200);
      const chunks: Buffer[] = [];
      for await (const c of up.body) chunks.push(c as Buffer);
      const received = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { bytes: number; sha256: string };
      expect(received.bytes).toBe(SIZE);
      expect(received.sha256).toBe(body.digest());

      const peak = await peakRssBytes(sy.pid);
      expect(peak, `proxy peak RSS ${mb(peak)} (before the upload: ${mb(baseline)})`).toBeLessThan(PEAK_RSS_LIMIT);
    }, 60_000);

    it('streams a 100 MB download back, holding the pod back while the client does not read', async () => {
      let body: Counted | undefined;
      let podDone: Promise<void> | undefined;
      const sy = await bulkProxy(server, (req, res) => {
        if (req.url !== '/download') return void res.end('ok');
        body = randomBody();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) });
        podDone = pipeline(body.stream, res);
        podDone.catch(() => undefined);
      });
      const baseline = await peakRssBytes(sy.pid);

      const down = await streamRequest(sy.ingress, '/download', { host: 'bulk.example', timeoutMs: 60_000 });
      expect(down.status).toBe(200);
      down.body.pause(); // read nothing yet
      const heldAt = await stalledAt(() => body?.bytes() ?? 0);
      expect(heldAt, `the pod got ${mb(heldAt)} ahead of a client that reads nothing`).toBeLessThan(MAX_IN_FLIGHT);

      const got = createHash('sha256');
      let gotBytes = 0;
      for await (const c of down.body) {
        gotBytes += (c as Buffer).length;
        got.update(c as Buffer);
      }
      await podDone;
      expect(gotBytes).toBe(SIZE);
      expect(got.digest('hex')).toBe(body!.digest());

      const peak = await peakRssBytes(sy.pid);
      expect(peak, `proxy peak RSS ${mb(peak)} (before the download: ${mb(baseline)})`).toBeLessThan(PEAK_RSS_LIMIT);
    }, 60_000);
  });
});
