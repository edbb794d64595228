import type { EntityManager } from 'typeorm';
import type { LedgerEntryV1 } from '@app/contracts';
import { appendOperatorEntry, lockConversion, operatorEntry } from '@app/ledger';
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

/**
 * An operator's decision on a held conversion, in the caller's transaction: a `released`
 * (approve: the revenue is written now) or `rejected` (reason operator_rejected, cap room
 * given back) ledger entry naming the operator and the note, through the ledger's one write
 * path and under the conversion's lock; a conversion that is no longer held is refused, saying
 * who or what decided it.
 */
export async function decideHeldConversion(
  em: EntityManager,
  input: { conversionId: string; decision: ReviewDecision; operator: string; note: string; now?: Date },
): Promise<LedgerEntryV1> {
  const now = input.now ?? new Date();
  const locked = await lockConversion(em, input.conversionId);
  if (!locked) throw new ReviewRefused('not_found', `no conversion ${input.conversionId}`);
  const c = locked.row;
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
  await appendOperatorEntry(em, locked, entry);
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
