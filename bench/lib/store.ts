/**
 * Grows a freshly migrated bench database to `count` stored conversions, generated in Postgres
 * (INSERT ... SELECT FROM generate_series), not through the gateway: what scale.ts drains fresh
 * postbacks against.
 *
 * Per stored conversion i: one click (clicks, in its month partition), one conversion
 * (conversions, approved, 1.50 USD), its postback (postbacks), its outcome (postback_outcomes,
 * accepted) and its approved ledger entry (ledger_entries, seq = i, with a payload shaped like the
 * processor's). These are the tables the decision path reads and indexes it checks: clicks by id,
 * conversions by id under the ledger's lock, the unique (offer, transaction, goal), the inbox and
 * outcome keys, the ledger's unique keys and its per-conversion index (the invariants trigger and
 * the projector's first-entry lookup). Ids are random-looking where the real ones are (conversion
 * and entry ids) and ULIDs of their time where the real ones are (click and event ids), so new
 * rows meet indexes of the real shape. The rows span the 30 days before now.
 *
 * Not generated: the ledger outbox and projection queue (everything stored counts as published and
 * projected), and the read models (recon_daily, latency_daily, source_daily_stats: per-day
 * aggregates, not per conversion).
 *
 * Speed: the non-partitioned tables' indexes and unique/primary-key constraints are dropped before
 * the load and built again after it from their own definitions (pg_get_indexdef /
 * pg_get_constraintdef); the ledger's statement-level invariants trigger (ledger_entries_invariants,
 * whose per-row lookups are the slow part of a bulk insert) is disabled for the load through the
 * owner's (superuser) connection and enabled again after it; the rows satisfy it (one approval per
 * conversion, one partner and one currency each), and the rebuilt unique index
 * `ledger_one_approval` checks the first of these. Then VACUUM ANALYZE.
 */
import { Client } from 'pg';
import { fmt, secondsSince } from './stats';
import { throwIfInterrupted } from './system';

export interface StoreOptions {
  count: number;
  offerId: string;
  publisherId: string;
  /** Rows per INSERT statement (default 1,000,000): the unit of progress. */
  chunk?: number;
  log?: (line: string) => void;
}

export interface StoreResult {
  count: number;
  seconds: number;
  /** Seconds per step (load per table, index builds, vacuum). */
  steps: Record<string, number>;
  /** Size of the five tables with their indexes, in MiB. */
  sizeMiB: number;
}

const SPAN_MS = 30 * 86_400_000;
const TABLES = ['conversions', 'postbacks', 'postback_outcomes', 'ledger_entries'] as const;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Helper functions in a schema of their own, dropped after the load. */
const HELPERS = `
  CREATE SCHEMA bench_gen;
  -- A ULID: 10 Crockford base32 characters of the time in ms, then 16 of the given hex (valid base32).
  CREATE FUNCTION bench_gen.ulid(ms bigint, h text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT ${Array.from(
      { length: 10 },
      (_, k) => `substr('${CROCKFORD}', ((ms >> ${5 * (9 - k)}) & 31)::int + 1, 1)`,
    ).join(' || ')} || upper(substr(h, 1, 16))
  $$;
  CREATE FUNCTION bench_gen.iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  $$;`;

/**
 * Row i's facts, computed once per row: $1..$2 the range of i, $3 the ms between two rows, $4 the
 * start (ms). Clicked at t, received 60 s later, decided 1 s after that.
 */
const ROWS = `
  SELECT i,
         'cv_' || substr(md5('cv' || i), 1, 26) AS conversion_id,
         'le_' || substr(md5('le' || i), 1, 26) AS entry_id,
         bench_gen.ulid(ms + 60000, md5('ev' || i)) AS event_id,
         bench_gen.ulid(ms, md5('ck' || i)) AS click_id,
         'gen-' || i AS transaction_id,
         'pg-' || (i % 20) AS partner_id,
         'src-' || (i % 1000) AS sub1,
         to_timestamp(ms / 1000.0) AS clicked_at,
         to_timestamp((ms + 60000) / 1000.0) AS received_at,
         to_timestamp((ms + 61000) / 1000.0) AS recorded_at
    FROM (SELECT i, $4::bigint + i * $3::bigint AS ms FROM generate_series($1::bigint, $2::bigint) AS i) s`;

