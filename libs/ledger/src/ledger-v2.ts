import type { LedgerEntryV1, LedgerEntryV2, LedgerPostingV2 } from '@app/contracts';

/** An entry's row as the relay reads it: the published v1 JSON and the columns v2 adds. */
export interface LedgerV2Row {
  payload: LedgerEntryV1;
  payout_micros: string | null;
  reward_amount: string | null;
  reward_currency: string | null;
  payout_rule_id: string | null;
  reward_rule_id: string | null;
  user_id?: string | null;
  original_amount_micros?: string | null;
  original_currency?: string | null;
  fx_rate?: string | null;
  fx_date?: string | Date | null;
  postings: LedgerPostingV2[] | null;
}

/** Shortest decimal form of a stored rate ("0.920000000000" -> "0.92"). */
const rate = (r: string) => (r.includes('.') ? r.replace(/0+$/, '').replace(/\.$/, '') : r);
const day = (d: string | Date) => (d instanceof Date ? d.toISOString().slice(0, 10) : d.slice(0, 10));

/** What version 2 adds to an entry's version 1 fields. */
export type LedgerV2Extras = Omit<LedgerEntryV2, keyof LedgerEntryV1>;

/** Its money (margin is what is left of the revenue), its origin and its postings. */
export function ledgerV2Extras(r: LedgerV2Row): LedgerV2Extras {
  const revenue = BigInt(r.payload.amount_micros);
  const payout = r.payout_micros === null ? 0n : BigInt(r.payout_micros);
  return {
    revenue_micros: revenue.toString(),
    payout_micros: payout.toString(),
    margin_micros: (revenue - payout).toString(),
    reward_amount: r.reward_amount === null ? null : String(r.reward_amount),
    reward_currency: r.reward_currency,
    payout_rule_id: r.payout_rule_id === null ? null : String(r.payout_rule_id),
    reward_rule_id: r.reward_rule_id === null ? null : String(r.reward_rule_id),
    user_id: r.user_id ?? null,
    original_amount_micros: r.original_amount_micros == null ? null : String(r.original_amount_micros),
    original_currency: r.original_currency ?? null,
    fx_rate: r.fx_rate == null ? null : rate(String(r.fx_rate)),
    fx_date: r.fx_date == null ? null : day(r.fx_date),
    postings: r.postings ?? [],
  };
}

/**
 * The version 2 message of an entry: its v1 fields unchanged, then its money, its origin and its
 * postings, all from the entry's own row, so publishing it again (after a crash) gives the same
 * message.
 */
export function ledgerEntryV2(r: LedgerV2Row): LedgerEntryV2 {
  return { ...r.payload, schema_version: 2, ...ledgerV2Extras(r) };
}

const V1_HEAD = '{"schema_version":1,';

/**
 * The v2 message as JSON, from the entry's v1 JSON (as `JSON.stringify` of a v1 entry writes it)
 * and its extras: the same text as `JSON.stringify(ledgerEntryV2(r))` (the spec checks it),
 * without building and serialising the whole entry again. The write path renders every entry
 * this way, so this is on the hot path.
 */
export function ledgerEntryV2Json(v1Json: string, r: LedgerV2Row): string {
  const extras = ledgerV2Extras(r);
  if (!v1Json.startsWith(V1_HEAD) || !v1Json.endsWith('}'))
    return JSON.stringify({ ...r.payload, schema_version: 2, ...extras });
  return `{"schema_version":2,${v1Json.slice(V1_HEAD.length, -1)},${JSON.stringify(extras).slice(1)}`;
}
