import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { Topics, topicName } from '@app/contracts';
import { KAFKA, withTimeout } from '@app/kafka';
import { ProcessorEnv } from '../processor.env';
import { CLICK_PROJECTION } from '../clicks/click-projection.name';

/** How long a read of the click topic's offsets may take before W goes on without them. */
export const OFFSETS_TIMEOUT_MS = 2000;

/**
 * The click store's watermark W: every click minted at or before W is stored. Per partition,
 * a caught-up projection (checkpoint at the log's end) vouches for everything acknowledged
 * before the offsets were read, less a margin for clicks still in flight; a lagging one for
 * the newest click it stored, less the same margin (clicks may land slightly out of mint order
 * within a partition). W is the minimum over partitions.
 */
@Injectable()
export class ClickWatermark implements OnApplicationShutdown {
  private readonly log = new Logger(ClickWatermark.name);
  private admin: Admin | undefined;
  private cached: { at: number; value: Date } | undefined;
  /** Partitions of clicks.recorded at the last read that could tell. */
  private partitions: number | undefined;
  /** W at the last read that had the offsets. */
  private lastWithOffsets: number | undefined;
  /** Since when the offsets could not be read (undefined: they could at the last read). */
  private unavailableSince: number | undefined;

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
    const readAt = Date.now();
    // The log's end per partition; undefined while Kafka cannot say (a broker failing over, or
    // down). Then every partition counts as lagging: it vouches only for the clicks it stored.
    // That W is lower, never wrong, and decisions go on instead of failing their batch for as
    // long as the failover lasts (the clicks missing meanwhile wait as not visible yet).
    const offsets = await this.fetchOffsets();
    if (offsets) this.partitions = offsets.length;
    const rows = await this.ds.query<{ partition: number; next_offset: string; watermark: Date | null }[]>(
      `SELECT partition, next_offset, watermark FROM projection_checkpoints WHERE projection = $1 AND topic = $2`,
      [CLICK_PROJECTION, Topics.clicksRecorded],
    );
    const byPartition = new Map(rows.map((r) => [r.partition, r]));
    const ends: { partition: number; high: string | undefined }[] =
      offsets ??
      Array.from({ length: this.partitions ?? 0 }, (_, partition) => ({ partition, high: undefined }));
    // No partition known (never read the topic): nothing is vouched for.
    let w = ends.length ? Number.POSITIVE_INFINITY : 0;
    for (const o of ends) {
      const cp = byPartition.get(o.partition);
      const caughtUp = o.high !== undefined && BigInt(cp?.next_offset ?? '0') >= BigInt(o.high);
      // A lagging partition vouches for its newest stored click less the same margin: clicks can
      // land slightly out of mint order within a partition (a produce batch retried after a
      // newer one), so "newest stored" alone turned a click still on its way into unknown_click.
      const pw = (caughtUp ? readAt : (cp?.watermark?.getTime() ?? 0)) - this.env.CLICK_WATERMARK_MARGIN_MS;
      w = Math.min(w, pw);
    }
    // Without offsets, also no later than the last W read with them: a partition added since then
    // is not in the count, and its clicks were all minted after that read.
    if (offsets) this.lastWithOffsets = w;
    else w = Math.min(w, this.lastWithOffsets ?? 0);
    const value = new Date(Number.isFinite(w) ? w : 0);
    this.cached = { at: Date.now(), value };
    return value;
  }

  /**
   * The high watermark of each partition of clicks.recorded, or undefined when Kafka cannot say
   * within OFFSETS_TIMEOUT_MS. Bounded, and no retries inside kafkajs: during a failover the
   * admin client's own retries held a decision batch for 20-30 s, long enough for the consumer
   * to miss its heartbeats and be thrown out of its group (found by the three-node fault run).
   */
  private async fetchOffsets(): Promise<{ partition: number; high: string }[] | undefined> {
    const topic = topicName(Topics.clicksRecorded, this.env.TOPIC_PREFIX);
    const admin = this.admin ?? this.kafka.admin({ retry: { retries: 0 } });
    const fresh = !this.admin;
    if (fresh) this.admin = admin;
    try {
      const offsets = await withTimeout(
        (async () => {
          if (fresh) await admin.connect();
          return admin.fetchTopicOffsets(topic);
        })(),
        OFFSETS_TIMEOUT_MS,
        'reading the click topic offsets',
      );
      if (this.unavailableSince !== undefined)
        this.log.log(`click topic offsets readable again after ${Date.now() - this.unavailableSince} ms`);
      this.unavailableSince = undefined;
      return offsets;
    } catch (e) {
      // The next read connects afresh.
      this.dropAdmin(admin);
      if (this.unavailableSince === undefined) {
        this.unavailableSince = Date.now();
        this.log.warn(
          `click topic offsets unavailable (${e instanceof Error ? e.message : String(e)}): each partition vouches only for the clicks it stored until they are`,
        );
      }
      return undefined;
    }
  }

  private dropAdmin(admin: Admin): void {
    if (this.admin === admin) this.admin = undefined;
    void admin.disconnect().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
