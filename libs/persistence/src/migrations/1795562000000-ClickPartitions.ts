import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The click store in monthly partitions by `clicked_at`, so its retention drops whole months
 * (cheap, no bloat, no long delete) instead of deleting rows, and its working set stays bounded.
 * The primary key becomes (click_id, clicked_at): a click id carries its mint time, which is its
 * clicked_at, so the id stays unique. Partitions are made and dropped only through two functions
 * that run as the owner (SECURITY DEFINER): the apps' role may call them, never run DDL itself.
 */
export class ClickPartitions1795562000000 implements MigrationInterface {
  name = 'ClickPartitions1795562000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "clicks" RENAME TO "clicks_unpartitioned"');
    await queryRunner.query(
      'ALTER TABLE "clicks_unpartitioned" RENAME CONSTRAINT "PK_4cac83227d02568797e1eec1c2e" TO "clicks_unpartitioned_pk"',
    );
    await queryRunner.query(
      'ALTER INDEX "clicks_offer_clicked_at_idx" RENAME TO "clicks_unpartitioned_offer_idx"',
    );
    await queryRunner.query(
      `CREATE TABLE "clicks" (LIKE "clicks_unpartitioned" INCLUDING DEFAULTS INCLUDING COMMENTS) PARTITION BY RANGE ("clicked_at")`,
    );
    await queryRunner.query(
      'ALTER TABLE "clicks" ADD CONSTRAINT "PK_6c8a3cc89c8904fd858f573e5de" PRIMARY KEY ("click_id", "clicked_at")',
    );
    await queryRunner.query(
      'CREATE INDEX "clicks_offer_clicked_at_idx" ON "clicks" ("offer_id", "clicked_at")',
    );
    await queryRunner.query(`DO $$ BEGIN
      IF obj_description('clicks_unpartitioned'::regclass, 'pg_class') IS NOT NULL THEN
        EXECUTE format('COMMENT ON TABLE clicks IS %L',
          obj_description('clicks_unpartitioned'::regclass, 'pg_class') || ' Partitioned by month of clicked_at; months older than the retention are dropped.');
      END IF;
    END $$`);

    // Makes the month partitions that hold these UTC days (idempotent, safe under concurrency).
    await queryRunner.query(`CREATE FUNCTION click_partitions_ensure(days date[]) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
      DECLARE m date; part text;
      BEGIN
        FOR m IN SELECT DISTINCT date_trunc('month', d)::date FROM unnest(days) AS d WHERE d IS NOT NULL LOOP
          part := 'clicks_' || to_char(m, 'YYYY_MM');
          IF to_regclass(part) IS NULL THEN
            BEGIN
              EXECUTE format('CREATE TABLE %I PARTITION OF clicks FOR VALUES FROM (%L) TO (%L)', part,
                (m::timestamp AT TIME ZONE 'UTC'), ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            EXCEPTION WHEN duplicate_table THEN NULL; -- made by another transaction meanwhile
            END;
          END IF;
        END LOOP;
      END $$`);
    // Drops the month partitions that end at or before `cutoff`; returns their names.
    await queryRunner.query(`CREATE FUNCTION click_partitions_drop_before(cutoff timestamptz) RETURNS text[]
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
      DECLARE part text; dropped text[] := '{}';
      BEGIN
        FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                     WHERE i.inhparent = 'clicks'::regclass AND c.relname ~ '^clicks_[0-9]{4}_[0-9]{2}$' ORDER BY 1 LOOP
          IF ((to_date(substr(part, 8), 'YYYY_MM') + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part);
            dropped := dropped || part;
          END IF;
        END LOOP;
        RETURN dropped;
      END $$`);
    await queryRunner.query('REVOKE ALL ON FUNCTION click_partitions_ensure(date[]) FROM PUBLIC');
    await queryRunner.query('REVOKE ALL ON FUNCTION click_partitions_drop_before(timestamptz) FROM PUBLIC');
    await queryRunner.query(`DO $$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_app') THEN
        GRANT EXECUTE ON FUNCTION click_partitions_ensure(date[]) TO ledger_app;
        GRANT EXECUTE ON FUNCTION click_partitions_drop_before(timestamptz) TO ledger_app;
      END IF;
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ledger_analyst') THEN
        GRANT SELECT ON clicks TO ledger_analyst;
      END IF;
    END $$`);

    await queryRunner.query(
      `SELECT click_partitions_ensure(ARRAY(SELECT DISTINCT (clicked_at AT TIME ZONE 'UTC')::date FROM clicks_unpartitioned))`,
    );
    await queryRunner.query(`SELECT click_partitions_ensure(ARRAY[(now() AT TIME ZONE 'UTC')::date])`);
    await queryRunner.query('INSERT INTO "clicks" SELECT * FROM "clicks_unpartitioned"');
    await queryRunner.query('DROP TABLE "clicks_unpartitioned"');
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "clicks" RENAME TO "clicks_partitioned"');
    await queryRunner.query(
      'ALTER TABLE "clicks_partitioned" RENAME CONSTRAINT "PK_6c8a3cc89c8904fd858f573e5de" TO "clicks_partitioned_pk"',
    );
    await queryRunner.query(
      'ALTER INDEX "clicks_offer_clicked_at_idx" RENAME TO "clicks_partitioned_offer_idx"',
    );
    await queryRunner.query(
      `CREATE TABLE "clicks" (LIKE "clicks_partitioned" INCLUDING DEFAULTS INCLUDING COMMENTS)`,
    );
    await queryRunner.query(
      'ALTER TABLE "clicks" ADD CONSTRAINT "PK_4cac83227d02568797e1eec1c2e" PRIMARY KEY ("click_id")',
    );
    await queryRunner.query(
      'CREATE INDEX "clicks_offer_clicked_at_idx" ON "clicks" ("offer_id", "clicked_at")',
    );
    await queryRunner.query('INSERT INTO "clicks" SELECT * FROM "clicks_partitioned"');
    await queryRunner.query('DROP TABLE "clicks_partitioned"');
    await queryRunner.query('DROP FUNCTION click_partitions_drop_before(timestamptz)');
    await queryRunner.query('DROP FUNCTION click_partitions_ensure(date[])');
  }
}
