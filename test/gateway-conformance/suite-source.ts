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
import { findDeploymentGet, STATUS_CALLS, statusChecks, type SuiteStatus } from './suite-calls.ts';
import { readSuiteConstants, scopeAt, type Local } from './suite-scope.ts';

export interface GatewayRef {
  readonly namespace: string;
  readonly name: string;
  /** Listener names given to NewGatewayRef; empty: the whole Gateway. */
  readonly sections: readonly string[];
}

/**
 * The Gateways named by the `kubernetes.NewGatewayRef(nn, sections...)` arguments of the call whose `(`
 * is token `open`, evaluated in `scope`; one that cannot be read is told to `skip` and left out.
 */
export function newGatewayRefs(tokens: readonly Token[], open: number, scope: Scope, skip: (why: string) => void): GatewayRef[] {
  const refs: GatewayRef[] = [];
  const close = matchingClose(tokens, open);
  for (let k = open + 1; k < close; k++) {
    if (tokens[k]!.v !== 'NewGatewayRef' || tokens[k - 2]?.v !== 'kubernetes') continue;
    try {
      const call = new GoParser(tokens, k - 2).parseExpr();
      if (call.k !== 'call') throw new NotParsed('NewGatewayRef is not a call');
      const nn = evaluate(call.args[0]!, scope) as Record<string, Plain>;
      refs.push({ namespace: String(nn['Namespace'] ?? ''), name: String(nn['Name'] ?? ''), sections: call.args.slice(1).map((a) => String(evaluate(a, scope))) });
    } catch (err) {
      skip(`the Gateway of an address: ${(err as Error).message}`);
    }
  }
  return refs;
}

export interface SuiteCase extends ExpectedCase {
  /** The Gateway whose address the case is sent to (the nearest address taken before it in the source). */
  readonly gateway: GatewayRef;
  /** Sent over TLS (tls.MakeTLSRequestAndExpectEventuallyConsistentResponse) with this SNI; undefined: plain HTTP. */
  readonly tls: { readonly serverName: string } | undefined;
  /** How many of the test's deletions come before this row in the source (they are made before it is sent). */
  readonly afterDeletions: number;
}

/** EndpointSlices the test fills with a Deployment's pods (HTTPRouteServiceTypes' setupEndpointSlices). */
export interface EndpointFill {
  readonly namespace: string;
  /** EndpointSlice names; each gets the pods of its address family (IPv4 here: the pods are on 127.0.0.1). */
  readonly slices: readonly string[];
  /** `namespace/name`. */
  readonly deployment: string;
}

/** An object the test deletes mid-way (suite.Client.Delete). */
export interface Deletion {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export type { SuiteStatus } from './suite-calls.ts';
export { readSuiteConstants } from './suite-scope.ts';

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
  /** Its status assertions, in source order (a call inside a range loop once per element). */
  readonly status: readonly SuiteStatus[];
  /**
   * weight.TestWeightedDistribution(sender, expectedWeights): the row its sender sends (the table row before
   * it) and the share each backend must get; a string when it could not be read.
   */
  readonly distribution: { readonly row: SuiteCase; readonly weights: Readonly<Record<string, number>> } | string | undefined;
  /** Its suite.Client.Delete calls, in source order. */
  readonly deletions: readonly Deletion[];
  /** EndpointSlices it fills with pods before its requests. */
  readonly endpointFills: readonly EndpointFill[];
  /** Why the request table could not be read; undefined when it was. */
  readonly notParsed: string | undefined;
}

const REQUEST_SENDERS = new Set(['http.MakeRequestAndExpectEventuallyConsistentResponse', 'tls.MakeTLSRequestAndExpectEventuallyConsistentResponse']);
const QUALIFIED_PKGS = new Set(['http', 'kubernetes', 'tls', 'weight', 'grpc', 'roundtripper', 'websocket', 'tcp', 'udp', 'echo']);


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
  readonly status: SuiteStatus[];
  readonly distribution?: SuiteTest['distribution'];
  readonly deletions?: readonly Deletion[];
  readonly endpointFills?: readonly EndpointFill[];
  readonly notParsed: string | undefined;
}

