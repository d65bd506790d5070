/**
 * Reads the suite's GRPCRoute tests (`tests/grpcroute-*.go`) as suite-source.ts reads the HTTPRoute ones,
 * with the same Go tokenizer and evaluator: each `ConformanceTest{...}` (ShortName, Features, Manifests),
 * the Gateway its addresses come from (`kubernetes.GatewayAndRoutesMustBeAccepted(...,
 * kubernetes.NewGatewayRef(gwNN, sections...), &v1.GRPCRoute{}, ...)`), every `grpc.ExpectedResponse{...}`
 * literal (alone or in a slice) as a row, and for a distribution check (`weight.TestWeightedDistribution`)
 * its `expectedWeights` map. A row whose value is computed, or with a field this runner does not check,
 * makes the test not parsed, never passed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate, NotParsed, type Plain, type Scope } from './go-eval.ts';
import { GoParser, GoSyntaxError, matchingClose, tokenize, type GoValue, type Token } from './go-literal.ts';
import { ECHO_SERVICE, type EchoMethod } from './grpc-echo.ts';
import { newGatewayRefs, type GatewayRef } from './suite-source.ts';

/** google.golang.org/grpc/codes, by the name the tests use. */
export const GRPC_CODES: Readonly<Record<string, number>> = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5, AlreadyExists: 6, PermissionDenied: 7,
  ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10, OutOfRange: 11, Unimplemented: 12, Internal: 13, Unavailable: 14, DataLoss: 15, Unauthenticated: 16,
};
export const codeName = (code: number): string => Object.entries(GRPC_CODES).find(([, c]) => c === code)?.[0] ?? `Code(${code})`;

/** One grpc.ExpectedResponse, with the suite's defaults (Code OK). */
export interface GrpcCase {
  /** The suite's GetTestCaseName. */
  readonly name: string;
  readonly method: EchoMethod;
  /** RequestMetadata.Authority; undefined: the Gateway address, as grpc-go's default authority. */
  readonly authority: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  readonly code: number;
  /** Response.Headers: not compared by the suite (its compareResponse reads code, method, namespace, pod). */
  readonly headers: Readonly<Record<string, readonly string[]>> | undefined;
  readonly backend: string;
  readonly namespace: string;
  readonly gateway: GatewayRef;
}

export interface GrpcSuiteTest {
  readonly shortName: string;
  readonly file: string;
  /** Without the `Support` prefix. */
  readonly features: readonly string[];
  readonly manifests: readonly string[];
  readonly provisional: boolean;
  /** Qualified calls of the Test function (`grpc.…`, `kubernetes.…`, `weight.…`, `suite.Client.…`). */
  readonly calls: readonly string[];
  readonly cases: readonly GrpcCase[];
  /** weight.TestWeightedDistribution's expected share per backend (pod name prefix), when the test has one. */
  readonly weights: Readonly<Record<string, number>> | undefined;
  readonly notParsed: string | undefined;
}

const PKGS = new Set(['grpc', 'kubernetes', 'weight', 'http', 'tls']);
const ROW_FIELDS = ['EchoRequest', 'EchoTwoRequest', 'EchoThreeRequest', 'RequestMetadata', 'Response', 'Backend', 'Namespace', 'TestCaseName'];

/** `&metadata.MD{"K": {"v"}}` is a map literal whose type the evaluator does not know as one. */
function asMaps(v: GoValue): GoValue {
  switch (v.k) {
    case 'comp':
      return { k: 'comp', type: v.type === 'metadata.MD' || v.type === '*metadata.MD' ? 'map[string][]string' : v.type, elems: v.elems.map((e) => ({ key: e.key === undefined ? undefined : asMaps(e.key), value: asMaps(e.value) })) };
    case 'call':
      return { ...v, args: v.args.map(asMaps) };
    case 'concat':
      return { ...v, parts: v.parts.map(asMaps) };
    default:
      return v;
  }
}

interface Local { readonly name: string; readonly pos: number; readonly value: GoValue }

function scopeAt(locals: readonly Local[], constants: ReadonlyMap<string, string>, pos: number): Scope {
  return {
    lookup(name) {
      if (name.startsWith('codes.')) return GRPC_CODES[name.slice(6)];
      if (name.startsWith('confsuite.') || name.startsWith('suite.')) return constants.get(name.slice(name.indexOf('.') + 1));
      let best: Local | undefined;
      for (const l of locals) if (l.name === name && l.pos < pos && (best === undefined || l.pos > best.pos)) best = l;
      return best === undefined ? undefined : evaluate(asMaps(best.value), scopeAt(locals, constants, best.pos));
    },
  };
}

type Obj = Record<string, Plain>;
const isObj = (v: Plain | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function fields(v: Plain | undefined, what: string, known: readonly string[]): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new NotParsed(`${what} is not a struct`);
  for (const key of Object.keys(v)) if (!known.includes(key)) throw new NotParsed(`${what}.${key} is not a field this runner checks`);
  return v;
}

