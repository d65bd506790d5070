/**
 * Raw Kubernetes objects → Switchyard records, for manifest files (parseManifest) and the API server
 * (normalizeObject) alike. Validation happens here, object by object, and every problem names the file
 * and document index (or, for an API object, the object) and the field path.
 */
import { loadAll, YAMLException } from 'js-yaml';
import type { z } from 'zod';
import { ErrorCode, SwyError, formatLocation, type ManifestLocation } from '../errors.ts';
import type {
  EndpointAddressRec,
  EndpointGroupRec,
  EndpointPortRec,
  IngressBackendRec,
  Meta,
  Origin,
  Rec,
} from '../model/records.ts';
import {
  KIND_API_VERSIONS,
  endpointAddressSchema,
  endpointSliceSchema,
  endpointsSchema,
  ingressClassSchema,
  ingressSchema,
  metadataSchema,
  secretSchema,
  serviceSchema,
  type IngressBackendInput,
  type KnownKind,
} from './k8s-schemas.ts';
import { formatFieldValue, toFieldError } from './field-errors.ts';
import { GATEWAY_KIND_API_VERSIONS, GATEWAY_KIND_MORE_API_VERSIONS, type GatewayKind } from './gateway-schemas.ts';
import { normalizeGatewayKind } from './normalize-gateway.ts';
import { serviceL4Fields } from './service-l4.ts';
import { placeLines } from './yaml-lines.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The apiVersion of every kind read, the Gateway API kinds included. */
const API_VERSIONS: Readonly<Record<KnownKind | GatewayKind, string>> = { ...KIND_API_VERSIONS, ...GATEWAY_KIND_API_VERSIONS };

// Memory: records live as long as their objects do, and a cluster's or a directory's worth of them is
// mostly the same few values over and over. Absent labels/annotations/tls share one frozen empty value,
// and the low-cardinality strings (namespaces, class names, path types, Service and port names) one copy
// each: with 10,000 Ingresses that is ~3 MB less at start-up and for as long as they are served.
const NO_ENTRIES: Readonly<Record<string, string>> = Object.freeze({});
const NO_TLS: readonly never[] = Object.freeze([]);
const INTERN_LIMIT = 50_000;
const interned = new Map<string, string>();

/** One shared copy of a string likely to repeat across objects (bounded: past the limit, strings pass as they are). */
function intern<T extends string | undefined>(value: T): T {
  if (value === undefined) return value;
  const known = interned.get(value);
  if (known !== undefined) return known as T;
  if (interned.size < INTERN_LIMIT) interned.set(value, value);
  return value;
}

/** What one file yields: the records it defines, the kinds it skipped, and every problem found. */
export interface ParsedManifest {
  readonly records: Rec[];
  readonly skipped: { readonly kind: string; readonly document: number }[];
  readonly errors: SwyError[];
}

/**
 * Parses one manifest file's text (multi-document YAML, JSON, `kind: List`).
 * A syntax error yields a single error and no records; otherwise each invalid object yields its own error.
 */
export function parseManifest(text: string, file: string, source: string): ParsedManifest {
  const out: ParsedManifest = { records: [], skipped: [], errors: [] };
  const collect = (doc: unknown, index: number): void => {
    if (doc === null || doc === undefined) return; // an empty document between separators
    collectObject(doc, { file, document: index }, '', source, out);
  };
  if (file.endsWith('.json')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { records: [], skipped: [], errors: [syntaxError(err, text, file, 0)] };
    }
    collect(doc, 0);
    if (out.errors.length > 0) placeLines(out.errors, [0], text, 0);
    return out;
  }
  // Document by document, so the parser's intermediate state and the raw objects of one document are
  // garbage before the next is read: a 4 MB file of 10,000 Ingresses peaks ~90 MB lower than loadAll(text).
  let index = 0;
  // Lines are counted only up to a document with an error, and only once: valid files pay nothing.
  let lineBase = 0;
  let lineBaseOffset = 0;
  for (const chunk of yamlDocumentChunks(text)) {
    let docs: unknown[];
    try {
      docs = loadAll(chunk.text, { filename: file });
    } catch (err) {
      // A syntax error anywhere rejects the whole file, as before: nothing of it is kept.
      return { records: [], skipped: [], errors: [syntaxError(err, text, file, chunk.offset)] };
    }
    const before = out.errors.length;
    const firsts: number[] = [];
    for (const doc of docs) {
      firsts.push(out.errors.length);
      collect(doc, index++);
    }
    if (out.errors.length > before) {
      for (let i = lineBaseOffset; i < chunk.offset; i++) if (text.charCodeAt(i) === 10) lineBase++;
      lineBaseOffset = chunk.offset;
      placeLines(out.errors, firsts, chunk.text, lineBase);
    }
  }
  return out;
}


