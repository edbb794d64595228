import type { LedgerEntryV1 } from '@app/contracts';
import { bucketOf, type ClickFacts, type Decision, entryIdOf, type PostbackFacts } from '@app/domain';

type EntryDecision = Extract<Decision, { kind: 'entry' }>;

export interface EntryContext {
  postback: PostbackFacts;
  click: ClickFacts | undefined;
  offerId: string;
  goal: string;
  decision: EntryDecision;
  recordedAt: Date;
  late: boolean;
  operator?: string | null;
  note?: string | null;
  /** Defaults to the postback's event id. */
  sourceId?: string;
}

/** The click's source tags as ledger and read-model columns (all null without a click). */
export function sourceTags(click: ClickFacts | undefined) {
  return {
    publisher_id: click?.publisherId ?? null,
    sub1: click?.sub1 ?? null,
    sub2: click?.sub2 ?? null,
    sub3: click?.sub3 ?? null,
    sub4: click?.sub4 ?? null,
    sub5: click?.sub5 ?? null,
    placement: click?.placement ?? null,
    geo: click?.geo ?? null,
    device: click?.device ?? null,
    clicked_at: click?.clickedAt.toISOString() ?? null,
  };
}

/** The ledger entry for a decision: everything billing and analysts need, no lookups later. */
export function buildLedgerEntry(c: EntryContext): LedgerEntryV1 {
  const d = c.decision;
  const sourceId = c.sourceId ?? c.postback.eventId;
  const click = c.click;
  return {
    schema_version: 1,
    entry_id: entryIdOf(d.next.conversionId, d.entryType, sourceId),
    entry_type: d.entryType,
    conversion_id: d.next.conversionId,
    conversion_status: d.next.status,
    click_id: c.postback.clickId,
    transaction_id: c.postback.transactionId,
    offer_id: c.offerId,
    partner_id: c.postback.partnerId,
    goal: c.goal,
    amount_micros: d.amountMicros.toString(),
    currency: d.currency,
    reason_bucket: d.reason ? bucketOf(d.reason) : null,
    reason_code: d.reason,
    ...sourceTags(click),
    occurred_at: c.postback.receivedAt.toISOString(),
    recorded_at: c.recordedAt.toISOString(),
    late: c.late,
    postback_delay_ms: click ? c.postback.receivedAt.getTime() - click.clickedAt.getTime() : null,
    source_event_id: sourceId,
    operator: c.operator ?? null,
    note: c.note ?? null,
  };
}