/** The suite's getMapDeterministicStr. */
const mapStr = (m: Readonly<Record<string, string>>): string => `{${Object.keys(m).sort().map((k) => `${k}:${m[k]}`).join(',')}}`;

/** One evaluated grpc.ExpectedResponse as a case (i: its index in the table, for the name). */
export function toGrpcCase(v: Plain, i: number, gateway: GatewayRef): GrpcCase {
  const row = fields(v, 'ExpectedResponse', ROW_FIELDS);
  const methods = (['Echo', 'EchoTwo', 'EchoThree'] as const).filter((m) => row[`${m}Request`] !== undefined && row[`${m}Request`] !== null);
  if (methods.length !== 1) throw new NotParsed(`expected one request type, found ${methods.length}`);
  for (const m of methods) if (Object.keys(fields(row[`${m}Request`], `${m}Request`, [])).length > 0) throw new NotParsed('a non-empty EchoRequest');
  const rm = fields(row['RequestMetadata'], 'RequestMetadata', ['Authority', 'Metadata']);
  const metadata = fields(rm['Metadata'], 'RequestMetadata.Metadata', Object.keys(isObj(rm['Metadata']) ? rm['Metadata'] : {}));
  const response = fields(row['Response'], 'Response', ['Code', 'Headers']);
  const headers = response['Headers'] === undefined || response['Headers'] === null ? undefined : (response['Headers'] as Record<string, string[]>);
  const out = {
    method: methods[0]!,
    authority: typeof rm['Authority'] === 'string' && rm['Authority'] !== '' ? rm['Authority'] : undefined,
    metadata: Object.fromEntries(Object.entries(metadata).map(([k, x]) => [k, String(x)])),
    code: typeof response['Code'] === 'number' ? response['Code'] : 0,
    headers,
    backend: typeof row['Backend'] === 'string' ? row['Backend'] : '',
    namespace: typeof row['Namespace'] === 'string' ? row['Namespace'] : '',
    gateway,
  };
  let name = typeof row['TestCaseName'] === 'string' && row['TestCaseName'] !== '' ? row['TestCaseName'] : '';
  if (name === '') {
    const withHeaders = Object.keys(out.metadata).length > 0 ? ` with headers '${mapStr(out.metadata)}'` : '';
    const req = `${i} request to '${out.authority ?? ''}/${ECHO_SERVICE}/${out.method}'${withHeaders}`;
    name = out.backend !== '' ? `${req} should go to ${out.backend}` : `${req} should receive a ${codeName(out.code)} (${out.code})`;
  }
  return { name, ...out };
}

/** What one Test function body holds. */
function readBody(tokens: readonly Token[], from: number, to: number, constants: ReadonlyMap<string, string>): Pick<GrpcSuiteTest, 'calls' | 'cases' | 'weights' | 'notParsed'> {
  const locals: Local[] = [];
  const calls: string[] = [];
  const gateways: { pos: number; ref: GatewayRef }[] = [];
  const literals: { pos: number; value: GoValue }[] = [];
  let notParsed: string | undefined;
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    if (t.t === 'ident' && (tokens[i + 1]?.v === ':=' || (tokens[i + 1]?.v === '=' && tokens[i - 1]?.v !== '.')) && tokens[i - 1]?.v !== ',') {
      try {
        locals.push({ name: t.v, pos: i, value: new GoParser(tokens, i + 2).parseExpr() });
      } catch {
        // Not a value of the table subset: unknown if used.
      }
    }
    if (t.t === 'ident' && t.v === 'suite' && tokens[i + 1]?.v === '.' && (tokens[i + 2]?.v === 'Client' || tokens[i + 2]?.v === 'Applier') && tokens[i + 3]?.v === '.' && tokens[i + 5]?.v === '(') {
      calls.push(`suite.${tokens[i + 2]!.v as string}.${tokens[i + 4]!.v as string}`);
    }
    if (t.t !== 'ident' || !PKGS.has(t.v) || tokens[i + 1]?.v !== '.' || tokens[i + 2]?.t !== 'ident') continue;
    const name = `${t.v}.${tokens[i + 2]!.v as string}`;
    if (tokens[i + 3]?.v === '(') calls.push(name);
    if (name === 'kubernetes.GatewayAndRoutesMustBeAccepted' && tokens[i + 3]?.v === '(') {
      for (const ref of newGatewayRefs(tokens, i + 3, scopeAt(locals, constants, i), (why) => (notParsed ??= why))) gateways.push({ pos: i, ref });
    }
    if (name === 'grpc.ExpectedResponse' && tokens[i + 3]?.v === '{') {
      const start = tokens[i - 1]?.v === ']' && tokens[i - 2]?.v === '[' ? i - 2 : i;
      try {
        const parser = new GoParser(tokens, start);
        literals.push({ pos: start, value: parser.parseExpr() });
        i = parser.at - 1;
      } catch (err) {
        notParsed ??= `an ExpectedResponse literal: ${(err as Error).message}`;
      }
    }
  }
  const cases: GrpcCase[] = [];
  for (const lit of literals) {
    try {
      const value = evaluate(asMaps(lit.value), scopeAt(locals, constants, lit.pos));
      const gw = gateways.filter((g) => g.pos < lit.pos).at(-1) ?? gateways[0];
      if (gw === undefined) throw new NotParsed('no Gateway address is taken (GatewayAndRoutesMustBeAccepted)');
      const items = Array.isArray(value) ? value : [value];
      items.forEach((item, idx) => cases.push(toGrpcCase(item, idx, gw.ref)));
    } catch (err) {
      if (!(err instanceof NotParsed)) throw err;
      notParsed ??= `an ExpectedResponse: ${err.message}`;
    }
  }
  let weights: Record<string, number> | undefined;
  if (calls.includes('weight.TestWeightedDistribution')) {
    try {
      const w = scopeAt(locals, constants, to).lookup('expectedWeights');
      if (!isObj(w) || !Object.values(w).every((x) => typeof x === 'number')) throw new NotParsed('expectedWeights is not a map of numbers');
      weights = w as Record<string, number>;
    } catch (err) {
      notParsed ??= `the weighted distribution: ${(err as Error).message}`;
    }
  }
  return { calls: [...new Set(calls)], cases, weights, notParsed };
}

