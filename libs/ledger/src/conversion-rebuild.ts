import type { EntityManager } from 'typeorm';
import { type ConversionState, type EntryMoney, evolve, type PostbackStatus } from '@app/domain';
import { stateOf, type ConversionRow } from './conversion-lock';
import { entryFacts } from './ledger-writer';
import type { LedgerEntryV1 } from '@app/contracts';

export interface ConversionDifference {
  conversionId: string;
  field: string;
  table: unknown;
  ledger: unknown;
}

const FIELDS = [
  'partnerId',
  'status',
  'requested',
  'amountMicros',
  'currency',
  'reason',
  'firstReceivedAt',
  'entries',
  'payoutMicros',
  'rewardAmount',
  'rewardCurrency',
] as const satisfies readonly (keyof ConversionState)[];

const show = (v: unknown) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : v);

/**
 * Folds every conversion's ledger entries through `evolve` and compares the result with the
 * `conversions` table, page by page in conversion order: the two must never differ, since the
 * ledger writer derives the table from the same function. Returns the differences (at most
 * `limit`), none when they agree.
 */
export async function checkConversionsAgainstLedger(
  em: EntityManager,
  opts: { pageSize?: number; limit?: number } = {},
): Promise<ConversionDifference[]> {
  const pageSize = opts.pageSize ?? 2000;
  const limit = opts.limit ?? 100;
  const out: ConversionDifference[] = [];
  let after = '';
  for (;;) {
    const rows = await em.query<(ConversionRow & { last_entry_id: string })[]>(
      `SELECT * FROM conversions WHERE conversion_id > $1 ORDER BY conversion_id LIMIT $2`,
      [after, pageSize],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.conversion_id;
    const entries = await em.query<
      {
        payload: LedgerEntryV1;
        requested_status: PostbackStatus | null;
        payout_micros: string | null;
        reward_amount: string | null;
        reward_currency: string | null;
        payout_rule_id: string | null;
        reward_rule_id: string | null;
      }[]
    >(
      `SELECT payload, requested_status, payout_micros, reward_amount, reward_currency, payout_rule_id, reward_rule_id
         FROM ledger_entries WHERE conversion_id = ANY($1) ORDER BY conversion_id, seq`,
      [rows.map((r) => r.conversion_id)],
    );
    const folded = new Map<string, { state: ConversionState; last: string }>();
    for (const e of entries) {
      const prev = folded.get(e.payload.conversion_id)?.state;
      folded.set(e.payload.conversion_id, {
        state: evolve(prev, entryFacts(e.payload, e.requested_status, moneyOf(e))),
        last: e.payload.entry_id,
      });
    }
    for (const r of rows) {
      const f = folded.get(r.conversion_id);
      const table = stateOf(r);
      const diffs: ConversionDifference[] = f
        ? FIELDS.filter((k) => String(show(table[k])) !== String(show(f.state[k]))).map((k) => ({
            conversionId: r.conversion_id,
            field: k,
            table: show(table[k]),
            ledger: show(f.state[k]),
          }))
        : [{ conversionId: r.conversion_id, field: 'entries', table: r.entries, ledger: 0 }];
      if (f && f.last !== r.last_entry_id)
        diffs.push({
          conversionId: r.conversion_id,
          field: 'lastEntryId',
          table: r.last_entry_id,
          ledger: f.last,
        });
      out.push(...diffs);
      if (out.length >= limit) return out.slice(0, limit);
    }
  }
  // Entries of a conversion the table does not have at all.
  const orphans = await em.query<{ conversion_id: string }[]>(
    `SELECT DISTINCT l.conversion_id FROM ledger_entries l
      WHERE NOT EXISTS (SELECT 1 FROM conversions c WHERE c.conversion_id = l.conversion_id) LIMIT $1`,
    [limit],
  );
  for (const o of orphans)
    out.push({
      conversionId: o.conversion_id,
      field: 'row',
      table: null,
      ledger: 'entries without a conversion row',
    });
  return out.slice(0, limit);
}

/** An entry's money as its columns hold it (none for a row written before payout rules). */
export function moneyOf(r: {
  payout_micros: string | null;
  reward_amount: string | null;
  reward_currency: string | null;
  payout_rule_id: string | null;
  reward_rule_id: string | null;
}): EntryMoney | undefined {
  if (r.payout_micros === null) return undefined;
  return {
    payoutMicros: BigInt(r.payout_micros),
    rewardAmount: r.reward_amount === null ? null : BigInt(r.reward_amount),
    rewardCurrency: r.reward_currency,
    payoutRuleId: r.payout_rule_id === null ? null : String(r.payout_rule_id),
    rewardRuleId: r.reward_rule_id === null ? null : String(r.reward_rule_id),
  };
}
