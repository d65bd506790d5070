/**
 * The scope a suite test's values are evaluated in: the suite's exported constants, the Test function's
 * `x := ...` assignments before the use, and a range loop's variable bound to the current element.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate, type Plain, type Scope } from './go-eval.ts';
import type { GoValue } from './go-literal.ts';

/**
 * The suite's exported string constants by name: conformance/utils/suite/*.go as `Name`, and
 * conformance/utils/roundtripper/*.go as `roundtripper.Name` (the request protocols).
 */
export async function readSuiteConstants(conformanceDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [pkg, prefix] of [['suite', ''], ['roundtripper', 'roundtripper.']] as const) {
    const dir = join(conformanceDir, 'utils', pkg);
    for (const file of (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) {
      const src = await readFile(join(dir, file), 'utf8');
      for (const m of src.matchAll(/^\s*([A-Z][A-Za-z0-9_]*)\s*(?:string\s*)?=\s*"([^"\\]*)"\s*$/gm)) out.set(`${prefix}${m[1]!}`, m[2]!);
    }
  }
  return out;
}

/** One `name := value` (or `name = value`) of a Test function, at token `pos`. */
export interface Local {
  readonly name: string;
  readonly pos: number;
  readonly value: GoValue;
}

/** `bindings`: a range loop's variable → the current element (`tc.host` reads its field; a field left out is Go's zero value, null here). */
export function scopeAt(locals: readonly Local[], constants: ReadonlyMap<string, string>, pos: number, bindings: ReadonlyMap<string, Plain> = new Map()): Scope {
  const scope: Scope = {
    lookup(name) {
      const dot = name.indexOf('.');
      if (dot > 0) {
        const pkg = name.slice(0, dot);
        if (pkg === 'confsuite' || pkg === 'suite') return constants.get(name.slice(dot + 1));
        if (pkg === 'roundtripper') return constants.get(name);
        // The API's condition names: v1.RouteConditionAccepted is "Accepted", metav1.ConditionFalse "False".
        const api = /^(?:Route|Gateway|Listener)(?:Condition|Reason)([A-Z]\w*)$|^Condition(True|False|Unknown)$/.exec(name.slice(dot + 1));
        if (api !== null && /^(v1|v1beta1|gatewayv1|metav1)$/.test(pkg)) return api[1] ?? api[2]!;
        const bound = bindings.get(pkg);
        if (bound !== undefined && bound !== null && typeof bound === 'object' && !Array.isArray(bound)) return bound[name.slice(dot + 1)] ?? null;
        return undefined;
      }
      if (bindings.has(name)) return bindings.get(name);
      let best: Local | undefined;
      for (const l of locals) if (l.name === name && l.pos < pos && (best === undefined || l.pos > best.pos)) best = l;
      if (best === undefined) return undefined;
      return evaluate(best.value, scopeAt(locals, constants, best.pos));
    },
  };
  return scope;
}
