/**
 * Operator command for the ledger's read models. Reads DATABASE_URL.
 *
 *   ledger report reconciliation --from YYYY-MM-DD --to YYYY-MM-DD [--group-by offer,publisher,...]
 *                                [--partner P] [--offer O] [--format table|csv|json]
 *   ledger report latency|soft-rejects --from ... --to ... [--group-by ...] [--format table|json]
 *   ledger review list [--partner P] [--offer O] [--reason R] [--limit N]
 *   ledger review show <conversion_id>
 *   ledger review approve|reject <conversion_id> --note "..." [--operator NAME]   (default: $USER)
 *   ledger projections rebuild     drop every read model and replay it from the ledger; prints
 *                                  per-table row counts and hashes before and after
 *   ledger projections check       the same inside a transaction that is rolled back: exit 1 if the
 *                                  rebuilt read models differ from the live ones
 *   ledger dispute import --file F.csv (--partner P | --publisher U) [--delimiter ';'] [--columns ours=theirs,...]
 *                         [--from D --to D] [--operator NAME] [--out diff.csv|diff.ndjson]
 *                                  diff a counterparty's file against the ledger (streamed: any size)
 *   ledger dispute show <id> [--kind K] [--open] [--format table|csv|json]
 *   ledger dispute resolve <id> <item> (--adjust -1.25 | --dismiss) --note "..." [--operator NAME]
 *   ledger launch-check --from YYYY-MM-DD --to YYYY-MM-DD [--partner P] [--offer O] [--format table|json]
 *                                  the launch criteria (docs/launch-gates.md): pass/fail per criterion
 *                                  with the measured value; exit 1 when any fails
 *   ledger tokens create --name N --role viewer|reviewer|admin
 *                                  a named operator token; printed once (only its SHA-256 is stored)
 *   ledger tokens list [--all]     active tokens (--all: revoked ones too), last use
 *   ledger tokens revoke --name N  refused from the next request on
 *   ledger secrets status          stored secrets by the key that sealed them; exit 1 if a key is missing
 *   ledger secrets reencrypt       every stored secret sealed with SECRETS_KEY (after a rotation)
 *   ledger secrets new-key [--id ID]
 *                                  a fresh SECRETS_KEY value (<id>:<base64 of 32 random bytes>)
 *
 * Days are UTC. Exit codes: 0 ok, 1 a check failed or a decision was refused, 2 bad usage.
 */
import 'reflect-metadata';
import { appendFileSync, createReadStream, type ReadStream, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { parseSignedMicros } from '@app/domain';
import { table } from './table';
import { createDataSource } from '@app/persistence';
import { disputeCsv, importDispute, loadDispute, parseColumnMap, resolveDisputeItem } from '@app/disputes';
import { writeAudit } from '@app/operators';
import {
  decideHeldConversion,
  DEFAULT_GROUP_BY,
  latencyReport,
  launchCheck,
  listReviewQueue,
  inRebuildTransaction,
  readModelHashes,
  rebuildReadModels,
  reconCell,
  reconciliationReport,
  reconColumns,
  reconCsv,
  REPORT_DIMENSIONS,
  type ReportDimension,
  reportQueryProblem,
  type ReportQuery,
  ReviewRefused,
} from '@app/read-models';
import { appDatabaseUrl } from '@app/config';
import { checkConversionsAgainstLedger } from '@app/ledger';
import { CommandUsage, OperatorTokenRefused, secretsCommand, tokensCommand } from './operators.command';

class Usage extends Error {}

const USAGE = `usage:
  ledger report reconciliation|latency|soft-rejects --from YYYY-MM-DD --to YYYY-MM-DD [--group-by a,b] [--partner P] [--offer O] [--format table|csv|json]
  ledger review list [--partner P] [--offer O] [--reason R] [--limit N]
  ledger review show <conversion_id>
  ledger review approve|reject <conversion_id> --note "..." [--operator NAME]
  ledger projections rebuild|check
  ledger launch-check --from YYYY-MM-DD --to YYYY-MM-DD [--partner P] [--offer O] [--format table|json]
  ledger dispute import --file F.csv (--partner P | --publisher U) [--delimiter ';'] [--columns ours=theirs,...] [--from D --to D] [--out diff.csv|diff.ndjson]
  ledger dispute show <id> [--kind K] [--open] [--format table|csv|json]
  ledger dispute resolve <id> <item> (--adjust AMOUNT | --dismiss) --note "..." [--operator NAME]
  ledger tokens create --name N --role viewer|reviewer|admin
  ledger tokens list [--all]
  ledger tokens revoke --name N
  ledger secrets status|reencrypt
  ledger secrets new-key [--id ID]`;

/** Options that take no value. */
const SWITCHES = new Set(['open', 'dismiss', 'all']);

function parseArgs(argv: string[]): { pos: string[]; opts: Map<string, string> } {
  const pos: string[] = [];
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      pos.push(a);
      continue;
    }
    const [k, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (SWITCHES.has(k) && inline === undefined) {
      opts.set(k, 'true');
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined || (inline === undefined && v.startsWith('--')))
      throw new Usage(`--${k} needs a value`);
    opts.set(k, v);
  }
  return { pos, opts };
}

