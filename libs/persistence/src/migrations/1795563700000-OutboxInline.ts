import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger outbox keeps its messages inline and uncompressed (issue 14, speed).
 *
 * An outbox row holds both rendered messages (v1 and v2 text, about 2.2 KB together), above
 * Postgres's toast threshold (about 2 KB): every insert ran pglz over the v2 text, and every relay
 * read decompressed it, for a row that lives a few milliseconds. With `toast_tuple_target` at its
 * maximum (8160 bytes) a row below that is stored as it is. Measured on the 2-core box: 50,000
 * rows of two 1.4-1.8 KB texts inserted in 1.5 s with the default target, 0.3 s with this one.
 * Rows above 8 KB (very long passthrough values) are still compressed.
 *
 * And the other outbox, `postback_dead_outbox` (the postbacks.dead messages), gets the grants
 * ledger_outbox has had since LedgerWriteSpeed: the relay publishes its payload as stored, so the
 * apps' role may insert, read and delete its rows, never rewrite or truncate them.
 */
export class OutboxInline1795563700000 implements MigrationInterface {
  name = 'OutboxInline1795563700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "ledger_outbox" SET (toast_tuple_target = 8160)`);
    await q.query(`REVOKE UPDATE, TRUNCATE ON "postback_dead_outbox" FROM ledger_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`GRANT UPDATE, TRUNCATE ON "postback_dead_outbox" TO ledger_app`);
    await q.query(`ALTER TABLE "ledger_outbox" RESET (toast_tuple_target)`);
  }
}
