import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { DataSource, EntityManager } from 'typeorm';
import { isCurrency, parseMicros, ulidFactory } from '@app/domain';

/** Canonical columns of a counterparty file; `offer` is optional (match on transaction id alone). */
export const DISPUTE_COLUMNS = ['transaction_id', 'offer', 'status', 'payout', 'currency', 'date'] as const;
export type DisputeColumn = (typeof DISPUTE_COLUMNS)[number];
export const DEFAULT_COLUMN_MAP: Record<DisputeColumn, string> = {
  transaction_id: 'transaction_id',
  offer: 'offer',
  status: 'status',
  payout: 'payout',
  currency: 'currency',
  date: 'date',
};

/** Common ways networks and walls spell a status, normalised to ours (held counts as pending). */
const STATUS_WORDS: Record<string, 'pending' | 'approved' | 'rejected' | 'reversed'> = {
  approved: 'approved',
  approve: 'approved',
  confirmed: 'approved',
  paid: 'approved',
  accepted: 'approved',
  '1': 'approved',
  pending: 'pending',
  hold: 'pending',
  held: 'pending',
  '0': 'pending',
  rejected: 'rejected',
  declined: 'rejected',
  denied: 'rejected',
  '2': 'rejected',
  reversed: 'reversed',
  reversal: 'reversed',
  chargeback: 'reversed',
  refunded: 'reversed',
  '3': 'reversed',
};

/** Parses "ours=theirs,..." column names (e.g. `transaction_id=txid,payout=amount`); a string is the problem. */
export function parseColumnMap(spec: string | undefined): Partial<Record<DisputeColumn, string>> | string {
  const out: Partial<Record<DisputeColumn, string>> = {};
  for (const pair of (spec ?? '').split(',').filter(Boolean)) {
    const [ours, theirs] = pair.split('=').map((s) => s.trim());
    if (!ours || !theirs || !(DISPUTE_COLUMNS as readonly string[]).includes(ours))
      return `columns: '${pair}' is not <${DISPUTE_COLUMNS.join('|')}>=<their column name>`;
    out[ours as DisputeColumn] = theirs;
  }
  return out;
}

export class DisputeFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`the file was not imported: ${problems.join('; ')}`);
  }
}

export interface DisputeImportOptions {
  kind: 'partner' | 'publisher';
  counterpartyId: string;
  operator: string;
  fileName?: string;
  delimiter?: string;
  /** Their column name per canonical column (defaults: the canonical names). */
  columns?: Partial<Record<DisputeColumn, string>>;
  /** Only compare our conversions first reported in these UTC days (default: the file's own range). */
  from?: string;
  to?: string;
  /** Stop after this many bad lines (each is reported with its line number). */
  maxProblems?: number;
  onProgress?: (rows: number) => void;
}

export interface DisputeSummary {
  rows: number;
  matched: number;
  missing_ours: number;
  missing_theirs: number;
  status_differs: number;
  amount_differs: number;
  duplicate_theirs: number;
  currency: string;
  their_approved_micros: string;
  our_approved_micros: string;
}

interface Row {
  line: number;
  transaction_id: string;
  offer_id: string | null;
  status: string;
  payout_micros: string;
  currency: string;
  day: string;
}

