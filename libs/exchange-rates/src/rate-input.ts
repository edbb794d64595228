/**
 * Reading rates from operators: a CSV file (`date,base,quote,rate,source`) or a JSON array of the
 * same fields, checked the same way, every problem named with its line (or array index) and field.
 */
import { parse } from 'csv-parse/sync';
import { formatRate, parseRate, RATE_CURRENCY } from '@app/domain';

export const RATE_FIELDS = ['date', 'base', 'quote', 'rate', 'source'] as const;
export type RateField = (typeof RATE_FIELDS)[number];
export const RATES_CSV_HEADER = RATE_FIELDS.join(',');
/** At most this many rates per import (a year of daily rates for ~270 pairs). */
export const MAX_RATE_ROWS = 100_000;
/** At most this many bytes of CSV per import: 100,000 lines of about 60 bytes, and room to spare. */
export const MAX_RATES_FILE_BYTES = 16 * 1024 * 1024;
/** At most this many problems are listed: a wrong file is not worth a 100,000-line answer. */
export const MAX_LISTED_PROBLEMS = 20;
export const MAX_SOURCE_LENGTH = 64;

/** One rate as checked: `rate` in its minimal form, `scaled` its value in units of 10^-12. */
export interface RateRow {
  /** Where it was read: `line 7` of a file, `[3]` of a JSON array. */
  at: string;
  day: string;
  base: string;
  quote: string;
  rate: string;
  scaled: bigint;
  source: string;
}

export interface RateProblem {
  at: string;
  /** The field at fault (`date`, `rate`...), or `file` / `header` / `row` for the shape. */
  field: string;
  message: string;
}

/** The input was refused, with each problem (at most MAX_LISTED_PROBLEMS of them). */
export class RatesInputError extends Error {
  constructor(
    readonly problems: RateProblem[],
    readonly more = false,
  ) {
    super(
      `${problems.map((p) => `${p.at}${p.field === 'file' ? '' : `, ${p.field}`}: ${p.message}`).join('; ')}${more ? '; ...' : ''}`,
    );
    this.name = 'RatesInputError';
  }
}

