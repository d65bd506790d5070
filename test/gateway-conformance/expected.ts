/**
 * One row of a conformance test's request table (the suite's http.ExpectedResponse), with the suite's
 * defaults applied as its MakeRequest does: method GET, status 200 when none is given, the deprecated
 * StatusCode folded into StatusCodes. A field this runner does not know makes the row NotParsed: it
 * would be a check we silently skip.
 */
import { NotParsed, type Plain } from './go-eval.ts';

export interface CaseRequest {
  readonly host: string;
  readonly method: string;
  /** Path with its query, as written in the table. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly unfollowRedirect: boolean;
  readonly body: string;
  /** The suite's roundtripper protocol: '' (HTTP/1.1, over TLS for a TLS row) or 'H2' (HTTP/2 over TLS by ALPN). */
  readonly protocol: string;
}

export interface CaseExpectedRequest {
  readonly host: string;
  readonly method: string;
  /** Undefined when the literal has no Path (Go's "", except that a mirror row gets the request's). */
  readonly path: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly absentHeaders: readonly string[];
  readonly httpPort: string;
}

export interface CaseRedirect {
  readonly scheme: string;
  readonly host: string;
  readonly port: string;
  readonly path: string;
}

export interface CaseResponse {
  readonly statusCodes: readonly number[];
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly validHeaderValues: Readonly<Record<string, readonly string[]>> | undefined;
  readonly absentHeaders: readonly string[];
  readonly ignoreWhitespace: boolean;
}

export interface ExpectedCase {
  /** The suite's GetTestCaseName. */
  readonly name: string;
  readonly request: CaseRequest;
  readonly expectedRequest: CaseExpectedRequest | undefined;
  readonly redirect: CaseRedirect | undefined;
  readonly response: CaseResponse;
  readonly backend: string;
  readonly namespace: string;
  readonly mirroredTo: readonly { readonly name: string; readonly namespace: string }[];
  readonly backendSetResponseHeaders: Readonly<Record<string, string>>;
}

type Obj = Record<string, Plain>;

function obj(v: Plain | undefined, what: string, known: readonly string[]): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new NotParsed(`${what} is not a struct`);
  for (const key of Object.keys(v)) if (!known.includes(key)) throw new NotParsed(`${what}.${key} is not a field this runner checks`);
  return v;
}

const str = (v: Plain | undefined, what: string): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new NotParsed(`${what} is not a string`);
  return v;
};
const bool = (v: Plain | undefined): boolean => v === true;
const strMap = (v: Plain | undefined, what: string): Record<string, string> | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new NotParsed(`${what} is not a map`);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, str(x, `${what}[${k}]`)]));
};
const strList = (v: Plain | undefined, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new NotParsed(`${what} is not a list`);
  return v.map((x, i) => str(x, `${what}[${i}]`));
};

const REQUEST_FIELDS = ['Host', 'Method', 'Path', 'Headers', 'UnfollowRedirect', 'Body', 'Protocol'];

function request(v: Plain | undefined, what: string): CaseRequest {
  const r = obj(v, what, REQUEST_FIELDS);
  return {
    host: str(r['Host'], `${what}.Host`),
    method: str(r['Method'], `${what}.Method`) || 'GET',
    path: str(r['Path'], `${what}.Path`),
    headers: strMap(r['Headers'], `${what}.Headers`) ?? {},
    unfollowRedirect: bool(r['UnfollowRedirect']),
    body: str(r['Body'], `${what}.Body`),
    protocol: str(r['Protocol'], `${what}.Protocol`),
  };
}

