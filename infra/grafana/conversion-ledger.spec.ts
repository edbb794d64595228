import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExposedSeries, promqlMetricNames, registeredMetrics } from '@app/testing/metric-names';
import { promtool } from '@app/testing/promtool';

const ROOT = join(__dirname, '..', '..');
const FILE = join(__dirname, 'conversion-ledger.json');
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'table', 'text', 'gauge', 'bargauge', 'heatmap']);
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__range', '__interval', '__interval_ms', '__range_s']);

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Target {
  refId: string;
  expr: string;
  datasource: unknown;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: GridPos;
  datasource?: unknown;
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: unknown;
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;
const top = dashboard.panels as Panel[];
const variables = (dashboard.templating as { list: Variable[] }).list;
/** Every panel, those inside collapsed rows included. */
const all: Panel[] = top.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = all.filter((p) => p.type !== 'row' && p.type !== 'text');
const exprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query.query);

/** Metric names a template variable query selects: label_values(metric, label) or query_result(expr). */
function variableMetrics(q: string): string[] {
  const lv =
    /^label_values\(\s*(?:([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*,\s*)?[A-Za-z_][A-Za-z0-9_]*\s*\)$/.exec(
      q.trim(),
    );
  if (lv) return lv[1] ? [lv[1]] : [];
  const qr = /^query_result\((.*)\)$/s.exec(q.trim());
  if (qr) return promqlMetricNames(qr[1]!);
  throw new Error(`unsupported variable query: ${q}`);
}

describe('Grafana dashboard (infra/grafana/conversion-ledger.json)', () => {
  it('is a Grafana 10+ dashboard that imports anywhere: fixed uid, no id, a Prometheus data source variable', () => {
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.id ?? null).toBeNull();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.time).toEqual({ from: expect.any(String), to: expect.any(String) });
    expect(Array.isArray(top) && top.length > 0).toBe(true);
    const ds = variables.filter((v) => v.type === 'datasource');
    expect(ds).toEqual([expect.objectContaining({ name: 'datasource', query: 'prometheus' })]);
    for (const v of variables) {
      expect(v.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      if (v.type === 'query') expect(v.datasource).toEqual(DATASOURCE);
    }
    expect(new Set(variables.map((v) => v.name)).size).toBe(variables.length);
  });

  it('has well-formed panels: unique ids, a 24-column grid without overlaps, queries on the data source variable', () => {
    const ids = all.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of all) {
      expect({ title: p.title, type: PANEL_TYPES.has(p.type) }).toEqual({ title: p.title, type: true });
      expect(p.title).toMatch(/\S/);
      const g = p.gridPos;
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(Number.isInteger(g[k])).toBe(true);
      expect(g.x >= 0 && g.y >= 0 && g.w >= 1 && g.h >= 1 && g.x + g.w <= 24).toBe(true);
      if (p.type === 'row') {
        if (!p.collapsed) expect(p.panels ?? []).toEqual([]);
        expect(g).toMatchObject({ x: 0, w: 24, h: 1 });
      }
    }
    // Panels of an expanded dashboard (top level) must not overlap; a collapsed row's panels are
    // laid out when it opens, below the row.
    const overlaps: string[] = [];
    const cells = new Map<string, string>();
    for (const p of top)
      for (let dx = 0; dx < p.gridPos.w; dx++)
        for (let dy = 0; dy < p.gridPos.h; dy++) {
          const key = `${p.gridPos.x + dx},${p.gridPos.y + dy}`;
          const other = cells.get(key);
          if (other) overlaps.push(`${p.title} / ${other}`);
          cells.set(key, p.title);
        }
    expect([...new Set(overlaps)]).toEqual([]);
    for (const p of queryPanels) {
      expect({ panel: p.title, datasource: p.datasource }).toEqual({
        panel: p.title,
        datasource: DATASOURCE,
      });
      expect(p.targets?.length).toBeGreaterThan(0);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets ?? []) {
        expect({ panel: p.title, datasource: t.datasource }).toEqual({
          panel: p.title,
          datasource: DATASOURCE,
        });
        expect(t.expr).toMatch(/\S/);
      }
    }
  });

  it('uses only template variables it defines', () => {
    const defined = new Set([...variables.map((v) => v.name), ...BUILTIN_VARIABLES]);
    const texts = [
      ...queryPanels.flatMap((p) => (p.targets ?? []).flatMap((t) => [t.expr, t.legendFormat ?? ''])),
      ...variables.map(variableQuery),
      JSON.stringify(all.map((p) => p.datasource ?? null)),
    ];
    const used = texts.flatMap((s) => [...s.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
    expect([...new Set(used)].filter((v) => !defined.has(v))).toEqual([]);
  });

  it('has queries Prometheus can parse (promtool check rules, Grafana variables filled in)', () => {
    // What Grafana sends: $__rate_interval and $__range become durations, a variable its values.
    const fill = (expr: string) =>
      expr
        .replace(/\$__rate_interval|\$__interval\b/g, '1m')
        .replace(/\$__range\b/g, '6h')
        .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, '.*');
    const rules = exprs.map(
      ({ expr }, i) => `      - record: dashboard:query:${i}\n        expr: ${JSON.stringify(fill(expr))}`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'grafana-promql-'));
    try {
      writeFileSync(
        join(dir, 'queries.yml'),
        `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`,
      );
      expect(promtool(dir, 'check', 'rules', 'queries.yml')).toMatch(
        new RegExp(`SUCCESS: ${exprs.length} rules`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('queries only metrics the apps register (read from their metric definitions)', async () => {
    const metrics = await registeredMetrics(ROOT);
    const unknown = [
      ...exprs.flatMap(({ panel, expr }) => promqlMetricNames(expr).map((n) => ({ panel, n }))),
      ...variables
        .filter((v) => v.type === 'query')
        .flatMap((v) => variableMetrics(variableQuery(v)).map((n) => ({ panel: `$${v.name}`, n }))),
    ]
      .filter(({ n }) => !isExposedSeries(n, metrics))
      .map(({ panel, n }) => `${panel}: ${n}`);
    expect(unknown).toEqual([]);
  });

  it('shows every metric the apps define (add a panel for a new one)', async () => {
    const metrics = await registeredMetrics(ROOT);
    const used = new Set(exprs.flatMap(({ expr }) => promqlMetricNames(expr)));
    const shown = (name: string) => ['', '_bucket', '_sum', '_count'].some((s) => used.has(`${name}${s}`));
    const missing = [...metrics]
      .filter(([name, m]) => m.definedIn !== 'prom-client' && !shown(name))
      .map(([name, m]) => `${name} (${m.definedIn})`);
    expect(missing).toEqual([]);
  });

  it('covers what operators look at first', () => {
    const titles = top.filter((p) => p.type === 'row').map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Intake (gateway)',
        'Decisions (processor)',
        'Soft rejects and retries',
        'End-to-end latency',
        'Kafka and consumer lag',
        'Ledger relay and projections',
        'Publisher postbacks (notifier)',
        'HTTP',
        'Postgres pool',
      ]),
    );
  });
});
