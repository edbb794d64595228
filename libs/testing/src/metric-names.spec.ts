import { join } from 'node:path';
import { isExposedSeries, promqlMetricNames, registeredMetrics, type RegisteredMetric } from './metric-names';

describe('promqlMetricNames', () => {
  it.each([
    [
      'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{app=~"$app", route="/v1/x"}[$__rate_interval])))',
      ['http_request_duration_seconds_bucket'],
    ],
    [
      'sum by (partner_id) (rate(a_total{partner_id!~"_unknown|_other"}[5m]) or rate(b_total[5m]))',
      ['a_total', 'b_total'],
    ],
    ['rec:ratio:1d < on (partner_id) group_left (x) (rec:ratio:7d - 0.20)', ['rec:ratio:1d', 'rec:ratio:7d']],
    ['sum(increase(c_total[7d] offset 1d)) / 1e3 > bool 2', ['c_total']],
    ['deriv(max(depth)[10m:1m]) > 0 and max(age) > 60 unless on() vector(1)', ['depth', 'age']],
    ['topk(10, sum(x) without (instance)) # the worst ten', ['x']],
    ['sum(y{label="sum by (z) (not_a_metric)"})', ['y']],
    ['count_values("version", nodejs_version_info)', ['nodejs_version_info']],
  ])('%s', (expr, names) => {
    expect(promqlMetricNames(expr).sort()).toEqual([...names].sort());
  });

  it('refuses __name__ selectors, which hide what they select', () => {
    expect(() => promqlMetricNames('{__name__=~"x_.*"}')).toThrow(/__name__/);
  });
});

describe('registeredMetrics', () => {
  it('finds the metrics defined in code, names built in base classes, and the process defaults', async () => {
    const m = await registeredMetrics(join(__dirname, '..', '..', '..'));
    expect(m.get('kafka_consumer_lag')).toMatchObject({
      type: 'gauge',
      definedIn: expect.stringMatching(/^libs\//),
    });
    expect(m.get('http_request_duration_seconds')?.type).toBe('histogram');
    expect(m.get('postback_decisions_total')?.type).toBe('counter');
    // `${what.name}_refresh_errors_total` in PeriodicGauges, named by each subclass.
    expect(m.get('ledger_gauges_refresh_errors_total')?.type).toBe('counter');
    expect(m.get('process_cpu_seconds_total')?.definedIn).toBe('prom-client');
  });

  it('knows which series a histogram or summary exposes', () => {
    const m = new Map<string, RegisteredMetric>([
      ['h_seconds', { type: 'histogram', definedIn: 'x' }],
      ['s_seconds', { type: 'summary', definedIn: 'x' }],
      ['c_total', { type: 'counter', definedIn: 'x' }],
    ]);
    expect(
      ['h_seconds_bucket', 'h_seconds_sum', 'h_seconds_count', 's_seconds_count', 'c_total'].every((s) =>
        isExposedSeries(s, m),
      ),
    ).toBe(true);
    expect(['s_seconds_bucket', 'c_total_count', 'nope'].some((s) => isExposedSeries(s, m))).toBe(false);
  });
});
