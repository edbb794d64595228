import type { EntityManager } from 'typeorm';
import { assertValidLedgerEntryV2, type LedgerEntryV1 } from '@app/contracts';
import { Handover } from './handover';
import { ledgerEntryV2, type LedgerV2Row } from './ledger-v2';

/** An outbox row with what the relay sends: the key, both messages, and the entry's type for its counts. */
export interface OutboxMessage {
  seq: string;
  entry_id: string;
  message_key: string;
  entry_type: LedgerEntryV1['entry_type'];
  v1: string;
  v2: string;
  /** Where its messages came from: kept in memory by the writer, rendered from the entry's row, or an outbox row that carried them. */
  source?: 'memory' | 'entry_row' | 'outbox_row';
}

/**
 * The messages of entries this process has just appended, as the writer rendered them, handed to
 * the relay in memory (`Handover`): the outbox row carries only the entry's sequence, id, key
 * and type, so the messages (about 2 KB an entry) are neither written to Postgres, nor deleted,
 * nor read back. Keyed by entry id, fenced by the entry's sequence number (the outbox row's).
 * What the relay does not find here it renders from the entry's row, to the same messages
 * (ledger-writer.int-spec.ts).
 */
export type RenderedMessages = Handover<{ v1: string; v2: string }>;

/** The process's one cache (a process runs one relay): the writer fills it, the relay empties it. */
export const renderedMessages: RenderedMessages = new Handover();

/**
 * Rows whose messages are not in this process's cache (`RenderedMessages`) are rendered here
 * from the entry's row: the payload as v1, and v2 with the entry's money, origin and postings.
 * Rows written while the outbox carried the messages (from the LedgerWriteSpeed migration until
 * the writer kept them in memory) are sent as they are.
 */
async function renderMissing(em: EntityManager, rows: OutboxMessage[]): Promise<void> {
  const legacy: OutboxMessage[] = [];
  for (const r of rows) {
    if (r.v1 !== null && r.v2 !== null && r.message_key !== null && r.entry_type !== null) {
      r.source = 'outbox_row';
      continue;
    }
    const kept =
      r.message_key !== null && r.entry_type !== null
        ? renderedMessages.get(r.entry_id, String(r.seq))
        : undefined;
    if (kept) {
      r.v1 = kept.v1;
      r.v2 = kept.v2;
      r.source = 'memory';
    } else legacy.push(r);
  }
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
    r.source = 'entry_row';
  }
}

/**
 * The oldest `limit` entries waiting in the outbox, in commit order, with their messages as the
 * writer rendered them (ledger-writer.ts, kept in `renderedMessages`), or rendered now.
 */
export async function readOutbox(em: EntityManager, limit: number): Promise<OutboxMessage[]> {
  const rows = await em.query<OutboxMessage[]>(
    `SELECT seq, entry_id, message_key, entry_type, v1, v2 FROM ledger_outbox ORDER BY seq LIMIT $1`,
    [limit],
  );
  await renderMissing(em, rows);
  return rows;
}

/** How many entries wait in the outbox, and when the first in line was recorded (null: none). */
export interface OutboxBacklog {
  waiting: number;
  oldest: Date | null;
}

/**
 * The outbox's backlog, for gauges and health. "Oldest" is the entry first in line, the lowest
 * sequence, which the relay publishes first: one index probe each way, where the minimum over a
 * join of every waiting row with the ledger cost 65-280 ms with 20,000 waiting and a million
 * entries stored (and grew with both), paid on every gauge refresh and health check exactly when
 * billing is behind.
 */
export async function outboxBacklog(em: Pick<EntityManager, 'query'>): Promise<OutboxBacklog> {
  const [row] = await em.query<[{ waiting: number; oldest: Date | null }]>(
    `SELECT (SELECT count(*)::int FROM ledger_outbox) AS waiting,
            (SELECT recorded_at FROM ledger_entries
              WHERE entry_id = (SELECT entry_id FROM ledger_outbox ORDER BY seq LIMIT 1)) AS oldest`,
  );
  return { waiting: row.waiting, oldest: row.oldest };
}
