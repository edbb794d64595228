import type { EntityManager } from 'typeorm';
import { assertValidLedgerEntry, type LedgerEntryV1 } from '@app/contracts';
import { bucketOf, entryIdOf, ulidFactory } from '@app/domain';
import { appendLedgerEntries } from '../ledger/ledger-writer';
import type { ReviewRow } from './projection';

export type ReviewDecision = 'approve' | 'reject';

export class ReviewRefused extends Error {
  constructor(
    readonly code: 'not_found' | 'not_held' | 'already_decided' | 'not_allowed',
    message: string,
  ) {
    super(message);
  }
}

export interface ConversionRow {
  conversion_id: string;
  offer_id: string;
  transaction_id: string;
  goal: string;
  partner_id: string;
  click_id: string;
  publisher_id: string | null;
  status: string;
  amount_micros: string;
  currency: string;
  reason_code: string | null;
  sub1: string | null;
  sub2: string | null;
  sub3: string | null;
  sub4: string | null;
  sub5: string | null;
  placement: string | null;
  geo: string | null;
  device: string | null;
  clicked_at: Date | null;
  entries: number;
}

const newOperatorActionId = ulidFactory();

/**
 * Locks a conversion for an operator's change, in the processor's lock order (the partner
 * transaction's advisory lock first, then the row), so it serialises with partner postbacks.
 */
