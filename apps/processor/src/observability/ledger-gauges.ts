import { Inject, Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { CommonEnv } from '@app/config';
import { LabelBounder, PeriodicGauges } from '@app/metrics';
import { CatalogCache } from '@app/catalog';
import { outboxBacklog } from '@app/ledger';

/**
 * Gauges that need a query: outbox depth and age, and today's cap usage per offer. Refreshed
 * every METRICS_REFRESH_MS in the background (two small queries), never at scrape time.
 */
@Injectable()
export class LedgerGauges extends PeriodicGauges {
  private readonly offers = new LabelBounder(5000);
  private readonly outboxDepth: Gauge;
  private readonly projectionDepth: Gauge;
  private readonly outboxAge: Gauge;
  private readonly conversions: Gauge<'offer_id'>;
  private readonly payout: Gauge<'offer_id'>;
  private readonly capRatio: Gauge<'offer_id' | 'cap'>;

  constructor(
    @Inject(Registry) registry: Registry,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(CatalogCache) private readonly catalog: CatalogCache,
    @Inject(CommonEnv) env: CommonEnv,
  ) {
    super(registry, env.METRICS_REFRESH_MS, {
      name: 'ledger_gauges',
      label: 'ledger gauges',
      help: 'Outbox / cap usage refreshes that failed (the gauges keep their last values)',
    });
    const registers = [registry];
    this.projectionDepth = new Gauge({
      name: 'projection_queue_depth',
      help: 'Ledger entries and postback outcomes waiting for the read-model projector (normally 0 within a second)',
      registers,
    });
    this.outboxDepth = new Gauge({
      name: 'ledger_outbox_depth',
      help: 'Ledger entries committed but not yet acknowledged by Kafka (normally 0 within milliseconds)',
      registers,
    });
    this.outboxAge = new Gauge({
      name: 'ledger_outbox_oldest_age_seconds',
      help: 'Age of the oldest entry waiting in the outbox (0 when empty)',
      registers,
    });
    this.conversions = new Gauge({
      name: 'offer_daily_conversions',
      help: 'Conversions approved or held today (UTC) per capped offer (offer_daily_usage)',
      labelNames: ['offer_id'],
      registers,
    });
    this.payout = new Gauge({
      name: 'offer_daily_payout_micros',
      help: 'Payout approved or held today (UTC) per capped offer, in micros',
      labelNames: ['offer_id'],
      registers,
    });
    this.capRatio = new Gauge({
      name: 'offer_cap_usage_ratio',
      help: "Today's usage over the offer's cap (1 = cap reached), by cap (conversions, payout)",
      labelNames: ['offer_id', 'cap'],
      registers,
    });
  }

  protected async refresh(): Promise<void> {
    if (!this.ds.isInitialized) return;
    const outbox = await outboxBacklog(this.ds);
    this.outboxDepth.set(outbox.waiting);
    const [queue] = await this.ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM projection_queue`);
    this.projectionDepth.set(queue.n);
    this.outboxAge.set(outbox.oldest ? Math.max(0, (Date.now() - outbox.oldest.getTime()) / 1000) : 0);
    const usage = await this.ds.query<{ offer_id: string; conversions: number; payout_micros: string }[]>(
      `SELECT offer_id, conversions, payout_micros::text FROM offer_daily_usage
        WHERE day = (now() AT TIME ZONE 'UTC')::date`,
    );
    // Yesterday's offers drop out at midnight UTC instead of staying at their last value.
    this.conversions.reset();
    this.payout.reset();
    this.capRatio.reset();
    for (const u of usage) {
      const offer = this.offers.bound(u.offer_id);
      this.conversions.labels(offer).set(u.conversions);
      this.payout.labels(offer).set(Number(u.payout_micros));
      const o = this.catalog.offer(u.offer_id);
      if (o?.dailyCap) this.capRatio.labels(offer, 'conversions').set(u.conversions / o.dailyCap);
      if (o?.payoutCapMicros && BigInt(o.payoutCapMicros) > 0n)
        this.capRatio.labels(offer, 'payout').set(Number(u.payout_micros) / Number(o.payoutCapMicros));
    }
  }
}
