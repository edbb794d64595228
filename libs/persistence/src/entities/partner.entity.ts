import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { PartnerFormat } from '@app/domain';
import type { CatalogStatus } from './offer.entity';

export type AuthMode = 'hmac' | 'token' | 'ip';

/**
 * An advertiser / network that sends postbacks. Secrets are stored encrypted, to verify
 * signatures (HMAC needs the secret itself); the admin API never returns them and logs never show them.
 */
@Entity({ name: 'partners' })
@Index('partners_updated_at_idx', ['updatedAt'])
export class PartnerEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  /** Every listed mode must pass. */
  @Column({ name: 'auth_modes', type: 'text', array: true })
  authModes!: AuthMode[];

  /**
   * HMAC secrets, sealed (AES-256-GCM, @app/config SecretBox; context partners.hmac_secrets:<id>);
   * several during a rotation (a signature made with any of them passes).
   */
  @Column({ name: 'hmac_secrets', type: 'text', array: true, default: () => "'{}'" })
  hmacSecrets!: string[];

  /** The legacy shared token, sealed like the HMAC secrets (context partners.token:<id>). */
  @Column({ name: 'token', type: 'varchar', length: 1024, nullable: true })
  token!: string | null;

  /** Query/body parameter that carries the legacy token. */
  @Column({ name: 'token_param', type: 'varchar', length: 64, default: 'token' })
  tokenParam!: string;

  /** CIDRs or addresses allowed to call (mode ip). */
  @Column({ name: 'ip_allowlist', type: 'text', array: true, default: () => "'{}'" })
  ipAllowlist!: string[];

  /** Partner parameter names per canonical field, tried before the defaults. */
  @Column({ name: 'key_map', type: 'jsonb', nullable: true })
  keyMap!: Record<string, string[]> | null;

  /** Partner status codes onto pending | approved | rejected | reversed. */
  @Column({ name: 'status_map', type: 'jsonb', nullable: true })
  statusMap!: Record<string, string> | null;

  /** The platform preset its dictionary and format were filled from (key_map etc. hold the result). */
  @Column({ name: 'preset', type: 'varchar', length: 32, nullable: true })
  preset!: string | null;

  /**
   * How its postbacks differ beyond names and codes (@app/domain PartnerFormat): default status,
   * one conversion per click without a transaction id, decimal comma, reversal markers.
   */
  @Column({ name: 'format', type: 'jsonb', nullable: true })
  format!: PartnerFormat | null;

  /** A first-time postback later than this after its click is flagged late; null: the processor's LATE_AFTER_MS. */
  @Column({ name: 'late_after_seconds', type: 'int', nullable: true })
  lateAfterSeconds!: number | null;

  /** Retries while its click is not visible yet; null: one per RETRY_DELAYS_MS entry. */
  @Column({ name: 'retry_attempts', type: 'int', nullable: true })
  retryAttempts!: number | null;

  @Column({ name: 'tolerance_seconds', type: 'int', default: 300 })
  toleranceSeconds!: number;

  @Column({ name: 'rate_limit_per_second', type: 'int', default: 200 })
  rateLimitPerSecond!: number;

  @Column({ name: 'status', type: 'varchar', length: 16, default: 'active' })
  status!: CatalogStatus;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
