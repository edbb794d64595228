import type { EntityManager } from 'typeorm';
import { convertAtRate, findRates, rateKey } from '@app/exchange-rates';
import { divideHalfEven, formatMicros } from '@app/domain';
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
  /**
   * Reconciliation only: report every amount in this currency, each day's sums converted at that
   * day's rate (exchange_rates, direct or reverse pair; half even to the micro). Rewards, in
   * virtual currencies, are not converted.
   */
  currency?: string;
}

/** A reporting currency was asked for and some days lack a rate into it. */
export class ReportRatesMissing extends Error {
  constructor(readonly missing: { day: string; from: string; to: string }[]) {
    super(
      `no exchange rate into ${missing[0]?.to ?? '?'} for ${missing
        .slice(0, 20)
        .map((m) => `${m.day} ${m.from}`)
        .join(
          ', ',
        )}${missing.length > 20 ? ` and ${missing.length - 20} more` : ''}: import them, then ask again`,
    );
    this.name = 'ReportRatesMissing';
  }
}

type Dims = Partial<Record<(typeof REPORT_DIMENSIONS)[ReportDimension], string | null>>;

/** Net money of a row, as micros (strings) and as decimals formatted from them. */
export const RECON_NET = ['revenue', 'payout', 'margin'] as const;

/** User rewards of one virtual currency, in whole units. */
export interface RewardTotals {
  /** By approvals and releases (and signed adjustments, if any). */
  issued: string;
  /** Taken back by reversals. */
  reversed: string;
  /** issued - reversed. */
  net: string;
}

export type ReconReportRow = Dims & {
  currency: string;
} & Record<(typeof RECON_COUNTS)[number], number> &
  Record<(typeof RECON_MONEY)[number] | 'effective_payout_micros', string> &
  Record<`${(typeof RECON_NET)[number]}_micros` | (typeof RECON_NET)[number], string> & {
    /**
     * Net payout / approved conversions (approved + released entries), half even to the micro:
     * what the group's conversions earned the publisher each, reversals and adjustments included
     * (grouped by source: the effective payout per source). Null without approvals.
     */
    payout_per_approved_micros: string | null;
    payout_per_approved: string | null;
    /** (accepted + held) / postbacks; null without postbacks. */
    acceptance_rate: number | null;
    /** Postbacks that waited for a retry / postbacks. */
    soft_reject_rate: number | null;
    /** Rejections by "bucket:code". */
    rejected_by_reason: Record<string, number>;
    /** User rewards by virtual currency (never added across currencies). */
    rewards: Record<string, RewardTotals>;
  };

export interface ReconReport {
  from: string;
  to: string;
  group_by: ReportDimension[];
  timezone: 'UTC';
  /** Set when every amount was converted into one currency: the rates used, per day and currency. */
  reporting_currency?: string;
  rates_used?: { day: string; from: string; to: string; rate: string; inverted: boolean }[];
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
 * dimensions (always split by currency), with rejections by reason, net revenue, payout and
 * margin, payout per approved conversion, user rewards by virtual currency, and totals per
 * currency. Days are UTC; '' (unknown) dimension values come out as null.
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
  // In a reporting currency, each day's sums are converted at that day's rate first.
  const perDay = q.currency ? `, to_char(day, 'YYYY-MM-DD') AS fx_day` : '';
  const perDayGroup = q.currency ? ', day' : '';
  let rows = await em.query<SqlRow[]>(
    `SELECT ${[...sel, 'currency', ...sums].join(', ')}${perDay} FROM recon_daily WHERE ${where}
      GROUP BY ${groupCols.join(', ')}${perDayGroup} ORDER BY ${groupCols.join(', ')}`,
    params,
  );
  let used: ReconReport['rates_used'];
  if (q.currency) ({ rows, used } = await inCurrency(em, rows, q.currency, groupCols));
  const reasons = await em.query<SqlRow[]>(
    `SELECT ${[...sel, 'currency'].join(', ')}, reason_bucket || ':' || reason_code AS reason, sum(count)::int AS n
       FROM recon_daily_reasons WHERE ${where} GROUP BY ${[...groupCols, 'reason_bucket', 'reason_code'].join(', ')}`,
    params,
  );
  const rewards = await em.query<SqlRow[]>(
    `SELECT ${[...sel, 'currency'].join(', ')}, reward_currency, sum(issued)::text AS issued, sum(reversed)::text AS reversed
       FROM recon_daily_rewards WHERE ${where} GROUP BY ${[...groupCols, 'reward_currency'].join(', ')}
      ORDER BY ${[...groupCols, 'reward_currency'].join(', ')}`,
    params,
  );
  const report = buildReconReport(
    q,
    q.currency
      ? {
          rows,
          reasons: reasons.map((r) => ({ ...r, currency: q.currency! })),
          rewards: rewards.map((r) => ({ ...r, currency: q.currency! })),
        }
      : { rows, reasons, rewards },
  );
  return q.currency ? { ...report, reporting_currency: q.currency, rates_used: used } : report;
}

