/**
 * Reads the Gateway API conformance suite's Go test files for what a black-box runner needs: each
 * `confsuite.ConformanceTest{...}` (ShortName, Features, Manifests), the calls its Test function makes,
 * the Gateways it takes addresses from (`kubernetes.GatewayAndHTTPRoutesMustBeAccepted(...,
 * kubernetes.NewGatewayRef(gwNN, sections...))`), and its request table: every `http.ExpectedResponse{...}`
 * literal, evaluated with the function's `x := ...` assignments and the suite's constants. A test whose
 * table cannot be read that way carries `notParsed` with the reason.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate, NotParsed, type Plain, type Scope } from './go-eval.ts';
import { GoParser, GoSyntaxError, matchingClose, tokenize, type GoValue, type Token } from './go-literal.ts';
import { toExpectedCase, type ExpectedCase } from './expected.ts';

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
  /** Listener names given to NewGatewayRef; empty: the whole Gateway. */
  readonly sections: readonly string[];
}

export interface SuiteCase extends ExpectedCase {
  /** The Gateway whose address the case is sent to (the nearest address taken before it in the source). */
  readonly gateway: GatewayRef;
}

export interface SuiteTest {
  readonly shortName: string;
  readonly file: string;
  /** Feature names without the `Support` prefix, e.g. `HTTPRouteMethodMatching`. */
  readonly features: readonly string[];
  /** Paths relative to the suite's conformance/ directory. */
  readonly manifests: readonly string[];
  /** Qualified calls of the Test function, e.g. `kubernetes.HTTPRouteMustHaveCondition`. */
  readonly calls: readonly string[];
  readonly cases: readonly SuiteCase[];
  /** Why the request table could not be read; undefined when it was. */
  readonly notParsed: string | undefined;
}

const QUALIFIED_PKGS = new Set(['http', 'kubernetes', 'tls', 'weight', 'grpc', 'roundtripper', 'websocket', 'tcp', 'udp', 'echo']);

/** The suite's exported string constants (conformance/utils/suite/*.go), by name. */
export async function readSuiteConstants(conformanceDir: string): Promise<Map<string, string>> {
  const dir = join(conformanceDir, 'utils', 'suite');
  const out = new Map<string, string>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))) {
    const src = await readFile(join(dir, file), 'utf8');
    for (const m of src.matchAll(/^\s*([A-Z][A-Za-z0-9_]*)\s*(?:string\s*)?=\s*"([^"\\]*)"\s*$/gm)) out.set(m[1]!, m[2]!);
  }
  return out;
}

interface Local {
  readonly name: string;
  readonly pos: number;
  readonly value: GoValue;
}

function scopeAt(locals: readonly Local[], constants: ReadonlyMap<string, string>, pos: number): Scope {
  const scope: Scope = {
    lookup(name) {
      const dot = name.indexOf('.');
      if (dot > 0) {
        const pkg = name.slice(0, dot);
        if (pkg === 'confsuite' || pkg === 'suite') return constants.get(name.slice(dot + 1));
        return undefined;
      }
      let best: Local | undefined;
      for (const l of locals) if (l.name === name && l.pos < pos && (best === undefined || l.pos > best.pos)) best = l;
      if (best === undefined) return undefined;
      return evaluate(best.value, scopeAt(locals, constants, best.pos));
    },
  };
  return scope;
}

/** Index just past the value of the struct field starting at `i` (the next top-level `,` or the closing `}`). */
function skipValue(tokens: readonly Token[], i: number, end: number): number {
  while (i < end) {
    const t = tokens[i]!;
    if (t.t === 'punct' && (t.v === '{' || t.v === '(' || t.v === '[')) i = matchingClose(tokens, i) + 1;
    else if (t.t === 'punct' && t.v === ',') return i;
    else i++;
  }
  return i;
}

interface RawTest {
  readonly varName: string;
  readonly fields: Map<string, GoValue>;
  /** Token range of the Test func body, or the name of the test whose Test it reuses. */
  readonly body: { readonly from: number; readonly to: number } | { readonly reuse: string } | undefined;
}

