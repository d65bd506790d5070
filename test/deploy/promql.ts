/**
 * Finds the metric names a PromQL expression (or a Grafana variable query such as `label_values(m, label)`)
 * reads, so a test can hold a dashboard against the metrics the program really exports. A small lexer, not
 * a parser: it skips what cannot name a metric (strings, label matchers, `by (...)` label lists, range and
 * subquery brackets, numbers, durations, Grafana variables) and classifies the identifiers that remain.
 * Anything it does not understand throws rather than being skipped, so a query it misreads fails the test
 * instead of passing unchecked.
 */

/** Aggregation operators (case-insensitive in PromQL). */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);

/** PromQL functions (case-sensitive), including `start()`/`end()` of the `@` modifier. */
const FUNCTIONS = new Set([
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil', 'changes', 'clamp',
  'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'deg',
  'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'floor', 'histogram_avg', 'histogram_count', 'histogram_fraction',
  'histogram_quantile', 'histogram_stddev', 'histogram_stdvar', 'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase',
  'info', 'irate', 'label_join', 'label_replace', 'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time',
  'min_over_time', 'minute', 'month', 'pi', 'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets',
  'round', 'scalar', 'sgn', 'sin', 'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time',
  'stdvar_over_time', 'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'vector', 'year', 'start', 'end',
]);

/** Keywords (case-insensitive) that are neither metrics nor functions. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'atan2', 'bool', 'offset', 'inf', 'nan']);

/** Keywords followed by a parenthesised list of label names (optional after group_left/group_right). */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Grafana's Prometheus variable-query functions, which are not PromQL. */
const GRAFANA_FUNCTIONS = new Set(['label_values', 'label_names', 'metrics', 'query_result']);

const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
// A duration (`5m`, `1h30m`, `500ms`) before a plain number, so `5m` is not read as `5` then metric `m`.
const DURATION = /(?:\d+(?:ms|[smhdwy]))+(?![a-zA-Z0-9_:])/y;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?![a-zA-Z0-9_:])/y;
// Grafana variables: $name, ${name}, ${name:format}, [[name]] (the last is caught by the bracket skip).
const VARIABLE = /\$(?:\{[^}]*\}|[a-zA-Z_][a-zA-Z0-9_]*)/y;
const NAME_MATCHER = /__name__\s*(=~|!~|!=|=)\s*(["'`])/y;

function fail(expr: string, at: number, why: string): never {
  throw new Error(`${why} at offset ${at} of ${JSON.stringify(expr)}`);
}

function sticky(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}

/** The index just past the string literal that starts at `at` (", ' with escapes; ` raw). */
function skipString(expr: string, at: number): number {
  const quote = expr[at]!;
  for (let i = at + 1; i < expr.length; i++) {
    if (expr[i] === '\\' && quote !== '`') i++;
    else if (expr[i] === quote) return i + 1;
  }
  return fail(expr, at, 'unterminated string');
}

/** The string literal starting at `at`, unquoted (escapes are kept as written; metric names have none). */
function stringAt(expr: string, at: number): { readonly value: string; readonly end: number } {
  const end = skipString(expr, at);
  return { value: expr.slice(at + 1, end - 1), end };
}

const CLOSE: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

/**
 * The index of the bracket closing the one at `at`, skipping strings, comments and nested brackets of any
 * kind; with `whole`, checks every bracket from `at` to the end and returns the end.
 */
function matching(expr: string, at: number, whole = false): number {
  const stack: number[] = [];
  for (let i = at; i < expr.length; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = skipString(expr, i) - 1;
    else if (c === '#') i = expr.indexOf('\n', i) < 0 ? expr.length : expr.indexOf('\n', i);
    else if (CLOSE[c] !== undefined) stack.push(i);
    else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop();
      if (open === undefined || CLOSE[expr[open]!] !== c) fail(expr, i, `unbalanced ${c}`);
      if (stack.length === 0 && !whole) return i;
    }
  }
  if (stack.length > 0) fail(expr, stack.at(-1)!, `unclosed ${expr[stack.at(-1)!]}`);
  return whole ? expr.length : fail(expr, at, `unclosed ${expr[at]}`);
}

/** Metric names from a `{...}` selector body: only `__name__="x"`; a regex on __name__ cannot be checked. */
function namesInMatchers(expr: string, open: number, close: number, out: Set<string>): void {
  for (let i = open + 1; i < close; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i) - 1;
      continue;
    }
    const m = sticky(NAME_MATCHER, expr, i);
    if (m === null || (i > open + 1 && /[a-zA-Z0-9_]/.test(expr[i - 1]!))) continue;
    if (m[1] !== '=') fail(expr, i, `__name__${m[1]} names no single metric`);
    const s = stringAt(expr, i + m[0].length - 1);
    out.add(s.value);
    i = s.end - 1;
  }
}

