import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DrainLoop } from '../drain-loop';
import { Leadership } from '../leadership/leadership';
import { ProcessorEnv } from '../processor.env';

const DAY_MS = 86_400_000;
/** Kept beyond the longest attribution window, so a late postback still finds its click. */
const MARGIN_DAYS = 31;

/**
 * Retention of the click store: every hour, the month partitions that ended before the cutoff
 * are dropped (not rows deleted). The cutoff is CLICK_RETENTION_DAYS ago, and never less than the
 * longest attribution window of any offer plus a month: a click a postback may still convert is
 * never dropped.
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
    const [r] = await this.ds.query<{ dropped: string[] }[]>(
      `SELECT click_partitions_drop_before($1::timestamptz) AS dropped`,
      [new Date(now.getTime() - keepDays * DAY_MS)],
    );
    return r?.dropped ?? [];
  }
}
