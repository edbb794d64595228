import type { MigrationInterface, QueryRunner } from 'typeorm';
import { secretBoxFromEnv } from '@app/config';
import { resealSecrets } from '../secrets/sealed-secrets';

/**
 * Hostile edges (issue 20):
 * - named operator tokens (only their SHA-256 stored) and the audit log of admin changes, which
 *   the apps' role may append to and read but never change;
 * - secrets at rest: partner HMAC secrets and tokens, publisher signing and legacy-hash secrets
 *   are sealed with the key ring of this process's environment (SECRETS_KEY; unset: the public
 *   development key, refused when NODE_ENV=production), so run it with the apps' SECRETS_KEY;
 * - one index per publisher over its due deliveries (the notifier claims per publisher).
 */
export class OperatorsAndSecrets1795559000000 implements MigrationInterface {
  name = 'OperatorsAndSecrets1795559000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'CREATE TABLE "operator_tokens" ("id" BIGSERIAL NOT NULL, "name" character varying(64) NOT NULL, "role" character varying(16) NOT NULL, "token_sha256" character varying(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" character varying(64) NOT NULL, "last_used_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoked_by" character varying(64), CONSTRAINT "PK_f26fbf5aa89efd357c86c7d19db" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "operator_tokens_name_idx" ON "operator_tokens"  ("name") WHERE "revoked_at" IS NULL',
    );
    await queryRunner.query(
      'CREATE UNIQUE INDEX "operator_tokens_sha256_idx" ON "operator_tokens"  ("token_sha256") ',
    );
    await queryRunner.query(
      'CREATE TABLE "admin_audit_log" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "operator" character varying(64) NOT NULL, "role" character varying(16) NOT NULL, "action" character varying(64) NOT NULL, "subject" character varying(300) NOT NULL, "request" jsonb, "before" jsonb, "after" jsonb, CONSTRAINT "PK_9425be48a9c753f5753017c61b2" PRIMARY KEY ("id"))',
    );
    await queryRunner.query(
      'CREATE INDEX "admin_audit_log_operator_idx" ON "admin_audit_log"  ("operator", "id") ',
    );
    await queryRunner.query(
      'CREATE INDEX "admin_audit_log_subject_idx" ON "admin_audit_log"  ("subject", "id") ',
    );
    // Tables made by the owner get the apps' grants by default (LedgerIntegrity); the audit log
    // is append-only for them.
    await queryRunner.query('REVOKE UPDATE, DELETE, TRUNCATE ON "admin_audit_log" FROM ledger_app');

    await queryRunner.query('ALTER TABLE "partners" ALTER COLUMN "token" TYPE character varying(1024)');
    await queryRunner.query(
      'ALTER TABLE "publisher_postbacks" ALTER COLUMN "legacy_hash_secret" TYPE character varying(1024)',
    );
    if (await this.anySecrets(queryRunner))
      await resealSecrets(queryRunner.manager, secretBoxFromEnv(process.env), 'seal');

    await queryRunner.query(
      'CREATE INDEX "publisher_deliveries_publisher_due_idx" ON "publisher_deliveries"  ("publisher_id", "next_attempt_at") WHERE "status" = \'pending\'',
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX "public"."publisher_deliveries_publisher_due_idx"');
    if (await this.anySecrets(queryRunner))
      await resealSecrets(queryRunner.manager, secretBoxFromEnv(process.env), 'unseal');
    await queryRunner.query(
      'ALTER TABLE "publisher_postbacks" ALTER COLUMN "legacy_hash_secret" TYPE character varying(256)',
    );
    await queryRunner.query('ALTER TABLE "partners" ALTER COLUMN "token" TYPE character varying(256)');
    await queryRunner.query('DROP INDEX "public"."admin_audit_log_subject_idx"');
    await queryRunner.query('DROP INDEX "public"."admin_audit_log_operator_idx"');
    await queryRunner.query('DROP TABLE "admin_audit_log"');
    await queryRunner.query('DROP INDEX "public"."operator_tokens_sha256_idx"');
    await queryRunner.query('DROP INDEX "public"."operator_tokens_name_idx"');
    await queryRunner.query('DROP TABLE "operator_tokens"');
  }

  /** The key ring is only needed (and in production only required) when there is something to seal. */
  private async anySecrets(queryRunner: QueryRunner): Promise<boolean> {
    const [row] = (await queryRunner.query(
      `SELECT EXISTS (SELECT 1 FROM partners WHERE cardinality(hmac_secrets) > 0 OR token IS NOT NULL)
           OR EXISTS (SELECT 1 FROM publisher_postbacks) AS any`,
    )) as { any: boolean }[];
    return row?.any === true;
  }
}