/**
 * Rows summed per group and day, converted into `target` at each day's rate and summed again
 * per group. Refuses (ReportRatesMissing) when any day lacks its rate: a report never mixes
 * converted and unconverted money.
 */
async function inCurrency(
  em: EntityManager,
  rows: SqlRow[],
  target: string,
  groupCols: string[],
): Promise<{ rows: SqlRow[]; used: NonNullable<ReconReport['rates_used']> }> {
  const wanted = new Map<string, { day: string; from: string; to: string }>();
  for (const r of rows) {
    const w = { day: r.fx_day as string, from: r.currency as string, to: target };
    wanted.set(`${w.day}|${w.from}`, w);
  }
  const found = await findRates(em, [...wanted.values()]);
  const key = (w: { day: string; from: string; to: string }) =>
    rateKey({ day: w.day, base: w.from, quote: w.to });
  const missing = [...wanted.values()].filter((w) => !found.has(key(w)));
  if (missing.length) throw new ReportRatesMissing(missing);
  const out = new Map<string, SqlRow>();
  for (const r of rows) {
    const rate = found.get(key({ day: r.fx_day as string, from: r.currency as string, to: target }))!;
    const converted: SqlRow = { ...r, currency: target };
    delete converted.fx_day;
    for (const c of RECON_MONEY) converted[c] = convertAtRate(BigInt(r[c] as string), rate).toString();
    const k = JSON.stringify(groupCols.map((g) => converted[g]));
    const prev = out.get(k);
    if (!prev) out.set(k, converted);
    else {
      for (const c of RECON_COUNTS) prev[c] = (prev[c] as number) + (converted[c] as number);
      for (const c of RECON_MONEY)
        prev[c] = (BigInt(prev[c] as string) + BigInt(converted[c] as string)).toString();
    }
  }
  const used = [...wanted.values()]
    .filter((w) => w.from !== target)
    .map((w) => ({ ...w, rate: found.get(key(w))!.rate, inverted: found.get(key(w))!.inverted }));
  return { rows: [...out.values()], used };
}

type SqlRow = Record<string, string | number | null>;

/**
 * The report from the summed rows (pure; the unit tests feed it): each group gets its reasons and
 * rewards, its net money, payout per approval and rates; totals are per currency.
 */
export function buildReconReport(
  q: ReportQuery,
  sums: { rows: SqlRow[]; reasons: SqlRow[]; rewards: SqlRow[] },
): ReconReport {
  const groupCols = [...q.groupBy.map((g) => REPORT_DIMENSIONS[g]), 'currency'];
  const keyOf = (r: Record<string, unknown>) => JSON.stringify(groupCols.map((c) => r[c]));
  const byKey = new Map<string, Record<string, number>>();
  for (const r of sums.reasons) {
    const m = byKey.get(keyOf(r)) ?? {};
    m[r.reason as string] = r.n as number;
    byKey.set(keyOf(r), m);
  }
  const rewardsByKey = new Map<string, Record<string, RewardTotals>>();
  for (const r of sums.rewards) {
    const m = rewardsByKey.get(keyOf(r)) ?? {};
    m[r.reward_currency as string] = rewardTotals(BigInt(r.issued as string), BigInt(r.reversed as string));
    rewardsByKey.set(keyOf(r), m);
  }
  const out = sums.rows.map((r) =>
    finishRow({
      ...r,
      rejected_by_reason: byKey.get(keyOf(r)) ?? {},
      rewards: rewardsByKey.get(keyOf(r)) ?? {},
    }),
  );
  const totals = new Map<string, ReconReportRow>();
  for (const r of out) totals.set(r.currency, addRows(totals.get(r.currency), r));
  return {
    from: q.from,
    to: q.to,
    group_by: q.groupBy,
    timezone: 'UTC',
    rows: out,
    totals: [...totals.values()].map((t) => finishRow(t)),
  };
}

const rewardTotals = (issued: bigint, reversed: bigint): RewardTotals => ({
  issued: issued.toString(),
  reversed: reversed.toString(),
  net: (issued - reversed).toString(),
});

/**
 * Revenue, payout and margin of a row's money columns, net of reversals and adjustments (amounts
 * never leave bigint). Exported for the unit tests.
 */
export function reconNet(m: Record<(typeof RECON_MONEY)[number], string>): {
  revenue: bigint;
  payout: bigint;
  margin: bigint;
} {
  const b = (k: (typeof RECON_MONEY)[number]) => BigInt(m[k]);
  const revenue = b('approved_micros') + b('released_micros') - b('reversed_micros') + b('adjusted_micros');
  const payout =
    b('approved_payout_micros') +
    b('released_payout_micros') -
    b('reversed_payout_micros') +
    b('adjusted_payout_micros');
  return { revenue, payout, margin: revenue - payout };
}

