/**
 * Manifest errors in the words of the Kubernetes API server (field.Error: `Required value`, `Invalid
 * value: V: detail`, `Unsupported value: V: supported values: …`), at the line of the field's key (or
 * of the mapping that lacks it), so that `switchyard check` prints FILE:LINE.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { formatFieldValue } from '../../../src/sources/field-errors.ts';
import { parseManifest } from '../../../src/sources/normalize.ts';
import { offsetOf, lineAt, parseFieldPath, yamlDocuments } from '../../../src/sources/yaml-lines.ts';

const DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const WILDCARD =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** An Ingress whose first rule is `rule` (lines 6 on), e.g. `  - host: x`. Line 1 is apiVersion. */
const ingress = (...rule: string[]) => ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata: {name: web, namespace: shop}', 'spec:', '  rules:', ...rule, ''].join('\n');
const path = (backend: string, pathType = 'pathType: Prefix') => ['  - host: shop.example', '    http:', '      paths:', '      - path: /cart', `        ${pathType}`, ...(backend === '' ? [] : [`        backend: ${backend}`])];
const service = (...spec: string[]) => ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: web', 'spec:', ...spec, ''].join('\n');
const slice = (...body: string[]) => ['apiVersion: discovery.k8s.io/v1', 'kind: EndpointSlice', 'metadata: {name: web-1}', 'addressType: IPv4', ...body, ''].join('\n');
const WEB = '{service: {name: web, port: {number: 80}}}';

