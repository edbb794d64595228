import { DEFAULT_DATABASE_URL } from '@app/config';
import type { FlagSpec, Flags } from './args';
import { resultsPathOf } from './replay.command';
import { type DifferenceKind, verify, type VerifyReport } from './verify';

export function verifySpecs(env = process.env): Record<string, FlagSpec> {
  return {
    file: { kind: 'string', help: 'the traffic file that was replayed' },
    results: {
      kind: 'string',
      help: 'the results file of `traffic replay`',
      default: '<file>.results.ndjson',
    },
    databaseUrl: {
      kind: 'string',
      help: "the system's Postgres (env DATABASE_URL)",
      default: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    },
    ledgerTopic: {
      kind: 'string',
      help: 'ledger topic to compare with the table ("none": skip)',
      default: `${env.TOPIC_PREFIX ?? ''}conversions.ledger`,
    },
    brokers: {
      kind: 'string',
      help: 'Kafka brokers (env KAFKA_BROKERS)',
      default: env.KAFKA_BROKERS || '127.0.0.1:9092',
    },
    wait: { kind: 'int', help: 'seconds to wait for every postback to be decided', default: 120 },
    maxDiffs: { kind: 'int', help: 'differences printed per kind', default: 20 },
    lateAfterMs: { kind: 'int', help: "the processor's LATE_AFTER_MS", default: 3_600_000 },
    sourceMinDecisions: { kind: 'int', help: "the processor's SOURCE_MIN_DECISIONS", default: 50 },
    sourceBlockRate: { kind: 'rate', help: "the processor's SOURCE_BLOCK_REJECT_RATE", default: 0.5 },
  };
}

/** Prints the report (as JSON with `json`); resolves to 1 when the system differs from the reference. */
export async function runVerify(f: Flags, json = false): Promise<number> {
  const file = String(f.file);
  const report = await verify({
    file,
    results: resultsPathOf(file, f.results!),
    databaseUrl: String(f.databaseUrl),
    waitMs: Number(f.wait) * 1000,
    ledgerTopic:
      f.ledgerTopic === 'none'
        ? undefined
        : { brokers: String(f.brokers).split(','), topic: String(f.ledgerTopic) },
    lateAfterMs: Number(f.lateAfterMs),
    sourceMinDecisions: Number(f.sourceMinDecisions),
    sourceBlockRate: Number(f.sourceBlockRate),
  });
  process.stdout.write(
    json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, Number(f.maxDiffs)),
  );
  return report.differences.length ? 1 : 0;
}

/** What each kind of difference compared, for the headings (the cells are compared twice). */
const KIND_LABELS: Partial<Record<DifferenceKind, string>> = {
  cell: 'cell (decision tables: SQL over postback_outcomes, ledger_entries)',
  'read-model': 'read-model cell (recon_daily, recon_daily_reasons)',
};

/** The first differences of each kind, then the counts; or the summary when clean. */
export function formatReport(r: VerifyReport, maxPerKind: number): string {
  const lines: string[] = [];
  const byKind = new Map<DifferenceKind, string[]>();
  for (const d of r.differences) byKind.set(d.kind, [...(byKind.get(d.kind) ?? []), d.message]);
  for (const [kind, list] of byKind) {
    lines.push(`${KIND_LABELS[kind] ?? kind}: ${list.length} difference(s)`);
    for (const m of list.slice(0, maxPerKind)) lines.push(`  ${m}`);
    if (list.length > maxPerKind) lines.push(`  ... and ${list.length - maxPerKind} more`);
  }
  lines.push('reference:');
  for (const [k, v] of Object.entries(r.summary)) lines.push(`  ${k.padEnd(36)} ${v}`);
  lines.push(
    r.differences.length
      ? `FAIL: ${r.differences.length} difference(s) between the system and the reference`
      : 'OK: every postback, ledger total and reconciliation cell (decision tables and read models) matches the reference',
  );
  return `${lines.join('\n')}\n`;
}
