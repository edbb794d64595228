import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { type ClickRecorded, Topics } from '@app/contracts';
import { KafkaBatchServer, type MessageBatch } from '@app/kafka';
import { decodeBatch, nextOffset, runIsolatingPoison } from '../batch-decoder';
import { CLICK_PROJECTION } from './click-projection.name';
import { RetryScheduler } from '../conversions/retry-scheduler';
import { ProcessorMetrics } from '../observability/processor-metrics';

/**
 * Projects `clicks.recorded` into the click store. One transaction per batch: the rows
 * (idempotent on click_id) and the partition checkpoint with its watermark commit together, and
 * the postbacks parked waiting for these clicks (click_not_found_yet) become due at once: a
 * postback that raced its click is decided when the click lands, not at its next retry step
 * (seconds to an hour later).
 */
@Controller()
export class ClickProjectionHandler {
  /** Months (YYYY-MM) whose partition this process knows exists. */
  private readonly months = new Set<string>();

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KafkaBatchServer) private readonly server: KafkaBatchServer,
    @Inject(RetryScheduler) private readonly retries: RetryScheduler,
    @Inject(ProcessorMetrics) private readonly metrics: ProcessorMetrics,
  ) {}

  @EventPattern(Topics.clicksRecorded)
  async handle(@Payload() batch: MessageBatch): Promise<void> {
    const decoded = await decodeBatch<ClickRecorded>(this.server, batch, 'click.recorded');
    await runIsolatingPoison(this.server, batch, decoded, (items) =>
      this.store(
        batch,
        items.map((d) => d.event),
      ),
    );
  }

  /**
   * The month partitions these clicks go into exist (made by the owner's function, in their own
   * short transaction, once per month per process): the click store is partitioned by month.
   */
  private async ensurePartitions(clickedAt: readonly string[]): Promise<void> {
    const days = [...new Set(clickedAt.map((t) => t.slice(0, 10)))];
    const missing = days.filter((d) => !this.months.has(d.slice(0, 7)));
    if (missing.length === 0) return;
    await this.ds.query(`SELECT click_partitions_ensure($1::date[])`, [missing]);
    for (const d of missing) this.months.add(d.slice(0, 7));
  }

  private async store(batch: MessageBatch, clicks: ClickRecorded[]): Promise<void> {
    const cols = {
      click_id: [] as string[],
      event_id: [] as string[],
      offer_id: [] as string[],
      publisher_id: [] as string[],
      sub1: [] as (string | null)[],
      sub2: [] as (string | null)[],
      sub3: [] as (string | null)[],
      sub4: [] as (string | null)[],
      sub5: [] as (string | null)[],
      placement: [] as (string | null)[],
      geo: [] as (string | null)[],
      device: [] as (string | null)[],
      ip: [] as (string | null)[],
      user_agent: [] as (string | null)[],
      clicked_at: [] as string[],
      user_id: [] as (string | null)[],
    };
    let watermark: string | null = null;
    for (const e of clicks) {
      const p = e.payload;
      cols.click_id.push(p.click_id);
      cols.event_id.push(e.id);
      cols.offer_id.push(p.offer_id);
      cols.publisher_id.push(p.publisher_id);
      cols.sub1.push(p.sub1);
      cols.sub2.push(p.sub2);
      cols.sub3.push(p.sub3);
      cols.sub4.push(p.sub4);
      cols.sub5.push(p.sub5);
      cols.placement.push(p.placement);
      cols.geo.push(p.geo);
      cols.device.push(p.device);
      cols.ip.push(p.ip);
      cols.user_agent.push(p.user_agent);
      cols.clicked_at.push(p.clicked_at);
      cols.user_id.push(p.user_id ?? null);
      if (watermark === null || p.clicked_at > watermark) watermark = p.clicked_at;
    }
    await this.ensurePartitions(cols.clicked_at);
    let woken = 0;
    await this.ds.transaction(async (em) => {
      if (clicks.length > 0) {
        await em.query(
          `INSERT INTO clicks (click_id, event_id, offer_id, publisher_id, sub1, sub2, sub3, sub4, sub5,
                               placement, geo, device, ip, user_agent, clicked_at, user_id)
           SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[],
                                $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], $10::varchar[],
                                $11::char(2)[], $12::varchar[], $13::varchar[], $14::varchar[], $15::timestamptz[],
                                $16::varchar[])
           ON CONFLICT (click_id, clicked_at) DO NOTHING`,
          Object.values(cols),
        );
        // The app's clock, as every due_at is written with it (RetryPlan, RetryScheduler).
        const [w] = await em.query<[{ n: number }]>(
          `WITH w AS (UPDATE parked_postbacks SET due_at = $2
                       WHERE reason = 'click_not_found_yet' AND click_id = ANY($1::varchar[]) AND due_at > $2
                       RETURNING 1)
           SELECT count(*)::int AS n FROM w`,
          [cols.click_id, new Date()],
        );
        woken = w.n;
      }
      await em.query(
        `INSERT INTO projection_checkpoints (projection, topic, partition, next_offset, watermark, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (projection, topic, partition) DO UPDATE
           SET next_offset = GREATEST(projection_checkpoints.next_offset, EXCLUDED.next_offset),
               -- The newest click of the latest batch, not of all time: mint times can go back (a
               -- staging replay of an earlier period into the same system), and a watermark left
               -- ahead by an earlier replay turned clicks still on their way into unknown_click.
               -- A redelivered older batch leaves it as it is.
               watermark = CASE WHEN EXCLUDED.next_offset >= projection_checkpoints.next_offset
                 THEN coalesce(EXCLUDED.watermark, projection_checkpoints.watermark)
                 ELSE projection_checkpoints.watermark END,
               updated_at = now()`,
        [CLICK_PROJECTION, batch.topic, batch.partition, nextOffset(batch), watermark],
      );
    });
    if (woken > 0) {
      this.metrics.woken(woken);
      this.retries.kick();
    }
  }
}