const newId = ulidFactory();
const BATCH = 5000;
const DAY = /^(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Parses one record; returns the row or a problem naming the line and the column. */
export function readRecord(
  rec: Record<string, string>,
  line: number,
  cols: Record<DisputeColumn, string>,
  hasOffer: boolean,
): Row | string {
  const get = (c: DisputeColumn) => (rec[cols[c]] ?? '').trim();
  const tx = get('transaction_id');
  if (tx === '' || tx.length > 128) return `line ${line}: ${cols.transaction_id} must be 1-128 characters`;
  const offer = hasOffer ? get('offer') : '';
  if (offer.length > 64) return `line ${line}: ${cols.offer} is longer than 64 characters`;
  const status = STATUS_WORDS[get('status').toLowerCase()];
  if (!status)
    return `line ${line}: ${cols.status} '${get('status').slice(0, 40)}' is not a status (approved, pending, rejected, reversed)`;
  const m = parseMicros(get('payout'));
  if (!m.ok) return `line ${line}: ${cols.payout} '${get('payout').slice(0, 40)}': ${m.reason}`;
  const currency = get('currency').toUpperCase();
  if (!isCurrency(currency))
    return `line ${line}: ${cols.currency} '${currency.slice(0, 10)}' is not an ISO 4217 code`;
  const d = DAY.exec(get('date'));
  const day = d?.[1];
  if (
    !day ||
    Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ||
    new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day
  )
    return `line ${line}: ${cols.date} '${get('date').slice(0, 40)}' is not a date (YYYY-MM-DD or ISO 8601)`;
  return {
    line,
    transaction_id: tx,
    offer_id: offer === '' ? null : offer,
    status,
    payout_micros: m.micros.toString(),
    currency,
    day,
  };
}

/**
 * Imports a counterparty's CSV (streamed: a file of millions of lines never sits in memory),
 * then diffs it against our conversions per transaction, all in one transaction: a bad file
 * (missing columns, bad numbers or dates, mixed currencies, ragged lines) is refused whole with
 * every problem found (up to `maxProblems`) and its line number; nothing is stored.
 */
export async function importDispute(
  ds: DataSource,
  input: Readable,
  opts: DisputeImportOptions,
): Promise<{ id: string; summary: DisputeSummary }> {
  const cols = { ...DEFAULT_COLUMN_MAP, ...opts.columns };
  const maxProblems = opts.maxProblems ?? 20;
  const id = newId();
  return ds.transaction(async (em) => {
    // A file of millions of rows takes longer than the apps' per-statement limit.
    await em.query(`SET LOCAL statement_timeout = '30min'`);
    const problems: string[] = [];
    let hasOffer = false;
    let currency: string | undefined;
    let currencyLine = 0;
    let rows = 0;
    let [minDay, maxDay] = ['9999-12-31', '0000-01-01'];
    let batch: Row[] = [];
    const parser = input.pipe(
      parse({
        bom: true,
        delimiter: opts.delimiter ?? ',',
        trim: true,
        skip_empty_lines: true,
        max_record_size: 64 * 1024,
        // Each record comes with its own position (the parser reads ahead of the consumer).
        info: true,
        columns: (header: string[]) => {
          const missing = DISPUTE_COLUMNS.filter((c) => c !== 'offer' && !header.includes(cols[c]));
          if (missing.length)
            throw new DisputeFileError([
              `missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `'${cols[c]}'`).join(', ')} (the header has: ${header.slice(0, 20).join(', ')}; map yours with columns)`,
            ]);
          hasOffer = header.includes(cols.offer);
          return header;
        },
      }),
    );
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: Record<string, string>;
        info: { lines: number };
      }>) {
        const line = info.lines;
        const r = readRecord(record, line, cols, hasOffer);
        if (typeof r === 'string') problems.push(r);
        else if (currency !== undefined && r.currency !== currency)
          problems.push(
            `line ${line}: currency ${r.currency} differs from ${currency} (line ${currencyLine}): one currency per file`,
          );
        else {
          currency ??= r.currency;
          currencyLine ||= line;
          if (r.day < minDay) minDay = r.day;
          if (r.day > maxDay) maxDay = r.day;
          batch.push(r);
        }
        rows++;
        if (problems.length >= maxProblems) break;
        if (batch.length >= BATCH) {
          await insertRows(em, id, batch);
          batch = [];
          opts.onProgress?.(rows);
        }
      }
    } catch (e) {
      if (e instanceof DisputeFileError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new DisputeFileError([...problems, `not a readable CSV file: ${msg}`]);
    }
    if (problems.length) throw new DisputeFileError(problems);
    if (rows === 0 || currency === undefined) throw new DisputeFileError(['the file has no rows']);
    await insertRows(em, id, batch);
    opts.onProgress?.(rows);
    const from = opts.from ?? minDay;
    const to = opts.to ?? maxDay;
    await em.query(
      `INSERT INTO disputes (id, counterparty_kind, counterparty_id, file_name, rows, from_day, to_day, summary, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', $8)`,
      [id, opts.kind, opts.counterpartyId, opts.fileName ?? null, rows, from, to, opts.operator],
    );
    const summary = await diff(em, id, opts.kind, opts.counterpartyId, from, to, currency, rows);
    await em.query(`UPDATE disputes SET summary = $2 WHERE id = $1`, [id, JSON.stringify(summary)]);
    return { id, summary };
  });
}

async function insertRows(em: EntityManager, id: string, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  await em.query(
    `INSERT INTO dispute_rows (dispute_id, line, transaction_id, offer_id, status, payout_micros, currency, day)
     SELECT $1, line, transaction_id, offer_id, status, payout_micros::bigint, currency, day::date
       FROM jsonb_to_recordset($2::jsonb) AS x(line int, transaction_id text, offer_id text, status text,
         payout_micros text, currency text, day text)`,
    [id, JSON.stringify(rows)],
  );
}

/**
 * The diff, in SQL over their rows and our conversions of this counterparty. A transaction of
 * theirs matches our conversion with the same transaction id (and offer, when their file has
 * one). Ours that they lack are the conversions first reported in [from, to] that counted
 * (pending, held, approved, reversed). Held compares as pending.
 */
