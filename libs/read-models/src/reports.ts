import type { EntityManager } from 'typeorm';
import { LATENCY_BUCKETS_MS, OVERFLOW, quantileOf } from './latency';
import { RECON_COUNTS, RECON_MONEY } from './projection';

/** Dimensions a report can be grouped by, and the column each reads. */
export const REPORT_DIMENSIONS = {
  day: 'day',
  partner: 'partner_id',
  offer: 'offer_id',
  publisher: 'publisher_id',
  source: 'source',
  placement: 'placement',
  geo: 'geo',
} as const;
export type ReportDimension = keyof typeof REPORT_DIMENSIONS;
export const DEFAULT_GROUP_BY: ReportDimension[] = ['offer', 'publisher', 'source', 'placement', 'geo'];

export interface ReportQuery {
  /** First UTC day, YYYY-MM-DD (inclusive). */
  from: string;
  /** Last UTC day, YYYY-MM-DD (inclusive). */
  to: string;
  groupBy: ReportDimension[];
  partnerId?: string;
  offerId?: string;
  publisherId?: string;
  /** sub1; only tables split by source (recon_daily) can be filtered by it. */
  source?: string;
  placement?: string;
  geo?: string;
}

type Dims = Partial<Record<(typeof REPORT_DIMENSIONS)[ReportDimension], string | null>>;

export type ReconReportRow = Dims & {
  currency: string;
} & Record<(typeof RECON_COUNTS)[number], number> &
  Record<(typeof RECON_MONEY)[number] | 'effective_payout_micros', string> & {
    /** (accepted + held) / postbacks; null without postbacks. */
    acceptance_rate: number | null;
    /** Postbacks that waited for a retry / postbacks. */
    soft_reject_rate: number | null;
    /** Rejections by "bucket:code". */
    rejected_by_reason: Record<string, number>;
  };

