import type { EntityManager } from 'typeorm';

export interface TrialBalanceAccount {
  account: string;
  currency: string;
  debit_micros: string;
  credit_micros: string;
  /** Debits less credits. */
  balance_micros: string;
}

export interface TrialBalance {
  accounts: TrialBalanceAccount[];
  /** Per currency: every debit and every credit; balanced when equal. */
  totals: { currency: string; debit_micros: string; credit_micros: string; difference_micros: string }[];
  /** Entries that move money (approved, released, reversed, adjusted with an amount) but have no postings. */
  entries_without_postings: number;
  balanced: boolean;
}

/**
 * The trial balance of the whole ledger (MONEY.md): debits and credits per account and currency
 * from `ledger_postings`, their totals per currency (equal, always: the database refuses a set
 * of postings that does not balance), and a check that every entry moving money was posted.
 */
export async function trialBalance(em: EntityManager): Promise<TrialBalance> {
  const rows = await em.query<{ account: string; currency: string; debit: string; credit: string }[]>(
    `SELECT account, currency,
            COALESCE(sum(amount_micros) FILTER (WHERE amount_micros > 0), 0)::text AS debit,
            COALESCE(-sum(amount_micros) FILTER (WHERE amount_micros < 0), 0)::text AS credit
       FROM ledger_postings GROUP BY account, currency ORDER BY currency, account`,
  );
  const [missing] = await em.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM ledger_entries e
      WHERE e.entry_type IN ('approved', 'released', 'reversed', 'adjusted') AND e.amount_micros <> 0
        AND NOT EXISTS (SELECT 1 FROM ledger_postings p WHERE p.entry_id = e.entry_id)`,
  );
  const totals = new Map<string, { debit: bigint; credit: bigint }>();
  const accounts = rows.map((r) => {
    const t = totals.get(r.currency) ?? { debit: 0n, credit: 0n };
    t.debit += BigInt(r.debit);
    t.credit += BigInt(r.credit);
    totals.set(r.currency, t);
    return {
      account: r.account,
      currency: r.currency,
      debit_micros: r.debit,
      credit_micros: r.credit,
      balance_micros: (BigInt(r.debit) - BigInt(r.credit)).toString(),
    };
  });
  const byCurrency = [...totals].map(([currency, t]) => ({
    currency,
    debit_micros: t.debit.toString(),
    credit_micros: t.credit.toString(),
    difference_micros: (t.debit - t.credit).toString(),
  }));
  const n = missing?.n ?? 0;
  return {
    accounts,
    totals: byCurrency,
    entries_without_postings: n,
    balanced: n === 0 && byCurrency.every((t) => t.difference_micros === '0'),
  };
}
