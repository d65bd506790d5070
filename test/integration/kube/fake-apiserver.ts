/**
 * A fake Kubernetes API server for tests: plain HTTP on 127.0.0.1, speaking the list/watch protocol the
 * way kube-apiserver does, for the resources the kube source reads.
 *
 * - LIST `GET /api/v1/services`, `/api/v1/namespaces/NS/services`, `/apis/GROUP/VERSION/…`: a
 *   `{kind: 'ServiceList', apiVersion, metadata: {resourceVersion[, continue]}, items}` whose items carry no
 *   kind/apiVersion (as the real server sends them); `limit`/`continue` paging; label and field selectors.
 * - WATCH `?watch=true&resourceVersion=N[&allowWatchBookmarks=true]`: a chunked stream of one JSON event per
 *   line (ADDED/MODIFIED/DELETED/BOOKMARK) with every change after N, then live changes. An object that
 *   starts or stops matching the label selector arrives as ADDED or DELETED, as from the watch cache.
 *   N older than the last compaction: an ERROR event carrying a Status with code 410, then the stream ends.
 * - `PATCH` (merge patch) and `PUT` on `…/NAME/status` of Ingresses and the Gateway API kinds; a
 *   `metadata.resourceVersion` in the body is a precondition (409 Conflict when stale), as on the real server.
 * - The Gateway API kinds and Namespaces answer 404 (a cluster without the CRDs) until serveGatewayApi();
 *   Gateway API objects get a metadata.generation, bumped when their spec changes.
 *
 * The test API changes objects (bumping one global resourceVersion), answers the next watches with 410,
 * drops connections abruptly, stops and restarts on the same port, 404s an API, and holds lists back.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

export const RESOURCES = {
  services: { kind: 'Service', group: '', version: 'v1', namespaced: true },
  endpoints: { kind: 'Endpoints', group: '', version: 'v1', namespaced: true },
  secrets: { kind: 'Secret', group: '', version: 'v1', namespaced: true },
  endpointslices: { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', namespaced: true },
  ingresses: { kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', namespaced: true },
  ingressclasses: { kind: 'IngressClass', group: 'networking.k8s.io', version: 'v1', namespaced: false },
  namespaces: { kind: 'Namespace', group: '', version: 'v1', namespaced: false },
  gatewayclasses: { kind: 'GatewayClass', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: false },
  gateways: { kind: 'Gateway', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true },
  httproutes: { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true },
  grpcroutes: { kind: 'GRPCRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true },
  referencegrants: { kind: 'ReferenceGrant', group: 'gateway.networking.k8s.io', version: 'v1beta1', namespaced: true },
} as const;

/** Served only after serveGatewayApi(): a cluster without the Gateway API CRDs (and, for simplicity, Namespaces). */
const GATEWAY_API: readonly Plural[] = ['namespaces', 'gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants'];
/** Kinds whose status subresource can be written. */
const STATUS_PLURALS: ReadonlySet<string> = new Set(['ingresses', 'gatewayclasses', 'gateways', 'httproutes', 'grpcroutes']);

export type Plural = keyof typeof RESOURCES;

/** A stored object: at least a name; the server fills in namespace, resourceVersion, uid, creationTimestamp. */
export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  readonly rv: number;
  readonly plural: Plural;
  readonly type: EventType;
  readonly object: KubeObject;
  readonly previous: KubeObject | undefined;
}