export async function lockConversion(em: EntityManager, conversionId: string): Promise<ConversionRow> {
  const [peek] = await em.query<{ partner_id: string; transaction_id: string }[]>(
    `SELECT partner_id, transaction_id FROM conversions WHERE conversion_id = $1`,
    [conversionId],
  );
  if (!peek) throw new ReviewRefused('not_found', `no conversion ${conversionId}`);
  await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 7))`, [
    JSON.stringify([peek.partner_id, peek.transaction_id]),
  ]);
  const [c] = await em.query<ConversionRow[]>(
    `SELECT * FROM conversions WHERE conversion_id = $1 FOR UPDATE`,
    [conversionId],
  );
  if (!c) throw new ReviewRefused('not_found', `no conversion ${conversionId}`);
  return c;
}

/** A ledger entry made by an operator on a conversion (review decision, dispute adjustment), with its source tags. */
export function operatorEntry(
  c: ConversionRow,
  e: {
    entryType: LedgerEntryV1['entry_type'];
    status: LedgerEntryV1['conversion_status'];
    amountMicros: string;
    reason: 'operator_rejected' | null;
    operator: string;
    note: string;
    now: Date;
  },
): LedgerEntryV1 {
  const actionId = newOperatorActionId(e.now.getTime());
  return {
    schema_version: 1,
    entry_id: entryIdOf(c.conversion_id, e.entryType, actionId),
    entry_type: e.entryType,
    conversion_id: c.conversion_id,
    conversion_status: e.status,
    click_id: c.click_id,
    transaction_id: c.transaction_id,
    offer_id: c.offer_id,
    publisher_id: c.publisher_id,
    partner_id: c.partner_id,
    goal: c.goal,
    amount_micros: e.amountMicros,
    currency: c.currency,
    reason_bucket: e.reason ? bucketOf(e.reason) : null,
    reason_code: e.reason,
    sub1: c.sub1,
    sub2: c.sub2,
    sub3: c.sub3,
    sub4: c.sub4,
    sub5: c.sub5,
    placement: c.placement,
    geo: c.geo,
    device: c.device,
    clicked_at: c.clicked_at?.toISOString() ?? null,
    occurred_at: e.now.toISOString(),
    recorded_at: e.now.toISOString(),
    late: false,
    postback_delay_ms: null,
    source_event_id: actionId,
    operator: e.operator,
    note: e.note,
  };
}

/**
 * An operator's decision on a held conversion, in the caller's transaction: a `released`
 * (approve: the revenue is written now) or `rejected` (reason operator_rejected, cap room
 * given back) ledger entry naming the operator and the note. Serialised with the processor on
 * the same partner transaction; a conversion that is no longer held is refused, saying who or
 * what decided it.
 */
export async function decideHeldConversion(
  em: EntityManager,
  input: { conversionId: string; decision: ReviewDecision; operator: string; note: string; now?: Date },
): Promise<LedgerEntryV1> {
  const now = input.now ?? new Date();
  const c = await lockConversion(em, input.conversionId);
  if (c.status !== 'held') {
    const [last] = await em.query<{ entry_type: string; operator: string | null; occurred_at: Date }[]>(
      `SELECT entry_type, payload->>'operator' AS operator, occurred_at FROM ledger_entries
        WHERE conversion_id = $1 ORDER BY seq DESC LIMIT 1`,
      [c.conversion_id],
    );
    const by = last?.operator ? `by ${last.operator}` : 'by the partner';
    const when = last ? ` (${last.entry_type} ${by} at ${last.occurred_at.toISOString()})` : '';
    throw last?.operator
      ? new ReviewRefused('already_decided', `conversion ${c.conversion_id} was already decided${when}`)
      : new ReviewRefused('not_held', `conversion ${c.conversion_id} is ${c.status}, not held${when}`);
  }

  const approve = input.decision === 'approve';
  const entry = operatorEntry(c, {
    entryType: approve ? 'released' : 'rejected',
    status: approve ? 'approved' : 'rejected',
    amountMicros: approve ? c.amount_micros : '0',
    reason: approve ? null : 'operator_rejected',
    operator: input.operator,
    note: input.note,
    now,
  });
  const reason = entry.reason_code;
  assertValidLedgerEntry(entry);
  await appendLedgerEntries(em, [entry]);
  await em.query(
    `UPDATE conversions SET status = $2, amount_micros = $3, reason_bucket = $4, reason_code = $5,
       last_entry_id = $6, entries = entries + 1, updated_at = now()
     WHERE conversion_id = $1`,
    [
      c.conversion_id,
      entry.conversion_status,
      approve ? c.amount_micros : '0',
      entry.reason_bucket,
      reason,
      entry.entry_id,
    ],
  );
  if (!approve) {
    // The hold reserved cap room on the day it was held; a rejection gives it back.
    await em.query(
      `UPDATE offer_daily_usage u SET conversions = u.conversions - 1, payout_micros = u.payout_micros - $3::bigint
         FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day FROM ledger_entries
                WHERE conversion_id = $2 AND entry_type = 'held' ORDER BY seq DESC LIMIT 1) h
        WHERE u.offer_id = $1 AND u.day = h.day`,
      [c.offer_id, c.conversion_id, c.amount_micros],
    );
  }
  return entry;
}

/** A review-queue row (the projection's) with the evidence the operator decides on. */
export type ReviewItem = Omit<ReviewRow, 'held_entry_id' | 'postback_delay_ms'> & {
  /** What the hold rests on: the click as recorded, the postback as received, the source's day so far. */
  evidence: {
    click_to_conversion_ms: number | null;
    click: { ip: string | null; user_agent: string | null; device: string | null } | null;
    postback: {
      event_id: string;
      received_at: Date;
      source_ip: string;
      payout_micros: string | null;
      extra: unknown;
    } | null;
    source_today: { decided: number; rejected: number } | null;
  };
};

type ReviewQueueRow = ReviewRow & {
  ip: string | null;
  user_agent: string | null;
  device: string | null;
  event_id: string | null;
  received_at: Date | null;
  source_ip: string | null;
  payout_micros: string | null;
  extra: unknown;
  decided: number | null;
  rejected: number | null;
};

const ITEM_FIELDS = [
  'conversion_id',
  'held_at',
  'reason_code',
  'amount_micros',
  'currency',
  'partner_id',
  'offer_id',
  'publisher_id',
  'transaction_id',
  'click_id',
  'sub1',
  'placement',
  'geo',
  'clicked_at',
] as const satisfies readonly (keyof ReviewRow)[];
const pick = (r: ReviewRow) =>
  Object.fromEntries(ITEM_FIELDS.map((f) => [f, r[f]])) as Pick<ReviewRow, (typeof ITEM_FIELDS)[number]>;

/** The manual review queue, oldest hold first, with evidence; filter by partner, offer or reason. */
export async function listReviewQueue(
  em: EntityManager,
  q: {
    partnerId?: string;
    offerId?: string;
    reason?: string;
    conversionId?: string;
    limit?: number;
    offset?: number;
  },
): Promise<ReviewItem[]> {
  const rows = await em.query<ReviewQueueRow[]>(
    `SELECT r.*, k.ip, k.user_agent, k.device, p.event_id, p.received_at, p.source_ip, p.payout_micros, p.extra,
            s.decided, s.rejected
       FROM review_queue r
       LEFT JOIN clicks k ON k.click_id = r.click_id
       LEFT JOIN ledger_entries h ON h.entry_id = r.held_entry_id
       LEFT JOIN postbacks p ON p.event_id = h.source_event_id
       LEFT JOIN source_daily_stats s ON s.kind = 'sub1' AND s.publisher_id = r.publisher_id AND s.value = r.sub1
            AND s.day = (r.held_at AT TIME ZONE 'UTC')::date
      WHERE ($1::text IS NULL OR r.partner_id = $1) AND ($2::text IS NULL OR r.offer_id = $2)
        AND ($3::text IS NULL OR r.reason_code = $3) AND ($4::text IS NULL OR r.conversion_id = $4)
      ORDER BY r.held_at, r.conversion_id OFFSET $5 LIMIT $6`,
    [
      q.partnerId ?? null,
      q.offerId ?? null,
      q.reason ?? null,
      q.conversionId ?? null,
      q.offset ?? 0,
      q.limit ?? 100,
    ],
  );
  return rows.map((r) => ({
    ...pick(r),
    evidence: {
      click_to_conversion_ms: r.clicked_at ? r.held_at.getTime() - r.clicked_at.getTime() : null,
      click: r.clicked_at ? { ip: r.ip, user_agent: r.user_agent, device: r.device } : null,
      postback:
        r.event_id && r.received_at && r.source_ip
          ? {
              event_id: r.event_id,
              received_at: r.received_at,
              source_ip: r.source_ip,
              payout_micros: r.payout_micros,
              extra: r.extra,
            }
          : null,
      source_today: r.decided === null ? null : { decided: r.decided, rejected: r.rejected ?? 0 },
    },
  }));
}
