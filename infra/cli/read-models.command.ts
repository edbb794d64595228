/**
 * `ledger report ...`, `review ...`, `projections ...` and `launch-check`: the read models
 * (docs/read-models.md, docs/launch-gates.md). Arguments are checked by commands.ts first.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { formatMicros } from '@app/domain';
import { writeAudit } from '@app/operators';
import {
  decideHeldConversion,
  DEFAULT_GROUP_BY,
  inRebuildTransaction,
  latencyReport,
  launchCheck,
  listReviewQueue,
  readModelHashes,
  rebuildReadModels,
  reconCell,
  reconciliationReport,
  reconColumns,
  reconCsv,
  REPORT_DIMENSIONS,
  ReportRatesMissing,
  type ReportDimension,
  type ReportQuery,
} from '@app/read-models';
import { checkConversionsAgainstLedger, trialBalance } from '@app/ledger';
import { type ParsedCommand, UsageError } from './command-line';
import { out, outJson, progress } from './output';
import { table } from './table';

export const units = (micros: string) => {
  const v = BigInt(micros);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0').slice(0, 2)}`;
};
/** Exact decimal of micros with at least 2 places (1250000 -> 1.25, 1400001 -> 1.400001). */
export const decimal = (micros: string) => {
  const s = formatMicros(BigInt(micros));
  const dot = s.indexOf('.');
  return dot < 0 ? `${s}.00` : s.length - dot < 3 ? `${s}0` : s;
};
const pct = (r: number | null) => (r === null ? '' : `${(r * 100).toFixed(1)}%`);

/** The CLI's changes are audited under the operator it names (`cli:` marks where they came from). */
export const cliAuditor = (operator: string) => ({ name: `cli:${operator}`.slice(0, 64), role: 'cli' });

/** `--operator`, else $USER (checked when the command runs: $USER is the environment's). */
export function operatorOf(opts: Map<string, string>): string {
  const op = opts.get('operator') ?? process.env.USER;
  if (!op) throw new UsageError('--operator is required (no $USER)');
  return op;
}

function reportQuery(opts: Map<string, string>, defaults: ReportDimension[]): ReportQuery {
  return {
    from: opts.get('from')!,
    to: opts.get('to')!,
    groupBy: (opts.get('group-by')?.split(',').filter(Boolean) ?? defaults) as ReportDimension[],
    partnerId: opts.get('partner'),
    offerId: opts.get('offer'),
    currency: opts.get('currency'),
  };
}

export async function report(em: EntityManager, p: ParsedCommand): Promise<number> {
  const kind = p.spec.path[1];
  const format = p.opts.get('format') ?? 'table';
  if (kind === 'latency') {
    const q = reportQuery(p.opts, ['offer', 'publisher']);
    const r = await latencyReport(em, q);
    if (format === 'json') {
      outJson(r);
      return 0;
    }
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
    out(table([...dims, 'metric', 'count', 'p50 s', 'p90 s', 'p99 s'], rows));
    return 0;
  }
  const q = reportQuery(
    p.opts,
    kind === 'reconciliation' ? DEFAULT_GROUP_BY : ['day', 'partner', 'placement'],
  );
  let r;
  try {
    r = await reconciliationReport(em, q);
  } catch (e) {
    if (!(e instanceof ReportRatesMissing)) throw e;
    process.stderr.write(`ledger report ${kind}: ${e.message}\n`);
    return 1;
  }
  if (format === 'json') outJson(r);
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
      'revenue',
      'payout',
      'margin',
      'payout/appr',
      'rewards',
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
      decimal(x.revenue_micros),
      decimal(x.payout_micros),
      decimal(x.margin_micros),
      x.payout_per_approved_micros === null ? '' : decimal(x.payout_per_approved_micros),
      Object.entries(x.rewards)
        .map(([cur, r]) => `${r.net} ${cur}`)
        .join(', '),
    ];
    out(table(head, [...r.rows.map((x) => cells(x)), ...r.totals.map((t) => cells(t, 'TOTAL'))]));
    out(
      `\n${r.rows.length} rows, UTC days ${q.from} .. ${q.to}; revenue and payout = approved + released - reversed + adjusted;` +
        ` margin = revenue - payout; payout/appr = payout / approved conversions; rewards net of reversals`,
    );
  }
  return 0;
}

