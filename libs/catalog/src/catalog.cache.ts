import { Logger } from '@nestjs/common';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import type { HealthCheckResult, HealthIndicator } from '@app/health';
import { OfferEntity, PartnerEntity, PublisherEntity } from '@app/persistence';
import { FreshRefresh } from './fresh-refresh';

interface Versioned extends ObjectLiteral {
  id: string;
  updatedAt: Date;
}

/** One table's rows in memory, refreshed by polling `updated_at` (indexed). */
class TableCache<T extends Versioned> {
  readonly rows = new Map<string, T>();
  private seen = new Date(0);

  constructor(
    private readonly ds: DataSource,
    private readonly entity: EntityTarget<T>,
  ) {}

  async refresh(): Promise<number> {
    // Re-read a margin behind the newest seen change: a transaction that committed late with
    // an earlier timestamp is still picked up. Merging the same row twice is harmless.
    const since = new Date(this.seen.getTime() - 5000);
    const rows = await this.ds
      .getRepository(this.entity)
      .createQueryBuilder('t')
      .where('t.updated_at > :since', { since })
      .getMany();
    for (const r of rows) {
      const known = this.rows.get(r.id);
      if (!known || known.updatedAt.getTime() <= r.updatedAt.getTime()) this.rows.set(r.id, r);
      if (r.updatedAt > this.seen) this.seen = r.updatedAt;
    }
    return rows.length;
  }

  put(row: T): void {
    this.rows.set(row.id, row);
  }
}

/**
 * Offers, publishers and partners in memory, for the hot paths (no database lookup per request).
 * Changes made through any instance's admin API reach every instance within `refreshMs`.
 */
export class CatalogCache implements HealthIndicator {
  readonly name = 'catalog';
  private readonly log = new Logger(CatalogCache.name);
  readonly offers: TableCache<OfferEntity>;
  readonly publishers: TableCache<PublisherEntity>;
  readonly partners: TableCache<PartnerEntity>;
  private loadedAt = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly refresher = new FreshRefresh(() => this.load());

  constructor(
    ds: DataSource,
    private readonly refreshMs = 1000,
  ) {
    this.offers = new TableCache(ds, OfferEntity);
    this.publishers = new TableCache(ds, PublisherEntity);
    this.partners = new TableCache(ds, PartnerEntity);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Reloads what changed. The returned promise settles after a load that started after this call,
   * so a writer that refreshes after committing sees its own write (see FreshRefresh). A failure
   * keeps serving the last good copy and is reported by health.
   */
  refresh(): Promise<void> {
    return this.refresher.refresh();
  }

  private async load(): Promise<void> {
    try {
      await Promise.all([this.offers.refresh(), this.publishers.refresh(), this.partners.refresh()]);
      this.loadedAt = Date.now();
      if (this.lastError) this.log.log('catalog refresh recovered');
      this.lastError = undefined;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (this.lastError !== msg) this.log.warn(`catalog refresh failed: ${msg}`);
      this.lastError = msg;
      throw e;
    }
  }

  offer(id: string): OfferEntity | undefined {
    return this.offers.rows.get(id);
  }

  publisher(id: string): PublisherEntity | undefined {
    return this.publishers.rows.get(id);
  }

  partner(id: string): PartnerEntity | undefined {
    return this.partners.rows.get(id);
  }

  /** Ready once loaded; a failing refresh is reported but the cached copy keeps serving. */
  async check(): Promise<HealthCheckResult> {
    if (this.loadedAt === 0)
      return { ok: false, detail: `not loaded yet${this.lastError ? `: ${this.lastError}` : ''}` };
    const age = Math.round((Date.now() - this.loadedAt) / 1000);
    const counts = `${this.offers.rows.size} offers, ${this.publishers.rows.size} publishers, ${this.partners.rows.size} partners`;
    return {
      ok: true,
      detail: this.lastError
        ? `serving a copy ${age} s old (refresh failing: ${this.lastError}); ${counts}`
        : counts,
    };
  }
}
