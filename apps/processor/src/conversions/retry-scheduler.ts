import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PostbackReceived } from '@app/contracts';
import { Leadership, type RoleLease } from '../leadership/leadership';
import { ProcessorMetrics } from '../observability/processor-metrics';
import { LedgerRelay } from './ledger-relay';
import { type DecisionRecord, PostbackDecider, type Work } from './postback-decider';

/**
 * Retries soft-rejected postbacks when due. Each due transaction is re-decided whole, in the
 * order its postbacks arrived, under the same per-transaction lock as fresh traffic; fresh
 * traffic never waits for retries (they run in their own loop and transactions). Only the holder
 * of the `retry_scheduler` role runs passes (the per-transaction locks keep a pass correct even
 * beside another one, as when a lost holder has not noticed yet).
 */
@Injectable()
export class RetryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(RetryScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly lease: RoleLease;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(PostbackDecider) private readonly decider: PostbackDecider,
    @Inject(LedgerRelay) private readonly relay: LedgerRelay,
    @Inject(ProcessorMetrics) private readonly metrics: ProcessorMetrics,
    @Inject(Leadership) leadership: Leadership,
  ) {
    this.lease = leadership.lease('retry_scheduler');
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), 250);
  }

  /**
   * A pass now, if this instance holds the role and none is running (postbacks just became due:
   * their click was stored). Elsewhere the holder's next tick, at most 250 ms later, takes them.
   */
  kick(): void {
    if (!this.lease.held) return;
    this.running ??= this.runDue()
      .then(() => undefined)
      .catch((e: unknown) =>
        this.log.warn(`retry pass failed: ${e instanceof Error ? e.message : String(e)}`),
      )
      .finally(() => (this.running = undefined));
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: every transaction whose first waiting postback is due. Returns how many were decided. */
  async runDue(now = new Date()): Promise<number> {
    const due = await this.ds.query<{ partner_id: string; transaction_id: string }[]>(
      `SELECT partner_id, transaction_id FROM parked_postbacks WHERE due_at <= $1 GROUP BY 1, 2 LIMIT 200`,
      [now],
    );
    if (due.length === 0) return 0;
    let decided = 0;
    let decisions: DecisionRecord[] = [];
    await this.ds.transaction(async (em) => {
      const pairs = due.map((d) => ({
        payload: { partner_id: d.partner_id, transaction_id: d.transaction_id },
      })) as PostbackReceived[];
      await this.decider.lockPairs(em, pairs);
      // Re-read under the lock: another instance may have handled some of them meanwhile.
      const rows = await em.query<
        {
          event: PostbackReceived;
          attempts: number;
          errors: unknown[];
          due_at: Date;
          partner_id: string;
          transaction_id: string;
        }[]
      >(
        `SELECT event, attempts, errors, due_at, partner_id, transaction_id FROM parked_postbacks
          WHERE (partner_id, transaction_id) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))
          ORDER BY seq`,
        [due.map((d) => d.partner_id), due.map((d) => d.transaction_id)],
      );
      const headDue = new Map<string, boolean>();
      const work: Work[] = [];
      for (const r of rows) {
        const k = JSON.stringify([r.partner_id, r.transaction_id]);
        if (!headDue.has(k)) headDue.set(k, r.due_at.getTime() <= now.getTime());
        if (headDue.get(k))
          work.push({ event: r.event, attempts: r.attempts, errors: r.errors, parked: true });
      }
      ({ decided, decisions } = await this.decider.decide(em, work, now));
    });
    this.metrics.decided(decisions);
    if (decided) this.relay.kick();
    return decided;
  }
}