function findTests(tokens: readonly Token[]): RawTest[] {
  const out: RawTest[] = [];
  for (let i = 0; i + 6 < tokens.length; i++) {
    const [v, name, eq, pkg, dot, type, open] = tokens.slice(i, i + 7);
    if (v!.v !== 'var' || name!.t !== 'ident' || eq!.v !== '=' || (pkg!.v !== 'confsuite' && pkg!.v !== 'suite') || dot!.v !== '.' || type!.v !== 'ConformanceTest' || open!.v !== '{') continue;
    const start = i + 6;
    const end = matchingClose(tokens, start);
    const fields = new Map<string, GoValue>();
    let body: RawTest['body'];
    let j = start + 1;
    while (j < end) {
      const key = tokens[j]!;
      if (key.t !== 'ident' || tokens[j + 1]?.v !== ':') throw new GoSyntaxError(`unexpected ${JSON.stringify(key.v)} in ConformanceTest ${name!.v}`);
      j += 2;
      if (key.v === 'Test' && tokens[j]?.v === 'func') {
        const paramsEnd = matchingClose(tokens, j + 1);
        const bodyEnd = matchingClose(tokens, paramsEnd + 1);
        body = { from: paramsEnd + 2, to: bodyEnd };
        j = bodyEnd + 1;
      } else {
        const parser = new GoParser(tokens, j);
        try {
          const value = parser.parseExpr();
          fields.set(key.v, value);
          if (key.v === 'Test' && value.k === 'ident' && value.name.endsWith('.Test')) body = { reuse: value.name.slice(0, -'.Test'.length) };
          j = parser.at;
        } catch {
          j = skipValue(tokens, j, end);
        }
      }
      if (tokens[j]?.v === ',') j++;
    }
    out.push({ varName: name!.v, fields, body });
    i = end;
  }
  return out;
}

interface BodyFacts {
  readonly calls: string[];
  readonly cases: SuiteCase[];
  readonly notParsed: string | undefined;
}

function readBody(tokens: readonly Token[], from: number, to: number, constants: ReadonlyMap<string, string>): BodyFacts {
  const locals: Local[] = [];
  const calls: string[] = [];
  const gateways: { pos: number; ref: GatewayRef }[] = [];
  const literals: { pos: number; value: GoValue }[] = [];
  let notParsed: string | undefined;

  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.t === 'ident' && (tokens[i + 1]?.v === ':=' || (tokens[i + 1]?.v === '=' && tokens[i - 1]?.v !== '.')) && tokens[i - 1]?.v !== ',') {
      const parser = new GoParser(tokens, i + 2);
      try {
        locals.push({ name: t.v, pos: i, value: parser.parseExpr() });
      } catch {
        // Not a value of the table subset (a func call result, a loop variable…): unknown if used.
      }
    }
    if (t.t === 'ident' && QUALIFIED_PKGS.has(t.v) && tokens[i + 1]?.v === '.' && tokens[i + 2]?.t === 'ident' && tokens[i + 3]?.v === '(') {
      const fn = `${t.v}.${tokens[i + 2]!.v as string}`;
      calls.push(fn);
      if (fn === 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted') {
        const close = matchingClose(tokens, i + 3);
        for (let k = i + 4; k < close; k++) {
          if (tokens[k]!.v !== 'NewGatewayRef' || tokens[k - 2]?.v !== 'kubernetes') continue;
          try {
            const call = new GoParser(tokens, k - 2).parseExpr();
            if (call.k !== 'call') throw new NotParsed('NewGatewayRef is not a call');
            const scope = scopeAt(locals, constants, i);
            const nn = evaluate(call.args[0]!, scope) as Record<string, Plain>;
            const sections = call.args.slice(1).map((a) => String(evaluate(a, scope)));
            gateways.push({ pos: i, ref: { namespace: String(nn['Namespace'] ?? ''), name: String(nn['Name'] ?? ''), sections } });
          } catch (err) {
            notParsed ??= `the Gateway of an address: ${(err as Error).message}`;
          }
        }
      }
    }
    // suite.Client.Delete(...) and the like change or read the cluster in the middle of a test.
    if (t.t === 'ident' && t.v === 'suite' && tokens[i + 1]?.v === '.' && (tokens[i + 2]?.v === 'Client' || tokens[i + 2]?.v === 'Applier') && tokens[i + 3]?.v === '.' && tokens[i + 5]?.v === '(') {
      calls.push(`suite.${tokens[i + 2]!.v as string}.${tokens[i + 4]!.v as string}`);
    }
    if (t.t === 'ident' && t.v === 'http' && tokens[i + 1]?.v === '.' && tokens[i + 2]?.v === 'ExpectedResponse' && tokens[i + 3]?.v === '{') {
      const slice = tokens[i - 1]?.v === ']' && tokens[i - 2]?.v === '[';
      const start = slice ? i - 2 : i;
      try {
        const parser = new GoParser(tokens, start);
        const value = parser.parseExpr();
        // append(testCases, []http.ExpectedResponse{...}...): the rows are the slice's.
        literals.push({ pos: start, value: value.k === 'spread' ? value.of : value });
        i = parser.at - 1;
      } catch (err) {
        notParsed ??= `an ExpectedResponse literal: ${(err as Error).message}`;
      }
    }
  }

  const cases: SuiteCase[] = [];
  for (const lit of literals) {
    try {
      const value = evaluate(lit.value, scopeAt(locals, constants, lit.pos));
      const items = Array.isArray(value) ? value : [value];
      const gw = gateways.filter((g) => g.pos < lit.pos).at(-1) ?? gateways[0];
      if (gw === undefined) throw new NotParsed('no Gateway address is taken (GatewayAndHTTPRoutesMustBeAccepted)');
      for (const item of items) cases.push({ ...toExpectedCase(item, cases.length), gateway: gw.ref });
    } catch (err) {
      if (!(err instanceof NotParsed)) throw err;
      notParsed ??= `an ExpectedResponse: ${err.message}`;
    }
  }
  return { calls, cases, notParsed };
}

