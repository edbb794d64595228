/**
 * `ledger dispute import|show|resolve` (docs/runbooks/disputes.md). Arguments are checked by
 * commands.ts first.
 */
import { appendFileSync, createReadStream, type ReadStream, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { DataSource } from 'typeorm';
import { parseSignedMicros } from '@app/domain';
import { disputeCsv, importDispute, loadDispute, parseColumnMap, resolveDisputeItem } from '@app/disputes';
import { writeAudit } from '@app/operators';
import { type ParsedCommand, UsageError } from './command-line';
import { out, outJson, progress, write } from './output';
import { cliAuditor, operatorOf, units } from './read-models.command';
import { table } from './table';

/** Writes every difference to a CSV (or JSON lines for .json/.ndjson) file, page by page: any size, flat memory. */
async function exportDispute(ds: DataSource, id: string, file: string): Promise<number> {
  const json = /\.(nd)?json$/.test(file);
  writeFileSync(file, '');
  let after = 0;
  let n = 0;
  for (;;) {
    const page = (await loadDispute(ds.manager, id, { afterItem: after, limit: 20_000 }))!;
    if (page.items.length === 0) break;
    appendFileSync(
      file,
      json ? page.items.map((i) => `${JSON.stringify(i)}\n`).join('') : disputeCsv(page.items, after === 0),
    );
    n += page.items.length;
    after = page.items[page.items.length - 1]!.item as number;
  }
  if (n === 0 && !json) writeFileSync(file, disputeCsv([]));
  return n;
}

async function importFile(ds: DataSource, p: ParsedCommand): Promise<number> {
  const { opts } = p;
  const file = opts.get('file')!;
  const columns = parseColumnMap(opts.get('columns'));
  if (typeof columns === 'string') throw new UsageError(columns);
  const operator = operatorOf(opts);
  const input: ReadStream = createReadStream(file);
  try {
    await new Promise((ok, fail) => input.once('open', ok).once('error', fail));
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const started = Date.now();
  const imported = await importDispute(ds, input, {
    kind: opts.has('partner') ? 'partner' : 'publisher',
    counterpartyId: (opts.get('partner') ?? opts.get('publisher'))!,
    operator,
    fileName: basename(file),
    delimiter: opts.get('delimiter')?.replace('\\t', '\t'),
    columns,
    from: opts.get('from'),
    to: opts.get('to'),
    onProgress: (n) => progress(`\rread ${n} rows`),
  });
  const { id: disputeId, summary } = imported;
  await writeAudit(ds.manager, cliAuditor(operator), {
    action: 'dispute.import',
    subject: `dispute:${disputeId}`,
    request: { file: basename(file), partner: opts.get('partner'), publisher: opts.get('publisher') },
    before: null,
    after: imported,
  });
  progress('\n');
  const file_out = opts.get('out');
  if (!p.json) {
    out(`dispute ${disputeId}: ${summary.rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    out(
      table(
        ['difference', 'count'],
        (
          ['missing_ours', 'missing_theirs', 'status_differs', 'amount_differs', 'duplicate_theirs'] as const
        ).map((k) => [k, String(summary[k])]),
      ),
    );
    out(
      `\nmatched ${summary.matched}; approved payout theirs ${units(summary.their_approved_micros)} vs ours ${units(summary.our_approved_micros)} ${summary.currency}`,
    );
  }
  const written = file_out ? await exportDispute(ds, disputeId, file_out) : undefined;
  if (p.json)
    outJson({ id: disputeId, summary, out: file_out ? { file: file_out, differences: written } : null });
  else if (file_out) out(`${written} differences written to ${file_out}`);
  return 0;
}

const PAGE = 10_000;

/** Every difference (page by page, with back-pressure: any number of them, whole). */
async function show(ds: DataSource, p: ParsedCommand, id: string): Promise<number> {
  const filter = { kind: p.opts.get('kind'), open: p.opts.has('open') };
  const first = await loadDispute(ds.manager, id, { ...filter, limit: PAGE });
  if (!first) {
    process.stderr.write(`no dispute ${id}\n`);
    return 1;
  }
  const format = p.opts.get('format') ?? 'table';
  if (format === 'json') await write(`{\n  "dispute": ${JSON.stringify(first.dispute)},\n  "items": [\n`);
  const side = (v: unknown, k: string) => `${(v as Record<string, string | number> | null)?.[k] ?? '-'}`;
  const rows: string[][] = [];
  let page = first.items;
  for (let n = 0; page.length > 0;) {
    if (format === 'json')
      await write(page.map((i, k) => `${n + k === 0 ? '' : ',\n'}    ${JSON.stringify(i)}`).join(''));
    else if (format === 'csv') await write(disputeCsv(page, n === 0));
    else
      for (const i of page)
        rows.push([
          String(i.item),
          String(i.kind),
          String(i.transaction_id),
          `${side(i.ours, 'status')} ${side(i.ours, 'amount_micros')}`,
          `${side(i.theirs, 'status')} ${side(i.theirs, 'payout_micros')}`,
          `${(i.resolution as string | null) ?? 'open'}`,
        ]);
    n += page.length;
    if (page.length < PAGE) break;
    const after = page[page.length - 1]!.item as number;
    page = (await loadDispute(ds.manager, id, { ...filter, afterItem: after, limit: PAGE }))!.items;
  }
  if (format === 'json') await write('\n  ]\n}\n');
  else if (format === 'csv') {
    if (first.items.length === 0) await write(disputeCsv([]));
  } else out(table(['item', 'kind', 'transaction', 'ours', 'theirs', 'resolution'], rows));
  return 0;
}

export async function dispute(ds: DataSource, p: ParsedCommand): Promise<number> {
  const cmd = p.spec.path[1];
  if (cmd === 'import') return importFile(ds, p);
  const [id, item] = p.args as [string, string | undefined];
  if (cmd === 'show') return show(ds, p, id);
  // resolve
  const note = p.opts.get('note')!;
  const adjust = p.opts.has('adjust');
  const amount = adjust ? parseSignedMicros(p.opts.get('adjust')!) : undefined;
  if (adjust && !amount) throw new UsageError('--adjust needs a non-zero signed decimal like -1.25');
  const operator = operatorOf(p.opts);
  const r = await ds.transaction(async (em) => {
    const resolved = await resolveDisputeItem(em, {
      disputeId: id,
      item: Number(item),
      action: adjust ? 'adjust' : 'dismiss',
      amountMicros: amount,
      operator,
      note,
    });
    await writeAudit(em, cliAuditor(operator), {
      action: `dispute.${adjust ? 'adjust' : 'dismiss'}`,
      subject: `dispute:${id}:${item}`,
      request: { adjust: p.opts.get('adjust'), note },
      before: { resolution: null },
      after: {
        resolution: resolved.resolution,
        resolved_by: operator,
        entry_id: resolved.entry?.entry_id ?? null,
        amount_micros: resolved.entry?.amount_micros ?? null,
      },
    });
    return resolved;
  });
  if (p.json) outJson({ item: Number(item), ...r });
  else
    out(
      `item ${item} ${r.resolution}${r.entry ? `: ledger entry ${r.entry.entry_id} (${r.entry.amount_micros} micros)` : ''}`,
    );
  return 0;
}