function loads(offer: string, publisher: string): Record<string, { sql: string; params: unknown[] }> {
  // $5 offer, $6 publisher
  const p = [offer, publisher];
  return {
    clicks: {
      sql: `INSERT INTO clicks (click_id, event_id, offer_id, publisher_id, sub1, placement, geo, device, clicked_at, stored_at)
            SELECT click_id, click_id, $5::text, $6::text, sub1, 'wall', 'US', 'mobile', clicked_at, clicked_at FROM (${ROWS}) r`,
      params: p,
    },
    conversions: {
      sql: `INSERT INTO conversions (conversion_id, offer_id, transaction_id, goal, partner_id, click_id, publisher_id, status,
              requested, amount_micros, currency, sub1, placement, geo, device, clicked_at, first_received_at,
              last_received_at, last_entry_id, entries, updated_at)
            SELECT conversion_id, $5::text, transaction_id, 'default', partner_id, click_id, $6::text, 'approved', 'approved',
              1500000, 'USD', sub1, 'wall', 'US', 'mobile', clicked_at, received_at, received_at, entry_id, 1, recorded_at
              FROM (${ROWS}) r`,
      params: p,
    },
    postbacks: {
      sql: `INSERT INTO postbacks (event_id, partner_id, click_id, transaction_id, status, source_ip, received_at, extra,
              kafka_partition, kafka_offset, stored_at)
            SELECT event_id, partner_id, click_id, transaction_id, 'approved', '127.0.0.1', received_at, '{}'::jsonb,
              (i % 6)::int, i / 6, recorded_at FROM (${ROWS}) r`,
      params: [],
    },
    postback_outcomes: {
      sql: `INSERT INTO postback_outcomes (event_id, partner_id, click_id, transaction_id, status, conversion_id, offer_id,
              publisher_id, sub1, placement, geo, outcome, entry_id, attempts, late, postback_delay_ms, received_at, decided_at)
            SELECT event_id, partner_id, click_id, transaction_id, 'approved', conversion_id, $5::text, $6::text, sub1, 'wall', 'US',
              'accepted', entry_id, 0, false, 60000, received_at, recorded_at FROM (${ROWS}) r`,
      params: p,
    },
    ledger_entries: {
      sql: `INSERT INTO ledger_entries (entry_id, seq, entry_type, conversion_id, conversion_status, click_id, transaction_id,
              offer_id, publisher_id, partner_id, goal, amount_micros, currency, sub1, placement, geo, device, clicked_at,
              occurred_at, recorded_at, late, postback_delay_ms, source_event_id, schema_version, payload, requested_status)
            SELECT entry_id, i, 'approved', conversion_id, 'approved', click_id, transaction_id, $5::text, $6::text, partner_id,
              'default', 1500000, 'USD', sub1, 'wall', 'US', 'mobile', clicked_at, received_at, recorded_at, false, 60000,
              event_id, 1,
              jsonb_build_object('geo', 'US', 'goal', 'default', 'late', false, 'note', null, 'sub1', sub1,
                'sub2', null, 'sub3', null, 'sub4', null, 'sub5', null, 'device', 'mobile', 'click_id', click_id,
                'currency', 'USD', 'entry_id', entry_id, 'offer_id', $5::text, 'operator', null, 'placement', 'wall',
                'clicked_at', bench_gen.iso(clicked_at), 'entry_type', 'approved', 'partner_id', partner_id,
                'occurred_at', bench_gen.iso(received_at), 'reason_code', null, 'recorded_at', bench_gen.iso(recorded_at),
                'publisher_id', $6::text, 'amount_micros', '1500000', 'conversion_id', conversion_id,
                'reason_bucket', null, 'schema_version', 1, 'transaction_id', transaction_id,
                'source_event_id', event_id, 'conversion_status', 'approved', 'postback_delay_ms', 60000),
              'approved'
              FROM (${ROWS}) r`,
      params: p,
    },
  };
}

interface Saved {
  table: string;
  constraints: Array<{ name: string; def: string }>;
  indexes: Array<{ name: string; def: string }>;
}

