import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import { appendedEntries } from '@app/ledger';
import { decidedOutcomes, type ProjectionSources, projectQueued } from '@app/read-models';
import { DrainLoop } from '../drain-loop';
import { Leadership } from '../leadership/leadership';
import { ProcessorMetrics } from '../observability/processor-metrics';

const BATCH = 5000;

/**
 * Keeps the read models (reconciliation, latency, review queue) up to date from the projection
 * queue the decisions fill. Only the holder of the `read_models` role drains, and each batch
 * also takes the projector's transaction lock (which a rebuild takes too), so one projector
 * writes at a time across instances;
 * each batch and its checkpoint commit together, so crashes and restarts never double count.
 */
@Injectable()
export class ReadModelProjector extends DrainLoop implements HealthIndicator {
  readonly name = 'read_models';
  protected readonly log = new Logger(ReadModelProjector.name);
  protected readonly label = 'read-model projector';
  private projected = 0;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Leadership) leadership: Leadership,
    @Inject(ProcessorMetrics) private readonly metrics: ProcessorMetrics,
  ) {
    const lease = leadership.lease('read_models');
    super(250, lease);
    // The writers hand this projector the rows they wrote only while it projects.
    appendedEntries.wanted = () => lease.held;
    decidedOutcomes.wanted = () => lease.held;
  }

  protected async drain(): Promise<void> {
    for (;;) {
      const sources: ProjectionSources = { memory: 0, store: 0 };
      const n = await this.ds.transaction((em) => projectQueued(em, BATCH, sources));
      this.projected += n;
      this.metrics.projected(sources);
      if (n < BATCH) return;
    }
  }

  async check(): Promise<HealthCheckResult> {
    const [{ n }] = await this.ds.query<[{ n: number }]>(`SELECT count(*)::int AS n FROM projection_queue`);
    if (this.lastError) return { ok: false, detail: `${n} waiting: ${this.lastError}` };
    return { ok: true, detail: `${this.projected} projected, ${n} waiting` };
  }
}
