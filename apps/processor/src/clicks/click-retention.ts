import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics } from '@app/contracts';
import { DrainLoop } from '../drain-loop';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';
import { CLICK_PROJECTION } from './click-projection.name';

const DAY_MS = 86_400_000;
/** Kept beyond the longest attribution window, so a late postback still finds its click. */
const MARGIN_DAYS = 31;

/**
 * Retention of the click store: every hour, the month partitions that ended before the cutoff
 * are dropped (not rows deleted). The cutoff is CLICK_RETENTION_DAYS before the store's clock,
 * and never less than the longest attribution window of any offer plus a month: a click a
 * postback may still convert is never dropped. The store's clock is now, or the newest click
 * the projection stored lately if that is earlier: a staging replay of an earlier period
 * (clicks stamped with virtual times months back) keeps its clicks, where "now" dropped them as
 * soon as a processor started mid-replay and turned their postbacks into unknown_click.
 */
@Injectable()
export class ClickRetention extends DrainLoop {
  protected readonly log = new Logger(ClickRetention.name);
  protected readonly label = 'click store retention';
  private readonly days: number;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(ProcessorEnv) env: ProcessorEnv,
    @Inject(Leadership) leadership: Leadership,
  ) {
    super(3_600_000, leadership.lease('click_retention'));
    this.days = env.CLICK_RETENTION_DAYS;
  }

  protected async drain(): Promise<void> {
    const dropped = await this.dropExpired();
    if (dropped.length) this.log.log(`dropped click partitions ${dropped.join(', ')}`);
  }

  /** Drops what is past the cutoff; the partitions dropped. */
  async dropExpired(now = new Date()): Promise<string[]> {
    const [w] = await this.ds.query<{ hours: number | null }[]>(
      `SELECT max(attribution_window_hours)::int AS hours FROM offers`,
    );
    const keepDays = Math.max(this.days, Math.ceil((w?.hours ?? 0) / 24) + MARGIN_DAYS);
    const [c] = await this.ds.query<{ newest: Date | null }[]>(
      `SELECT max(watermark) AS newest FROM projection_checkpoints WHERE projection = $1 AND topic = $2`,
      [CLICK_PROJECTION, Topics.clicksRecorded],
    );
    const clock = Math.min(now.getTime(), c?.newest?.getTime() ?? now.getTime());
    const [r] = await this.ds.query<{ dropped: string[] }[]>(
      `SELECT click_partitions_drop_before($1::timestamptz) AS dropped`,
      [new Date(clock - keepDays * DAY_MS)],
    );
    return r?.dropped ?? [];
  }
}
