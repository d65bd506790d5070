/**
 * The line of a field in a YAML (or JSON) text, for error messages: `spec.rules[0].host` → the line
 * its key is on. js-yaml's values carry no positions, so the text is parsed a second time into
 * js-yaml's event stream (which has them), and only for a document that has an error: loading valid
 * files costs nothing.
 */
import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { ErrorCode, SwyError, formatLocation, type ManifestLocation } from '../errors.ts';

/** One node of the text: where it starts, a scalar's text, a collection's children (a mapping's keys and values alternate). */
export interface YamlNode {
  readonly start: number;
  readonly kind: 'scalar' | 'sequence' | 'mapping' | 'other';
  readonly text?: string;
  readonly children: YamlNode[];
}

/** The content node of every document in `text`, in order, or undefined when the text does not parse. */
export function yamlDocuments(text: string): (YamlNode | undefined)[] | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  const docs: (YamlNode | undefined)[] = [];
  // The open collections; a document is one too, holding its content node.
  const stack: YamlNode[] = [];
  const add = (node: YamlNode): void => {
    stack.at(-1)?.children.push(node);
  };
  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ start: 0, kind: 'other', children: [] });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const node: YamlNode = { start: ev.start, kind: ev.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence', children: [] };
        add(node);
        stack.push(node);
        break;
      }
      case EVENT_ID.SCALAR:
        add({ start: ev.valueStart, kind: 'scalar', text: getScalarValue(text, ev), children: [] });
        break;
      case EVENT_ID.ALIAS:
        add({ start: ev.anchorStart, kind: 'other', children: [] });
        break;
      case EVENT_ID.POP: {
        const done = stack.pop();
        if (stack.length === 0 && done !== undefined) docs.push(done.children[0]);
        break;
      }
    }
  }
  return docs;
}

/** `spec.rules[0].host` → `['spec', 'rules', 0, 'host']`. A key with dots (a label) stays split: offsetOf joins pieces back. */
export function parseFieldPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

/**
 * The offset in the text of `path` in the document `root`: of the key naming its last field that
 * exists (a missing field is placed at the key or list item of the mapping that lacks it), or of the document.
 */
export function offsetOf(root: YamlNode, path: readonly (string | number)[]): number {
  let node = root;
  let at = root.start;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (typeof seg === 'number') {
      const item = node.kind === 'sequence' ? node.children[seg] : undefined;
      if (item === undefined) break;
      node = item;
      at = item.start;
      continue;
    }
    if (node.kind !== 'mapping') break;
    // A key may hold dots (`app.kubernetes.io/name`): try the path's pieces joined, longest first
    // (`app.kubernetes.io/name` before a sibling `app`).
    const candidates = [seg];
    for (let j = i + 1; j < path.length && typeof path[j] === 'string'; j++) candidates.push(`${candidates.at(-1)!}.${String(path[j])}`);
    let found: { key: YamlNode; value: YamlNode; used: number } | undefined;
    for (let used = candidates.length - 1; used >= 0 && found === undefined; used--) {
      for (let k = 0; k + 1 < node.children.length; k += 2) {
        if (node.children[k]!.text === candidates[used]) {
          found = { key: node.children[k]!, value: node.children[k + 1]!, used };
          break;
        }
      }
    }
    if (found === undefined) break;
    at = found.key.start;
    node = found.value;
    i += found.used;
  }
  return at;
}

/** The 0-based line of `offset` in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Adds the line of each object error's field to its location and message (`app.yaml:12 document 0
 * field spec.rules[0].host: …`). `firsts[d]` is the index in `errors` of the first error of the d-th
 * document of `text`, whose first line is line `lineBase` (0-based) of the file.
 */
export function placeLines(errors: SwyError[], firsts: readonly number[], text: string, lineBase: number): void {
  const docs = yamlDocuments(text);
  if (docs === undefined) return;
  firsts.forEach((first, d) => {
    const root = docs[d];
    const end = firsts[d + 1] ?? errors.length;
    for (let e = first; e < end && root !== undefined; e++) {
      const err = errors[e]!;
      const loc = err.location;
      if (err.code !== ErrorCode.MANIFEST_INVALID || loc === undefined || loc.line !== undefined) continue;
      const path = loc.path === undefined || loc.path === '(document)' ? [] : parseFieldPath(loc.path);
      const located: ManifestLocation = { ...loc, line: lineBase + lineAt(text, offsetOf(root, path)) + 1 };
      const prefix = `${formatLocation(loc)}: `;
      const message = err.message.startsWith(prefix) ? `${formatLocation(located)}: ${err.message.slice(prefix.length)}` : err.message;
      errors[e] = new SwyError(err.code, message, { location: located, ...(err.cause === undefined ? {} : { cause: err.cause }) });
    }
  });
}
