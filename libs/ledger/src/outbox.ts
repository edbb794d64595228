import type { EntityManager } from 'typeorm';
import { assertValidLedgerEntryV2, type LedgerEntryV1 } from '@app/contracts';
import { ledgerEntryV2, type LedgerV2Row } from './ledger-v2';

/** An outbox row with what the relay sends: the key, both messages, and the entry's type for its counts. */
export interface OutboxMessage {
  seq: string;
  entry_id: string;
  message_key: string;
  entry_type: LedgerEntryV1['entry_type'];
  v1: string;
  v2: string;
}

/**
 * Rows written before the outbox carried its messages (the LedgerWriteSpeed migration) are rendered
 * here from the entry's row, as the relay did then: the payload as v1, and v2 with the entry's
 * money, origin and postings.
 */
async function renderLegacy(em: EntityManager, rows: OutboxMessage[]): Promise<void> {
  const legacy = rows.filter(
    (r) => r.v1 === null || r.v2 === null || r.message_key === null || r.entry_type === null,
  );
  if (legacy.length === 0) return;
  const found = await em.query<(LedgerV2Row & { entry_id: string; conversion_id: string })[]>(
    `SELECT e.entry_id, e.conversion_id, e.payload, e.payout_micros, e.reward_amount, e.reward_currency,
            e.payout_rule_id, e.reward_rule_id, e.user_id, e.original_amount_micros::text, e.original_currency,
            e.fx_rate::text, e.fx_date::text,
            (SELECT jsonb_agg(jsonb_build_object('posting_id', p.posting_id, 'account', p.account,
                      'currency', p.currency, 'amount_micros', p.amount_micros::text) ORDER BY p.posting_id)
               FROM ledger_postings p WHERE p.entry_id = e.entry_id) AS postings
       FROM ledger_entries e WHERE e.entry_id = ANY($1::text[])`,
    [legacy.map((r) => r.entry_id)],
  );
  const byId = new Map(found.map((f) => [f.entry_id, f]));
  for (const r of legacy) {
    const f = byId.get(r.entry_id);
    if (!f) throw new Error(`ledger_outbox names entry ${r.entry_id}, which ledger_entries does not hold`);
    const entry = ledgerEntryV2(f);
    assertValidLedgerEntryV2(entry);
    r.message_key = f.conversion_id;
    r.entry_type = f.payload.entry_type;
    r.v1 = JSON.stringify(f.payload);
    r.v2 = JSON.stringify(entry);
  }
}

/**
 * The oldest `limit` entries waiting in the outbox, in commit order, with their messages as the
 * writer rendered them (ledger-writer.ts), or, for rows from before that, rendered now.
 */
export async function readOutbox(em: EntityManager, limit: number): Promise<OutboxMessage[]> {
  const rows = await em.query<OutboxMessage[]>(
    `SELECT seq, entry_id, message_key, entry_type, v1, v2 FROM ledger_outbox ORDER BY seq LIMIT $1`,
    [limit],
  );
  await renderLegacy(em, rows);
  return rows;
}
