import type { EntityManager } from 'typeorm';
import { convertMicros, formatRate, parseRate, RATE_CURRENCY } from '@app/domain';
import { isIsoDay } from './rate-input';

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
  if (!isIsoDay(day)) throw new RangeError(`findRate: not a day (YYYY-MM-DD): ${day}`);
  for (const code of [from, to])
    if (!RATE_CURRENCY.test(code)) throw new RangeError(`findRate: not a currency code: ${code}`);
  if (from === to) return { rate: '1', day, source: 'identity', inverted: false };
  const rows = await em.query<{ base: string; rate: string; source: string }[]>(
    `SELECT base, rate::text AS rate, source FROM exchange_rates
      WHERE day = $1::date AND ((base = $2 AND quote = $3) OR (base = $3 AND quote = $2))`,
    [day, from, to],
  );
  const row = rows.find((r) => r.base === from) ?? rows[0];
  if (!row) return undefined;
  const p = parseRate(row.rate);
  if (!p.ok) throw new Error(`exchange_rates holds a rate that is not one: ${row.rate}`);
  return { rate: formatRate(p.scaled), day, source: row.source, inverted: row.base !== from };
}

/** An amount in `from` micros converted into `to` micros at a found rate (half-even, exact). */
export function convertAtRate(amountMicros: bigint, found: Pick<FoundRate, 'rate' | 'inverted'>): bigint {
  return convertMicros(amountMicros, found.rate, found.inverted ? 'quote_to_base' : 'base_to_quote');
}