/**
 * The file cut at document-start markers (`---` at column 0), each piece with its offset in the file.
 * YAML forbids such a line inside any scalar or collection (it always starts a new document), so the
 * pieces parse to exactly the documents of the whole. A first piece with no content — comments,
 * directives such as `%YAML`, a byte-order mark — stays with the document it introduces.
 */
export function yamlDocumentChunks(text: string): { text: string; offset: number }[] {
  const starts: number[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) starts.push(m.index);
  if (starts.length === 0) return [{ text, offset: 0 }];
  if (starts[0] !== 0) {
    const prefix = text.slice(0, starts[0]).replace(/^\uFEFF/, '');
    if (/^\s*[^\s#%]/m.test(prefix)) starts.unshift(0); // an implicit first document
    else starts[0] = 0; // comments or directives that introduce the first `---` document
  }
  return starts.map((start, i) => ({ text: text.slice(start, starts[i + 1] ?? text.length), offset: start }));
}

function syntaxError(err: unknown, text: string, file: string, chunkOffset: number): SwyError {
  if (err instanceof YAMLException && err.mark) {
    const position = chunkOffset + err.mark.position;
    const document = countDocumentSeparators(text, position);
    const line = text.slice(0, chunkOffset).split('\n').length - 1 + err.mark.line;
    return new SwyError(
      ErrorCode.MANIFEST_PARSE,
      `${formatLocation({ file, document })}: invalid YAML at line ${line + 1}, column ${err.mark.column + 1}: ${err.reason}`,
      { cause: err, location: { file, document } },
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new SwyError(ErrorCode.MANIFEST_PARSE, `${file}: invalid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${reason}`, {
    cause: err,
    location: { file },
  });
}

/**
 * Index of the YAML document containing `position`, counted as loadAll counts documents: a `---`
 * starts a document; so does content after a `...` end marker or at the start of the file.
 * Directives (`%YAML`), comments, blank lines and a byte-order mark belong to no document.
 */
export function countDocumentSeparators(text: string, position: number): number {
  let doc = -1;
  let inDocument = false;
  for (const raw of text.slice(0, position).split('\n')) {
    const line = doc === -1 && !inDocument ? raw.replace(/^\uFEFF/, '') : raw;
    if (/^---(\s|$)/.test(line)) {
      doc++;
      inDocument = true;
    } else if (/^\.\.\.(\s|$)/.test(line)) {
      inDocument = false;
    } else if (!inDocument && /^\s*[^\s#%]/.test(line)) {
      doc++;
      inDocument = true;
    }
  }
  return Math.max(doc, 0);
}

/** What one raw object yields: a record, a problem, or the name of a kind Switchyard does not read. */
export interface NormalizedObject {
  readonly record?: Rec;
  readonly error?: SwyError;
  /** The object's kind, when Switchyard does not read that kind. */
  readonly skipped?: string;
}

/**
 * Validates and normalises one raw Kubernetes object (not a List), as the manifest files' objects are.
 * `where` names the object in messages and in the error's location (as its `file`; an API object has
 * no document index), e.g. `Ingress shop/web`: `Ingress shop/web field spec.rules[0].host: …`.
 */
export function normalizeObject(raw: unknown, origin: Origin, where: string): NormalizedObject {
  return normalizeAt(raw, { file: where }, '', origin);
}

function isMapping(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function collectObject(raw: unknown, loc: { file: string; document: number }, prefix: string, source: string, out: ParsedManifest): void {
  const kind = isMapping(raw) ? raw['kind'] : undefined;
  if (typeof kind === 'string' && (kind === 'List' || kind.endsWith('List'))) {
    const items = (raw as Record<string, unknown>)['items'];
    if (!Array.isArray(items)) {
      const message = items === undefined || items === null ? 'Required value: a List holds its objects in items' : `Invalid value: ${formatFieldValue(items)}: must be a list`;
      out.errors.push(invalid({ ...loc, path: `${prefix}items` }, message));
      return;
    }
    items.forEach((item, i) => collectObject(item, loc, `${prefix}items[${i}].`, source, out));
    return;
  }
  const result = normalizeAt(raw, loc, prefix, { source, file: loc.file, document: loc.document });
  if (result.record) out.records.push(result.record);
  else if (result.error) out.errors.push(result.error);
  else if (result.skipped !== undefined) out.skipped.push({ kind: result.skipped, document: loc.document });
}

/** The one validation path of a single object, shared by manifest files and the API server. */
function normalizeAt(raw: unknown, loc: { file: string; document?: number }, prefix: string, origin: Origin): NormalizedObject {
  const at = (path: string): ManifestLocation => ({ ...loc, path: prefix + path });
  if (!isMapping(raw)) {
    const here: ManifestLocation = { ...loc, path: prefix ? prefix.slice(0, -1) : '(document)' };
    return { error: invalid(here, `Invalid value: ${formatFieldValue(raw)}: must be a Kubernetes object (a mapping with apiVersion and kind)`) };
  }
  const kind = raw['kind'];
  if (kind === undefined || kind === null || kind === '') return { error: invalid(at('kind'), 'Required value') };
  if (typeof kind !== 'string') return { error: invalid(at('kind'), `Invalid value: ${formatFieldValue(kind)}: must be a string`) };
  // Own properties only: `constructor` or `toString` is no Kubernetes kind.
  if (!Object.hasOwn(API_VERSIONS, kind)) return { skipped: kind };
  const known = kind as KnownKind | GatewayKind;
  const apiVersion = raw['apiVersion'];
  const more = GATEWAY_KIND_MORE_API_VERSIONS[known as GatewayKind];
  if (apiVersion !== API_VERSIONS[known] && (more === undefined || !more.includes(apiVersion as string))) {
    const versions = [API_VERSIONS[known], ...(more ?? [])].map((v) => JSON.stringify(v)).join(', ');
    const wanted = `${versions} (the ${more === undefined ? 'version' : 'versions'} of ${kind} Switchyard reads)`;
    const message = apiVersion === undefined || apiVersion === null ? `Required value: supported values: ${wanted}` : `Unsupported value: ${formatFieldValue(apiVersion)}: supported values: ${wanted}`;
    return { error: invalid(at('apiVersion'), message) };
  }
  try {
    return { record: normalizeKnown(known, raw, origin, at) };
  } catch (err) {
    if (err instanceof SwyError) return { error: err };
    throw err;
  }
}

function invalid(loc: ManifestLocation, message: string): SwyError {
  return new SwyError(ErrorCode.MANIFEST_INVALID, `${formatLocation(loc)}: ${message}`, { location: loc });
}

/** Validates with `schema`, turning the first issue into a located SWY_ERR_MANIFEST_INVALID worded as the API server's field errors. */
function check<S extends z.ZodType>(schema: S, obj: unknown, at: (path: string) => ManifestLocation): z.output<S> {
  const result = schema.safeParse(obj);
  if (result.success) return result.data;
  const error = toFieldError(result.error.issues[0]!, obj);
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw invalid(at(formatPath(error.path)), `${error.message}${more}`);
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

type At = (path: string) => ManifestLocation;

function normalizeKnown(kind: KnownKind | GatewayKind, obj: Record<string, unknown>, origin: Origin, at: At): Rec {
  switch (kind) {
    case 'GatewayClass':
    case 'Gateway':
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'ReferenceGrant':
    case 'Namespace':
      return normalizeGatewayKind(kind, obj, origin, at, { check, toMeta });
    case 'Service':
      return normalizeService(obj, origin, at);
    case 'EndpointSlice':
      return normalizeEndpointSlice(obj, origin, at);
    case 'Endpoints':
      return normalizeEndpoints(obj, origin, at);
    case 'Ingress':
      return normalizeIngress(obj, origin, at);
    case 'IngressClass': {
      const v = check(ingressClassSchema, obj, at);
      const meta = toMeta(v.metadata, '');
      return { kind, meta, origin, controller: v.spec?.controller ?? undefined, isDefault: meta.annotations[DEFAULT_CLASS_ANNOTATION] === 'true' };
    }
    case 'Secret': {
      const v = check(secretSchema, obj, at);
      const data: Record<string, string> = {};
      for (const [k, b64] of Object.entries(v.data ?? {})) data[k] = Buffer.from(b64, 'base64').toString('utf8');
      for (const [k, s] of Object.entries(v.stringData ?? {})) data[k] = s;
      return { kind, meta: toMeta(v.metadata, 'default'), origin, type: v.type ?? 'Opaque', data };
    }
  }
}

function toMeta(m: z.output<typeof metadataSchema>, defaultNamespace: string): Meta {
  const ts = m.creationTimestamp;
  return {
    namespace: defaultNamespace === '' ? '' : intern(m.namespace ?? defaultNamespace),
    name: m.name,
    creationTimestamp: ts instanceof Date ? ts.toISOString() : (ts ?? undefined),
    labels: m.labels ?? NO_ENTRIES,
    annotations: m.annotations ?? NO_ENTRIES,
    ...(typeof m.generation === 'number' ? { generation: m.generation } : {}),
  };
}

function normalizeService(obj: Record<string, unknown>, origin: Origin, at: At): Rec {
  const v = check(serviceSchema, obj, at);
  const spec = v.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const rawPorts = spec.ports ?? [];
  const { nodePorts, ...l4 } = serviceL4Fields({ type, spec, status: v.status });
  const seen = new Set<string>();
  const ports = rawPorts.map((p, i) => {
    const name = p.name ?? '';
    // Kubernetes requires names once a Service has more than one port, and they must be unique.
    if (rawPorts.length > 1 && name === '') throw invalid(at(`spec.ports[${i}].name`), 'Required value: a Service with more than one port names each of them');
    if (seen.has(name)) throw invalid(at(`spec.ports[${i}].name`), `Duplicate value: ${JSON.stringify(name)}`);
    seen.add(name);
    return { name, port: p.port, targetPort: p.targetPort ?? undefined, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol ?? undefined, nodePort: nodePorts[i] };
  });
  if (type === 'ExternalName' && !spec.externalName) throw invalid(at('spec.externalName'), 'Required value: a Service of type ExternalName needs one');
  const headless = spec.clusterIP === 'None';
  const clusterIPs =
    type === 'ExternalName' || headless ? [] : (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== 'None');
  return {
    kind: 'Service',
    meta: toMeta(v.metadata, 'default'),
    origin,
    type,
    clusterIPs,
    headless,
    externalName: type === 'ExternalName' ? (spec.externalName ?? undefined) : undefined,
    ports,
    ...l4,
  };
}

function toEndpointPorts(ports: readonly { name?: string | null; port: number; protocol?: EndpointPortRec['protocol'] }[]): EndpointPortRec[] {
  return ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' }));
}

function refString(ref: { kind?: string; namespace?: string; name?: string } | null | undefined): string | undefined {
  if (!ref?.name) return undefined;
  return `${ref.kind ?? 'Pod'}/${ref.namespace ?? ''}/${ref.name}`;
}

function normalizeEndpointSlice(obj: Record<string, unknown>, origin: Origin, at: At): Rec {
  const v = check(endpointSliceSchema, obj, at);
  const meta = toMeta(v.metadata, 'default');
  const addresses: EndpointAddressRec[] = (v.endpoints ?? []).map((e) => {
    // Per the EndpointSlice API: ready unset means ready; serving unset means "same as ready"; terminating unset means false.
    const ready = e.conditions?.ready ?? true;
    return {
      address: e.addresses[0]!, // addresses are fungible; consumers may use the first (discovery.k8s.io/v1)
      ready,
      serving: e.conditions?.serving ?? ready,
      terminating: e.conditions?.terminating ?? false,
      hostname: e.hostname ?? undefined,
      nodeName: e.nodeName ?? undefined,
      targetRef: refString(e.targetRef),
    };
  });
  const group: EndpointGroupRec = { ports: toEndpointPorts(v.ports ?? []), addresses };
  return { kind: 'EndpointSlice', meta, origin, serviceName: meta.labels[SERVICE_NAME_LABEL], addressType: v.addressType, group };
}

function normalizeEndpoints(obj: Record<string, unknown>, origin: Origin, at: At): Rec {
  const v = check(endpointsSchema, obj, at);
  const groups = (v.subsets ?? []).map((s): EndpointGroupRec => {
    const toAddr = (a: z.output<typeof endpointAddressSchema>, ready: boolean): EndpointAddressRec => ({
      address: a.ip,
      ready,
      serving: ready,
      terminating: false,
      hostname: a.hostname ?? undefined,
      nodeName: a.nodeName ?? undefined,
      targetRef: refString(a.targetRef),
    });
    return {
      ports: toEndpointPorts(s.ports ?? []),
      addresses: [...(s.addresses ?? []).map((a) => toAddr(a, true)), ...(s.notReadyAddresses ?? []).map((a) => toAddr(a, false))],
    };
  });
  return { kind: 'Endpoints', meta: toMeta(v.metadata, 'default'), origin, groups };
}

function toBackend(b: IngressBackendInput): IngressBackendRec {
  return {
    service: b.service ? { name: intern(b.service.name), portNumber: b.service.port.number ?? undefined, portName: intern(b.service.port.name ?? undefined) } : undefined,
    resource: b.resource ? { kind: b.resource.kind, name: b.resource.name, apiGroup: b.resource.apiGroup ?? undefined } : undefined,
  };
}

function normalizeIngress(obj: Record<string, unknown>, origin: Origin, at: At): Rec {
  const v = check(ingressSchema, obj, at);
  const meta = toMeta(v.metadata, 'default');
  const spec = v.spec ?? {};
  const rules = (spec.rules ?? []).map((r, ri) => ({
    host: r.host ? r.host.toLowerCase() : undefined,
    paths: (r.http?.paths ?? []).map((p, pi) => {
      const path = p.path ?? (p.pathType === 'ImplementationSpecific' ? '/' : undefined);
      // Exact and Prefix paths must be absolute (networking.k8s.io/v1 validation).
      if (path === undefined || !path.startsWith('/')) {
        throw invalid(at(`spec.rules[${ri}].http.paths[${pi}].path`), `Invalid value: ${JSON.stringify(p.path ?? '')}: must be an absolute path (starting with "/")`);
      }
      return { path, pathType: intern(p.pathType), backend: toBackend(p.backend) };
    }),
  }));
  return {
    kind: 'Ingress',
    meta,
    origin,
    ingressClassName: intern(spec.ingressClassName ?? undefined),
    // An empty annotation named no class for the controllers that predate IngressClass (ingress-nginx).
    classAnnotation: intern(meta.annotations[LEGACY_CLASS_ANNOTATION] || undefined),
    defaultBackend: spec.defaultBackend ? toBackend(spec.defaultBackend) : undefined,
    rules,
    tls: spec.tls == null || spec.tls.length === 0 ? NO_TLS : spec.tls.map((t) => ({ hosts: t.hosts ?? [], secretName: t.secretName ?? undefined })),
  };
}
