import type { EntityManager } from 'typeorm';
import { convertMicros, formatRate, parseRate, RATE_CURRENCY } from '@app/domain';
import { isIsoDay, rateKey } from './rate-input';

/** The rate that converts `from` into `to` on one day. */
export interface FoundRate {
  /** The stored rate, minimal decimal form ("0.92"): 1 base = rate quote of the stored row. */
  rate: string;
  /** YYYY-MM-DD: always the day asked for. */
  day: string;
  source: string;
  /** True when the stored row is the reverse pair (base `to`, quote `from`): convert by dividing. */
  inverted: boolean;
}

/**
 * The rate of `day` (a UTC day, YYYY-MM-DD) from `from` to `to`: the direct pair, else the
 * reverse pair (inverted). Only that day: an earlier day's rate is never used, so a postback
 * whose day has no rate yet waits for it (undefined). The same currency on both sides is the
 * identity rate. Throws RangeError on a malformed day or code: callers pass checked values.
 */
export async function findRate(
  em: EntityManager,
  day: string,
  from: string,
  to: string,
): Promise<FoundRate | undefined> {
  return (await findRates(em, [{ day, from, to }])).get(rateKey({ day, base: from, quote: to }));
}

/**
 * `findRate` for many (day, from, to) at once, in one query (a batch of postbacks needs a few
 * distinct ones): the answer holds a rate under `rateKey({ day, base: from, quote: to })` for each
 * one found, by the same rule.
 */
export async function findRates(
  em: EntityManager,
  wanted: readonly { day: string; from: string; to: string }[],
): Promise<Map<string, FoundRate>> {
  const found = new Map<string, FoundRate>();
  const lookups = new Map<string, { day: string; from: string; to: string }>();
  for (const w of wanted) {
    if (!isIsoDay(w.day)) throw new RangeError(`findRate: not a day (YYYY-MM-DD): ${w.day}`);
    for (const code of [w.from, w.to])
      if (!RATE_CURRENCY.test(code)) throw new RangeError(`findRate: not a currency code: ${code}`);
    const key = rateKey({ day: w.day, base: w.from, quote: w.to });
    if (w.from === w.to) found.set(key, { rate: '1', day: w.day, source: 'identity', inverted: false });
    else lookups.set(key, w);
  }
  if (lookups.size === 0) return found;
  const list = [...lookups.values()];
  const rows = await em.query<{ day: string; base: string; quote: string; rate: string; source: string }[]>(
    `SELECT DISTINCT to_char(r.day, 'YYYY-MM-DD') AS day, r.base, r.quote, r.rate::text AS rate, r.source
       FROM unnest($1::date[], $2::char(3)[], $3::char(3)[]) AS w(day, f, t)
       JOIN exchange_rates r ON r.day = w.day
        AND ((r.base = w.f AND r.quote = w.t) OR (r.base = w.t AND r.quote = w.f))`,
    [list.map((w) => w.day), list.map((w) => w.from), list.map((w) => w.to)],
  );
  const stored = new Map(rows.map((r) => [rateKey(r), r]));
  for (const [key, w] of lookups) {
    // The direct pair first, else the reverse one.
    const row =
      stored.get(rateKey({ day: w.day, base: w.from, quote: w.to })) ??
      stored.get(rateKey({ day: w.day, base: w.to, quote: w.from }));
    if (!row) continue;
    const p = parseRate(row.rate);
    if (!p.ok) throw new Error(`exchange_rates holds a rate that is not one: ${row.rate}`);
    found.set(key, {
      rate: formatRate(p.scaled),
      day: w.day,
      source: row.source,
      inverted: row.base !== w.from,
    });
  }
  return found;
}

/** An amount in `from` micros converted into `to` micros at a found rate (half-even, exact). */
export function convertAtRate(amountMicros: bigint, found: Pick<FoundRate, 'rate' | 'inverted'>): bigint {
  return convertMicros(amountMicros, found.rate, found.inverted ? 'quote_to_base' : 'base_to_quote');
}
