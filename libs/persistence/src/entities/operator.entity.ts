import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const OPERATOR_ROLES = ['viewer', 'reviewer', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/**
 * A named operator token: only the SHA-256 of the token is stored (the token itself is shown
 * once, by `ledger tokens create`). Revoked tokens stay, so the audit log's names stay explained;
 * a name is unique among the tokens not revoked.
 */
@Entity({ name: 'operator_tokens' })
@Index('operator_tokens_sha256_idx', ['tokenSha256'], { unique: true })
@Index('operator_tokens_name_idx', ['name'], { unique: true, where: `"revoked_at" IS NULL` })
export class OperatorTokenEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' }) id!: string;
  @Column({ name: 'name', type: 'varchar', length: 64 }) name!: string;
  /** viewer | reviewer | admin */
  @Column({ name: 'role', type: 'varchar', length: 16 }) role!: OperatorRole;
  /** Lower-case hex SHA-256 of the token. */
  @Column({ name: 'token_sha256', type: 'varchar', length: 64 }) tokenSha256!: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @Column({ name: 'created_by', type: 'varchar', length: 64 }) createdBy!: string;
  /** Refreshed at most once a minute. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true }) lastUsedAt!: Date | null;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt!: Date | null;
  @Column({ name: 'revoked_by', type: 'varchar', length: 64, nullable: true }) revokedBy!: string | null;
}

/**
 * Every change made through the admin API or the operator CLI: who (the token's name and role),
 * when, what (action and subject, the request with secrets redacted), and the subject before and
 * after. Append-only for the apps' role (the migration grants it INSERT and SELECT only).
 */
@Entity({ name: 'admin_audit_log' })
@Index('admin_audit_log_subject_idx', ['subject', 'id'])
@Index('admin_audit_log_operator_idx', ['operator', 'id'])
export class AdminAuditEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' }) id!: string;
  @Column({ name: 'at', type: 'timestamptz', default: () => 'now()' }) at!: Date;
  @Column({ name: 'operator', type: 'varchar', length: 64 }) operator!: string;
  @Column({ name: 'role', type: 'varchar', length: 16 }) role!: string;
  /** e.g. offer.update, review.approve, publisher_postback.set, token.create */
  @Column({ name: 'action', type: 'varchar', length: 64 }) action!: string;
  /** What was changed, as kind:id (offer:o-1, conversion:cv_..., token:alice). */
  @Column({ name: 'subject', type: 'varchar', length: 300 }) subject!: string;
  @Column({ name: 'request', type: 'jsonb', nullable: true }) request!: unknown;
  @Column({ name: 'before', type: 'jsonb', nullable: true }) before!: unknown;
  @Column({ name: 'after', type: 'jsonb', nullable: true }) after!: unknown;
}