/** Whether s is a real calendar day written YYYY-MM-DD. */
export function isIsoDay(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

// Control characters (NUL included) cannot be stored or shown sensibly.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Checks one rate's fields; pushes its problems and answers undefined when it has any. */
function checkRow(at: string, v: Record<RateField, unknown>, problems: RateProblem[]): RateRow | undefined {
  const before = problems.length;
  const bad = (field: RateField, message: string) => problems.push({ at, field, message });
  const str = (field: RateField): string | undefined => {
    const x = v[field];
    if (typeof x === 'string') return x;
    bad(
      field,
      x === undefined || x === null
        ? `${field} is missing`
        : `${field} must be a string${field === 'rate' ? ' like "0.92" (a JSON number loses digits)' : ''}`,
    );
    return undefined;
  };
  const day = str('date');
  if (day !== undefined && !isIsoDay(day))
    bad('date', `date must be a day as YYYY-MM-DD (got "${clip(day)}")`);
  const code = (field: 'base' | 'quote') => {
    const c = str(field);
    if (c !== undefined && !RATE_CURRENCY.test(c))
      bad(field, `${field} must be a 3-letter upper-case currency code like USD (got "${clip(c)}")`);
    return c;
  };
  const base = code('base');
  const quote = code('quote');
  if (base !== undefined && base === quote && RATE_CURRENCY.test(base))
    bad('quote', `quote must differ from base (both ${base})`);
  const rateText = str('rate');
  const rate = rateText === undefined ? undefined : parseRate(rateText);
  if (rate && !rate.ok) bad('rate', `${rate.reason} (got "${clip(rateText!)}")`);
  const source = str('source');
  if (source !== undefined) {
    if (source.length < 1 || source.length > MAX_SOURCE_LENGTH)
      bad('source', `source must be 1 to ${MAX_SOURCE_LENGTH} characters (got ${source.length})`);
    else if (CONTROL.test(source)) bad('source', 'source must not contain control characters');
    else if (source.trim() !== source) bad('source', 'source must not start or end with spaces');
  }
  if (problems.length > before || !rate?.ok) return undefined;
  return {
    at,
    day: day!,
    base: base!,
    quote: quote!,
    rate: formatRate(rate.scaled),
    scaled: rate.scaled,
    source: source!,
  };
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}...` : s).replace(CONTROL, '?');

/** A rate repeated in one input must say the same thing each time. */
function checkRepeats(rows: RateRow[], problems: RateProblem[]): void {
  const first = new Map<string, RateRow>();
  for (const r of rows) {
    const k = rateKey(r);
    const f = first.get(k);
    if (!f) first.set(k, r);
    else if (f.scaled !== r.scaled || f.source !== r.source)
      problems.push({
        at: r.at,
        field: f.scaled !== r.scaled ? 'rate' : 'source',
        message: `${r.day} ${r.base}/${r.quote} repeats ${f.at} with a different ${f.scaled !== r.scaled ? `rate (${f.rate} there, ${r.rate} here)` : `source (${f.source} there, ${r.source} here)`}`,
      });
  }
}

export const rateKey = (r: { day: string; base: string; quote: string }) => `${r.day}|${r.base}|${r.quote}`;

function finish(rows: RateRow[], problems: RateProblem[]): RateRow[] {
  if (problems.length === 0) checkRepeats(rows, problems);
  if (problems.length > 0)
    throw new RatesInputError(problems.slice(0, MAX_LISTED_PROBLEMS), problems.length > MAX_LISTED_PROBLEMS);
  return rows;
}

/**
 * A rates file: the header `date,base,quote,rate,source`, then one rate per line. Tolerates a
 * byte order mark, CRLF line ends, spaces around fields, quoted fields and blank lines; refuses
 * anything else with its line number.
 */
export function parseRatesCsv(text: string): RateRow[] {
  const fileProblem = (at: string, message: string) => new RatesInputError([{ at, field: 'file', message }]);
  if (Buffer.byteLength(text) > MAX_RATES_FILE_BYTES)
    throw fileProblem('file', `the file is larger than ${MAX_RATES_FILE_BYTES} bytes; split it`);
  // Counted before parsing: a rate cannot span lines (a line break in a field is refused anyway).
  const nonBlank = text.split('\n').filter((l) => l.trim() !== '').length;
  if (nonBlank > MAX_RATE_ROWS + 1)
    throw fileProblem('file', `the file has ${nonBlank - 1} rates, more than ${MAX_RATE_ROWS}; split it`);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const line = (e as { lines?: unknown }).lines;
    throw fileProblem(
      typeof line === 'number' ? `line ${line}` : 'file',
      `not readable as CSV: ${(e as Error).message.replace(/^Invalid Record Length: |^.*?: /, '')}`,
    );
  }
  const [header, ...lines] = records;
  if (!header) throw fileProblem('line 1', `the file is empty: its first line must be ${RATES_CSV_HEADER}`);
  if (header.record.join(',') !== RATES_CSV_HEADER)
    throw fileProblem(
      `line ${header.info.lines}`,
      `the header must be ${RATES_CSV_HEADER} (got "${clip(header.record.join(','))}")`,
    );
  if (lines.length === 0)
    throw fileProblem(`line ${header.info.lines + 1}`, 'the file has no rates after its header');
  const problems: RateProblem[] = [];
  const rows: RateRow[] = [];
  for (const { record, info } of lines) {
    const at = `line ${info.lines}`;
    if (record.length !== RATE_FIELDS.length) {
      problems.push({
        at,
        field: 'row',
        message: `expected ${RATE_FIELDS.length} fields (${RATES_CSV_HEADER}), got ${record.length}`,
      });
      continue;
    }
    const values = Object.fromEntries(RATE_FIELDS.map((f, i) => [f, record[i]])) as Record<RateField, string>;
    const row = checkRow(at, values, problems);
    if (row) rows.push(row);
    if (problems.length > MAX_LISTED_PROBLEMS) break;
  }
  return finish(rows, problems);
}

/** At most this many rates in one JSON request (the admin API's JSON body limit is small anyway). */
export const MAX_JSON_RATES = 1000;

/** A JSON array of `{date, base, quote, rate, source}` (rate a string), checked like a file. */
export function parseRatesJson(body: unknown): RateRow[] {
  const shape = (message: string) => new RatesInputError([{ at: 'body', field: 'file', message }]);
  if (!Array.isArray(body)) throw shape('the body must be a JSON array of {date, base, quote, rate, source}');
  if (body.length === 0) throw shape('the body has no rates');
  if (body.length > MAX_JSON_RATES)
    throw shape(`the body has ${body.length} rates, more than ${MAX_JSON_RATES}; import a CSV file instead`);
  const problems: RateProblem[] = [];
  const rows: RateRow[] = [];
  body.forEach((item: unknown, i) => {
    if (problems.length > MAX_LISTED_PROBLEMS) return;
    const at = `[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push({
        at,
        field: 'row',
        message: 'each rate must be an object {date, base, quote, rate, source}',
      });
      return;
    }
    const unknown = Object.keys(item).filter((k) => !(RATE_FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      problems.push({ at, field: clip(unknown[0]!), message: `unknown field ${clip(unknown[0]!)}` });
      return;
    }
    const row = checkRow(at, item as Record<RateField, unknown>, problems);
    if (row) rows.push(row);
  });
  return finish(rows, problems);
}