function readBody(tokens: readonly Token[], from: number, to: number, constants: ReadonlyMap<string, string>): BodyFacts {
  const locals: Local[] = [];
  const calls: string[] = [];
  // `variable`: what the address was assigned to (`gwAddr80 := kubernetes.GatewayAndHTTPRoutesMustBeAccepted(...)`).
  const gateways: { pos: number; ref: GatewayRef; variable: string | undefined }[] = [];
  const literals: { pos: number; value: GoValue }[] = [];
  // `for i, tc := range cases {...}`: a literal inside is one row per element of `cases`.
  const loops: { variable: string; iterable: string; pos: number; from: number; to: number }[] = [];
  // Where each table is sent: the request call's position and its arguments.
  const sends: { pos: number; end: number; fn: string; args: readonly GoValue[] }[] = [];
  const statusCalls: { pos: number; fn: string; args: readonly GoValue[] | undefined }[] = [];
  let weightCall: { pos: number; weights: GoValue | undefined } | undefined;
  const mutations: (Deletion & { pos: number })[] = [];
  const fillCalls: { pos: number; args: readonly GoValue[] }[] = [];
  let unreadMutation: string | undefined;
  // The first row of each table literal, by the literal's position (for the distribution check's row).
  const firstRowAt: { pos: number; index: number }[] = [];
  let notParsed: string | undefined;

  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.t === 'ident' && t.v === 'for' && tokens[i + 2]?.v === ',' && tokens[i + 3]?.t === 'ident' && tokens[i + 4]?.v === ':=' && tokens[i + 5]?.v === 'range' && tokens[i + 6]?.t === 'ident' && tokens[i + 7]?.v === '{') {
      loops.push({ variable: tokens[i + 3]!.v as string, iterable: tokens[i + 6]!.v as string, pos: i, from: i + 7, to: matchingClose(tokens, i + 7) });
    }
    if (t.t === 'ident' && (t.v === 'http' || t.v === 'tls') && tokens[i + 1]?.v === '.' && REQUEST_SENDERS.has(`${t.v}.${tokens[i + 2]?.v as string}`) && tokens[i + 3]?.v === '(') {
      try {
        const parser = new GoParser(tokens, i);
        const call = parser.parseExpr();
        if (call.k === 'call') sends.push({ pos: i, end: parser.at, fn: call.fn, args: call.args });
      } catch {
        // A send whose arguments are not of the subset: its rows are sent as plain HTTP and SNI-less.
      }
    }
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
      if (fn === 'weight.TestWeightedDistribution') {
        try {
          const call = new GoParser(tokens, i).parseExpr();
          if (call.k === 'call' && call.args[1] !== undefined) weightCall = { pos: i, weights: call.args[1] };
        } catch {
          // Left undefined: reported as not read.
        }
        weightCall ??= { pos: i, weights: undefined };
      }
      if (STATUS_CALLS.has(fn) || fn === 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted' || /^kubernetes\.(HTTPRoute|Gateway)\w*Must/.test(fn)) {
        try {
          const call = new GoParser(tokens, i).parseExpr();
          statusCalls.push(call.k === 'call' ? { pos: i, fn, args: call.args } : { pos: i, fn, args: undefined });
        } catch {
          statusCalls.push({ pos: i, fn, args: undefined });
        }
      }
      if (fn === 'kubernetes.GatewayAndHTTPRoutesMustBeAccepted') {
        const assigned = (tokens[i - 1]?.v === ':=' || tokens[i - 1]?.v === '=') && tokens[i - 2]?.t === 'ident' ? (tokens[i - 2]!.v as string) : undefined;
        for (const ref of newGatewayRefs(tokens, i + 3, scopeAt(locals, constants, i), (why) => (notParsed ??= why))) gateways.push({ pos: i, ref, variable: assigned });
      }
    }
    // suite.Client.Delete(...) and the like change or read the cluster in the middle of a test.
    // HTTPRouteServiceTypes' own helper: fills the named EndpointSlices with a Deployment's pods.
    if (t.t === 'ident' && t.v === 'setupEndpointSlices' && tokens[i + 1]?.v === '(' && tokens[i - 1]?.v !== '.') {
      try {
        const call = new GoParser(tokens, i).parseExpr();
        if (call.k === 'call') fillCalls.push({ pos: i, args: call.args });
      } catch {
        // Left out: the test stays not parsed for its suite.Client calls.
      }
    }
    // (Some tests name the suite parameter `s`.)
    if (t.t === 'ident' && (t.v === 'suite' || t.v === 's') && tokens[i + 1]?.v === '.' && (tokens[i + 2]?.v === 'Client' || tokens[i + 2]?.v === 'Applier') && tokens[i + 3]?.v === '.' && tokens[i + 5]?.v === '(') {
      calls.push(`suite.${tokens[i + 2]!.v as string}.${tokens[i + 4]!.v as string}`);
      // suite.Client.Delete(ctx, &obj) with obj a literal `v1.Kind{ObjectMeta: metav1.ObjectMeta{Name, Namespace}}`.
      if (tokens[i + 2]?.v === 'Client' && tokens[i + 4]?.v === 'Delete') {
        try {
          const call = new GoParser(tokens, i).parseExpr();
          const target = call.k === 'call' ? call.args[1] : undefined;
          const local = target?.k === 'ident' ? locals.filter((l) => l.name === target.name && l.pos < i).at(-1) : undefined;
          if (local?.value.k !== 'comp') throw new NotParsed('the deleted object is not a literal');
          const meta = (evaluate(local.value, scopeAt(locals, constants, local.pos)) as Record<string, Plain>)['ObjectMeta'] as Record<string, Plain> | undefined;
          if (typeof meta?.['Name'] !== 'string') throw new NotParsed('the deleted object has no ObjectMeta.Name');
          mutations.push({ pos: i, kind: local.value.type.replace(/^.*\./, ''), namespace: String(meta['Namespace'] ?? ''), name: meta['Name'] });
        } catch (err) {
          unreadMutation ??= `suite.Client.Delete: ${(err as Error).message}`;
        }
      }
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
      const loop = loops.filter((l) => l.from < lit.pos && lit.pos < l.to).at(-1);
      // The send the table is an argument of, else the next one (`tc := testCases[i]` in a loop after it).
      const send = sends.find((c) => c.pos < lit.pos && lit.pos < c.end) ?? sends.find((c) => c.pos > lit.pos && (loop === undefined || c.pos < loop.to));
      let elements: Plain[] | undefined;
      if (loop !== undefined) {
        elements = evaluate({ k: 'ident', name: loop.iterable }, scopeAt(locals, constants, loop.pos)) as Plain[];
        if (!Array.isArray(elements)) throw new NotParsed(`range over ${loop.iterable}, not a slice literal`);
      }
      for (const element of elements ?? [undefined]) {
        const scope = scopeAt(locals, constants, lit.pos, loop !== undefined ? new Map([[loop.variable, element ?? null]]) : undefined);
        const value = evaluate(lit.value, scope);
        const items = Array.isArray(value) ? value : [value];
        // The address the send uses (its 4th argument), else the nearest taken before the table.
        const addr = send?.args[3];
        const byAddr = addr?.k === 'ident' ? gateways.filter((g) => g.variable === addr.name && g.pos < send!.pos).at(-1) : undefined;
        const gw = byAddr ?? gateways.filter((g) => g.pos < lit.pos).at(-1) ?? gateways[0];
        if (gw === undefined) throw new NotParsed('no Gateway address is taken (GatewayAndHTTPRoutesMustBeAccepted)');
        // tls.MakeTLSRequestAndExpectEventuallyConsistentResponse(t, rt, timeouts, gwAddr, cert, clientCert, clientKey, serverName, expected)
        let tls: SuiteCase['tls'];
        if (send?.fn.startsWith('tls.')) {
          if (send.args[5]?.k !== 'ident' || send.args[5].name !== 'nil') throw new NotParsed('a TLS request with a client certificate');
          tls = { serverName: String(evaluate(send.args[7]!, scope)) };
        }
        firstRowAt.push({ pos: lit.pos, index: cases.length });
        const after = mutations.filter((m) => m.pos < lit.pos).length;
        for (const item of items) cases.push({ ...toExpectedCase(item, cases.length), gateway: gw.ref, tls, afterDeletions: after });
      }
    } catch (err) {
      if (!(err instanceof NotParsed)) throw err;
      notParsed ??= `an ExpectedResponse: ${err.message}`;
    }
  }
  const status: SuiteStatus[] = [];
  for (const sc of statusCalls) {
    try {
      if (sc.args === undefined) throw new NotParsed('its arguments are not of the table subset');
      const loop = loops.filter((l) => l.from < sc.pos && sc.pos < l.to).at(-1);
      const elements = loop === undefined ? [undefined] : (evaluate({ k: 'ident', name: loop.iterable }, scopeAt(locals, constants, loop.pos)) as Plain[]);
      if (!Array.isArray(elements)) throw new NotParsed(`range over ${loop!.iterable}, not a slice literal`);
      for (const element of elements) {
        const scope = scopeAt(locals, constants, sc.pos, loop !== undefined ? new Map([[loop.variable, element ?? null]]) : undefined);
        status.push(...statusChecks(sc.fn, sc.args, scope));
      }
    } catch (err) {
      if (!(err instanceof NotParsed)) throw err;
      status.push({ kind: 'unread', call: sc.fn, why: err.message });
    }
  }
  let distribution: SuiteTest['distribution'];
  if (weightCall !== undefined) {
    try {
      if (weightCall.weights === undefined) throw new NotParsed('its arguments are not of the table subset');
      const weights = evaluate(weightCall.weights, scopeAt(locals, constants, weightCall.pos));
      if (weights === null || typeof weights !== 'object' || Array.isArray(weights) || !Object.values(weights).every((w) => typeof w === 'number')) throw new NotParsed('expectedWeights is not a map of numbers');
      const at = firstRowAt.filter((r) => r.pos < weightCall!.pos).at(-1);
      if (at === undefined) throw new NotParsed('no ExpectedResponse before it');
      distribution = { row: cases[at.index]!, weights: weights as Record<string, number> };
    } catch (err) {
      if (!(err instanceof NotParsed)) throw err;
      distribution = `weight.TestWeightedDistribution: ${err.message}`;
    }
  }
  const endpointFills: EndpointFill[] = [];
  for (const fc of fillCalls) {
    try {
      const scope = scopeAt(locals, constants, fc.pos);
      const prefixes = evaluate(fc.args[2]!, scope);
      const namespace = evaluate(fc.args[3]!, scope);
      if (!Array.isArray(prefixes) || typeof namespace !== 'string') throw new NotParsed('setupEndpointSlices arguments');
      // The Deployment whose pods it lists: the `suite.Client.Get(ctx, client.ObjectKey{...}, deployment)` before it.
      const get = findDeploymentGet(tokens, from, fc.pos, locals, constants);
      if (get === undefined) throw new NotParsed('no Deployment read before setupEndpointSlices');
      endpointFills.push({ namespace, slices: prefixes.flatMap((p) => [`${String(p)}-ip4`, `${String(p)}-ip6`]), deployment: get });
    } catch (err) {
      unreadMutation ??= `setupEndpointSlices: ${(err as Error).message}`;
    }
  }
  return { calls, cases, status, distribution, endpointFills, deletions: mutations.map(({ kind, namespace, name }) => ({ kind, namespace, name })), notParsed: notParsed ?? unreadMutation };
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
    if (raw.body === undefined) f = { calls: [], cases: [], status: [], notParsed: 'no Test function found' };
    else if ('reuse' in raw.body) {
      const reused = raws.find((r) => r.varName === (raw.body as { reuse: string }).reuse);
      f = reused && depth < 3 ? factsOf(reused, depth + 1) : { calls: [], cases: [], status: [], notParsed: `reuses ${raw.body.reuse}.Test from another file` };
    } else {
      try {
        f = readBody(tokens, raw.body.from, raw.body.to, constants);
      } catch (err) {
        f = { calls: [], cases: [], status: [], notParsed: (err as Error).message };
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
      status: f.status,
      distribution: f.distribution,
      deletions: f.deletions ?? [],
      endpointFills: f.endpointFills ?? [],
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
