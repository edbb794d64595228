import type { MigrationInterface, QueryRunner } from 'typeorm';

const COMMENTS: Record<string, string> = {
  'COLUMN "ledger_outbox"."message_key"':
    'The Kafka message key (the conversion id); null on rows written before this column existed.',
  'COLUMN "ledger_outbox"."entry_type"':
    "The entry type (for the relay's counts without reading the message); null on rows written before this column existed.",
  'COLUMN "ledger_outbox"."v1"':
    'The conversions.ledger message (schema version 1) exactly as published; null on rows written before this column existed.',
  'COLUMN "ledger_outbox"."v2"':
    'The conversions.ledger.v2 message (money, origin, postings) exactly as published; null on rows written before this column existed.',
};

/** The postings guard's check that each posting names an entry in its currency (MoneyModel). */
const postingsGuard = (
  entryCheck: string,
) => `CREATE OR REPLACE FUNCTION ledger_postings_balance() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        SELECT entry_id, currency, sum(amount_micros) AS off INTO bad
          FROM added GROUP BY entry_id, currency HAVING sum(amount_micros) <> 0 LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'ledger: postings of entry % do not balance in % (off by % micros)', bad.entry_id, bad.currency, bad.off
            USING ERRCODE = 'check_violation';
        END IF;
        ${entryCheck}
        IF FOUND THEN
          RAISE EXCEPTION 'ledger: postings of entry % name no ledger entry in %', bad.entry_id, bad.currency
            USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`;

/**
 * Two costs of the ledger's write path (issue 14, speed).
 *
 * 1. The postings guard looked up each posting's entry with a plain join, which the planner runs
 *    as a hash join over a sequential scan of the whole ledger_entries: every decision batch read
 *    the whole ledger (241 ms a batch at 30,000 entries, growing with the ledger). The lookup is
 *    now one index probe per posting (a LATERAL ... LIMIT 1 is never turned into a hash join).
 *
 * 2. The ledger outbox carries the messages themselves: the writer renders both
 * versions of an entry in the decision's transaction, from what it writes, and the relay sends
 * them as they are, with no join to the entries, no postings subquery and no JSON round trip.
 * Nullable: rows already waiting when this runs are rendered by the relay from the entry's row,
 * as before.
 */
export class LedgerWriteSpeed1795563600000 implements MigrationInterface {
  name = 'LedgerWriteSpeed1795563600000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const q = (sql: string) => queryRunner.query(sql);
    await q(
      postingsGuard(`SELECT a.entry_id, a.currency INTO bad FROM added a
          LEFT JOIN LATERAL (SELECT e.currency FROM ledger_entries e WHERE e.entry_id = a.entry_id LIMIT 1) e ON true
         WHERE e.currency IS DISTINCT FROM a.currency LIMIT 1;`),
    );
    await q(
      `ALTER TABLE "ledger_outbox" ADD "message_key" text, ADD "entry_type" text, ADD "v1" text, ADD "v2" text`,
    );
    for (const [target, text] of Object.entries(COMMENTS))
      await q(`COMMENT ON ${target} IS '${text.replace(/'/g, "''")}'`);
    // The relay now publishes the outbox's text, not the entry's row: the apps' role may add a
    // row and remove one once published, but never rewrite what billing will read.
    await q(`REVOKE UPDATE, TRUNCATE ON "ledger_outbox" FROM ledger_app`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`GRANT UPDATE, TRUNCATE ON "ledger_outbox" TO ledger_app`);
    await queryRunner.query(
      postingsGuard(`SELECT a.entry_id, a.currency INTO bad FROM added a
          LEFT JOIN ledger_entries e ON e.entry_id = a.entry_id
         WHERE e.entry_id IS NULL OR e.currency <> a.currency LIMIT 1;`),
    );
    await queryRunner.query(
      `ALTER TABLE "ledger_outbox" DROP COLUMN "v2", DROP COLUMN "v1", DROP COLUMN "entry_type", DROP COLUMN "message_key"`,
    );
  }
}