async function diff(
  em: EntityManager,
  id: string,
  kind: 'partner' | 'publisher',
  who: string,
  from: string,
  to: string,
  currency: string,
  rows: number,
): Promise<DisputeSummary> {
  const col = kind === 'partner' ? 'partner_id' : 'publisher_id';
  await em.query(
    `WITH theirs AS (
       SELECT DISTINCT ON (transaction_id, coalesce(offer_id, '')) * FROM dispute_rows WHERE dispute_id = $1
        ORDER BY transaction_id, coalesce(offer_id, ''), line),
     dups AS (
       SELECT transaction_id, offer_id, jsonb_agg(jsonb_build_object('line', line, 'status', status,
                'payout_micros', payout_micros::text, 'currency', currency, 'date', day) ORDER BY line) AS lines
         FROM dispute_rows WHERE dispute_id = $1 GROUP BY transaction_id, offer_id HAVING count(*) > 1),
     ours AS (SELECT * FROM conversions WHERE ${col} = $2),
     pairs AS (
       SELECT t.transaction_id AS t_tx, t.offer_id AS t_offer, t.line, t.status AS t_status, t.payout_micros AS t_micros,
              t.currency AS t_currency, t.day AS t_day, o.conversion_id, o.offer_id AS o_offer,
              o.transaction_id AS o_tx, o.status AS o_status_raw,
              CASE o.status WHEN 'held' THEN 'pending' ELSE o.status END AS o_status,
              o.amount_micros AS o_micros, o.currency AS o_currency, o.first_received_at
         FROM theirs t
         FULL JOIN ours o ON o.transaction_id = t.transaction_id AND (t.offer_id IS NULL OR t.offer_id = o.offer_id)),
     items AS (
       SELECT 'duplicate_theirs' AS kind, transaction_id AS tx, offer_id AS offer, NULL::varchar AS conversion_id,
              NULL::jsonb AS ours, jsonb_build_object('lines', lines) AS theirs
         FROM dups
       UNION ALL
       SELECT CASE
                WHEN conversion_id IS NULL THEN 'missing_ours'
                WHEN t_tx IS NULL THEN 'missing_theirs'
                WHEN o_status <> t_status THEN 'status_differs'
                ELSE 'amount_differs' END,
              coalesce(t_tx, o_tx), coalesce(o_offer, t_offer), conversion_id,
              CASE WHEN conversion_id IS NULL THEN NULL ELSE jsonb_build_object('status', o_status_raw,
                'amount_micros', o_micros::text, 'currency', o_currency, 'first_received_at', first_received_at) END,
              CASE WHEN t_tx IS NULL THEN NULL ELSE jsonb_build_object('line', line, 'status', t_status,
                'payout_micros', t_micros::text, 'currency', t_currency, 'date', t_day) END
         FROM pairs
        WHERE conversion_id IS NULL
           OR (t_tx IS NULL AND o_status_raw IN ('pending', 'held', 'approved', 'reversed')
               AND (first_received_at AT TIME ZONE 'UTC')::date BETWEEN $3::date AND $4::date)
           OR (t_tx IS NOT NULL AND o_status <> t_status)
           OR (t_tx IS NOT NULL AND o_status = 'approved' AND t_status = 'approved'
               AND (o_micros <> t_micros OR o_currency <> t_currency)))
     INSERT INTO dispute_items (dispute_id, item, kind, transaction_id, offer_id, conversion_id, ours, theirs)
     SELECT $1, row_number() OVER (ORDER BY kind, tx, offer), kind, tx, offer, conversion_id, ours, theirs FROM items`,
    [id, who, from, to],
  );
  const [c] = await em.query<Record<string, string | number>[]>(
    `SELECT count(*) FILTER (WHERE kind = 'missing_ours')::int AS missing_ours,
            count(*) FILTER (WHERE kind = 'missing_theirs')::int AS missing_theirs,
            count(*) FILTER (WHERE kind = 'status_differs')::int AS status_differs,
            count(*) FILTER (WHERE kind = 'amount_differs')::int AS amount_differs,
            count(*) FILTER (WHERE kind = 'duplicate_theirs')::int AS duplicate_theirs
       FROM dispute_items WHERE dispute_id = $1`,
    [id],
  );
  const [money] = await em.query<{ theirs: string; ours: string; matched: number }[]>(
    `SELECT (SELECT coalesce(sum(payout_micros), 0)::text FROM (SELECT DISTINCT ON (transaction_id, coalesce(offer_id, ''))
               payout_micros, status FROM dispute_rows WHERE dispute_id = $1
              ORDER BY transaction_id, coalesce(offer_id, ''), line) t WHERE status = 'approved') AS theirs,
            (SELECT coalesce(sum(amount_micros), 0)::text FROM conversions
              WHERE ${col} = $2 AND status = 'approved' AND currency = $5
                AND (first_received_at AT TIME ZONE 'UTC')::date BETWEEN $3::date AND $4::date) AS ours,
            (SELECT count(DISTINCT r.transaction_id)::int FROM dispute_rows r JOIN conversions c
               ON c.transaction_id = r.transaction_id AND c.${col} = $2 AND (r.offer_id IS NULL OR r.offer_id = c.offer_id)
              WHERE r.dispute_id = $1) AS matched`,
    [id, who, from, to, currency],
  );
  return {
    rows,
    matched: money!.matched,
    missing_ours: Number(c!.missing_ours),
    missing_theirs: Number(c!.missing_theirs),
    status_differs: Number(c!.status_differs),
    amount_differs: Number(c!.amount_differs),
    duplicate_theirs: Number(c!.duplicate_theirs),
    currency,
    their_approved_micros: money!.theirs,
    our_approved_micros: money!.ours,
  };
}