export interface ReconReport {
  from: string;
  to: string;
  group_by: ReportDimension[];
  timezone: 'UTC';
  rows: ReconReportRow[];
  /** One total per currency (amounts in different currencies never add up). */
  totals: ReconReportRow[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Checks a report query; returns a message naming the bad parameter, or null. */
export function reportQueryProblem(q: { from?: string; to?: string; groupBy?: string[] }): string | null {
  for (const k of ['from', 'to'] as const) {
    const v = q[k];
    if (v === undefined || !DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`)))
      return `${k} must be a UTC day as YYYY-MM-DD`;
    if (new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) return `${k} is not a calendar day`;
  }
  if (q.from! > q.to!) return 'from must not be after to';
  for (const g of q.groupBy ?? [])
    if (!(g in REPORT_DIMENSIONS))
      return `group_by: unknown dimension '${g}' (use ${Object.keys(REPORT_DIMENSIONS).join(', ')})`;
  return null;
}

const ratio = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 1e6) / 1e6);

function filters(q: ReportQuery): { where: string; params: unknown[] } {
  const params: unknown[] = [q.from, q.to];
  let where = `day BETWEEN $1::date AND $2::date`;
  if (q.partnerId) where += ` AND partner_id = $${params.push(q.partnerId)}`;
  if (q.offerId) where += ` AND offer_id = $${params.push(q.offerId)}`;
  if (q.publisherId) where += ` AND publisher_id = $${params.push(q.publisherId)}`;
  if (q.source) where += ` AND source = $${params.push(q.source)}`;
  if (q.placement) where += ` AND placement = $${params.push(q.placement)}`;
  if (q.geo) where += ` AND geo = $${params.push(q.geo)}`;
  return { where, params };
}

/**
 * The reconciliation report over the read models: counts and money per group of the chosen
 * dimensions (always split by currency), with rejections by reason, and totals per currency.
 * Days are UTC; '' (unknown) dimension values come out as null.
 */
export async function reconciliationReport(em: EntityManager, q: ReportQuery): Promise<ReconReport> {
  const dims = q.groupBy.map((g) => REPORT_DIMENSIONS[g]);
  const sel = dims.map((d) =>
    d === 'day' ? `to_char(day, 'YYYY-MM-DD') AS day` : `NULLIF(${d}, '') AS ${d}`,
  );
  const groupCols = [...dims, 'currency'];
  const { where, params } = filters(q);
  const sums = [
    ...RECON_COUNTS.map((c) => `sum(${c})::int AS ${c}`),
    ...RECON_MONEY.map((c) => `sum(${c})::text AS ${c}`),
  ];
  const rows = await em.query<Record<string, string | number | null>[]>(
    `SELECT ${[...sel, 'currency', ...sums].join(', ')} FROM recon_daily WHERE ${where}
      GROUP BY ${groupCols.join(', ')} ORDER BY ${groupCols.join(', ')}`,
    params,
  );
  const reasons = await em.query<Record<string, string | number | null>[]>(
    `SELECT ${[...sel, 'currency'].join(', ')}, reason_bucket || ':' || reason_code AS reason, sum(count)::int AS n
       FROM recon_daily_reasons WHERE ${where} GROUP BY ${[...groupCols, 'reason_bucket', 'reason_code'].join(', ')}`,
    params,
  );
  const keyOf = (r: Record<string, unknown>) => JSON.stringify(groupCols.map((c) => r[c]));
  const byKey = new Map<string, Record<string, number>>();
  for (const r of reasons) {
    const m = byKey.get(keyOf(r)) ?? {};
    m[r.reason as string] = r.n as number;
    byKey.set(keyOf(r), m);
  }
  const out = rows.map((r) => finishRow(r, byKey.get(keyOf(r)) ?? {}));
  const totals = new Map<string, ReconReportRow>();
  for (const r of out) totals.set(r.currency, addRows(totals.get(r.currency), r));
  return {
    from: q.from,
    to: q.to,
    group_by: q.groupBy,
    timezone: 'UTC',
    rows: out,
    totals: [...totals.values()].map((t) => finishRow(t as never, t.rejected_by_reason)),
  };
}

function finishRow(
  r: Record<string, string | number | null>,
  reasons: Record<string, number>,
): ReconReportRow {
  const row = { ...r, rejected_by_reason: reasons } as unknown as ReconReportRow;
  const m = (k: (typeof RECON_MONEY)[number]) => BigInt(row[k]);
  row.effective_payout_micros = (
    m('approved_micros') +
    m('released_micros') -
    m('reversed_micros') +
    m('adjusted_micros')
  ).toString();
  row.acceptance_rate = ratio(row.accepted + row.held_postbacks, row.postbacks);
  row.soft_reject_rate = ratio(row.soft_retried, row.postbacks);
  return row;
}

function addRows(a: ReconReportRow | undefined, b: ReconReportRow): ReconReportRow {
  const t = {
    currency: b.currency,
    rejected_by_reason: { ...(a?.rejected_by_reason ?? {}) },
  } as ReconReportRow;
  for (const c of RECON_COUNTS) t[c] = (a?.[c] ?? 0) + b[c];
  for (const c of RECON_MONEY) t[c] = (BigInt(a?.[c] ?? '0') + BigInt(b[c])).toString();
  for (const [k, n] of Object.entries(b.rejected_by_reason))
    t.rejected_by_reason[k] = (t.rejected_by_reason[k] ?? 0) + n;
  return t;
}

export type LatencyReportRow = Dims & {
  metric: string;
  count: number;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  /** Histogram: count per bucket upper bound in ms (null = above the last bound). */
  buckets: { le_ms: number | null; count: number }[];
};

/** Latency distributions (click to conversion, postback delay) per group, with estimated percentiles. */
export async function latencyReport(
  em: EntityManager,
  q: ReportQuery,
): Promise<{
  from: string;
  to: string;
  group_by: ReportDimension[];
  timezone: 'UTC';
  rows: LatencyReportRow[];
}> {
  const dims = q.groupBy.filter((g) => g !== 'source').map((g) => REPORT_DIMENSIONS[g]);
  const sel = dims.map((d) =>
    d === 'day' ? `to_char(day, 'YYYY-MM-DD') AS day` : `NULLIF(${d}, '') AS ${d}`,
  );
  const { where, params } = filters(q);
  const rows = await em.query<Record<string, string | number | null>[]>(
    `SELECT ${[...sel, 'metric', 'le_ms::float8 AS le_ms'].join(', ')}, sum(count)::int AS n, sum(sum_ms)::float8 AS s
       FROM latency_daily WHERE ${where}
      GROUP BY ${[...dims, 'metric', 'le_ms'].join(', ')} ORDER BY ${[...dims, 'metric', 'le_ms'].join(', ')}`,
    params,
  );
  const groups = new Map<string, { dims: Dims; metric: string; counts: Map<number, number>; sum: number }>();
  for (const r of rows) {
    const k = JSON.stringify([...dims.map((d) => r[d]), r.metric]);
    const g = groups.get(k) ?? {
      dims: Object.fromEntries(dims.map((d) => [d, r[d] as string | null])),
      metric: r.metric as string,
      counts: new Map<number, number>(),
      sum: 0,
    };
    g.counts.set(r.le_ms as number, r.n as number);
    g.sum += r.s as number;
    groups.set(k, g);
  }
  const out = [...groups.values()].map((g) => {
    const count = [...g.counts.values()].reduce((a, b) => a + b, 0);
    return {
      ...g.dims,
      metric: g.metric,
      count,
      mean_ms: count ? Math.round(g.sum / count) : null,
      p50_ms: quantileOf(g, 0.5),
      p90_ms: quantileOf(g, 0.9),
      p99_ms: quantileOf(g, 0.99),
      buckets: [...LATENCY_BUCKETS_MS, OVERFLOW]
        .filter((le) => g.counts.has(le))
        .map((le) => ({ le_ms: le === OVERFLOW ? null : le, count: g.counts.get(le)! })),
    };
  });
  return { from: q.from, to: q.to, group_by: q.groupBy, timezone: 'UTC', rows: out };
}

/** Flat columns for CSV and tables: dimensions, currency, counts, money, rates, then one column per reason. */
export function reconColumns(report: ReconReport): string[] {
  const dims = report.group_by.map((g) => REPORT_DIMENSIONS[g]);
  const reasons = [...new Set(report.rows.flatMap((r) => Object.keys(r.rejected_by_reason)))].sort();
  return [
    ...dims,
    'currency',
    ...RECON_COUNTS,
    ...RECON_MONEY,
    'effective_payout_micros',
    'acceptance_rate',
    'soft_reject_rate',
    ...reasons.map((r) => `rejected:${r}`),
  ];
}

export function reconCell(row: ReconReportRow, column: string): string {
  if (column.startsWith('rejected:')) return String(row.rejected_by_reason[column.slice(9)] ?? 0);
  const v = (row as unknown as Record<string, string | number | null | undefined>)[column];
  return v === null || v === undefined ? '' : String(v);
}

/** Quotes per RFC 4180; a text cell that a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvField(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180 CSV (CRLF), one row per group, then the totals (dimension columns empty, `total` in the first). */
export function reconCsv(report: ReconReport): string {
  const cols = reconColumns(report);
  const lines = [cols.join(',')];
  for (const r of report.rows) lines.push(cols.map((c) => csvField(reconCell(r, c))).join(','));
  const nDims = report.group_by.length;
  for (const t of report.totals)
    lines.push(
      cols.map((c, i) => (i < nDims ? (i === 0 ? 'total' : '') : csvField(reconCell(t, c)))).join(','),
    );
  return lines.join('\r\n') + '\r\n';
}
