/**
 * `ledger rates import|list`: exchange rates per UTC day and pair (docs/cli.md#exchange-rates).
 * Arguments are checked by commands.ts first. An import is all or nothing, audited under
 * `cli:<operator>`; a refused file or a differing stored rate exits 1, listing each on stderr.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  type ImportResult,
  importRates,
  listRates,
  MAX_RATES_FILE_BYTES,
  parseRatesCsv,
  type RateChange,
  RatesConflict,
  RatesInputError,
  type RateRow,
} from '@app/exchange-rates';
import { writeAudit } from '@app/operators';
import { type ParsedCommand, UsageError } from './command-line';
import { out, outJson } from './output';
import { cliAuditor, operatorOf } from './read-models.command';
import { table } from './table';

const changes = (rows: RateChange[]) =>
  table(
    ['where', 'date', 'pair', 'stored', 'given'],
    rows.map((c) => [
      c.at,
      c.date,
      `${c.base}/${c.quote}`,
      `${c.stored_rate} (${c.stored_source})`,
      `${c.rate} (${c.source})`,
    ]),
  );

function readRates(file: string): RateRow[] {
  let text: string;
  try {
    // Refused before reading: the file's size is known without loading it.
    if (statSync(file).size > MAX_RATES_FILE_BYTES)
      throw new RatesInputError([
        {
          at: 'file',
          field: 'file',
          message: `the file is larger than ${MAX_RATES_FILE_BYTES} bytes; split it`,
        },
      ]);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof RatesInputError) throw e;
    throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseRatesCsv(text);
}

async function importFile(ds: DataSource, p: ParsedCommand): Promise<number> {
  const file = p.args[0]!;
  const operator = operatorOf(p.opts);
  const opts = { replace: p.opts.has('replace'), dryRun: p.opts.has('dry-run') };
  let result: ImportResult;
  try {
    const rows = readRates(file);
    result = opts.dryRun
      ? await importRates(ds.manager, rows, opts)
      : await ds.transaction(async (em) => {
          const r = await importRates(em, rows, opts);
          const days = rows.map((x) => x.day).sort();
          await writeAudit(em, cliAuditor(operator), {
            action: 'exchange_rates.import',
            subject: `exchange_rates:${days[0]}..${days[days.length - 1]}`,
            request: { file: basename(file), rows: rows.length, replace: opts.replace },
            before: r.replaced_rows.map((c) => ({
              date: c.date,
              base: c.base,
              quote: c.quote,
              rate: c.stored_rate,
              source: c.stored_source,
            })),
            after: r,
          });
          return r;
        });
  } catch (e) {
    if (e instanceof RatesInputError) {
      process.stderr.write(
        `ledger rates import: ${file} was not imported:\n${e.problems
          .map((x) => `  ${x.at}${x.field === 'file' ? '' : `, ${x.field}`}: ${x.message}\n`)
          .join('')}${e.more ? '  ... (the first 20 problems)\n' : ''}`,
      );
      if (p.json) outJson({ file, imported: false, problems: e.problems });
      return 1;
    }
    if (e instanceof RatesConflict) {
      process.stderr.write(
        `ledger rates import: ${opts.dryRun ? 'dry run: the import would be refused' : 'refused, nothing was imported'}: ` +
          `${e.conflicts.length} rate(s) differ from the stored ones. Entries converted at a rate keep it; ` +
          `--replace overwrites these deliberately.\n${changes(e.conflicts)}\n`,
      );
      if (p.json) outJson({ file, imported: false, conflicts: e.conflicts });
      return 1;
    }
    throw e;
  }
  if (p.json) {
    outJson({ file, ...result });
    return 0;
  }
  const verb = result.dry_run ? 'would be ' : '';
  out(
    `${result.dry_run ? 'dry run, nothing written: ' : ''}${basename(file)}: ${result.rows} rate(s): ` +
      `${result.inserted} ${verb}inserted, ${result.unchanged} unchanged, ${result.replaced} ${verb}replaced`,
  );
  if (result.replaced_rows.length > 0) out(`\n${changes(result.replaced_rows)}`);
  return 0;
}

async function list(ds: DataSource, p: ParsedCommand): Promise<number> {
  const { opts } = p;
  const limit = Number(opts.get('limit') ?? 1000);
  const { items, truncated } = await listRates(ds.manager, {
    base: opts.get('base'),
    quote: opts.get('quote'),
    from: opts.get('from'),
    to: opts.get('to'),
    limit,
  });
  if (p.json) {
    outJson({ items, truncated });
    return 0;
  }
  out(
    table(
      ['date', 'base', 'quote', 'rate', 'source', 'stored (UTC)'],
      items.map((r) => [
        r.date,
        r.base,
        r.quote,
        r.rate,
        r.source,
        r.created_at.slice(0, 19).replace('T', ' '),
      ]),
    ),
  );
  out(`\n${items.length} rate(s)${truncated ? ` (more match: narrow --from/--to or raise --limit)` : ''}`);
  return 0;
}

export async function rates(ds: DataSource, p: ParsedCommand): Promise<number> {
  const cmd = p.spec.path[1];
  if (cmd === 'import') return importFile(ds, p);
  if (cmd === 'list') return list(ds, p);
  throw new Error(`no handler for rates ${cmd}`);
}
