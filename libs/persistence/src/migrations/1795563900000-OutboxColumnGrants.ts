import type { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS = `"seq", "entry_id", "message_key", "entry_type"`;

/**
 * The apps' role may add a ledger outbox row only with the columns the writer fills.
 *
 * Since OutboxInline the writer keeps an entry's rendered messages in memory and inserts the
 * outbox row with `seq`, `entry_id`, `message_key` and `entry_type` only. The relay still sends
 * the `v1`/`v2` text of a row that carries it (rows written while the outbox carried its
 * messages), so a role that could fill those columns could get bytes of its choosing published
 * under a real entry's sequence number. The table-wide INSERT is replaced by INSERT on the four
 * columns: `v1` and `v2` can now be written only by the owner.
 */
export class OutboxColumnGrants1795563900000 implements MigrationInterface {
  name = 'OutboxColumnGrants1795563900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE INSERT ON "ledger_outbox" FROM ledger_app`);
    await q.query(`GRANT INSERT (${COLUMNS}) ON "ledger_outbox" TO ledger_app`);
    await q.query(
      `COMMENT ON COLUMN "ledger_outbox"."v1" IS 'The conversions.ledger message (schema version 1) exactly as published, on rows written while the outbox carried its messages; null otherwise. The apps'' role cannot write it.'`,
    );
    await q.query(
      `COMMENT ON COLUMN "ledger_outbox"."v2" IS 'The conversions.ledger.v2 message exactly as published, on rows written while the outbox carried its messages; null otherwise. The apps'' role cannot write it.'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE INSERT (${COLUMNS}) ON "ledger_outbox" FROM ledger_app`);
    await q.query(`GRANT INSERT ON "ledger_outbox" TO ledger_app`);
  }
}
