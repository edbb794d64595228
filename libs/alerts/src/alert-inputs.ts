import type { EntityManager } from 'typeorm';

/** Per partner, one UTC day (or the sum of several): the recon_daily counts the rules read. */
export interface PartnerCounts {
  partnerId: string;
  postbacks: number;
  accepted: number;
  heldPostbacks: number;
  late: number;
  approved: number;
  held: number;
  pending: number;
}

export interface SoftRejectCell {
  partnerId: string;
  placement: string;
  postbacks: number;
  softRetried: number;
}

export interface OfferLatency {
  offerId: string;
  /** click_to_conversion histogram: bucket upper bound (ms, -1 = overflow) -> count. */
  counts: Map<number, number>;
}

export interface SourceBlock {
  kind: string;
  publisherId: string;
  value: string;
  blockedAt: Date;
  decided: number;
  rejected: number;
  reason: string;
}

/** A publisher whose postback endpoint the notifier paused after it kept failing. */
export interface PausedPublisher {
  publisherId: string;
  pausedAt: Date;
  reason: string;
  failures: number;
}

export interface ReadModelInputs {
  /** The UTC day evaluated (YYYY-MM-DD) and the days of the acceptance baseline. */
  day: string;
  baselineFrom: string;
  baselineTo: string;
  latency: OfferLatency[];
  today: PartnerCounts[];
  baseline: PartnerCounts[];
  softRejects: SoftRejectCell[];
  blocks: SourceBlock[];
  pausedPublishers: PausedPublisher[];
}

const PARTNER_COUNTS = `
  SELECT partner_id, sum(postbacks)::int AS postbacks, sum(accepted)::int AS accepted,
         sum(held_postbacks)::int AS held_postbacks, sum(late)::int AS late, sum(approved)::int AS approved,
         sum(held)::int AS held, sum(pending)::int AS pending
    FROM recon_daily WHERE day BETWEEN $1 AND $2 AND partner_id <> '' GROUP BY partner_id ORDER BY partner_id`;

/**
 * Sources the routing policy put a control on (block, hold or reduced cap) for crossing its
 * rejection threshold: the one place the alert rules read them.
 */
export const SOURCE_BLOCKS_QUERY = `
  SELECT kind, publisher_id, value, since AS blocked_at, coalesce(decided, 0) AS decided,
         coalesce(rejected, 0) AS rejected, action || ': ' || reason AS reason
    FROM source_controls WHERE origin = 'auto' ORDER BY kind, publisher_id, value`;

const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

interface PartnerRow {
  partner_id: string;
  postbacks: number;
  accepted: number;
  held_postbacks: number;
  late: number;
  approved: number;
  held: number;
  pending: number;
}
const partnerCounts = (r: PartnerRow): PartnerCounts => ({
  partnerId: r.partner_id,
  postbacks: r.postbacks,
  accepted: r.accepted,
  heldPostbacks: r.held_postbacks,
  late: r.late,
  approved: r.approved,
  held: r.held,
  pending: r.pending,
});

/** What the read-model rules need for UTC day `day`, read in the caller's transaction. */
export async function readAlertInputs(
  em: EntityManager,
  day: string,
  baselineDays = 7,
): Promise<ReadModelInputs> {
  const baselineFrom = addDays(day, -baselineDays);
  const baselineTo = addDays(day, -1);
  const latencyRows = await em.query<{ offer_id: string; le_ms: string; count: number }[]>(
    `SELECT offer_id, le_ms, sum(count)::int AS count FROM latency_daily
      WHERE day = $1 AND metric = 'click_to_conversion' AND offer_id <> ''
      GROUP BY offer_id, le_ms ORDER BY offer_id, le_ms`,
    [day],
  );
  const latency = new Map<string, Map<number, number>>();
  for (const r of latencyRows) {
    const counts = latency.get(r.offer_id) ?? new Map<number, number>();
    counts.set(Number(r.le_ms), r.count);
    latency.set(r.offer_id, counts);
  }
  const today = await em.query<PartnerRow[]>(PARTNER_COUNTS, [day, day]);
  const baseline = await em.query<PartnerRow[]>(PARTNER_COUNTS, [baselineFrom, baselineTo]);
  const soft = await em.query<
    { partner_id: string; placement: string; postbacks: number; soft_retried: number }[]
  >(
    `SELECT partner_id, placement, sum(postbacks)::int AS postbacks, sum(soft_retried)::int AS soft_retried
       FROM recon_daily WHERE day = $1 AND partner_id <> '' GROUP BY partner_id, placement ORDER BY 1, 2`,
    [day],
  );
  const blocks = await em.query<
    {
      kind: string;
      publisher_id: string;
      value: string;
      blocked_at: Date;
      decided: number;
      rejected: number;
      reason: string;
    }[]
  >(SOURCE_BLOCKS_QUERY);
  const paused = await em.query<
    { publisher_id: string; paused_at: Date; paused_reason: string | null; consecutive_failures: number }[]
  >(
    `SELECT publisher_id, paused_at, paused_reason, consecutive_failures FROM publisher_postbacks
      WHERE delivery_state = 'paused' ORDER BY publisher_id`,
  );
  return {
    day,
    baselineFrom,
    baselineTo,
    latency: [...latency].map(([offerId, counts]) => ({ offerId, counts })),
    today: today.map(partnerCounts),
    baseline: baseline.map(partnerCounts),
    softRejects: soft.map((s) => ({
      partnerId: s.partner_id,
      placement: s.placement,
      postbacks: s.postbacks,
      softRetried: s.soft_retried,
    })),
    pausedPublishers: paused.map((p) => ({
      publisherId: p.publisher_id,
      pausedAt: p.paused_at,
      reason: p.paused_reason ?? 'paused',
      failures: p.consecutive_failures,
    })),
    blocks: blocks.map((b) => ({
      kind: b.kind,
      publisherId: b.publisher_id,
      value: b.value,
      blockedAt: b.blocked_at,
      decided: b.decided,
      rejected: b.rejected,
      reason: b.reason,
    })),
  };
}
