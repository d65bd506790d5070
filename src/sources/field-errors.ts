/**
 * A schema issue (zod's, from k8s-schemas.ts) worded as the Kubernetes API server words a field error
 * (k8s.io/apimachinery/pkg/util/validation/field), so that a manifest problem reads as `kubectl apply`
 * would print it: `Required value`, `Invalid value: "a b": …`, `Unsupported value: "Foo": supported
 * values: "ClusterIP", …`, `Too many: 101: must have at most 100 items`. Messages a schema already wrote
 * in those words (the name and port rules) pass through.
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** The error types of field.Error, as its messages start. */
const FIELD_ERROR_TYPES = /^(Required value|Invalid value|Unsupported value|Forbidden|Duplicate value|Too many|Too long|Not found)\b/;

/** A value as field.Error shows it: strings quoted, numbers and booleans bare; longer values cut short. */
export function formatFieldValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** What a YAML author would call each type zod expects. Every number these objects carry is an integer. */
const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'an integer',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  date: 'a string',
};

function typeWord(expected: string): string {
  return TYPE_WORDS[expected] ?? `a ${expected}`;
}

/** The value at `path` under `root` (undefined when it is not there). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** A field error: its path in the object and its message (`Required value`, `Invalid value: …`). */
export interface FieldError {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** The field error of one issue, `root` being the object the schema checked. */
export function toFieldError(issue: Issue, root: unknown): FieldError {
  const value = valueAt(root, issue.path);
  const missing = value === undefined || value === null;
  const invalid = (detail: string): FieldError => ({ path: issue.path, message: `Invalid value: ${formatFieldValue(value)}: ${detail}` });
  // A schema's own message in the API's words (zod's defaults never start so).
  if (FIELD_ERROR_TYPES.test(issue.message)) return { path: issue.path, message: issue.message };
  switch (issue.code) {
    case 'custom':
      return invalid(issue.message);
    case 'invalid_type':
      return missing ? { path: issue.path, message: 'Required value' } : invalid(`must be ${typeWord(issue.expected)}`);
    case 'invalid_value': {
      const supported = `supported values: ${issue.values.map((v) => formatFieldValue(v)).join(', ')}`;
      return { path: issue.path, message: missing ? `Required value: ${supported}` : `Unsupported value: ${formatFieldValue(value)}: ${supported}` };
    }
    case 'too_small':
      // An empty list or string where one is needed: the API says the value is required.
      if ((issue.origin === 'array' || issue.origin === 'string') && Number(issue.minimum) <= 1) return { path: issue.path, message: 'Required value' };
      if (issue.origin === 'array') return invalid(`must have at least ${issue.minimum} items`);
      return invalid(`must be greater than or equal to ${issue.minimum}`);
    case 'too_big':
      if (issue.origin === 'array') return { path: issue.path, message: `Too many: ${Array.isArray(value) ? value.length : '?'}: must have at most ${issue.maximum} items` };
      if (issue.origin === 'string') return { path: issue.path, message: `Too long: may not be more than ${issue.maximum} bytes` };
      return invalid(`must be less than or equal to ${issue.maximum}`);
    case 'invalid_union':
      return unionError(issue, value, root);
    default:
      return invalid(issue.message);
  }
}

/**
 * A value that matched no alternative (an IntOrString targetPort): the alternative of the value's own
 * type explains best (`0` → the port range); when none has its type, the types are listed.
 */
function unionError(issue: Extract<Issue, { code: 'invalid_union' }>, value: unknown, root: unknown): FieldError {
  const typeMismatch = (branch: readonly Issue[]): boolean => branch.some((i) => i.code === 'invalid_type' && i.path.length === 0);
  const branch = issue.errors.find((b) => b.length > 0 && !typeMismatch(b));
  if (branch !== undefined) {
    const inner = branch[0]!;
    return toFieldError({ ...inner, path: [...issue.path, ...inner.path] } as Issue, root);
  }
  if (value === undefined || value === null) return { path: issue.path, message: 'Required value' };
  const expected = issue.errors.flatMap((b) => b.filter((i) => i.code === 'invalid_type').map((i) => typeWord((i as { expected: string }).expected)));
  return { path: issue.path, message: `Invalid value: ${formatFieldValue(value)}: must be ${[...new Set(expected)].join(' or ')}` };
}
