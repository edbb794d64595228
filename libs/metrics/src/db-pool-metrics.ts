import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** The pg pool behind TypeORM, read at scrape time (in-memory counters, no query). */
@Injectable()
export class DbPoolMetrics {
  constructor(@Inject(Registry) registry: Registry, @Inject(DataSource) ds: DataSource) {
    // TypeORM's Postgres driver keeps its pg Pool as `master`.
    const pool = (): PgPool | undefined => (ds.driver as unknown as { master?: PgPool }).master;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Postgres connections in the pool, by state (total = open; idle = open and free)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const p = pool();
        this.labels('total').set(p?.totalCount ?? 0);
        this.labels('idle').set(p?.idleCount ?? 0);
      },
    });
    new Gauge({
      name: 'db_pool_waiting_clients',
      help: 'Queries waiting for a free Postgres connection',
      registers: [registry],
      collect() {
        this.set(pool()?.waitingCount ?? 0);
      },
    });
  }
}
