import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { LabelBounder } from '@app/metrics';
import type { AttemptOutcome, ClaimedDelivery } from '../deliveries/delivery-store';

/** Attempts to publishers, counted in-process after each attempt is recorded. */
@Injectable()
export class NotifierMetrics {
  private readonly publishers = new LabelBounder(5000);
  private readonly attempts: Counter<'publisher_id' | 'outcome'>;
  private readonly latency: Histogram<'outcome'>;
  private readonly delay: Histogram;

  constructor(@Inject(Registry) registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'publisher_postback_attempts_total',
      help: 'HTTP attempts to publishers, by publisher and outcome (delivered, rejected_by_publisher, retry, dead)',
      labelNames: ['publisher_id', 'outcome'],
      registers,
    });
    this.latency = new Histogram({
      name: 'publisher_postback_duration_seconds',
      help: 'One HTTP attempt to a publisher, request to answer (or timeout)',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.delay = new Histogram({
      name: 'publisher_postback_delivery_delay_seconds',
      help: 'Ledger entry recorded to its postback delivered (2xx), retries included',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600, 86400],
      registers,
    });
  }

  attempted(d: ClaimedDelivery, outcome: AttemptOutcome, latencyMs: number): void {
    this.attempts.labels(this.publishers.bound(d.publisherId), outcome).inc();
    this.latency.labels(outcome).observe(latencyMs / 1000);
    if (outcome === 'delivered')
      this.delay.observe(Math.max(0, Date.now() - new Date(d.entry.recorded_at).getTime()) / 1000);
  }
}
