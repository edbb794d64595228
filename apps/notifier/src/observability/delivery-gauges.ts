import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { CommonEnv } from '@app/config';
import { LabelBounder, PeriodicGauges } from '@app/metrics';

/**
 * Shared delivery state, refreshed every METRICS_REFRESH_MS (aggregate with max across
 * instances): paused endpoints (alert on any), deliveries waiting and dead per publisher, and
 * the age of the oldest waiting one.
 */
@Injectable()
export class DeliveryGauges extends PeriodicGauges {
  private readonly publishers = new LabelBounder(5000);
  private readonly paused: Gauge<'publisher_id'>;
  private readonly waiting: Gauge<'publisher_id' | 'status'>;
  private readonly oldest: Gauge;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CommonEnv) env: CommonEnv,
  ) {
    super(registry, env.METRICS_REFRESH_MS, {
      name: 'publisher_postback_gauges',
      label: 'delivery gauges',
      help: 'Delivery gauge refreshes that failed (the gauges keep their last values)',
    });
    const registers = [registry];
    this.paused = new Gauge({
      name: 'publisher_postback_endpoint_paused',
      help: '1 for a publisher endpoint paused after failing repeatedly (an operator must resume it)',
      labelNames: ['publisher_id'],
      registers,
    });
    this.waiting = new Gauge({
      name: 'publisher_postback_deliveries',
      help: 'Deliveries not finished, by publisher and status (pending, dead)',
      labelNames: ['publisher_id', 'status'],
      registers,
    });
    this.oldest = new Gauge({
      name: 'publisher_postback_oldest_pending_age_seconds',
      help: 'Age of the oldest pending delivery (0 when none)',
      registers,
    });
  }

  protected async refresh(): Promise<void> {
    if (!this.ds.isInitialized) return;
    const endpoints = await this.ds.query<{ publisher_id: string; paused: boolean }[]>(
      `SELECT publisher_id, delivery_state = 'paused' AS paused FROM publisher_postbacks`,
    );
    const counts = await this.ds.query<{ publisher_id: string; status: string; n: number }[]>(
      `SELECT publisher_id, status, count(*)::int AS n FROM publisher_deliveries
        WHERE status IN ('pending', 'dead') GROUP BY publisher_id, status`,
    );
    const [age] = await this.ds.query<[{ age: number | null }]>(
      `SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM publisher_deliveries WHERE status = 'pending'`,
    );
    this.paused.reset();
    this.waiting.reset();
    for (const e of endpoints)
      this.paused.labels(this.publishers.bound(e.publisher_id)).set(e.paused ? 1 : 0);
    for (const c of counts) this.waiting.labels(this.publishers.bound(c.publisher_id), c.status).set(c.n);
    this.oldest.set(Math.max(0, age?.age ?? 0));
  }
}
