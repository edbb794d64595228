import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { Refresher } from './refresher';

/**
 * Gauges that need I/O (a query, an admin call): refreshed in the background every
 * `refreshMs` while the app runs, never at scrape time. A failed refresh keeps the last values
 * and counts in `<name>_refresh_errors_total`; the subclass says what a refresh reads.
 */
export abstract class PeriodicGauges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly refresher: Refresher;

  protected constructor(
    registry: Registry,
    private readonly refreshMs: number,
    what: { name: string; label: string; help: string },
  ) {
    const failures = new Counter({
      name: `${what.name}_refresh_errors_total`,
      help: what.help,
      registers: [registry],
    });
    this.refresher = new Refresher(
      new Logger(what.label),
      what.label,
      () => this.refresh(),
      () => failures.inc(),
    );
  }

  /** Reads and sets the gauges. */
  protected abstract refresh(): Promise<void>;

  onApplicationBootstrap(): void {
    this.refresher.start(this.refreshMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.refresher.stop();
  }
}
