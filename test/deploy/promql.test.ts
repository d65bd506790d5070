/** The PromQL metric-name scanner that test/deploy/grafana.test.ts relies on: what it finds, skips and refuses. */
import { describe, expect, it } from 'vitest';
import { exportedTypes, isExported, metricNames, unknownMetrics } from './promql.ts';

const CASES: readonly (readonly [expr: string, names: readonly string[]])[] = [
  ['x_total', ['x_total']],
  ['x_total{code=~"5..", service="by (service)"}', ['x_total']],
  ['sum by (service) (rate(x_total{code=~"5.."}[5m])) / sum by (service) (rate(x_total[5m]))', ['x_total']],
  ['histogram_quantile(0.99, sum by (le) (rate(y_bucket[5m])))', ['y_bucket']],
  ['histogram_quantile(0.5, sum(rate(y_bucket{namespace=~"$namespace"}[$__rate_interval])) by (le, service))', ['y_bucket']],
  ['label_values(z, namespace)', ['z']],
  ['label_values(z{namespace=~"$namespace"}, service)', ['z']],
  ['label_values(namespace)', []],
  ['label_names(z)', ['z']],
  ['query_result(topk(5, sum by (service) (rate(a_total[1h30m]))))', ['a_total']],
  ['metrics(switchyard_.*)', []],
  ['time() - max(last_ts_seconds{instance=~"${instance:regex}"})', ['last_ts_seconds']],
  ['a and on (instance) group_left(version, node_version) b', ['a', 'b']],
  ['a * on(instance) group_left b', ['a', 'b']],
  ['a > bool 0.5 unless ignoring(le) c', ['a', 'c']],
  ['SUM BY (le) (rate(y_bucket[5m] offset -1h)) / 1e3', ['y_bucket']],
  ['min without (pod) (cert_expiry_seconds) / 86400', ['cert_expiry_seconds']],
  ['rate(cpu_seconds_total[5m:30s]) @ end()', ['cpu_seconds_total']],
  ['count_values("version", build_info)', ['build_info']],
  ['label_replace(up, "svc", "$1", "service", "(.*)")', ['up']],
  ['{__name__="by_name_total", job="x"}', ['by_name_total']],
  ['sum(rate(job:requests:rate5m[5m])) # comment naming not_a_metric\n + 0x1F', ['job:requests:rate5m']],
  ['sum by (service) (x_total) or vector(0) and inf > nan', ['x_total']],
];

describe('metricNames', () => {
  it.each(CASES)('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it.each([
    ['rat(x_total[5m])', /unknown function rat\(\)/],
    ['sum(rate(x_total[5m])', /unclosed \(/],
    ['sum(x_total))', /unbalanced \)/],
    ['rate(x_total[5m)]', /unbalanced \)/],
    ['x_total{code="5..}', /unterminated string/],
    ['{__name__=~"x_.*"}', /__name__=~ names no single metric/],
    ['label_values(a, b, c)', /label_values takes 1 or 2 arguments/],
    ['x_total ; y', /unexpected ";"/],
  ])('refuses %s', (expr, message) => {
    expect(() => metricNames(expr)).toThrow(message);
  });
});

describe('unknownMetrics against # TYPE lines', () => {
  const types = exportedTypes(
    [
      '# HELP x_total Requests.',
      '# TYPE x_total counter',
      'x_total{code="200"} 3',
      '# TYPE y histogram',
      '# TYPE s summary',
      '# TYPE z gauge',
    ].join('\n'),
  );

  it('reads the families and their types', () => {
    expect([...types]).toEqual([
      ['x_total', 'counter'],
      ['y', 'histogram'],
      ['s', 'summary'],
      ['z', 'gauge'],
    ]);
  });

  it.each([
    ['y_bucket', true],
    ['y_sum', true],
    ['y_count', true],
    ['y', true],
    ['s_count', true],
    ['s_bucket', false],
    ['z_bucket', false],
    ['x', false],
  ] as const)('isExported(%s) is %s', (name, expected) => {
    expect(isExported(name, types)).toBe(expected);
  });

  it('passes the expressions that use exported names only', () => {
    expect([...unknownMetrics(['sum by (service) (rate(x_total{code=~"5.."}[5m])) / sum by (service) (rate(x_total[5m]))', 'histogram_quantile(0.99, sum by (le) (rate(y_bucket[5m])))', 'label_values(z, namespace)'], types)]).toEqual([]);
  });

  it('names a misspelled metric and the expression that uses it', () => {
    const missing = unknownMetrics(['sum(rate(x_total[5m]))', 'histogram_quantile(0.99, sum by (le) (rate(y_buckets[5m])))', 'label_values(zz, namespace)'], types);
    expect([...missing.keys()]).toEqual(['y_buckets', 'zz']);
    expect(missing.get('zz')).toBe('label_values(zz, namespace)');
  });
});
