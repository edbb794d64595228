import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DrainLoop } from '../drain-loop';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';

const BATCH = 1000;

/**
 * Bounded retention of refused postbacks: every minute, rows older than REFUSED_RETENTION_DAYS
 * are deleted in batches of 1000 (short statements, no long lock), until none is left. Like the
 * click store's, the clock is now or the newest refusal stored if that is earlier (an index
 * lookup), so a staging replay of an earlier period keeps its refusals in the postback log.
 */
@Injectable()
export class RefusedRetention extends DrainLoop {
  protected readonly log = new Logger(RefusedRetention.name);
  protected readonly label = 'refused postbacks retention';
  private readonly days: number;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ProcessorEnv) env: ProcessorEnv,
    @Inject(Leadership) leadership: Leadership,
  ) {
    super(60_000, leadership.lease('refused_retention'));
    this.days = env.REFUSED_RETENTION_DAYS;
  }

  protected async drain(): Promise<void> {
    for (;;) {
      const deleted = await this.purge();
      if (deleted < BATCH) return;
    }
  }

  /** One batch; how many rows it deleted. */
  async purge(now = new Date()): Promise<number> {
    const [r] = await this.ds.query<{ n: number }[]>(
      `WITH gone AS (
         DELETE FROM refused_postbacks WHERE event_id IN (
           SELECT event_id FROM refused_postbacks
            WHERE received_at < LEAST($1::timestamptz, (SELECT max(received_at) FROM refused_postbacks)) - make_interval(days => $2)
           LIMIT ${BATCH})
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [now, this.days],
    );
    return r?.n ?? 0;
  }
}