const strings = (v: GoValue | undefined, what: string): string[] => {
  if (v === undefined) return [];
  const out = evaluate(v, { lookup: (name) => (name.startsWith('features.') ? name.slice('features.'.length) : undefined) });
  if (!Array.isArray(out) || !out.every((s) => typeof s === 'string')) throw new NotParsed(`${what} is not a list of names`);
  return out as string[];
};

/** Every ConformanceTest of one Go file, with its table read (or the reason it could not be). */
export async function readTestFile(conformanceDir: string, file: string, constants: ReadonlyMap<string, string>): Promise<SuiteTest[]> {
  const tokens = tokenize(await readFile(join(conformanceDir, 'tests', file), 'utf8'));
  const raws = findTests(tokens);
  const facts = new Map<string, BodyFacts>();
  const factsOf = (raw: RawTest, depth = 0): BodyFacts => {
    const cached = facts.get(raw.varName);
    if (cached) return cached;
    let f: BodyFacts;
    if (raw.body === undefined) f = { calls: [], cases: [], notParsed: 'no Test function found' };
    else if ('reuse' in raw.body) {
      const reused = raws.find((r) => r.varName === (raw.body as { reuse: string }).reuse);
      f = reused && depth < 3 ? factsOf(reused, depth + 1) : { calls: [], cases: [], notParsed: `reuses ${raw.body.reuse}.Test from another file` };
    } else {
      try {
        f = readBody(tokens, raw.body.from, raw.body.to, constants);
      } catch (err) {
        f = { calls: [], cases: [], notParsed: (err as Error).message };
      }
    }
    facts.set(raw.varName, f);
    return f;
  };
  return raws.map((raw) => {
    const f = factsOf(raw);
    const name = raw.fields.get('ShortName');
    return {
      shortName: name?.k === 'str' ? name.v : raw.varName,
      file,
      features: strings(raw.fields.get('Features'), 'Features').map((s) => s.replace(/^Support/, '')),
      manifests: strings(raw.fields.get('Manifests'), 'Manifests'),
      calls: [...new Set(f.calls)],
      cases: f.cases,
      notParsed: f.notParsed,
    };
  });
}

/** The HTTPRoute tests (files `httproute-*.go`) of the suite at `conformanceDir`, sorted by file. */
export async function readHttpRouteTests(conformanceDir: string): Promise<SuiteTest[]> {
  const constants = await readSuiteConstants(conformanceDir);
  const files = (await readdir(join(conformanceDir, 'tests'))).filter((f) => /^httproute-.*\.go$/.test(f) && !f.endsWith('_test.go')).sort();
  const out: SuiteTest[] = [];
  for (const file of files) out.push(...(await readTestFile(conformanceDir, file, constants)));
  return out;
}