/** Converts one evaluated ExpectedResponse literal; `index` is its place in the test's table. */
export function toExpectedCase(v: Plain, index: number): ExpectedCase {
  const e = obj(v, 'ExpectedResponse', ['Request', 'ExpectedRequest', 'RedirectRequest', 'Response', 'Backend', 'Namespace', 'MirroredTo', 'TestCaseName', 'BackendSetResponseHeaders']);
  const req = request(e['Request'], 'Request');
  let expectedRequest: CaseExpectedRequest | undefined;
  if (e['ExpectedRequest'] !== undefined && e['ExpectedRequest'] !== null) {
    const er = obj(e['ExpectedRequest'], 'ExpectedRequest', ['Request', 'AbsentHeaders', 'HTTPPort', ...REQUEST_FIELDS]);
    // The embedded Request may be written as a field (Request: http.Request{...}) or promoted.
    const inner = er['Request'] !== undefined ? obj(er['Request'], 'ExpectedRequest.Request', REQUEST_FIELDS) : Object.fromEntries(Object.entries(er).filter(([k]) => REQUEST_FIELDS.includes(k)));
    expectedRequest = {
      host: str(inner['Host'], 'ExpectedRequest.Host'),
      method: str(inner['Method'], 'ExpectedRequest.Method') || 'GET',
      path: inner['Path'] === undefined ? undefined : str(inner['Path'], 'ExpectedRequest.Path'),
      headers: strMap(inner['Headers'], 'ExpectedRequest.Headers'),
      absentHeaders: strList(er['AbsentHeaders'], 'ExpectedRequest.AbsentHeaders'),
      httpPort: str(er['HTTPPort'], 'ExpectedRequest.HTTPPort'),
    };
  }
  let redirect: CaseRedirect | undefined;
  if (e['RedirectRequest'] !== undefined && e['RedirectRequest'] !== null) {
    const rr = obj(e['RedirectRequest'], 'RedirectRequest', ['Scheme', 'Host', 'Port', 'Path']);
    redirect = { scheme: str(rr['Scheme'], 'RedirectRequest.Scheme'), host: str(rr['Host'], 'RedirectRequest.Host'), port: str(rr['Port'], 'RedirectRequest.Port'), path: str(rr['Path'], 'RedirectRequest.Path') };
  }
  const res = obj(e['Response'], 'Response', ['StatusCode', 'StatusCodes', 'Headers', 'ValidHeaderValues', 'AbsentHeaders', 'IgnoreWhitespace']);
  const codes: number[] = Array.isArray(res['StatusCodes']) ? res['StatusCodes'].map(Number) : [];
  if (typeof res['StatusCode'] === 'number' && res['StatusCode'] !== 0 && !codes.includes(res['StatusCode'])) codes.push(res['StatusCode']);
  if (codes.length === 0) codes.push(200);
  let validHeaderValues: Record<string, string[]> | undefined;
  if (res['ValidHeaderValues'] !== undefined && res['ValidHeaderValues'] !== null) {
    const m = obj(res['ValidHeaderValues'], 'Response.ValidHeaderValues', Object.keys(res['ValidHeaderValues'] as Obj));
    validHeaderValues = Object.fromEntries(Object.entries(m).map(([k, x]) => [k, strList(x, `ValidHeaderValues[${k}]`)]));
  }
  const mirrored = e['MirroredTo'];
  const mirroredTo = (Array.isArray(mirrored) ? mirrored : []).map((m, i) => {
    const mb = obj(m, `MirroredTo[${i}]`, ['BackendRef']);
    const ref = obj(mb['BackendRef'], `MirroredTo[${i}].BackendRef`, ['Name', 'Namespace']);
    return { name: str(ref['Name'], 'BackendRef.Name'), namespace: str(ref['Namespace'], 'BackendRef.Namespace') };
  });
  const backend = str(e['Backend'], 'Backend');
  const headerStr = Object.keys(req.headers).length > 0 || (e['Request'] as Obj | undefined)?.['Headers'] !== undefined ? ' with headers' : '';
  const generated = `${index} request to '${req.host}${req.path}'${headerStr}`;
  const name = str(e['TestCaseName'], 'TestCaseName') || (backend !== '' ? `${generated} should go to ${backend}` : `${generated} should receive one of [${codes.join(' ')}]`);
  return {
    name,
    request: req,
    expectedRequest,
    redirect,
    response: {
      statusCodes: codes,
      headers: strMap(res['Headers'], 'Response.Headers'),
      validHeaderValues,
      absentHeaders: strList(res['AbsentHeaders'], 'Response.AbsentHeaders'),
      ignoreWhitespace: bool(res['IgnoreWhitespace']),
    },
    backend,
    namespace: str(e['Namespace'], 'Namespace'),
    mirroredTo,
    backendSetResponseHeaders: strMap(e['BackendSetResponseHeaders'], 'BackendSetResponseHeaders') ?? {},
  };
}
