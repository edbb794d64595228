import type { EntityManager } from 'typeorm';
import { assertValidLedgerEntry, type LedgerEntryV1 } from '@app/contracts';
import { bucketOf, entryIdOf, priceEntry, ulidFactory } from '@app/domain';
import { type ConversionRow, type LockedConversion, lockConversions } from './conversion-lock';
import { appendEntries } from './ledger-writer';
import { loadMoneyRules } from './money-rules';

const newOperatorActionId = ulidFactory();

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

/** Locks one conversion for an operator's change (the same lock every writer takes); undefined if none. */
export async function lockConversion(
  em: EntityManager,
  conversionId: string,
): Promise<LockedConversion | undefined> {
  // Its transaction id names its lock; it never changes, so reading it before the lock is safe.
  const [row] = await em.query<{ transaction_id: string }[]>(
    `SELECT transaction_id FROM conversions WHERE conversion_id = $1`,
    [conversionId],
  );
  if (!row) return undefined;
  return (await lockConversions(em, [{ conversionId, transactionId: row.transaction_id }])).get(conversionId);
}

/**
 * Appends an operator's entry on a conversion locked by `lockConversion`, through the one write
 * path, with the wall's user id of the conversion's earlier entries.
 */
export async function appendOperatorEntry(
  em: EntityManager,
  locked: LockedConversion,
  entry: LedgerEntryV1,
): Promise<void> {
  assertValidLedgerEntry(entry);
  const rules = await loadMoneyRules(em, [entry.offer_id], [entry.publisher_id]);
  // The wall's user is the conversion's (a release must credit the user its hold was for).
  const [user] = await em.query<{ user_id: string }[]>(
    `SELECT user_id FROM ledger_entries WHERE conversion_id = $1 AND user_id IS NOT NULL ORDER BY seq LIMIT 1`,
    [entry.conversion_id],
  );
  const money = priceEntry({
    entryType: entry.entry_type,
    amountMicros: BigInt(entry.amount_micros),
    offerId: entry.offer_id,
    goal: entry.goal,
    publisherId: entry.publisher_id,
    at: new Date(entry.occurred_at),
    state: locked.state,
    ...rules,
  });
  await appendEntries(
    em,
    [
      {
        entry,
        requested: null,
        money,
        origin: {
          userId: user?.user_id ?? null,
          originalAmountMicros: null,
          originalCurrency: null,
          fxRate: null,
          fxDate: null,
        },
      },
    ],
    new Map([[locked.state.conversionId, locked.state]]),
  );
}
