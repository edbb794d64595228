import type { EntityManager } from 'typeorm';
import type { LedgerEntryV1 } from '@app/contracts';

/**
 * Appends entries to the ledger inside the caller's transaction, idempotent on entry_id. Only
 * rows really inserted go to the outbox (for Kafka) and to the projection queue (for the read
 * models), in the order given, so each is published and projected exactly once.
 */
export async function appendLedgerEntries(
  em: EntityManager,
  entries: readonly LedgerEntryV1[],
): Promise<void> {
  if (entries.length === 0) return;
  await em.query(
    `WITH ins AS (
       INSERT INTO ledger_entries (entry_id, entry_type, conversion_id, conversion_status, click_id, transaction_id, offer_id,
         publisher_id, partner_id, goal, amount_micros, currency, reason_bucket, reason_code, sub1, sub2, sub3, sub4, sub5,
         placement, geo, device, clicked_at, occurred_at, recorded_at, late, postback_delay_ms, source_event_id,
         schema_version, payload)
       SELECT x.entry_id, x.entry_type, x.conversion_id, x.conversion_status, x.click_id, x.transaction_id, x.offer_id,
         x.publisher_id, x.partner_id, x.goal, x.amount_micros::bigint, x.currency, x.reason_bucket, x.reason_code, x.sub1,
         x.sub2, x.sub3, x.sub4, x.sub5, x.placement, x.geo, x.device, x.clicked_at, x.occurred_at, x.recorded_at, x.late,
         x.postback_delay_ms, x.source_event_id, x.schema_version, j.value
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(value, n)
       CROSS JOIN LATERAL jsonb_to_record(j.value) AS x(entry_id text, entry_type text, conversion_id text,
         conversion_status text, click_id text, transaction_id text, offer_id text, publisher_id text, partner_id text,
         goal text, amount_micros text, currency text, reason_bucket text, reason_code text, sub1 text, sub2 text,
         sub3 text, sub4 text, sub5 text, placement text, geo text, device text, clicked_at timestamptz,
         occurred_at timestamptz, recorded_at timestamptz, late boolean, postback_delay_ms bigint,
         source_event_id text, schema_version int)
       ORDER BY j.n
       ON CONFLICT (entry_id) DO NOTHING
       RETURNING seq, entry_id),
     outbox AS (INSERT INTO ledger_outbox (seq, entry_id) SELECT seq, entry_id FROM ins)
     INSERT INTO projection_queue (entry_id) SELECT entry_id FROM ins ORDER BY seq`,
    [JSON.stringify(entries)],
  );
}