describe('schema errors in the API server’s words, at their line', () => {
  // [case, file text, field path, line, message after `FILE:LINE document 0 field PATH: `]
  it.each<[string, string, string, number, string]>([
    ['a host with a space', ingress('  - host: "a b"'), 'spec.rules[0].host', 6, `Invalid value: "a b": ${DNS1123_SUBDOMAIN}`],
    ['a host with a port', ingress('  - host: shop.example:80'), 'spec.rules[0].host', 6, `Invalid value: "shop.example:80": ${DNS1123_SUBDOMAIN}`],
    ['a host with two dots in a row', ingress('  - host: shop..example'), 'spec.rules[0].host', 6, `Invalid value: "shop..example": ${DNS1123_SUBDOMAIN}`],
    ['a bare "*" host', ingress('  - host: "*"'), 'spec.rules[0].host', 6, `Invalid value: "*": ${WILDCARD}`],
    ['a wildcard not in front', ingress('  - host: a.*.example'), 'spec.rules[0].host', 6, `Invalid value: "a.*.example": ${WILDCARD}`],
    ['a missing backend', ingress(...path('')), 'spec.rules[0].http.paths[0].backend', 9, 'Required value'],
    ['a missing pathType', ingress(...path(WEB, '# no pathType')), 'spec.rules[0].http.paths[0].pathType', 9, 'Required value: supported values: "Exact", "Prefix", "ImplementationSpecific"'],
    ['an unknown pathType', ingress(...path(WEB, 'pathType: Regex')), 'spec.rules[0].http.paths[0].pathType', 10, 'Unsupported value: "Regex": supported values: "Exact", "Prefix", "ImplementationSpecific"'],
    ['a relative path', ingress('  - http:', '      paths:', `      - {path: cart, pathType: Prefix, backend: ${WEB}}`), 'spec.rules[0].http.paths[0].path', 8, 'Invalid value: "cart": must be an absolute path (starting with "/")'],
    ['a backend of neither kind', ingress(...path('{}')), 'spec.rules[0].http.paths[0].backend', 11, 'Required value: resource or service backend is required'],
    ['a backend of both kinds', ingress(...path('{service: {name: web, port: {number: 80}}, resource: {kind: B, name: b}}')), 'spec.rules[0].http.paths[0].backend', 11, 'Invalid value: "": cannot set both resource and service backends'],
    ['a port by name and number', ingress(...path('{service: {name: web, port: {number: 80, name: http}}}')), 'spec.rules[0].http.paths[0].backend.service.port', 11, 'Invalid value: "": cannot set both port name & port number'],
    ['a port by neither', ingress(...path('{service: {name: web, port: {}}}')), 'spec.rules[0].http.paths[0].backend.service.port', 11, 'Required value: port name or number is required'],
    ['a backend port 0', ingress(...path('{service: {name: web, port: {number: 0}}}')), 'spec.rules[0].http.paths[0].backend.service.port.number', 11, 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ['no paths', ingress('  - http:', '      paths: []'), 'spec.rules[0].http.paths', 7, 'Required value'],
    ['a port of 70000', service('  ports:', '  - port: 70000'), 'spec.ports[0].port', 7, 'Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ['a negative port', service('  ports:', '  - port: -1'), 'spec.ports[0].port', 7, 'Invalid value: -1: must be between 1 and 65535, inclusive'],
    ['a port of 80.5', service('  ports:', '  - port: 80.5'), 'spec.ports[0].port', 7, 'Invalid value: 80.5: must be an integer'],
    ['a port quoted', service('  ports:', '  - port: "80"'), 'spec.ports[0].port', 7, 'Invalid value: "80": must be an integer'],
    ['a port missing', service('  ports:', '  - name: http', '    targetPort: 8080'), 'spec.ports[0].port', 7, 'Required value'],
    ['a port null', service('  ports:', '  - port: null'), 'spec.ports[0].port', 7, 'Required value'],
    ['a targetPort 0 (a number: the number rule)', service('  ports:', '  - port: 80', '    targetPort: 0'), 'spec.ports[0].targetPort', 8, 'Invalid value: 0: must be between 1 and 65535, inclusive'],
    ['a targetPort true (neither number nor name)', service('  ports:', '  - port: 80', '    targetPort: true'), 'spec.ports[0].targetPort', 8, 'Invalid value: true: must be an integer or a string'],
    ['an unknown type', service('  type: Foo'), 'spec.type', 6, 'Unsupported value: "Foo": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"'],
    ['a lower-case protocol', service('  ports:', '  - {port: 53, protocol: udp}'), 'spec.ports[0].protocol', 7, 'Unsupported value: "udp": supported values: "TCP", "UDP", "SCTP"'],
    ['ports not a list', service('  ports: {port: 80}'), 'spec.ports', 6, 'Invalid value: {"port":80}: must be a list'],
    ['duplicate port names', service('  ports:', '  - {name: a, port: 80}', '  - name: a', '    port: 81'), 'spec.ports[1].name', 8, 'Duplicate value: "a"'],
    ['an ExternalName without a name', service('  type: ExternalName'), 'spec.externalName', 5, 'Required value: a Service of type ExternalName needs one'],
    ['a label with dots, not a string', ['apiVersion: v1', 'kind: Service', 'metadata:', '  name: web', '  labels:', '    app: web', '    app.kubernetes.io/version: 2', ''].join('\n'), 'metadata.labels.app.kubernetes.io/version', 7, 'Invalid value: 2: must be a string'],
    ['metadata not a mapping', 'apiVersion: v1\nkind: Service\nmetadata: web\n', 'metadata', 3, 'Invalid value: "web": must be a mapping'],
    ['metadata missing', 'apiVersion: v1\nkind: Service\n', 'metadata', 1, 'Required value'],
    // A missing field is placed at the key of the mapping that lacks it (a list item: at its "-").
    ['a name missing', 'apiVersion: v1\nkind: Service\nmetadata:\n  namespace: shop\n', 'metadata.name', 3, 'Required value: name or generateName is required'],
    ['kind missing', 'apiVersion: v1\nmetadata: {name: a}\n', 'kind', 1, 'Required value'],
    ['kind a number', 'apiVersion: v1\nkind: 7\nmetadata: {name: a}\n', 'kind', 2, 'Invalid value: 7: must be a string'],
    ['apiVersion of an old Ingress', 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: a}\n', 'apiVersion', 1, 'Unsupported value: "extensions/v1beta1": supported values: "networking.k8s.io/v1" (the version of Ingress Switchyard reads)'],
    ['apiVersion missing', 'kind: Service\nmetadata: {name: a}\n', 'apiVersion', 1, 'Required value: supported values: "v1" (the version of Service Switchyard reads)'],
    ['a document that is text', '# a comment\n\n"just text"\n', '(document)', 3, 'Invalid value: "just text": must be a Kubernetes object (a mapping with apiVersion and kind)'],
    ['a ready condition "yes"', slice('endpoints:', '- addresses: [10.0.0.1]', '  conditions:', '    ready: "yes"'), 'endpoints[0].conditions.ready', 8, 'Invalid value: "yes": must be a boolean (true or false)'],
    ['no addresses', slice('endpoints:', '- addresses: []'), 'endpoints[0].addresses', 6, 'Required value'],
    ['101 addresses', slice('endpoints:', `- addresses: [${Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`).join(', ')}]`), 'endpoints[0].addresses', 6, 'Too many: 101: must have at most 100 items'],
    ['an unknown addressType', slice('endpoints: []').replace('IPv4', 'IPv5'), 'addressType', 4, 'Unsupported value: "IPv5": supported values: "IPv4", "IPv6", "FQDN"'],
    ['a List without items', 'apiVersion: v1\nkind: List\n', 'items', 1, 'Required value: a List holds its objects in items'],
    ['a long value, cut short', service('  ports:', `  - {port: 80, targetPort: [${'1, '.repeat(40)}1]}`), 'spec.ports[0].targetPort', 7, `Invalid value: ${JSON.stringify(Array(41).fill(1)).slice(0, 57)}...: must be an integer or a string`],
  ])('%s', (_name, text, field, line, message) => {
    const r = parseManifest(text, 'app.yaml', 'files');
    expect(r.records).toEqual([]);
    expect(r.errors.map((e) => [e.code, e.location, e.message])).toEqual([[ErrorCode.MANIFEST_INVALID, { file: 'app.yaml', document: 0, path: field, line }, `app.yaml:${line} document 0 field ${field}: ${message}`]]);
  });

  it.each([
    ['a host in capitals (compared lower-case)', ingress('  - host: Shop.Example.COM', '    http:', `      paths: [{path: /, pathType: Prefix, backend: ${WEB}}]`)],
    ['a wildcard host', ingress('  - host: "*.shop.example"', '    http:', `      paths: [{path: /, pathType: Prefix, backend: ${WEB}}]`)],
    ['an empty host (any host, as the API server reads it)', ingress('  - host: ""', '    http:', `      paths: [{path: /, pathType: Prefix, backend: ${WEB}}]`)],
    ['a host that is an IP address (accepted as before)', ingress('  - host: 10.0.0.1', '    http:', `      paths: [{path: /, pathType: Prefix, backend: ${WEB}}]`)],
    ['ports 1 and 65535', service('  ports:', '  - {name: a, port: 1}', '  - {name: b, port: 65535, targetPort: http}')],
  ])('accepts %s', (_name, text) => {
    expect(parseManifest(text, 'app.yaml', 'files').errors.map((e) => e.message)).toEqual([]);
  });

  it('counts lines across documents, comments and a List, in YAML and JSON', () => {
    const text = ['# header', '---', service('  ports: [{port: 80}]').trimEnd(), '---', '# nothing', '---', 'apiVersion: v1', 'kind: List', 'items:', '- apiVersion: v1', '  kind: Service', '  metadata: {name: ok}', '- apiVersion: v1', '  kind: Service', '  metadata: {name: bad}', '  spec:', '    ports:', '    - port: 0', ''].join('\n');
    const r = parseManifest(text, 'app.yaml', 'files');
    expect(r.errors.map((e) => [e.location?.document, e.location?.path, e.location?.line])).toEqual([[2, 'items[1].spec.ports[0].port', 23]]);
    expect(r.records.map((x) => x.meta.name)).toEqual(['web', 'ok']);

    const json = JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80, protocol: 'HTTP' }] } }, null, 2);
    const j = parseManifest(json, 'web.json', 'files');
    expect(j.errors.map((e) => e.message)).toEqual(['web.json:11 document 0 field spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"']);
    // JSON on one line: line 1.
    expect(parseManifest(JSON.stringify(JSON.parse(json)), 'web.json', 'files').errors[0]!.location?.line).toBe(1);
  });

  it('a field reached through an alias or a merge key is placed at the nearest mapping written out', () => {
    const text = ['apiVersion: v1', 'kind: Service', 'metadata: {name: web}', 'x-ports: &p', '  - port: 0', 'spec:', '  ports: *p', ''].join('\n');
    const r = parseManifest(text, 'app.yaml', 'files');
    expect(r.errors.map((e) => [e.location?.path, e.location?.line])).toEqual([['spec.ports[0].port', 7]]);
  });
});

describe('yaml-lines', () => {
  it.each([
    ['spec.rules[0].host', ['spec', 'rules', 0, 'host']],
    ['items[1].spec.ports[12].port', ['items', 1, 'spec', 'ports', 12, 'port']],
    ['metadata.labels.app.kubernetes.io/name', ['metadata', 'labels', 'app', 'kubernetes', 'io/name']],
    ['', []],
  ])('parseFieldPath(%j)', (path, expected) => {
    expect(parseFieldPath(path)).toEqual(expected);
  });

  it('finds keys, items, dotted keys and falls back to the deepest mapping found', () => {
    const text = 'a:\n  b: 1\n  c.d/e: 2\n  list:\n  - x: 1\n  - {y: 2}\n';
    const root = yamlDocuments(text)![0]!;
    const line = (path: string) => lineAt(text, offsetOf(root, parseFieldPath(path))) + 1;
    expect([line('a'), line('a.b'), line('a.c.d/e'), line('a.list'), line('a.list[0].x'), line('a.list[1].y'), line('a.list[1].z'), line('a.list[7]'), line('nope')]).toEqual([1, 2, 3, 4, 5, 6, 6, 4, 1]);
  });

  it('is undefined for text that does not parse, so the error keeps no line', () => {
    expect(yamlDocuments('a: [1, 2\n')).toBeUndefined();
  });

  it.each([
    ['a string', 'a b', '"a b"'],
    ['a number', 70000, '70000'],
    ['a boolean', false, 'false'],
    ['null', null, 'null'],
    ['a mapping', { port: 80 }, '{"port":80}'],
  ])('formatFieldValue: %s', (_name, value, text) => {
    expect(formatFieldValue(value)).toBe(text);
  });
});