async function saveAndDropIndexes(c: Client, table: string): Promise<Saved> {
  const constraints = (
    await c.query<{ name: string; def: string }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE conrelid = $1::regclass AND contype IN ('p', 'u') ORDER BY conname`,
      [table],
    )
  ).rows;
  const indexes = (
    await c.query<{ name: string; def: string }>(
      `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i
        WHERE i.indrelid = $1::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)
        ORDER BY 1`,
      [table],
    )
  ).rows;
  for (const k of constraints) await c.query(`ALTER TABLE ${table} DROP CONSTRAINT "${k.name}"`);
  for (const i of indexes) await c.query(`DROP INDEX ${i.name}`);
  return { table, constraints, indexes };
}

/** Generates the store (see the file's comment); the database must be freshly migrated and empty of these rows. */
export async function generateStore(ownerUrl: string, opts: StoreOptions): Promise<StoreResult> {
  const { count, offerId, publisherId } = opts;
  const chunk = opts.chunk ?? 1_000_000;
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  // Two connections: the ledger (the widest rows, most of the work) loads beside the other four tables.
  const [c, d] = [
    new Client({ connectionString: ownerUrl, application_name: 'bench-store' }),
    new Client({ connectionString: ownerUrl, application_name: 'bench-store' }),
  ];
  await c.connect();
  await d.connect();
  const start = process.hrtime.bigint();
  const steps: Record<string, number> = {};
  const step = async (name: string, fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    steps[name] = (steps[name] ?? 0) + secondsSince(t);
  };
  let triggerDisabled = false;
  try {
    for (const x of [c, d]) {
      await x.query(`SET maintenance_work_mem = '512MB'`);
      await x.query(`SET synchronous_commit = off`);
    }
    await c.query(HELPERS);
    const startMs = Date.now() - SPAN_MS - 3_600_000;
    const stepMs = Math.max(1, Math.floor(SPAN_MS / count));
    // The month partitions of the clicks (the function the apps use).
    await c.query(
      `SELECT click_partitions_ensure(ARRAY(SELECT d::date FROM generate_series(to_timestamp($1 / 1000.0),
         to_timestamp($2 / 1000.0), interval '1 day') AS d))`,
      [startMs, startMs + SPAN_MS + 86_400_000],
    );
    const saved: Saved[] = [];
    for (const t of TABLES) saved.push(await saveAndDropIndexes(c, t));
    await c.query('ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_invariants');
    triggerDisabled = true;
    log(
      `store: generating ${fmt(count)} conversions (clicks, conversions, postbacks, outcomes, ledger entries) ` +
        `in chunks of ${fmt(chunk)}; indexes of ${TABLES.join(', ')} dropped for the load, ledger invariants trigger disabled`,
    );
    const { ledger_entries: ledger, ...others } = loads(offerId, publisherId);
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      const t = process.hrtime.bigint();
      const args = (q: { params: unknown[] }) => [from, to, stepMs, startMs, ...q.params];
      await Promise.all([
        step('load ledger_entries', () => d.query(ledger!.sql, args(ledger!))),
        (async () => {
          for (const [table, q] of Object.entries(others))
            await step(`load ${table}`, () => c.query(q.sql, args(q)));
        })(),
      ]);
      throwIfInterrupted();
      const s = secondsSince(t);
      log(
        `  ${fmt(to)} / ${fmt(count)} conversions (${fmt((to - from + 1) / s)}/s this chunk, ${fmt(secondsSince(start))} s so far)`,
      );
    }
    await c.query(`SELECT setval(pg_get_serial_sequence('ledger_entries', 'seq'), $1)`, [count]);
    const rebuild = async (x: Client, s: Saved) => {
      for (const i of s.indexes) {
        const t = process.hrtime.bigint();
        await step('indexes', () => x.query(i.def));
        log(`  index ${i.name} built (${fmt(secondsSince(t), 1)} s)`);
      }
      for (const k of s.constraints) {
        const t = process.hrtime.bigint();
        await step('indexes', () => x.query(`ALTER TABLE ${s.table} ADD CONSTRAINT "${k.name}" ${k.def}`));
        log(`  ${s.table} ${k.def} built (${fmt(secondsSince(t), 1)} s)`);
      }
      throwIfInterrupted();
    };
    await Promise.all([
      rebuild(
        d,
        saved.find((s) => s.table === 'ledger_entries')!,
      ),
      (async () => {
        for (const s of saved.filter((x) => x.table !== 'ledger_entries')) await rebuild(c, s);
      })(),
    ]);
    await c.query('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_invariants');
    triggerDisabled = false;
    await c.query('DROP SCHEMA bench_gen CASCADE');
    log('  VACUUM ANALYZE');
    await Promise.all([
      step('vacuum analyze', () => d.query('VACUUM ANALYZE ledger_entries')),
      (async () => {
        for (const t of ['clicks', ...TABLES.filter((x) => x !== 'ledger_entries')])
          await step('vacuum analyze', () => c.query(`VACUUM ANALYZE ${t}`));
      })(),
    ]);
    const [{ mib }] = (
      await c.query<{ mib: number }>(
        `SELECT (sum(pg_total_relation_size(c.oid)) / 1048576)::float8 AS mib FROM pg_class c
          WHERE c.relname IN ('conversions', 'postbacks', 'postback_outcomes', 'ledger_entries')
             OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'clicks'::regclass)`,
      )
    ).rows as [{ mib: number }];
    const seconds = secondsSince(start);
    log(`store: ${fmt(count)} conversions in ${fmt(seconds, 1)} s, ${fmt(mib)} MiB with indexes`);
    return { count, seconds, steps, sizeMiB: mib };
  } finally {
    // On failure or Ctrl-C the database is dropped anyway; this only keeps it consistent meanwhile.
    if (triggerDisabled)
      await c
        .query('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_invariants')
        .catch(() => undefined);
    await c.end().catch(() => undefined);
    await d.end().catch(() => undefined);
  }
}