/** The top-level, comma-separated arguments of the call whose `(` is at `open`. */
function callArguments(expr: string, open: number, close: number): readonly string[] {
  const args: string[] = [];
  let start = open + 1;
  for (let i = open + 1; i < close; i++) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = skipString(expr, i) - 1;
    else if (c === '(' || c === '[' || c === '{') i = matching(expr, i);
    else if (c === ',') {
      args.push(expr.slice(start, i));
      start = i + 1;
    }
  }
  const last = expr.slice(start, close);
  if (last.trim() !== '' || args.length > 0) args.push(last);
  return args;
}

/**
 * The metric names `expr` reads, in order of first appearance. `expr` is PromQL, possibly with Grafana
 * variables (`$namespace`, `${__rate_interval}`), or a Grafana variable query (`label_values(m, label)`,
 * `label_names(m)`, `query_result(expr)`, `metrics(regex)`). Throws on what it cannot classify: an unknown
 * function, an unbalanced bracket, an unterminated string, a `__name__` regex.
 */
export function metricNames(expr: string): readonly string[] {
  const out = new Set<string>();
  matching(expr, 0, true);
  scan(expr, 0, expr.length, out);
  return [...out];
}

function scan(expr: string, from: number, to: number, out: Set<string>): void {
  let i = from;
  while (i < to) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      const nl = expr.indexOf('\n', i);
      i = nl < 0 || nl > to ? to : nl + 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
    } else if (c === '{') {
      const close = matching(expr, i);
      namesInMatchers(expr, i, close, out);
      i = close + 1;
    } else if (c === '[') {
      // Ranges and subqueries hold durations and Grafana interval variables only.
      i = matching(expr, i) + 1;
    } else if (c === '$') {
      const m = sticky(VARIABLE, expr, i) ?? fail(expr, i, 'bad variable');
      i += m[0].length;
    } else if (/[0-9.]/.test(c)) {
      const m = sticky(DURATION, expr, i) ?? sticky(NUMBER, expr, i) ?? fail(expr, i, 'bad number');
      i += m[0].length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      i = identifier(expr, i, to, out);
    } else if ('()+-*/%^=!<>,@'.includes(c)) {
      i++;
    } else {
      fail(expr, i, `unexpected ${JSON.stringify(c)}`);
    }
  }
}

/** Classifies the identifier at `at`; returns the index after what it consumed. */
function identifier(expr: string, at: number, to: number, out: Set<string>): number {
  const name = sticky(IDENT, expr, at)![0];
  const lower = name.toLowerCase();
  let next = at + name.length;
  while (next < to && /\s/.test(expr[next]!)) next++;
  const paren = expr[next] === '(';
  if (LABEL_LIST_KEYWORDS.has(lower)) return paren ? matching(expr, next) + 1 : at + name.length;
  if (KEYWORDS.has(lower) || (AGGREGATIONS.has(lower) && paren)) return at + name.length;
  if (!paren) {
    // An aggregation's name not followed by `(` must be followed by its by/without clause.
    if (AGGREGATIONS.has(lower) && /^(by|without)\b/i.test(expr.slice(next))) return at + name.length;
    out.add(name);
    return at + name.length;
  }
  if (FUNCTIONS.has(name)) return next;
  if (!GRAFANA_FUNCTIONS.has(name)) return fail(expr, at, `unknown function ${name}()`);
  const close = matching(expr, next);
  const args = callArguments(expr, next, close);
  // label_values(label) | label_values(selector, label); label_names([selector]); query_result(expr); metrics(regex).
  if (name === 'label_values' && (args.length < 1 || args.length > 2)) fail(expr, at, 'label_values takes 1 or 2 arguments');
  const selectors = name === 'label_values' ? args.length - 1 : name === 'metrics' ? 0 : args.length;
  let start = next + 1;
  for (let k = 0; k < selectors; k++) {
    scan(expr, start, start + args[k]!.length, out);
    start += args[k]!.length + 1;
  }
  return close + 1;
}

/** A metric family as `# TYPE` declares it: name → counter | gauge | histogram | summary | untyped. */
export type ExportedTypes = ReadonlyMap<string, string>;

/** The `# TYPE name type` lines of a Prometheus text exposition. */
export function exportedTypes(exposition: string): ExportedTypes {
  return new Map([...exposition.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ([a-z]+)\s*$/gm)].map((m) => [m[1]!, m[2]!] as const));
}

/**
 * Whether a series name belongs to an exported family: the family itself, or a histogram's
 * `_bucket`/`_sum`/`_count`, or a summary's `_sum`/`_count`.
 */
export function isExported(name: string, types: ExportedTypes): boolean {
  if (types.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m === null) return false;
  const type = types.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}

/** The names some expression reads that no family exports, each with the first expression using it. */
export function unknownMetrics(exprs: readonly string[], types: ExportedTypes): ReadonlyMap<string, string> {
  const missing = new Map<string, string>();
  for (const expr of exprs) {
    for (const name of metricNames(expr)) if (!isExported(name, types) && !missing.has(name)) missing.set(name, expr);
  }
  return missing;
}