function allowOnly(opts: Map<string, string>, allowed: string[]): void {
  for (const k of opts.keys()) if (!allowed.includes(k)) throw new Usage(`unknown option --${k}`);
}

const units = (micros: string) => {
  const v = BigInt(micros);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0').slice(0, 2)}`;
};
const pct = (r: number | null) => (r === null ? '' : `${(r * 100).toFixed(1)}%`);

function reportQuery(opts: Map<string, string>, defaults: ReportDimension[]): ReportQuery {
  allowOnly(opts, ['from', 'to', 'group-by', 'partner', 'offer', 'format']);
  const groupBy = opts.has('group-by') ? opts.get('group-by')!.split(',').filter(Boolean) : defaults;
  const problem = reportQueryProblem({ from: opts.get('from'), to: opts.get('to'), groupBy });
  if (problem) throw new Usage(problem.replace(/^(from|to|group_by)/, (m) => `--${m.replace('_', '-')}`));
  return {
    from: opts.get('from')!,
    to: opts.get('to')!,
    groupBy: groupBy as ReportDimension[],
    partnerId: opts.get('partner'),
    offerId: opts.get('offer'),
  };
}

async function report(
  em: EntityManager,
  kind: string | undefined,
  opts: Map<string, string>,
): Promise<number> {
  const format = opts.get('format') ?? 'table';
  if (!['table', 'csv', 'json'].includes(format)) throw new Usage('--format must be table, csv or json');
  if (kind === 'reconciliation' || kind === 'soft-rejects') {
    const q = reportQuery(
      opts,
      kind === 'reconciliation' ? DEFAULT_GROUP_BY : ['day', 'partner', 'placement'],
    );
    const r = await reconciliationReport(em, q);
    if (format === 'json') console.log(JSON.stringify(r, null, 2));
    else if (format === 'csv') process.stdout.write(reconCsv(r));
    else {
      const dims = reconColumns(r).slice(0, q.groupBy.length);
      const head = [
        ...dims,
        'cur',
        'postbacks',
        'accept%',
        'dup',
        'rejected',
        'soft%',
        'held',
        'approved',
        'reversed',
        'payout',
      ];
      const cells = (x: (typeof r.rows)[number], label?: string) => [
        ...dims.map((d, i) => (label !== undefined ? (i === 0 ? label : '') : reconCell(x, d) || '-')),
        x.currency,
        String(x.postbacks),
        pct(x.acceptance_rate),
        String(x.duplicates),
        String(Object.values(x.rejected_by_reason).reduce((a, b) => a + b, 0)),
        pct(x.soft_reject_rate),
        String(x.held),
        String(x.approved + x.released),
        String(x.reversed),
        units(x.effective_payout_micros),
      ];
      console.log(table(head, [...r.rows.map((x) => cells(x)), ...r.totals.map((t) => cells(t, 'TOTAL'))]));
      console.log(
        `\n${r.rows.length} rows, UTC days ${q.from} .. ${q.to}; payout = approved + released - reversed + adjusted`,
      );
    }
    return 0;
  }
  if (kind === 'latency') {
    if (format === 'csv') throw new Usage('latency: --format table or json');
    const q = reportQuery(opts, ['offer', 'publisher']);
    const r = await latencyReport(em, q);
    if (format === 'json') console.log(JSON.stringify(r, null, 2));
    else {
      const dims = q.groupBy.filter((g) => g !== 'source');
      const sec = (ms: number | null) => (ms === null ? '' : (ms / 1000).toFixed(1));
      const rows = r.rows.map((x) => [
        ...dims.map((d) => (x as unknown as Record<string, string | null>)[REPORT_DIMENSIONS[d]] ?? '-'),
        x.metric,
        String(x.count),
        sec(x.p50_ms),
        sec(x.p90_ms),
        sec(x.p99_ms),
      ]);
      console.log(table([...dims, 'metric', 'count', 'p50 s', 'p90 s', 'p99 s'], rows));
    }
    return 0;
  }
  throw new Usage(`unknown report '${kind ?? ''}'`);
}