interface WatchConn {
  readonly plural: Plural;
  readonly namespace: string | undefined;
  readonly matches: (obj: KubeObject) => boolean;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

const apiVersionOf = (plural: Plural): string => (RESOURCES[plural].group ? `${RESOURCES[plural].group}/${RESOURCES[plural].version}` : RESOURCES[plural].version);
const keyOf = (obj: KubeObject): string => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
const clone = <T>(v: T): T => structuredClone(v);

export class FakeApiServer {
  /** Every request, in order (the test inspects query parameters and headers). */
  readonly requests: RequestRecord[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #objects = new Map<Plural, Map<string, KubeObject>>();
  readonly #events: StoredEvent[] = [];
  readonly #watches = new Set<WatchConn>();
  readonly #disabled = new Set<Plural>(GATEWAY_API);
  readonly #forbidden = new Set<Plural>();
  readonly #held = new Map<Plural, { promise: Promise<void>; release: () => void }>();
  readonly #pages = new Map<string, { items: KubeObject[]; rv: string }>();
  #rv = 100;
  #compactedRv = 0;
  #expire = 0;
  #failStatus = 0;
  #port = 0;
  #uid = 0;
  #pageId = 0;

  private constructor() {
    for (const plural of Object.keys(RESOURCES) as Plural[]) this.#objects.set(plural, new Map());
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 60_000;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeApiServer> {
    const api = new FakeApiServer();
    await api.#listen(0);
    return api;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Open watch streams, optionally of one resource. */
  watchCount(plural?: Plural): number {
    let n = 0;
    for (const w of this.#watches) if (plural === undefined || w.plural === plural) n++;
    return n;
  }

  /** Creates or replaces an object (ADDED or MODIFIED); returns the stored copy. */
  upsert(plural: Plural, input: KubeObject): KubeObject {
    const obj = clone(input);
    const def = RESOURCES[plural];
    if (def.namespaced) obj.metadata.namespace ??= 'default';
    else delete obj.metadata.namespace;
    const map = this.#objects.get(plural)!;
    const previous = map.get(keyOf(obj));
    obj.metadata.uid = previous?.metadata.uid ?? `uid-${++this.#uid}`;
    obj.metadata.creationTimestamp = previous?.metadata.creationTimestamp ?? obj.metadata.creationTimestamp ?? '2025-01-02T03:04:05Z';
    obj.metadata.resourceVersion = String(++this.#rv);
    if (def.group === 'gateway.networking.k8s.io') {
      const before = previous?.metadata['generation'];
      const same = previous !== undefined && JSON.stringify(previous['spec']) === JSON.stringify(obj['spec']);
      obj.metadata['generation'] = typeof before === 'number' ? (same ? before : before + 1) : 1;
    }
    delete obj['kind'];
    delete obj['apiVersion'];
    map.set(keyOf(obj), obj);
    this.#record(plural, previous ? 'MODIFIED' : 'ADDED', obj, previous);
    return clone(obj);
  }

  /** Deletes an object (DELETED, carrying its last state at a new resourceVersion). */
  remove(plural: Plural, namespace: string, name: string): void {
    const map = this.#objects.get(plural)!;
    const key = `${RESOURCES[plural].namespaced ? namespace : ''}/${name}`;
    const previous = map.get(key);
    if (!previous) throw new Error(`fake apiserver: no ${plural} ${key}`);
    map.delete(key);
    const obj = clone(previous);
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#record(plural, 'DELETED', obj, previous);
  }

  /** Deletes an object without any watch event, as if the event had been lost on the way. */
  forget(plural: Plural, namespace: string, name: string): void {
    this.#objects.get(plural)!.delete(`${RESOURCES[plural].namespaced ? namespace : ''}/${name}`);
    this.#rv++;
  }

  get(plural: Plural, namespace: string, name: string): KubeObject | undefined {
    const obj = this.#objects.get(plural)!.get(`${RESOURCES[plural].namespaced ? namespace : ''}/${name}`);
    return obj ? clone(obj) : undefined;
  }

  /** Forgets the history: a watch from any resourceVersion before now gets 410 Gone. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#events.length = 0;
  }

  /** The next `n` watch requests are answered with an ERROR event (Status 410 Expired), whatever their resourceVersion. */
  expireNextWatches(n = 1): void {
    this.#expire += n;
  }

  /** Sends a BOOKMARK at the current resourceVersion on every open watch that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.#watches) {
      if (w.bookmarks) this.#send(w, { type: 'BOOKMARK', object: { kind: RESOURCES[w.plural].kind, apiVersion: apiVersionOf(w.plural), metadata: { resourceVersion: String(this.#rv) } } });
    }
  }

  /** Destroys every open watch connection without ending the chunked response (a broken TCP connection). */
  dropWatches(): void {
    for (const w of this.#watches) w.res.socket?.destroy();
  }

  /** Ends every open watch cleanly, as the server does when a watch's timeout is over. */
  endWatches(): void {
    for (const w of this.#watches) w.res.end();
  }

  /** Makes an API absent: its list and watch answer 404 Not Found, as on a cluster that does not serve it. */
  disable(plural: Plural): void {
    this.#disabled.add(plural);
  }

  /** Serves the Gateway API kinds and Namespaces (404 until then, as on a cluster without the CRDs). */
  serveGatewayApi(): void {
    for (const plural of GATEWAY_API) this.#disabled.delete(plural);
  }

  /** The next `n` status writes answer 500 Internal Server Error. */
  failStatusWrites(n = 1): void {
    this.#failStatus += n;
  }

  /** Answers lists and watches of `plural` with 403 Forbidden (RBAC), until `allow`. */
  forbid(plural: Plural): void {
    this.#forbidden.add(plural);
  }

  allow(plural: Plural): void {
    this.#forbidden.delete(plural);
  }

  /** Holds every list of `plural` until the returned function is called. */
  holdLists(plural: Plural): () => void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    const release = (): void => {
      this.#held.delete(plural);
      resolve();
    };
    this.#held.set(plural, { promise, release });
    return release;
  }

  /** Stops listening and cuts every connection abruptly; the objects and history are kept. */
  async stop(): Promise<void> {
    for (const w of this.#watches) if (w.timer) clearTimeout(w.timer);
    this.#watches.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Listens again on the same port after `stop()`. */
  async restart(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    for (const h of [...this.#held.values()]) h.release();
    if (this.#server.listening) await this.stop();
  }

  /** Writes a kubeconfig pointing at this server (token auth; http needs insecure-skip-tls-verify). */
  async writeKubeconfig(dir: string, options: { context?: string; token?: string; file?: string } = {}): Promise<string> {
    const context = options.context ?? 'fake';
    const file = join(dir, options.file ?? 'kubeconfig.yaml');
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake-cluster',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake-user',
      '  user:',
      `    token: ${options.token ?? 'test-token'}`,
      'contexts:',
      `- name: ${context}`,
      '  context:',
      '    cluster: fake-cluster',
      '    user: fake-user',
      `current-context: ${context}`,
      '',
    ].join('\n');
    await writeFile(file, text);
    return file;
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #record(plural: Plural, type: EventType, object: KubeObject, previous: KubeObject | undefined): void {
    const event: StoredEvent = { rv: this.#rv, plural, type, object, previous };
    this.#events.push(event);
    for (const w of this.#watches) this.#deliver(w, event);
  }

  /** Sends `event` to `w` as the watch cache would: filtered by namespace and selectors. */
  #deliver(w: WatchConn, e: StoredEvent): void {
    if (e.plural !== w.plural) return;
    if (w.namespace !== undefined && e.object.metadata.namespace !== w.namespace) return;
    const was = e.previous !== undefined && w.matches(e.previous);
    const is = e.type !== 'DELETED' && w.matches(e.object);
    let type: EventType | undefined;
    if (e.type === 'DELETED') type = was ? 'DELETED' : undefined;
    else if (is) type = was ? 'MODIFIED' : 'ADDED';
    else if (was) type = 'DELETED';
    if (type) this.#send(w, { type, object: this.#wire(w.plural, e.object) });
  }

  #send(w: WatchConn, event: unknown): void {
    if (!w.res.writableEnded && !w.res.destroyed) w.res.write(`${JSON.stringify(event)}\n`);
  }

  /** An object as it appears in a watch event or a single GET: with kind and apiVersion. */
  #wire(plural: Plural, obj: KubeObject): KubeObject {
    return { kind: RESOURCES[plural].kind, apiVersion: apiVersionOf(plural), ...clone(obj) };
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const query = Object.fromEntries(url.searchParams);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      void this.#route(req.method ?? 'GET', url.pathname, query, body, res).catch((err: unknown) => {
        if (!res.headersSent) status(res, 500, 'InternalError', String(err));
      });
    });
  }

  async #route(method: string, path: string, query: Record<string, string>, body: unknown, res: ServerResponse): Promise<void> {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(path);
    const plural = m?.[5] as Plural | undefined;
    const def = plural !== undefined && Object.hasOwn(RESOURCES, plural) ? RESOURCES[plural] : undefined;
    const group = m?.[1] ? '' : m?.[2];
    const version = m?.[1] ?? m?.[3];
    if (!m || !def || def.group !== group || def.version !== version || this.#disabled.has(plural!) || (m[4] !== undefined && !def.namespaced)) {
      status(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    const namespace = m[4];
    const name = m[6];
    if (this.#forbidden.has(plural!)) {
      const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
      status(res, 403, 'Forbidden', `${plural} is forbidden: User "system:serviceaccount:default:switchyard" cannot ${query['watch'] ? 'watch' : 'list'} resource "${plural}" ${scope}`);
      return;
    }
    if (name === undefined && method === 'GET') {
      if (query['watch'] === 'true' || query['watch'] === '1') this.#watch(plural!, namespace, query, res);
      else await this.#list(plural!, namespace, query, res);
      return;
    }
    if (name !== undefined && m[7] === 'status' && STATUS_PLURALS.has(plural!) && (method === 'PATCH' || method === 'PUT')) {
      this.#writeStatus(plural!, namespace ?? '', name, method, body, res);
      return;
    }
    status(res, 405, 'MethodNotAllowed', `${method} ${path} is not supported by the fake API server`);
  }

  async #list(plural: Plural, namespace: string | undefined, query: Record<string, string>, res: ServerResponse): Promise<void> {
    await this.#held.get(plural)?.promise;
    const cont = query['continue'];
    let items: KubeObject[];
    let rv: string;
    if (cont) {
      const page = this.#pages.get(cont);
      if (!page) {
        status(res, 410, 'Expired', 'the provided continue parameter is too old');
        return;
      }
      this.#pages.delete(cont);
      ({ items, rv } = page);
    } else {
      const matches = selectorFilter(query);
      items = [...this.#objects.get(plural)!.values()]
        .filter((o) => (namespace === undefined || o.metadata.namespace === namespace) && matches(o))
        .sort((a, b) => keyOf(a).localeCompare(keyOf(b)))
        .map(clone);
      rv = String(this.#rv);
    }
    const limit = Number(query['limit'] ?? 0);
    const metadata: Record<string, string> = { resourceVersion: rv };
    if (limit > 0 && items.length > limit) {
      const token = `page-${++this.#pageId}`;
      this.#pages.set(token, { items: items.slice(limit), rv });
      items = items.slice(0, limit);
      metadata['continue'] = token;
    }
    json(res, 200, { kind: `${RESOURCES[plural].kind}List`, apiVersion: apiVersionOf(plural), metadata, items });
  }

  #watch(plural: Plural, namespace: string | undefined, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache' });
    res.flushHeaders();
    const w: WatchConn = { plural, namespace, matches: selectorFilter(query), bookmarks: query['allowWatchBookmarks'] === 'true', res, timer: undefined };
    const from = query['resourceVersion'] ?? '';
    if (this.#expire > 0 || (from !== '' && from !== '0' && Number(from) < this.#compactedRv)) {
      if (this.#expire > 0) this.#expire--;
      const message = `too old resource version: ${from} (${this.#compactedRv || this.#rv})`;
      this.#send(w, { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 } });
      res.end();
      return;
    }
    this.#watches.add(w);
    res.on('close', () => {
      if (w.timer) clearTimeout(w.timer);
      this.#watches.delete(w);
    });
    if (from === '' || from === '0') {
      for (const obj of this.#objects.get(plural)!.values()) {
        if ((namespace === undefined || obj.metadata.namespace === namespace) && w.matches(obj)) this.#send(w, { type: 'ADDED', object: this.#wire(plural, obj) });
      }
    } else {
      for (const e of this.#events) if (e.rv > Number(from)) this.#deliver(w, e);
    }
    const timeout = Number(query['timeoutSeconds'] ?? 0);
    if (timeout > 0) w.timer = setTimeout(() => res.end(), timeout * 1000);
  }

  #writeStatus(plural: Plural, namespace: string, name: string, method: string, body: unknown, res: ServerResponse): void {
    if (this.#failStatus > 0) {
      this.#failStatus--;
      status(res, 500, 'InternalError', 'etcdserver: request timed out');
      return;
    }
    const def = RESOURCES[plural];
    const current = this.#objects.get(plural)!.get(`${def.namespaced ? namespace : ''}/${name}`);
    if (!current) {
      status(res, 404, 'NotFound', `${plural}${def.group ? `.${def.group}` : ''} "${name}" not found`);
      return;
    }
    const precondition = (body as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
    if (precondition !== undefined && precondition !== current.metadata.resourceVersion) {
      status(res, 409, 'Conflict', `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      return;
    }
    const next = clone(current);
    const patch = (body as { status?: unknown } | undefined)?.status;
    next['status'] = method === 'PUT' ? (patch ?? {}) : mergePatch(next['status'], patch);
    const stored = this.upsert(plural, next);
    json(res, 200, this.#wire(plural, stored));
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Label selector (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`) and field selector (`path=value`, `path!=value`). */
function selectorFilter(query: Record<string, string>): (obj: KubeObject) => boolean {
  const label = parseSelector(query['labelSelector'] ?? '');
  const field = parseSelector(query['fieldSelector'] ?? '');
  return (obj) => label.every((t) => t(obj.metadata.labels ?? {})) && field.every((t) => t(fieldsOf(obj)));
}

function fieldsOf(obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = { 'metadata.name': obj.metadata.name, 'metadata.namespace': obj.metadata.namespace ?? '' };
  if (typeof obj['type'] === 'string') out['type'] = obj['type'];
  return out;
}

type Term = (values: Record<string, string>) => boolean;

function parseSelector(text: string): Term[] {
  const terms: Term[] = [];
  for (const raw of text.split(/,(?![^(]*\))/)) {
    const t = raw.trim();
    if (!t) continue;
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      const [, k, op, list] = m;
      const set = new Set(list!.split(',').map((s) => s.trim()));
      terms.push(op === 'in' ? (v) => v[k!] !== undefined && set.has(v[k!]!) : (v) => v[k!] === undefined || !set.has(v[k!]!));
    } else if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(t))) {
      const [, k, op, value] = m;
      terms.push(op === '!=' ? (v) => v[k!] !== value : (v) => v[k!] === value);
    } else if ((m = /^!(\S+)$/.exec(t))) {
      const k = m[1]!;
      terms.push((v) => v[k] === undefined);
    } else {
      terms.push((v) => v[t] !== undefined);
    }
  }
  return terms;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}
