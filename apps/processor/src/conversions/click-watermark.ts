import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Topics, topicName } from '@app/contracts';
import { KAFKA } from '@app/kafka';
import { ProcessorEnv } from '../processor.env';
import { CLICK_PROJECTION } from '../clicks/click-projection.handler';

/**
 * The click store's watermark W: every click minted at or before W is stored. Per partition,
 * a caught-up projection (checkpoint at the log's end) vouches for everything acknowledged
 * before the offsets were read, less a margin for clicks still in flight; a lagging one for
 * the newest click it stored, less the same margin (clicks may land slightly out of mint order
 * within a partition). W is the minimum over partitions.
 */
@Injectable()
export class ClickWatermark implements OnApplicationShutdown {
  private admin: Admin | undefined;
  private cached: { at: number; value: Date } | undefined;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ProcessorEnv) private readonly env: ProcessorEnv,
  ) {}

  /** The read in flight: concurrent callers share it (one admin client, one offsets request). */
  private reading: Promise<Date> | undefined;

  /**
   * W, at most 250 ms old. A caller that finds a read in flight shares it: W is only ever used
   * after it was read (the loader looks the missing clicks up again afterwards), so a read that
   * started before the call vouches as well as a new one.
   */
  async current(): Promise<Date> {
    if (this.cached && Date.now() - this.cached.at < 250) return this.cached.value;
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<Date> {
    const topic = topicName(Topics.clicksRecorded, this.env.TOPIC_PREFIX);
    const readAt = Date.now();
    const admin = this.admin ?? this.kafka.admin();
    if (!this.admin) {
      this.admin = admin;
      try {
        await admin.connect();
      } catch (e) {
        this.dropAdmin(admin);
        throw e;
      }
    }
    let offsets: { partition: number; high: string }[];
    try {
      offsets = await admin.fetchTopicOffsets(topic);
    } catch (e) {
      // A broker failing over: the next read connects afresh.
      this.dropAdmin(admin);
      throw e;
    }
    const rows = await this.ds.query<{ partition: number; next_offset: string; watermark: Date | null }[]>(
      `SELECT partition, next_offset, watermark FROM projection_checkpoints WHERE projection = $1 AND topic = $2`,
      [CLICK_PROJECTION, Topics.clicksRecorded],
    );
    const byPartition = new Map(rows.map((r) => [r.partition, r]));
    let w = Number.POSITIVE_INFINITY;
    for (const o of offsets) {
      const cp = byPartition.get(o.partition);
      const caughtUp = BigInt(cp?.next_offset ?? '0') >= BigInt(o.high);
      // A lagging partition vouches for its newest stored click less the same margin: clicks can
      // land slightly out of mint order within a partition (a produce batch retried after a
      // newer one), so "newest stored" alone turned a click still on its way into unknown_click.
      const pw = (caughtUp ? readAt : (cp?.watermark?.getTime() ?? 0)) - this.env.CLICK_WATERMARK_MARGIN_MS;
      w = Math.min(w, pw);
    }
    const value = new Date(Number.isFinite(w) ? w : 0);
    this.cached = { at: Date.now(), value };
    return value;
  }

  private dropAdmin(admin: Admin): void {
    if (this.admin === admin) this.admin = undefined;
    void admin.disconnect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
