import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CatalogStatus } from './offer.entity';

/** A publisher (offerwall, site or app) whose placements send clicks. */
@Entity({ name: 'publishers' })
@Index('publishers_updated_at_idx', ['updatedAt'])
export class PublisherEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  @Column({ name: 'status', type: 'varchar', length: 16, default: 'active' })
  status!: CatalogStatus;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