async function review(em: EntityManager, pos: string[], opts: Map<string, string>): Promise<number> {
  const [cmd, id] = pos;
  if (cmd === 'list') {
    allowOnly(opts, ['partner', 'offer', 'reason', 'limit']);
    const limit = Number(opts.get('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Usage('--limit must be 1..1000');
    const items = await listReviewQueue(em, {
      partnerId: opts.get('partner'),
      offerId: opts.get('offer'),
      reason: opts.get('reason'),
      limit,
    });
    console.log(
      table(
        [
          'conversion',
          'held at (UTC)',
          'reason',
          'amount',
          'cur',
          'partner',
          'offer',
          'publisher',
          'source',
          'click->conv s',
        ],
        items.map((i) => [
          i.conversion_id,
          i.held_at.toISOString().slice(0, 19),
          i.reason_code,
          units(i.amount_micros),
          i.currency,
          i.partner_id,
          i.offer_id,
          i.publisher_id ?? '-',
          i.sub1 ?? '-',
          i.evidence.click_to_conversion_ms === null
            ? ''
            : (i.evidence.click_to_conversion_ms / 1000).toFixed(1),
        ]),
      ),
    );
    console.log(`\n${items.length} held`);
    return 0;
  }
  if (!id) throw new Usage(`review ${cmd ?? ''}: give a conversion id`);
  if (cmd === 'show') {
    allowOnly(opts, []);
    const [item] = await listReviewQueue(em, { conversionId: id, limit: 1 });
    const entries = await em.query<{ payload: unknown }[]>(
      `SELECT payload FROM ledger_entries WHERE conversion_id = $1 ORDER BY seq`,
      [id],
    );
    if (!item && entries.length === 0) {
      console.error(`no conversion ${id}`);
      return 1;
    }
    console.log(JSON.stringify({ held: item ?? null, entries: entries.map((e) => e.payload) }, null, 2));
    return 0;
  }
  if (cmd === 'approve' || cmd === 'reject') {
    allowOnly(opts, ['note', 'operator']);
    const note = opts.get('note');
    const operator = opts.get('operator') ?? process.env.USER;
    if (!note) throw new Usage(`review ${cmd}: --note is required`);
    if (!operator) throw new Usage(`review ${cmd}: --operator is required (no $USER)`);
    const entry = await em.transaction(async (tx) => {
      const decided = await decideHeldConversion(tx, { conversionId: id, decision: cmd, operator, note });
      await writeAudit(tx, cliAuditor(operator), {
        action: `review.${cmd}`,
        subject: `conversion:${id}`,
        request: { note },
        before: { status: 'held' },
        after: {
          status: decided.conversion_status,
          entry_id: decided.entry_id,
          entry_type: decided.entry_type,
          operator: decided.operator,
          note: decided.note,
        },
      });
      return decided;
    });
    console.log(`${entry.entry_type} ${entry.conversion_id} by ${operator}: entry ${entry.entry_id}`);
    return 0;
  }
  throw new Usage(`unknown review command '${cmd ?? ''}'`);
}

async function projections(ds: DataSource, cmd: string | undefined): Promise<number> {
  if (cmd !== 'rebuild' && cmd !== 'check') throw new Usage(`projections: rebuild or check`);
  const same = await inRebuildTransaction(
    ds,
    async (tx) => {
      const before = await readModelHashes(tx);
      const started = Date.now();
      const done = await rebuildReadModels(tx, (p) =>
        process.stderr.write(`\rreplayed ${p.entries} ledger entries, ${p.outcomes} postback outcomes`),
      );
      process.stderr.write('\n');
      const after = await readModelHashes(tx);
      let identical = true;
      const rows = Object.keys(before).map((t) => {
        const b = before[t]!;
        const a = after[t]!;
        if (b.hash !== a.hash) identical = false;
        return [t, String(b.rows), String(a.rows), b.hash === a.hash ? 'identical' : 'DIFFERENT'];
      });
      console.log(table(['table', 'rows before', 'rows after', 'result'], rows));
      console.log(
        `\nreplayed ${done.entries} entries and ${done.outcomes} outcomes in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return identical;
    },
    // check: the same rebuild, rolled back.
    { commit: cmd === 'rebuild' },
  );
  if (cmd === 'check')
    console.log(
      same ? 'check: the read models equal a rebuild' : 'check: the read models differ from a rebuild',
    );
  // The conversions table against the fold of each conversion's ledger entries (libs/ledger).
  const diffs = await checkConversionsAgainstLedger(ds.manager);
  for (const d of diffs)
    console.log(`  ${d.conversionId} ${d.field}: table ${String(d.table)}, ledger ${String(d.ledger)}`);
  console.log(
    diffs.length === 0
      ? 'check: conversions equal the fold of their ledger entries'
      : `check: ${diffs.length}${diffs.length >= 100 ? '+' : ''} differences between conversions and their ledger entries`,
  );
  return (cmd === 'check' && !same) || diffs.length > 0 ? 1 : 0;
}

async function launch(em: EntityManager, opts: Map<string, string>): Promise<number> {
  allowOnly(opts, ['from', 'to', 'partner', 'offer', 'format']);
  const problem = reportQueryProblem({ from: opts.get('from'), to: opts.get('to') });
  if (problem) throw new Usage(problem.replace(/^(from|to)/, '--$1'));
  const format = opts.get('format') ?? 'table';
  if (format !== 'table' && format !== 'json') throw new Usage('--format must be table or json');
  const r = await launchCheck(em, {
    from: opts.get('from')!,
    to: opts.get('to')!,
    partnerId: opts.get('partner'),
    offerId: opts.get('offer'),
  });
  if (format === 'json') console.log(JSON.stringify(r, null, 2));
  else {
    const who = [
      r.subject.partner_id && `partner ${r.subject.partner_id}`,
      r.subject.offer_id && `offer ${r.subject.offer_id}`,
    ]
      .filter(Boolean)
      .join(', ');
    console.log(`launch check for ${who || 'all traffic'}, UTC days ${r.from} .. ${r.to}\n`);
    console.log(
      table(
        ['criterion', 'result', 'measured'],
        r.results.map((x) => [x.criterion, x.pass ? 'PASS' : 'FAIL', x.detail]),
      ),
    );
    console.log(`\n${r.pass ? 'PASS: every criterion holds' : 'FAIL: see the criteria marked FAIL'}`);
  }
  return r.pass ? 0 : 1;
}

/** The CLI's changes are audited under the operator it names (`cli:` marks where they came from). */
const cliAuditor = (operator: string) => ({ name: `cli:${operator}`.slice(0, 64), role: 'cli' });

const operatorOf = (opts: Map<string, string>) => {
  const op = opts.get('operator') ?? process.env.USER;
  if (!op) throw new Usage('--operator is required (no $USER)');
  return op;
};

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

async function dispute(ds: DataSource, pos: string[], opts: Map<string, string>): Promise<number> {
  const [cmd, id, item] = pos;
  if (cmd === 'import') {
    allowOnly(opts, [
      'file',
      'partner',
      'publisher',
      'delimiter',
      'columns',
      'from',
      'to',
      'operator',
      'out',
    ]);
    const file = opts.get('file');
    if (!file) throw new Usage('dispute import: --file is required');
    if (!opts.has('partner') === !opts.has('publisher'))
      throw new Usage('dispute import: give --partner or --publisher');
    const columns = parseColumnMap(opts.get('columns'));
    if (typeof columns === 'string') throw new Usage(columns.replace(/^columns/, '--columns'));
    for (const k of ['from', 'to'] as const)
      if (opts.has(k) && reportQueryProblem({ from: opts.get(k), to: opts.get(k) }))
        throw new Usage(`--${k} must be a UTC day as YYYY-MM-DD`);
    const delimiter = opts.get('delimiter')?.replace('\\t', '\t');
    const input: ReadStream = createReadStream(file);
    try {
      await new Promise((ok, fail) => input.once('open', ok).once('error', fail));
    } catch (e) {
      throw new Usage(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const started = Date.now();
    const imported = await importDispute(ds, input, {
      kind: opts.has('partner') ? 'partner' : 'publisher',
      counterpartyId: (opts.get('partner') ?? opts.get('publisher'))!,
      operator: operatorOf(opts),
      fileName: basename(file),
      delimiter,
      columns,
      from: opts.get('from'),
      to: opts.get('to'),
      onProgress: (n) => process.stderr.write(`\rread ${n} rows`),
    });
    const { id: disputeId, summary } = imported;
    await writeAudit(ds.manager, cliAuditor(operatorOf(opts)), {
      action: 'dispute.import',
      subject: `dispute:${disputeId}`,
      request: { file: basename(file), partner: opts.get('partner'), publisher: opts.get('publisher') },
      before: null,
      after: imported,
    });
    process.stderr.write(`\n`);
    console.log(
      `dispute ${disputeId}: ${summary.rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    console.log(
      table(
        ['difference', 'count'],
        (
          ['missing_ours', 'missing_theirs', 'status_differs', 'amount_differs', 'duplicate_theirs'] as const
        ).map((k) => [k, String(summary[k])]),
      ),
    );
    console.log(
      `\nmatched ${summary.matched}; approved payout theirs ${units(summary.their_approved_micros)} vs ours ${units(summary.our_approved_micros)} ${summary.currency}`,
    );
    const out = opts.get('out');
    if (out) {
      const n = await exportDispute(ds, disputeId, out);
      console.log(`${n} differences written to ${out}`);
    }
    return 0;
  }
  if (!id) throw new Usage(`dispute ${cmd ?? ''}: give a dispute id`);
  if (cmd === 'show') {
    allowOnly(opts, ['kind', 'open', 'format']);
    const d = await loadDispute(ds.manager, id, {
      kind: opts.get('kind'),
      open: opts.get('open') === 'true',
    });
    if (!d) {
      console.error(`no dispute ${id}`);
      return 1;
    }
    const format = opts.get('format') ?? 'table';
    if (format === 'json') console.log(JSON.stringify(d, null, 2));
    else if (format === 'csv') process.stdout.write(disputeCsv(d.items));
    else {
      const side = (v: unknown, k: string) => `${(v as Record<string, string | number> | null)?.[k] ?? '-'}`;
      console.log(
        table(
          ['item', 'kind', 'transaction', 'ours', 'theirs', 'resolution'],
          d.items.map((i) => [
            String(i.item),
            String(i.kind),
            String(i.transaction_id),
            `${side(i.ours, 'status')} ${side(i.ours, 'amount_micros')}`,
            `${side(i.theirs, 'status')} ${side(i.theirs, 'payout_micros')}`,
            `${(i.resolution as string | null) ?? 'open'}`,
          ]),
        ),
      );
    }
    return 0;
  }
  if (cmd === 'resolve') {
    allowOnly(opts, ['adjust', 'dismiss', 'note', 'operator']);
    if (!item || !/^\d+$/.test(item))
      throw new Usage('dispute resolve: give the dispute id and the item number');
    const note = opts.get('note');
    if (!note) throw new Usage('dispute resolve: --note is required');
    if (opts.has('adjust') === opts.has('dismiss'))
      throw new Usage('dispute resolve: give --adjust AMOUNT or --dismiss');
    const amount = opts.has('adjust') ? parseSignedMicros(opts.get('adjust')!) : undefined;
    if (opts.has('adjust') && !amount) throw new Usage('--adjust needs a non-zero signed decimal like -1.25');
    const r = await ds.transaction(async (em) => {
      const resolved = await resolveDisputeItem(em, {
        disputeId: id,
        item: Number(item),
        action: opts.has('adjust') ? 'adjust' : 'dismiss',
        amountMicros: amount,
        operator: operatorOf(opts),
        note,
      });
      await writeAudit(em, cliAuditor(operatorOf(opts)), {
        action: `dispute.${opts.has('adjust') ? 'adjust' : 'dismiss'}`,
        subject: `dispute:${id}:${item}`,
        request: { adjust: opts.get('adjust'), note },
        before: { resolution: null },
        after: {
          resolution: resolved.resolution,
          resolved_by: operatorOf(opts),
          entry_id: resolved.entry?.entry_id ?? null,
          amount_micros: resolved.entry?.amount_micros ?? null,
        },
      });
      return resolved;
    });
    console.log(
      `item ${item} ${r.resolution}${r.entry ? `: ledger entry ${r.entry.entry_id} (${r.entry.amount_micros} micros)` : ''}`,
    );
    return 0;
  }
  throw new Usage(`unknown dispute command '${cmd ?? ''}'`);
}

async function main(): Promise<number> {
  const { pos, opts } = parseArgs(process.argv.slice(2));
  const [area, ...rest] = pos;
  if (
    !area ||
    !['report', 'review', 'projections', 'launch-check', 'dispute', 'tokens', 'secrets'].includes(area)
  )
    throw new Usage(`unknown command '${area ?? ''}'`);
  if (area === 'secrets' && rest[0] === 'new-key') return secretsCommand(undefined, rest[0], opts);
  const ds = createDataSource({
    url: appDatabaseUrl(),
    poolSize: 2,
    applicationName: 'ledger-cli',
  });
  await ds.initialize();
  try {
    if (area === 'report') return await report(ds.manager, rest[0], opts);
    if (area === 'review') return await review(ds.manager, rest, opts);
    if (area === 'launch-check') return await launch(ds.manager, opts);
    if (area === 'dispute') return await dispute(ds, rest, opts);
    if (area === 'tokens') return await tokensCommand(ds, rest[0], opts);
    if (area === 'secrets') return await secretsCommand(ds, rest[0], opts);
    allowOnly(opts, []);
    return await projections(ds, rest[0]);
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof Usage || e instanceof CommandUsage) {
      console.error(`ledger: ${e.message}\n${USAGE}`);
      process.exit(2);
    }
    if (e instanceof ReviewRefused || e instanceof OperatorTokenRefused) {
      console.error(`ledger: refused: ${e.message}`);
      process.exit(1);
    }
    console.error(`ledger: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