export async function review(em: EntityManager, p: ParsedCommand): Promise<number> {
  const cmd = p.spec.path[1];
  const id = p.args[0]!;
  if (cmd === 'list') {
    const items = await listReviewQueue(em, {
      partnerId: p.opts.get('partner'),
      offerId: p.opts.get('offer'),
      reason: p.opts.get('reason'),
      limit: Number(p.opts.get('limit') ?? 100),
    });
    if (p.json) {
      outJson(items);
      return 0;
    }
    out(
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
    out(`\n${items.length} held`);
    return 0;
  }
  if (cmd === 'show') {
    const [item] = await listReviewQueue(em, { conversionId: id, limit: 1 });
    const entries = await em.query<{ payload: unknown }[]>(
      `SELECT payload FROM ledger_entries WHERE conversion_id = $1 ORDER BY seq`,
      [id],
    );
    if (!item && entries.length === 0) {
      process.stderr.write(`no conversion ${id}\n`);
      return 1;
    }
    outJson({ held: item ?? null, entries: entries.map((e) => e.payload) });
    return 0;
  }
  const decision = cmd === 'approve' ? 'approve' : 'reject';
  const note = p.opts.get('note')!;
  const operator = operatorOf(p.opts);
  const entry = await em.transaction(async (tx) => {
    const decided = await decideHeldConversion(tx, { conversionId: id, decision, operator, note });
    await writeAudit(tx, cliAuditor(operator), {
      action: `review.${decision}`,
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
  if (p.json) outJson(entry);
  else out(`${entry.entry_type} ${entry.conversion_id} by ${operator}: entry ${entry.entry_id}`);
  return 0;
}

export async function projections(ds: DataSource, p: ParsedCommand): Promise<number> {
  const check = p.spec.path[1] === 'check';
  const started = Date.now();
  const rebuilt = await inRebuildTransaction(
    ds,
    async (tx) => {
      const before = await readModelHashes(tx);
      const done = await rebuildReadModels(tx, (x) =>
        progress(`\rreplayed ${x.entries} ledger entries, ${x.outcomes} postback outcomes`),
      );
      progress('\n');
      const after = await readModelHashes(tx);
      const tables = Object.keys(before).map((t) => ({
        table: t,
        rows_before: before[t]!.rows,
        rows_after: after[t]!.rows,
        identical: before[t]!.hash === after[t]!.hash,
      }));
      return { done, tables };
    },
    // check: the same rebuild, rolled back.
    { commit: !check },
  );
  const same = rebuilt.tables.every((t) => t.identical);
  // The conversions table against the fold of each conversion's ledger entries (libs/ledger).
  const diffs = await checkConversionsAgainstLedger(ds.manager);
  const code = (check && !same) || diffs.length > 0 ? 1 : 0;
  if (p.json) {
    outJson({
      command: check ? 'check' : 'rebuild',
      replayed: rebuilt.done,
      seconds: (Date.now() - started) / 1000,
      tables: rebuilt.tables,
      read_models_identical: same,
      conversion_differences: diffs,
      ok: code === 0,
    });
    return code;
  }
  out(
    table(
      ['table', 'rows before', 'rows after', 'result'],
      rebuilt.tables.map((t) => [
        t.table,
        String(t.rows_before),
        String(t.rows_after),
        t.identical ? 'identical' : 'DIFFERENT',
      ]),
    ),
  );
  out(
    `\nreplayed ${rebuilt.done.entries} entries and ${rebuilt.done.outcomes} outcomes in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (check)
    out(same ? 'check: the read models equal a rebuild' : 'check: the read models differ from a rebuild');
  for (const d of diffs)
    out(`  ${d.conversionId} ${d.field}: table ${String(d.table)}, ledger ${String(d.ledger)}`);
  out(
    diffs.length === 0
      ? 'check: conversions equal the fold of their ledger entries'
      : `check: ${diffs.length}${diffs.length >= 100 ? '+' : ''} differences between conversions and their ledger entries`,
  );
  return code;
}

export async function launch(em: EntityManager, p: ParsedCommand): Promise<number> {
  const r = await launchCheck(em, {
    from: p.opts.get('from')!,
    to: p.opts.get('to')!,
    partnerId: p.opts.get('partner'),
    offerId: p.opts.get('offer'),
  });
  if (p.json) outJson(r);
  else {
    const who = [
      r.subject.partner_id && `partner ${r.subject.partner_id}`,
      r.subject.offer_id && `offer ${r.subject.offer_id}`,
    ]
      .filter(Boolean)
      .join(', ');
    out(`launch check for ${who || 'all traffic'}, UTC days ${r.from} .. ${r.to}\n`);
    out(
      table(
        ['criterion', 'result', 'measured'],
        r.results.map((x) => [x.criterion, x.pass ? 'PASS' : 'FAIL', x.detail]),
      ),
    );
    out(`\n${r.pass ? 'PASS: every criterion holds' : 'FAIL: see the criteria marked FAIL'}`);
  }
  return r.pass ? 0 : 1;
}

/** `ledger trial-balance`: exit 1 when debits and credits differ in any currency, or an entry was not posted. */
export async function trialBalanceCommand(em: EntityManager, p: ParsedCommand): Promise<number> {
  const r = await trialBalance(em);
  if (p.json) outJson(r);
  else {
    out(
      table(
        ['account', 'currency', 'debit', 'credit', 'balance'],
        r.accounts.map((a) => [
          a.account,
          a.currency,
          units(a.debit_micros),
          units(a.credit_micros),
          units(a.balance_micros),
        ]),
      ),
    );
    out('');
    out(
      table(
        ['currency', 'debits', 'credits', 'difference'],
        r.totals.map((t) => [
          t.currency,
          units(t.debit_micros),
          units(t.credit_micros),
          units(t.difference_micros),
        ]),
      ),
    );
    if (r.entries_without_postings)
      out(`\n${r.entries_without_postings} entries move money but have no postings`);
    out(`\n${r.balanced ? 'BALANCED: debits equal credits in every currency' : 'IMBALANCE: see above'}`);
  }
  return r.balanced ? 0 : 1;
}
