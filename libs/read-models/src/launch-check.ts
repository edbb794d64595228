import type { EntityManager } from 'typeorm';
import { quantileOf } from './latency';

export interface LaunchCriteria {
  min_postbacks: number;
  min_acceptance_rate: number;
  max_duplicate_rate: number;
  max_soft_reject_rate: number;
  max_latency_p99_seconds: number;
  max_late_rate: number;
}
export const CRITERIA_FIELDS = [
  'min_postbacks',
  'min_acceptance_rate',
  'max_duplicate_rate',
  'max_soft_reject_rate',
  'max_latency_p99_seconds',
  'max_late_rate',
] as const satisfies readonly (keyof LaunchCriteria)[];

export interface LaunchVolume {
  postbacks: number;
  accepted: number;
  held_postbacks: number;
  duplicates: number;
  soft_retried: number;
  late: number;
  /** New conversions decided valid: pending + approved + held entries. */
  conversions: number;
  /** click_to_conversion histogram (bucket upper bound ms -> count). */
  latency: Map<number, number>;
}

export interface CriterionResult {
  criterion: keyof LaunchCriteria;
  threshold: number;
  /** null when there is nothing to measure (no postbacks, no conversions). */
  measured: number | null;
  pass: boolean;
  detail: string;
}

const rate = (n: number, d: number) => (d === 0 ? null : Math.round((n / d) * 1e6) / 1e6);
const pct = (r: number | null) => (r === null ? 'n/a' : `${(r * 100).toFixed(2)}%`);

/** Pure: each criterion against what the read models measured. An unmeasurable rate fails (nothing proves it). */
export function evaluateLaunch(c: LaunchCriteria, v: LaunchVolume): CriterionResult[] {
  const acceptance = rate(v.accepted + v.held_postbacks, v.postbacks);
  const dup = rate(v.duplicates, v.postbacks);
  const soft = rate(v.soft_retried, v.postbacks);
  const late = rate(v.late, v.conversions);
  const p99 = quantileOf({ counts: v.latency }, 0.99);
  const p99s = p99 === null ? null : Math.round(p99 / 1000);
  const atMost = (m: number | null, t: number) => m !== null && m <= t;
  return [
    {
      criterion: 'min_postbacks',
      threshold: c.min_postbacks,
      measured: v.postbacks,
      pass: v.postbacks >= c.min_postbacks,
      detail: `${v.postbacks} postbacks decided (at least ${c.min_postbacks} to judge)`,
    },
    {
      criterion: 'min_acceptance_rate',
      threshold: c.min_acceptance_rate,
      measured: acceptance,
      pass: acceptance !== null && acceptance >= c.min_acceptance_rate,
      detail: `${pct(acceptance)} accepted or held (at least ${pct(c.min_acceptance_rate)})`,
    },
    {
      criterion: 'max_duplicate_rate',
      threshold: c.max_duplicate_rate,
      measured: dup,
      pass: atMost(dup, c.max_duplicate_rate),
      detail: `${pct(dup)} duplicates (at most ${pct(c.max_duplicate_rate)})`,
    },
    {
      criterion: 'max_soft_reject_rate',
      threshold: c.max_soft_reject_rate,
      measured: soft,
      pass: atMost(soft, c.max_soft_reject_rate),
      detail: `${pct(soft)} waited for a retry (at most ${pct(c.max_soft_reject_rate)})`,
    },
    {
      criterion: 'max_latency_p99_seconds',
      threshold: c.max_latency_p99_seconds,
      measured: p99s,
      pass: atMost(p99s, c.max_latency_p99_seconds),
      detail: `click-to-conversion p99 ${p99s === null ? 'n/a' : `${p99s} s`} (at most ${c.max_latency_p99_seconds} s)`,
    },
    {
      criterion: 'max_late_rate',
      threshold: c.max_late_rate,
      measured: late,
      pass: atMost(late, c.max_late_rate),
      detail: `${pct(late)} of conversions late (at most ${pct(c.max_late_rate)})`,
    },
  ];
}

export interface LaunchCheck {
  subject: { partner_id: string | null; offer_id: string | null };
  from: string;
  to: string;
  timezone: 'UTC';
  criteria: LaunchCriteria;
  results: CriterionResult[];
  pass: boolean;
}

/** The criteria for a subject: the default row, overridden field by field by the partner's and the offer's. */
export async function criteriaFor(
  em: EntityManager,
  partnerId?: string,
  offerId?: string,
): Promise<LaunchCriteria> {
  const rows = await em.query<
    (Record<(typeof CRITERIA_FIELDS)[number], number | null> & { scope: string })[]
  >(
    `SELECT * FROM launch_criteria
      WHERE (scope = 'default' AND subject = '') OR (scope = 'partner' AND subject = $1) OR (scope = 'offer' AND subject = $2)
      ORDER BY CASE scope WHEN 'default' THEN 0 WHEN 'partner' THEN 1 ELSE 2 END`,
    [partnerId ?? '', offerId ?? ''],
  );
  const out = {} as LaunchCriteria;
  for (const r of rows) for (const f of CRITERIA_FIELDS) if (r[f] !== null) out[f] = Number(r[f]);
  for (const f of CRITERIA_FIELDS)
    if (out[f] === undefined) throw new Error(`launch criteria: no default for ${f}`);
  return out;
}

/** Evaluates the launch criteria for a partner and/or offer over UTC days [from, to] from the read models. */
export async function launchCheck(
  em: EntityManager,
  q: { from: string; to: string; partnerId?: string; offerId?: string },
): Promise<LaunchCheck> {
  const params: unknown[] = [q.from, q.to];
  let where = `day BETWEEN $1::date AND $2::date`;
  if (q.partnerId) where += ` AND partner_id = $${params.push(q.partnerId)}`;
  if (q.offerId) where += ` AND offer_id = $${params.push(q.offerId)}`;
  const [v] = await em.query<Record<string, number>[]>(
    `SELECT coalesce(sum(postbacks), 0)::int AS postbacks, coalesce(sum(accepted), 0)::int AS accepted,
            coalesce(sum(held_postbacks), 0)::int AS held_postbacks, coalesce(sum(duplicates), 0)::int AS duplicates,
            coalesce(sum(soft_retried), 0)::int AS soft_retried, coalesce(sum(late), 0)::int AS late,
            coalesce(sum(pending + approved + held), 0)::int AS conversions
       FROM recon_daily WHERE ${where}`,
    params,
  );
  const hist = await em.query<{ le_ms: number; n: number }[]>(
    `SELECT le_ms::float8 AS le_ms, sum(count)::int AS n FROM latency_daily
      WHERE ${where} AND metric = 'click_to_conversion' GROUP BY le_ms`,
    params,
  );
  const volume: LaunchVolume = {
    postbacks: v!.postbacks!,
    accepted: v!.accepted!,
    held_postbacks: v!.held_postbacks!,
    duplicates: v!.duplicates!,
    soft_retried: v!.soft_retried!,
    late: v!.late!,
    conversions: v!.conversions!,
    latency: new Map(hist.map((h) => [h.le_ms, h.n])),
  };
  const criteria = await criteriaFor(em, q.partnerId, q.offerId);
  const results = evaluateLaunch(criteria, volume);
  return {
    subject: { partner_id: q.partnerId ?? null, offer_id: q.offerId ?? null },
    from: q.from,
    to: q.to,
    timezone: 'UTC',
    criteria,
    results,
    pass: results.every((r) => r.pass),
  };
}
