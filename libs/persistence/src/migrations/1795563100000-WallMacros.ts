import type { MigrationInterface, QueryRunner } from 'typeorm';

const VIEW = 'analyst_publisher_postbacks';
const ALGORITHM_COMMENT =
  'legacy hash for walls: md5, sha1, hmac-sha256, hmac-sha1 (over the fields joined by the separator) or hmac-sha1-url (over the URL called; no fields)';
const FIELDS_COMMENT = 'the fields the legacy hash covers, in order (none for hmac-sha1-url)';
const SEPARATOR_COMMENT =
  "joins the legacy hash's field values (and, for md5 and sha1, its secret): a:b:secret; '' = none";
const OLD_ALGORITHM_COMMENT = 'legacy hash for walls: md5 or hmac-sha256';
const OLD_FIELDS_COMMENT = 'the fields the legacy hash covers, in order';

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

async function viewColumns(queryRunner: QueryRunner): Promise<string[]> {
  return (
    (await queryRunner.query(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
      [VIEW],
    )) as { column_name: string }[]
  ).map((r) => r.column_name);
}

/**
 * Publisher postbacks as walls send them (issue 16): the sha1, hmac-sha1 and hmac-sha1-url legacy
 * hashes, a separator joining the hashed values, and a check that a legacy hash is whole. The
 * separator is not a credential: it joins analyst_publisher_postbacks (docs/tables.md#analysts).
 */
export class WallMacros1795563100000 implements MigrationInterface {
  name = 'WallMacros1795563100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "publisher_postbacks" ADD "legacy_hash_separator" character varying(8) NOT NULL DEFAULT ''`,
    );
    await queryRunner.query(
      `ALTER TABLE "publisher_postbacks" ADD CONSTRAINT "publisher_postbacks_legacy_hash_check" CHECK ("legacy_hash_algorithm" IS NULL OR ("legacy_hash_algorithm" IN ('md5', 'sha1', 'hmac-sha256', 'hmac-sha1', 'hmac-sha1-url') AND "legacy_hash_param" IS NOT NULL AND "legacy_hash_secret" IS NOT NULL AND ("legacy_hash_algorithm" = 'hmac-sha1-url' OR coalesce(cardinality("legacy_hash_fields"), 0) > 0)))`,
    );
    // The view as it stands (later columns included), plus the separator.
    const columns = [...(await viewColumns(queryRunner)), 'legacy_hash_separator'];
    await queryRunner.query(
      `CREATE OR REPLACE VIEW ${ident(VIEW)} AS SELECT ${columns.map(ident).join(', ')} FROM "publisher_postbacks"`,
    );
    for (const relation of ['publisher_postbacks', VIEW])
      await queryRunner.query(
        [
          `COMMENT ON COLUMN ${ident(relation)}."legacy_hash_separator" IS ${literal(SEPARATOR_COMMENT)}`,
          `COMMENT ON COLUMN ${ident(relation)}."legacy_hash_algorithm" IS ${literal(ALGORITHM_COMMENT)}`,
          `COMMENT ON COLUMN ${ident(relation)}."legacy_hash_fields" IS ${literal(FIELDS_COMMENT)}`,
        ].join(';\n'),
      );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // A view cannot lose a column in place: made again without it, with its comments and grants.
    const columns = (await viewColumns(queryRunner)).filter((c) => c !== 'legacy_hash_separator');
    const comments = (await queryRunner.query(
      `SELECT a.attname AS column, col_description(a.attrelid, a.attnum) AS comment
         FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [VIEW],
    )) as { column: string; comment: string | null }[];
    const viewComment = (
      (await queryRunner.query(`SELECT obj_description($1::regclass, 'pg_class') AS c`, [VIEW])) as {
        c: string | null;
      }[]
    )[0]?.c;
    await queryRunner.query(`DROP VIEW ${ident(VIEW)}`);
    await queryRunner.query(
      `CREATE VIEW ${ident(VIEW)} AS SELECT ${columns.map(ident).join(', ')} FROM "publisher_postbacks"`,
    );
    if (viewComment) await queryRunner.query(`COMMENT ON VIEW ${ident(VIEW)} IS ${literal(viewComment)}`);
    for (const c of comments)
      if (c.comment && columns.includes(c.column))
        await queryRunner.query(
          `COMMENT ON COLUMN ${ident(VIEW)}.${ident(c.column)} IS ${literal(c.comment)}`,
        );
    await queryRunner.query(`REVOKE ALL ON ${ident(VIEW)} FROM ledger_app`);
    await queryRunner.query(`GRANT SELECT ON ${ident(VIEW)} TO ledger_analyst`);
    for (const relation of ['publisher_postbacks', VIEW])
      await queryRunner.query(
        [
          `COMMENT ON COLUMN ${ident(relation)}."legacy_hash_algorithm" IS ${literal(OLD_ALGORITHM_COMMENT)}`,
          `COMMENT ON COLUMN ${ident(relation)}."legacy_hash_fields" IS ${literal(OLD_FIELDS_COMMENT)}`,
        ].join(';\n'),
      );
    await queryRunner.query(
      'ALTER TABLE "publisher_postbacks" DROP CONSTRAINT "publisher_postbacks_legacy_hash_check"',
    );
    await queryRunner.query('ALTER TABLE "publisher_postbacks" DROP COLUMN "legacy_hash_separator"');
  }
}