/** Net payout per approved conversion (approved + released), half even to the micro; null without approvals. */
export function payoutPerApproved(payoutMicros: bigint, approved: number): bigint | null {
  return approved > 0 ? divideHalfEven(payoutMicros, BigInt(approved)) : null;
}

/** Adds the figures computed from a row's sums: net money, its decimals, payout per approval and the rates. */
function finishRow(
  r: Record<string, unknown> & {
    rejected_by_reason: Record<string, number>;
    rewards: Record<string, RewardTotals>;
  },
): ReconReportRow {
  const row = { ...r } as unknown as ReconReportRow;
  const net = reconNet(row);
  // Kept for existing consumers: the net revenue, named before payouts differed from revenue.
  row.effective_payout_micros = net.revenue.toString();
  for (const k of RECON_NET) {
    row[`${k}_micros`] = net[k].toString();
    row[k] = formatMicros(net[k]);
  }
  const perApproved = payoutPerApproved(net.payout, row.approved + row.released);
  row.payout_per_approved_micros = perApproved === null ? null : perApproved.toString();
  row.payout_per_approved = perApproved === null ? null : formatMicros(perApproved);
  row.acceptance_rate = ratio(row.accepted + row.held_postbacks, row.postbacks);
  row.soft_reject_rate = ratio(row.soft_retried, row.postbacks);
  return row;
}

function addRows(a: ReconReportRow | undefined, b: ReconReportRow): ReconReportRow {
  const t = {
    currency: b.currency,
    rejected_by_reason: { ...(a?.rejected_by_reason ?? {}) },
    rewards: { ...(a?.rewards ?? {}) },
  } as ReconReportRow;
  for (const c of RECON_COUNTS) t[c] = (a?.[c] ?? 0) + b[c];
  for (const c of RECON_MONEY) t[c] = (BigInt(a?.[c] ?? '0') + BigInt(b[c])).toString();
  for (const [k, n] of Object.entries(b.rejected_by_reason))
    t.rejected_by_reason[k] = (t.rejected_by_reason[k] ?? 0) + n;
  for (const [k, x] of Object.entries(b.rewards)) {
    const y = t.rewards[k];
    t.rewards[k] = rewardTotals(
      BigInt(y?.issued ?? '0') + BigInt(x.issued),
      BigInt(y?.reversed ?? '0') + BigInt(x.reversed),
    );
  }
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

/**
 * Flat columns for CSV and tables: dimensions, currency, counts, money (micros), net money
 * (micros, then decimals), rates, then one column per rejection reason and three per reward
 * currency present (`rewards:<name>:issued|reversed|net`, whole units).
 */
export function reconColumns(report: ReconReport): string[] {
  const dims = report.group_by.map((g) => REPORT_DIMENSIONS[g]);
  const present = (f: (r: ReconReportRow) => Record<string, unknown>) =>
    [...new Set([...report.rows, ...report.totals].flatMap((r) => Object.keys(f(r))))].sort();
  return [
    ...dims,
    'currency',
    ...RECON_COUNTS,
    ...RECON_MONEY,
    'effective_payout_micros',
    ...RECON_NET.map((k) => `${k}_micros`),
    'payout_per_approved_micros',
    ...RECON_NET,
    'payout_per_approved',
    'acceptance_rate',
    'soft_reject_rate',
    ...present((r) => r.rejected_by_reason).map((r) => `rejected:${r}`),
    ...present((r) => r.rewards).flatMap((c) => REWARD_PARTS.map((p) => `rewards:${c}:${p}`)),
  ];
}

const REWARD_PARTS = ['issued', 'reversed', 'net'] as const;

export function reconCell(row: ReconReportRow, column: string): string {
  if (column.startsWith('rejected:')) return String(row.rejected_by_reason[column.slice(9)] ?? 0);
  if (column.startsWith('rewards:')) {
    const cut = column.lastIndexOf(':');
    const part = column.slice(cut + 1) as (typeof REWARD_PARTS)[number];
    return row.rewards[column.slice(8, cut)]?.[part] ?? '0';
  }
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
  // Reward currency names are the operators' text: the header is quoted like any cell.
  const lines = [cols.map(csvField).join(',')];
  for (const r of report.rows) lines.push(cols.map((c) => csvField(reconCell(r, c))).join(','));
  const nDims = report.group_by.length;
  for (const t of report.totals)
    lines.push(
      cols.map((c, i) => (i < nDims ? (i === 0 ? 'total' : '') : csvField(reconCell(t, c)))).join(','),
    );
  return lines.join('\r\n') + '\r\n';
}
