import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CatalogStatus } from './offer.entity';

export type AuthMode = 'hmac' | 'token' | 'ip';

/**
 * An advertiser / network that sends postbacks. Secrets are stored to verify signatures
 * (HMAC needs the secret itself); the admin API never returns them and logs never show them.
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

  /** HMAC secrets; several during a rotation (a signature made with any of them passes). */
  @Column({ name: 'hmac_secrets', type: 'text', array: true, default: () => "'{}'" })
  hmacSecrets!: string[];

  @Column({ name: 'token', type: 'varchar', length: 256, nullable: true })
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
