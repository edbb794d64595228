import { Client } from 'pg';
import {
  computeReference,
  expectedCells,
  expectedLedger,
  moneyMetrics,
  type Reference,
  type ReferenceOptions,
} from './reference';
import type { ResultLine, RunLine } from './replay';
import {
  type Cells,
  ledgerRows,
  type LedgerRow,
  type ObservedRow,
  observedOutcomes,
  postingProblems,
  ReadModelReconciliation,
  readModelSubset,
  type ReconciliationSource,
  SqlReconciliation,
  undecided,
  unprojected,
  unpublished,
} from './system-output';
import { readLedgerTopic, type TopicEntry } from './ledger-topic';
import { namespaced, readNdjson, readTraffic, type Traffic } from './traffic-file';
import { ulidTime } from './ulid-time';

export interface VerifyOptions extends ReferenceOptions {
  file: string;
  results: string;
  databaseUrl: string;
  /** How long to wait for every postback to be decided (retries included). */
  waitMs: number;
  /** The ledger topic to compare with the table; undefined: the table only. */
  ledgerTopic?: { brokers: string[]; topic: string };
}

/** `cell`: the decision tables (SQL) differ from the reference; `read-model`: the read models do. */
export type DifferenceKind =
  'http' | 'outcome' | 'click' | 'ledger' | 'topic' | 'cell' | 'read-model' | 'cap' | 'pending';

export interface Difference {
  kind: DifferenceKind;
  message: string;
}

export interface VerifyReport {
  differences: Difference[];
  summary: Record<string, number | string>;
}

export interface Results {
  run: RunLine;
  byId: Map<string, ResultLine>;
}

export async function readResults(path: string): Promise<Results> {
  let run: RunLine | undefined;
  const byId = new Map<string, ResultLine>();
  for await (const line of readNdjson<RunLine | ResultLine>(path)) {
    if (line.kind === 'run') run = line;
    else byId.set(line.id, line);
  }
  if (!run) throw new Error(`${path}: no run line: not a results file of \`traffic replay\``);
  return { run, byId };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads what the system produced for a replay and compares it with the reference. Cells are
 * compared twice: with SQL over the decision tables (`source`, default `SqlReconciliation`) and
 * with the read models (`readModels`, default `ReadModelReconciliation`).
 */
export async function verify(
  o: VerifyOptions,
  source?: (db: Client, ns: string) => ReconciliationSource,
  readModels?: (db: Client, ns: string, partnerIds: string[]) => ReconciliationSource,
): Promise<VerifyReport> {
  const traffic = await readTraffic(o.file);
  const results = await readResults(o.results);
  const db = new Client({ connectionString: o.databaseUrl });
  await db.connect();
  try {
    const eventIds = [...results.byId.values()].flatMap((r) => (r.event_id ? [r.event_id] : []));
    const differences: Difference[] = [];
    const waiting = await waitFor(() => undecided(db, eventIds), o.waitMs);
    if (waiting > 0)
      differences.push({
        kind: 'pending',
        message: `${waiting} postbacks still undecided after ${o.waitMs / 1000} s`,
      });
    const observed = await observedOutcomes(db, eventIds);
    const ref = computeReference(traffic, o, observedLookup(traffic, results, observed));
    const ledger = await ledgerRows(db, eventIds);
    const postings = await postingProblems(db, eventIds);
    const ns = results.run.namespace;
    const cells = await (source ?? ((d, n) => new SqlReconciliation(d, n)))(db, ns).cells(eventIds);
    // The read models are written by the projector after the decision: wait for it to take this
    // replay's decisions and entries off projection_queue (bounded, like the decisions above).
    const queued = await waitFor(() => unprojected(db, eventIds), o.waitMs);
    if (queued > 0)
      differences.push({
        kind: 'pending',
        message: `${queued} decisions or entries of this replay still in projection_queue after ${o.waitMs / 1000} s: the read models are behind (is the processor's projector running?)`,
      });
    const partnerIds = partnersOf(traffic).map((p) => namespaced(ns, p));
    const modelCells = await (readModels ?? ((d, n, p) => new ReadModelReconciliation(d, n, p)))(
      db,
      ns,
      partnerIds,
    ).cells(eventIds);
    const expectedModelCells = readModelSubset(expectedCells(ref));
    const topic = o.ledgerTopic
      ? await readTopicWhenPublished(db, eventIds, o.ledgerTopic, o.waitMs)
      : undefined;
    differences.push(
      ...compareClicks(traffic, results),
      ...(topic ? compareTopic(ledger, topic) : []),
      ...comparePostbacks(ref, results, observed),
      ...compareLedger(ref, ledger, observed),
      ...postings.map((message): Difference => ({ kind: 'ledger', message })),
      ...compareCells(expectedCells(ref), cells),
      ...compareCells(expectedModelCells, modelCells, 'read-model'),
      ...ref.capViolations.map((message): Difference => ({ kind: 'cap', message })),
    );
    const summary = summarize(ref, ledger, cells);
    summary['read-model cells compared'] = new Set([...expectedModelCells.keys(), ...modelCells.keys()]).size;
    if (topic)
      summary['topic copies (redelivered)'] = topic.length - new Set(topic.map((e) => e.entry_id)).size;
    return { differences, summary };
  } finally {
    await db.end();
  }
}

/** Polls a count until it is 0 or the time is up; the last count. */
async function waitFor(count: () => Promise<number>, waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const n = await count();
    if (n === 0 || Date.now() >= deadline) return n;
    await sleep(500);
  }
}

