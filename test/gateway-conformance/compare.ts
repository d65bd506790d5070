/**
 * The suite's CompareRoundTrip (conformance/utils/http/http.go), rule for rule: status among the expected
 * codes (a 408/504 matches any expected timeout code); for 200/204 the request the pod saw (host, path,
 * method, namespace, headers joined by ",", absent headers, httpPort, pod name prefix = Backend) and the
 * response headers; for a redirect the Location's scheme, host, port and path, with the suite's defaults
 * (unset host: anything; unset scheme and path: the request's; unset port: 80/443 or none). Returns the
 * first difference in the suite's words, or undefined when the round trip matches.
 */
import type { ExpectedCase } from './expected.ts';
import type { RoundTrip } from './round-trip.ts';

const isTimeout = (code: number): boolean => code === 408 || code === 504;
const isRedirect = (code: number): boolean => [300, 301, 302, 303, 304, 305, 307, 308].includes(code);

function lower(h: Record<string, string[]> | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(h ?? {})) out.set(k.toLowerCase(), v);
  return out;
}

export interface CompareContext {
  /** Reads a redirect Location's port back to the suite's port (the runner moved the listener ports). */
  readonly originalPort: (port: string) => string;
}

/** The first mismatch between `rt` and `e`, or undefined. `e.request.path` must already carry any request id. */
export function compareRoundTrip(e: ExpectedCase, rt: RoundTrip, ctx: CompareContext): string | undefined {
  const res = rt.response;
  if (isTimeout(res.statusCode) && e.response.statusCodes.some(isTimeout)) return undefined;
  if (!e.response.statusCodes.includes(res.statusCode)) return `expected status code to be one of [${e.response.statusCodes.join(' ')}], got ${res.statusCode}`;

  if (res.statusCode === 200 || res.statusCode === 204) {
    const er = e.expectedRequest ?? { host: e.request.host, method: e.request.method, path: e.request.path, headers: e.request.headers, absentHeaders: [], httpPort: '' };
    const c = rt.captured ?? { path: '', host: '', method: rt.sent.method, headers: {}, httpPort: '', namespace: '', pod: '' };
    // As in Go: a row's ExpectedRequest replaces Request whole, so an ExpectedRequest without a Path expects "".
    const expectedPath = e.expectedRequest === undefined ? e.request.path : (er.path ?? '');
    if (er.host !== '' && er.host !== c.host) return `expected host to be ${er.host}, got ${c.host}`;
    if (expectedPath !== c.path) return `expected path to be ${expectedPath}, got ${c.path}`;
    if (er.method !== c.method) return `expected method to be ${er.method}, got ${c.method}`;
    if (e.namespace !== c.namespace) return `expected namespace to be ${e.namespace}, got ${c.namespace}`;
    const reqHeaders = lower(c.headers);
    if (er.headers !== undefined) {
      for (const [name, value] of Object.entries(er.headers)) {
        const actual = reqHeaders.get(name.toLowerCase());
        if (actual === undefined) return `expected ${name} header to be set, actual headers: ${JSON.stringify(c.headers)}`;
        if (actual.join(',') !== value) return `expected ${name} header to be set to ${value}, got ${actual.join(',')}`;
      }
    }
    if (er.httpPort !== '' && er.httpPort !== c.httpPort) return `expected httpPort "${er.httpPort}", got "${c.httpPort}"`;
    const resHeaders = lower(res.headers);
    const ws = (s: string): string => (e.response.ignoreWhitespace ? s.replaceAll(' ', '') : s);
    for (const [name, values] of Object.entries(e.response.validHeaderValues ?? {})) {
      const actual = resHeaders.get(name.toLowerCase());
      if (actual === undefined) return `expected ${name} header to be set, actual headers: ${JSON.stringify(res.headers)}`;
      if (!values.map(ws).includes(ws(actual.join(',')))) return `expected ${name} header to be set to one of ${JSON.stringify(values)}, got ${actual.join(',')}`;
    }
    for (const [name, value] of Object.entries(e.response.headers ?? {})) {
      const actual = resHeaders.get(name.toLowerCase());
      if (actual === undefined) return `expected ${name} header to be set, actual headers: ${JSON.stringify(res.headers)}`;
      if (ws(actual.join(',')) !== ws(value)) return `expected ${name} header to be set to ${value}, got ${actual.join(',')}`;
    }
    for (const name of e.response.absentHeaders) {
      const actual = resHeaders.get(name.toLowerCase());
      if (actual !== undefined) return `expected ${name} header to not be set, got ${JSON.stringify(actual)}`;
    }
    for (const name of er.absentHeaders) {
      const actual = reqHeaders.get(name.toLowerCase());
      if (actual !== undefined) return `expected ${name} request header to not be set, got ${JSON.stringify(actual)}`;
    }
    if (!c.pod.startsWith(e.backend)) return `expected pod name to start with ${e.backend}, got ${c.pod}`;
    return undefined;
  }

  if (isRedirect(res.statusCode) && e.redirect !== undefined && res.redirect !== undefined) {
    const got = { ...res.redirect, port: ctx.originalPort(res.redirect.port) };
    const want = {
      host: e.redirect.host !== '' ? e.redirect.host : got.host,
      scheme: e.redirect.scheme !== '' ? e.redirect.scheme : 'http',
      path: e.redirect.path !== '' ? e.redirect.path : rt.sent.target.split('?')[0]!,
      port: e.redirect.port,
    };
    if (want.host !== got.host) return `expected redirected hostname to be "${want.host}", got "${got.host}"`;
    if (want.port === '') {
      if (got.scheme.toLowerCase() === 'http' && got.port !== '80' && got.port !== '') return `for http scheme, expected redirected port to be 80 or not set, got "${got.port}"`;
      if (got.scheme.toLowerCase() === 'https' && got.port !== '443' && got.port !== '') return `for https scheme, expected redirected port to be 443 or not set, got "${got.port}"`;
    } else if (want.port !== got.port) {
      return `expected redirected port to be "${want.port}", got "${got.port}"`;
    }
    if (want.scheme !== got.scheme) return `expected redirected scheme to be "${want.scheme}", got "${got.scheme}"`;
    if (want.path !== got.path) return `expected redirected path to be "${want.path}", got "${got.path}"`;
  }
  return undefined;
}
