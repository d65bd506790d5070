/**
 * Evaluates the parsed Go values of a conformance test into plain JSON-like values: strings, numbers,
 * booleans, arrays (slices), objects (structs by field name, maps by key). Identifiers resolve through a
 * scope (the test body's `x := ...` assignments before the use, then the suite's exported constants);
 * type conversions (`v1.Namespace(x)`, `string(x)`, `int32(5)`) and `ptr.To(x)` are their argument.
 * Anything else (a function call, an index, a field of a computed value) throws NotParsed.
 */
import type { GoValue } from './go-literal.ts';

export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

export class NotParsed extends Error {}

export interface Scope {
  /** The value of a plain or qualified identifier, or undefined when unknown. */
  lookup(name: string): Plain | undefined;
}

// Calls that are type conversions or pointer helpers: the value is the single argument.
const PASS_THROUGH_FNS = new Set(['ptr.To', 'string', 'int', 'int32', 'int64', 'float64', 'bool']);

function isConversion(fn: string): boolean {
  if (PASS_THROUGH_FNS.has(fn)) return true;
  // v1.Namespace(x), gatewayv1.ObjectName(x), features.FeatureName(x): a qualified type (capitalised) taking one value.
  const dot = fn.lastIndexOf('.');
  if (dot < 0) return false;
  const pkg = fn.slice(0, dot);
  const name = fn.slice(dot + 1);
  return /^(v1|v1beta1|v1alpha2|v1alpha3|gatewayv1|gatewayv1beta1|gatewayv1alpha2|features|types)$/.test(pkg) && /^[A-Z]/.test(name);
}

/** Evaluates `v` in `scope`; throws NotParsed naming what could not be read. */
export function evaluate(v: GoValue, scope: Scope): Plain {
  switch (v.k) {
    case 'str':
    case 'int':
      return v.v;
    case 'ident': {
      if (v.name === 'true') return true;
      if (v.name === 'false') return false;
      if (v.name === 'nil') return null;
      const found = scope.lookup(v.name);
      if (found === undefined) throw new NotParsed(`unknown identifier ${v.name}`);
      return found;
    }
    case 'concat': {
      const parts = v.parts.map((p) => evaluate(p, scope));
      if (!parts.every((p) => typeof p === 'string')) throw new NotParsed('"+" on values other than strings');
      return parts.join('');
    }
    case 'call':
      if (v.args.length === 1 && isConversion(v.fn)) return evaluate(v.args[0]!, scope);
      // make([]T, n, c) is an empty slice; append(s, x, y...) the slice with the values (spread: their elements).
      if (v.fn === 'make' && v.args[0]?.k === 'ident' && v.args[0].name.startsWith('[]')) return [];
      if (v.fn === 'append' && v.args.length > 0) {
        const base = evaluate(v.args[0]!, scope);
        if (!Array.isArray(base)) throw new NotParsed('append to a value that is not a slice');
        const out = [...base];
        for (const a of v.args.slice(1)) {
          const x = evaluate(a.k === 'spread' ? a.of : a, scope);
          if (a.k === 'spread' && !Array.isArray(x)) throw new NotParsed('a spread value that is not a slice');
          if (a.k === 'spread') out.push(...(x as Plain[]));
          else out.push(x);
        }
        return out;
      }
      throw new NotParsed(`a computed value: ${v.fn}(...)`);
    case 'index':
      throw new NotParsed('an indexed value');
    case 'spread':
      throw new NotParsed('a spread value');
    case 'comp': {
      if (v.type.startsWith('map[')) {
        const out: Record<string, Plain> = {};
        for (const e of v.elems) {
          if (e.key === undefined) throw new NotParsed('a map element without a key');
          const key = evaluate(e.key, scope);
          out[String(key)] = evaluate(e.value, scope);
        }
        return out;
      }
      const keyed = v.elems.length > 0 && v.elems.every((e) => e.key !== undefined);
      if (v.type.startsWith('[]') || (!keyed && v.elems.length > 0)) {
        if (v.elems.some((e) => e.key !== undefined)) throw new NotParsed('an indexed slice literal');
        return v.elems.map((e) => evaluate(e.value, scope));
      }
      const out: Record<string, Plain> = {};
      for (const e of v.elems) {
        if (e.key?.k !== 'ident') throw new NotParsed('a struct field name that is not a name');
        out[e.key.name] = evaluate(e.value, scope);
      }
      return out;
    }
  }
}