const names = (v: GoValue | undefined): string[] => {
  if (v === undefined) return [];
  const out = evaluate(v, { lookup: (n) => (n.startsWith('features.') ? n.slice('features.'.length) : undefined) });
  if (!Array.isArray(out) || !out.every((s) => typeof s === 'string')) throw new NotParsed('not a list of names');
  return out as string[];
};

/** Every ConformanceTest of one file. */
export async function readGrpcTestFile(conformanceDir: string, file: string, constants: ReadonlyMap<string, string>): Promise<GrpcSuiteTest[]> {
  const tokens = tokenize(await readFile(join(conformanceDir, 'tests', file), 'utf8'));
  const out: GrpcSuiteTest[] = [];
  for (let i = 0; i + 6 < tokens.length; i++) {
    const [v, varName, eq, pkg, dot, type, open] = tokens.slice(i, i + 7);
    if (v!.v !== 'var' || varName!.t !== 'ident' || eq!.v !== '=' || (pkg!.v !== 'confsuite' && pkg!.v !== 'suite') || dot!.v !== '.' || type!.v !== 'ConformanceTest' || open!.v !== '{') continue;
    const end = matchingClose(tokens, i + 6);
    const values = new Map<string, GoValue>();
    let body: Pick<GrpcSuiteTest, 'calls' | 'cases' | 'weights' | 'notParsed'> = { calls: [], cases: [], weights: undefined, notParsed: 'no Test function found' };
    for (let j = i + 7; j < end; ) {
      const key = tokens[j]!;
      if (key.t !== 'ident' || tokens[j + 1]?.v !== ':') throw new GoSyntaxError(`unexpected ${JSON.stringify(key.v)} in ConformanceTest ${varName!.v}`);
      j += 2;
      if (key.v === 'Test' && tokens[j]?.v === 'func') {
        const paramsEnd = matchingClose(tokens, j + 1);
        const bodyEnd = matchingClose(tokens, paramsEnd + 1);
        body = readBody(tokens, paramsEnd + 2, bodyEnd, constants);
        j = bodyEnd + 1;
      } else {
        const parser = new GoParser(tokens, j);
        try {
          values.set(key.v, parser.parseExpr());
          j = parser.at;
        } catch {
          // A field of no interest here (Description with a call…): skip to the next top-level comma.
          while (j < end && tokens[j]!.v !== ',') j = tokens[j]!.t === 'punct' && ['{', '(', '['].includes(tokens[j]!.v as string) ? matchingClose(tokens, j) + 1 : j + 1;
        }
      }
      if (tokens[j]?.v === ',') j++;
    }
    const short = values.get('ShortName');
    const provisional = values.get('Provisional');
    out.push({
      shortName: short?.k === 'str' ? short.v : varName!.v,
      file,
      features: names(values.get('Features')).map((s) => s.replace(/^Support/, '')),
      manifests: names(values.get('Manifests')),
      provisional: provisional?.k === 'ident' && provisional.name === 'true',
      ...body,
    });
    i = end;
  }
  return out;
}

/** The GRPCRoute tests (files `grpcroute-*.go`) of the suite, sorted by file. */
export async function readGrpcRouteTests(conformanceDir: string, constants: ReadonlyMap<string, string>): Promise<GrpcSuiteTest[]> {
  const files = (await readdir(join(conformanceDir, 'tests'))).filter((f) => /^grpcroute-.*\.go$/.test(f) && !f.endsWith('_test.go')).sort();
  const out: GrpcSuiteTest[] = [];
  for (const file of files) out.push(...(await readGrpcTestFile(conformanceDir, file, constants)));
  return out;
}