/**
 * The system's outcome of a line, for the reference's cap choice. Concurrent duplicates race
 * for the one decision, so a group answers with its member that was not the duplicate.
 */
function observedLookup(traffic: Traffic, results: Results, observed: Map<string, ObservedRow>) {
  const of = (id: string) => {
    const ev = results.byId.get(id)?.event_id;
    const o = ev ? observed.get(ev) : undefined;
    return o ? { outcome: o.outcome, reason: o.reason_code } : undefined;
  };
  const byGroup = new Map<string, ReturnType<typeof of>>();
  for (const e of traffic.events) {
    if (e.kind !== 'postback' || !e.group) continue;
    const o = of(e.id);
    if (o && o.outcome !== 'duplicate') byGroup.set(e.group, o);
  }
  const groupOf = new Map(
    traffic.events.flatMap((e) => (e.kind === 'postback' && e.group ? [[e.id, e.group]] : [])),
  );
  return (id: string) => {
    const g = groupOf.get(id);
    return g ? byGroup.get(g) : of(id);
  };
}

/** Every click recorded, and its id carries the virtual click time (the replay stamped it). */
function compareClicks(traffic: Traffic, results: Results): Difference[] {
  const out: Difference[] = [];
  for (const e of traffic.events) {
    if (e.kind !== 'click') continue;
    const r = results.byId.get(e.id);
    if (!r || r.status !== 201 || !r.click_id)
      out.push({ kind: 'click', message: `${e.id}: expected 201, got ${r?.status ?? 'no result'}` });
    else if (ulidTime(r.click_id) !== Date.parse(e.t))
      out.push({
        kind: 'click',
        message: `${e.id}: click_id ${r.click_id} is not stamped with its virtual time ${e.t}`,
      });
  }
  return out;
}

const signature = (
  outcome: string | undefined,
  reason: string | null | undefined,
  late: boolean | undefined,
  entry: boolean,
) => `${outcome ?? '-'}/${reason ?? '-'}${late ? '/late' : ''}${entry ? '/entry' : ''}`;

function comparePostbacks(
  ref: Reference,
  results: Results,
  observed: Map<string, ObservedRow>,
): Difference[] {
  const out: Difference[] = [];
  const groups = new Map<string, { expected: string[]; actual: string[] }>();
  for (const e of ref.postbacks) {
    const r = results.byId.get(e.id);
    if (!r || r.status !== e.http) {
      out.push({
        kind: 'http',
        message: `${e.id}: expected HTTP ${e.http}, got ${r ? `${r.status} ${r.error ?? ''}`.trim() : 'no result'}`,
      });
      continue;
    }
    if (e.http !== 200) continue;
    const o = r.event_id ? observed.get(r.event_id) : undefined;
    const want = signature(e.outcome, e.reason, e.late, e.entry !== undefined);
    const got = o ? signature(o.outcome, o.reason_code, o.late, o.entry_id !== null) : 'no outcome';
    if (e.group) {
      const g = groups.get(e.group) ?? { expected: [], actual: [] };
      g.expected.push(want);
      g.actual.push(got);
      groups.set(e.group, g);
    } else if (want !== got)
      out.push({ kind: 'outcome', message: `${e.id} (event ${r.event_id}): expected ${want}, got ${got}` });
  }
  for (const [g, { expected, actual }] of groups) {
    const [a, b] = [expected.sort().join(', '), actual.sort().join(', ')];
    if (a !== b)
      out.push({
        kind: 'outcome',
        message: `group ${g} (concurrent duplicates): expected [${a}], got [${b}]`,
      });
  }
  return out;
}

