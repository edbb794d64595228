/**
 * The exchange_rates table: imports (insert new rates, leave identical ones, refuse or replace
 * different ones) and listing. Every write goes through importRates.
 */
import type { EntityManager } from 'typeorm';
import { formatRate, parseRate } from '@app/domain';
import { rateKey, type RateRow } from './rate-input';

export interface ImportOptions {
  /** Overwrite stored rates that differ (without it, any difference refuses the whole import). */
  replace?: boolean;
  /** Classify only: nothing is written. */
  dryRun?: boolean;
}

/** A stored rate and the one an import brings for the same day and pair. */
export interface RateChange {
  at: string;
  date: string;
  base: string;
  quote: string;
  stored_rate: string;
  stored_source: string;
  rate: string;
  source: string;
}

export interface ImportResult {
  rows: number;
  inserted: number;
  unchanged: number;
  replaced: number;
  dry_run: boolean;
  /** The replaced rates (with replace), or those that would be: at most MAX_LISTED_CHANGES. */
  replaced_rows: RateChange[];
}

export const MAX_LISTED_CHANGES = 1000;

/**
 * Stored rates differ from the import's and `replace` was not asked for: nothing was written.
 * Ledger entries keep the rate they were converted at, so a replace is a deliberate act.
 */
export class RatesConflict extends Error {
  constructor(readonly conflicts: RateChange[]) {
    super(
      `${conflicts.length} rate(s) differ from the stored ones (${conflicts
        .slice(0, 3)
        .map(
          (c) =>
            `${c.at}: ${c.date} ${c.base}/${c.quote} stored ${c.stored_rate} (${c.stored_source}), given ${c.rate} (${c.source})`,
        )
        .join(
          '; ',
        )}${conflicts.length > 3 ? '; ...' : ''}); nothing was imported. Replace them explicitly to overwrite`,
    );
    this.name = 'RatesConflict';
  }
}

const CHUNK = 5000;

/** Postgres prints numeric(30,12) padded ("0.920000000000"): compare and show in the minimal form. */
function scaledOf(stored: string): bigint {
  const p = parseRate(stored);
  if (!p.ok) throw new Error(`exchange_rates holds a rate that is not one: ${stored} (${p.reason})`);
  return p.scaled;
}

const chunks = <T>(xs: T[]): T[][] =>
  Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

/**
 * Imports checked rates, all or nothing: a new (day, base, quote) is inserted, an identical one
 * left alone, a different one refused (RatesConflict, listing each) unless `replace`. Imports
 * run one at a time (a transaction-scoped advisory lock), so `em` must be in a transaction
 * unless `dryRun`; the caller commits the import with its audit record.
 */
export async function importRates(
  em: EntityManager,
  rows: RateRow[],
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const dryRun = opts.dryRun ?? false;
  if (!dryRun) {
    if (!em.queryRunner?.isTransactionActive) throw new Error('importRates writes in a transaction');
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('exchange_rates.import'))`);
  }
  const stored = new Map<string, { scaled: bigint; rate: string; source: string }>();
  for (const part of chunks(rows)) {
    const found = await em.query<
      { day: string; base: string; quote: string; rate: string; source: string }[]
    >(
      `SELECT to_char(e.day, 'YYYY-MM-DD') AS day, e.base, e.quote, e.rate::text AS rate, e.source
         FROM exchange_rates e
         JOIN unnest($1::date[], $2::bpchar[], $3::bpchar[]) AS k(day, base, quote)
           ON e.day = k.day AND e.base = k.base AND e.quote = k.quote`,
      [part.map((r) => r.day), part.map((r) => r.base), part.map((r) => r.quote)],
    );
    for (const f of found) {
      const scaled = scaledOf(f.rate);
      stored.set(rateKey(f), { scaled, rate: formatRate(scaled), source: f.source });
    }
  }

  const inserts: RateRow[] = [];
  const updates: RateRow[] = [];
  const conflicts: RateChange[] = [];
  const seen = new Set<string>();
  let unchanged = 0;
  for (const r of rows) {
    const k = rateKey(r);
    // A repeat within the input says the same thing (parseRates* checked it).
    if (seen.has(k)) {
      unchanged++;
      continue;
    }
    seen.add(k);
    const s = stored.get(k);
    if (!s) inserts.push(r);
    else if (s.scaled === r.scaled && s.source === r.source) unchanged++;
    else {
      conflicts.push({
        at: r.at,
        date: r.day,
        base: r.base,
        quote: r.quote,
        stored_rate: s.rate,
        stored_source: s.source,
        rate: r.rate,
        source: r.source,
      });
      updates.push(r);
    }
  }
  if (conflicts.length > 0 && !opts.replace) throw new RatesConflict(conflicts);

  if (!dryRun) {
    const columns = (part: RateRow[]) => [
      part.map((r) => r.day),
      part.map((r) => r.base),
      part.map((r) => r.quote),
      part.map((r) => r.rate),
      part.map((r) => r.source),
    ];
    for (const part of chunks(inserts))
      await em.query(
        `INSERT INTO exchange_rates (day, base, quote, rate, source)
         SELECT * FROM unnest($1::date[], $2::bpchar[], $3::bpchar[], $4::numeric[], $5::varchar[])`,
        columns(part),
      );
    for (const part of chunks(updates))
      await em.query(
        `UPDATE exchange_rates e SET rate = u.rate, source = u.source, created_at = now()
           FROM unnest($1::date[], $2::bpchar[], $3::bpchar[], $4::numeric[], $5::varchar[])
                AS u(day, base, quote, rate, source)
          WHERE e.day = u.day AND e.base = u.base AND e.quote = u.quote`,
        columns(part),
      );
  }
  return {
    rows: rows.length,
    inserted: inserts.length,
    unchanged,
    replaced: updates.length,
    dry_run: dryRun,
    replaced_rows: conflicts.slice(0, MAX_LISTED_CHANGES),
  };
}

export interface RateView {
  date: string;
  base: string;
  quote: string;
  rate: string;
  source: string;
  created_at: string;
}

export interface RatesQuery {
  base?: string;
  quote?: string;
  /** First and last UTC day, YYYY-MM-DD. */
  from?: string;
  to?: string;
  limit: number;
}

/** Stored rates, newest day first, then by pair; `truncated` when more matched than `limit`. */
export async function listRates(
  em: EntityManager,
  q: RatesQuery,
): Promise<{ items: RateView[]; truncated: boolean }> {
  const rows = await em.query<(Omit<RateView, 'created_at'> & { created_at: Date })[]>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS date, base, quote, rate::text AS rate, source, created_at
       FROM exchange_rates
      WHERE ($1::bpchar IS NULL OR base = $1) AND ($2::bpchar IS NULL OR quote = $2)
        AND ($3::date IS NULL OR day >= $3) AND ($4::date IS NULL OR day <= $4)
      ORDER BY day DESC, base, quote
      LIMIT $5`,
    [q.base ?? null, q.quote ?? null, q.from ?? null, q.to ?? null, q.limit + 1],
  );
  return {
    items: rows.slice(0, q.limit).map((r) => ({
      ...r,
      rate: formatRate(scaledOf(r.rate)),
      created_at: r.created_at.toISOString(),
    })),
    truncated: rows.length > q.limit,
  };
}