function compareLedger(ref: Reference, rows: LedgerRow[], observed: Map<string, ObservedRow>): Difference[] {
  const out: Difference[] = [];
  const actual = new Map<string, bigint>();
  const add = (k: string, v: bigint) => actual.set(k, (actual.get(k) ?? 0n) + v);
  const ids = new Set<string>();
  const perEvent = new Map<string, number>();
  for (const r of rows) {
    if (ids.has(r.entry_id)) out.push({ kind: 'ledger', message: `entry_id ${r.entry_id} appears twice` });
    ids.add(r.entry_id);
    perEvent.set(r.source_event_id, (perEvent.get(r.source_event_id) ?? 0) + 1);
    add(`entries:${r.entry_type}`, 1n);
    if (BigInt(r.amount_micros) !== 0n) add(`micros:${r.entry_type}:${r.currency}`, BigInt(r.amount_micros));
    for (const [metric, v] of moneyMetrics({
      type: r.entry_type,
      amountMicros: BigInt(r.amount_micros),
      currency: r.currency,
      payoutMicros: BigInt(r.payout_micros ?? '0'),
      reward:
        r.reward_amount !== null && r.reward_currency !== null
          ? { units: BigInt(r.reward_amount), currency: r.reward_currency }
          : null,
    }))
      add(metric, v);
  }
  for (const [ev, n] of perEvent)
    if (n > 1) out.push({ kind: 'ledger', message: `postback ${ev} wrote ${n} entries` });
  for (const o of observed.values())
    if (o.entry_id && !ids.has(o.entry_id))
      out.push({
        kind: 'ledger',
        message: `outcome of ${o.event_id} names entry ${o.entry_id}, not in the ledger`,
      });
  out.push(
    ...diffMetrics('ledger', expectedLedger(ref), actual).map((message): Difference => ({
      kind: 'ledger',
      message,
    })),
  );
  return out;
}

async function readTopicWhenPublished(
  db: Client,
  eventIds: string[],
  t: { brokers: string[]; topic: string },
  waitMs: number,
): Promise<TopicEntry[]> {
  await waitFor(() => unpublished(db, eventIds), waitMs);
  return readLedgerTopic(t.brokers, t.topic, new Set(eventIds), Math.max(waitMs, 30_000));
}

/** The topic carries exactly the table's entries; a republished copy is identical to the first. */
function compareTopic(table: LedgerRow[], topic: TopicEntry[]): Difference[] {
  const out: Difference[] = [];
  const first = new Map<string, string>();
  for (const e of topic) {
    const seen = first.get(e.entry_id);
    if (seen === undefined) first.set(e.entry_id, e.raw);
    else if (seen !== e.raw)
      out.push({ kind: 'topic', message: `entry ${e.entry_id} was published twice with different content` });
  }
  const inTable = new Set(table.map((r) => r.entry_id));
  for (const id of inTable)
    if (!first.has(id))
      out.push({ kind: 'topic', message: `entry ${id} is in ledger_entries but not on the topic` });
  for (const id of first.keys())
    if (!inTable.has(id))
      out.push({ kind: 'topic', message: `entry ${id} is on the topic but not in ledger_entries` });
  return out;
}

/** The replay's partners: the catalog's, and any a postback names. */
function partnersOf(traffic: Traffic): string[] {
  const ids = new Set(traffic.partners.map((p) => p.id));
  for (const e of traffic.events) if (e.kind === 'postback') ids.add(e.partner_id);
  return [...ids];
}

/** Metric by metric, cell by cell; `kind` says which system output the actual cells are. */
export function compareCells(
  expected: Cells,
  actual: Cells,
  kind: 'cell' | 'read-model' = 'cell',
): Difference[] {
  const out: Difference[] = [];
  for (const key of new Set([...expected.keys(), ...actual.keys()])) {
    for (const message of diffMetrics(
      key,
      expected.get(key) ?? new Map<string, bigint>(),
      actual.get(key) ?? new Map<string, bigint>(),
    ))
      out.push({ kind, message });
  }
  return out;
}

function diffMetrics(label: string, expected: Map<string, bigint>, actual: Map<string, bigint>): string[] {
  const out: string[] = [];
  for (const m of [...new Set([...expected.keys(), ...actual.keys()])].sort()) {
    const [e, a] = [expected.get(m) ?? 0n, actual.get(m) ?? 0n];
    if (e !== a) out.push(`${label} ${m}: expected ${e}, got ${a}`);
  }
  return out;
}

function summarize(ref: Reference, ledger: LedgerRow[], cells: Cells): Record<string, number | string> {
  const counts = new Map<string, number>();
  const count = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const e of ref.postbacks) {
    count(`http ${e.http}`);
    if (e.outcome)
      count(`outcome ${e.outcome}${e.reason && e.outcome !== 'duplicate' ? ` ${e.reason}` : ''}`);
    if (e.late) count('outcome flagged late');
  }
  const s: Record<string, number | string> = { postbacks: ref.postbacks.length };
  for (const k of [...counts.keys()].sort()) s[k] = counts.get(k)!;
  s['ledger entries'] = ledger.length;
  for (const [k, v] of [...expectedLedger(ref)].sort()) if (k.startsWith('micros:')) s[k] = v.toString();
  s['reconciliation cells'] = cells.size;
  return s;
}
